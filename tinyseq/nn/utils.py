"""Gradient clipping: keep one unlucky batch from throwing the parameters far away.

It runs between loss.backward() and optimizer.step():

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

Recurrent networks need it most: the gradient that flows back through T time steps is multiplied
by T Jacobians of the recurrence, so it can grow exponentially with T (the exploding-gradient
problem; Pascanu, Mikolov & Bengio 2013, "On the difficulty of training recurrent neural networks").
Rescaling the gradient keeps its direction and bounds
the step. Both functions change the gradients in place, as PyTorch's do (hence the trailing _).
"""

import math
import numbers

import numpy as np

from ..dtype import get_default_dtype
from ..tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients by one factor so that their joint p-norm is at most max_norm.

    parameters: a Tensor or an iterable of Tensors; those whose .grad is None are ignored.
    max_norm: the largest total norm let through, a number >= 0 (math.inf only measures).
    norm_type: p, a number > 0, or math.inf (or "inf") for the largest absolute value.
    error_if_nonfinite: raise RuntimeError when the total norm is nan or inf. Otherwise, as in
        PyTorch, the gradients are still multiplied by the coefficient below (nan, or 0 for an
        infinite norm), which makes them nan wherever the maths has no finite answer.

    With g_1, ..., g_n the gradients:

        total = || (||g_1||_p, ..., ||g_n||_p) ||_p      the p-norm of all gradients as one vector
        coefficient = min(1, max_norm / (total + 1e-6))   1e-6 keeps the division finite at total = 0
        g_i <- coefficient * g_i                           for every i, in place

    Returns total (before clipping) as a 0-d Tensor in the gradients' dtype; a zero of the default
    dtype when no parameter has a gradient.

    Differs from PyTorch in two corner cases, both of which PyTorch silently gets wrong: a negative
    max_norm raises ValueError (it would flip the gradients), and a parameter listed twice is
    counted and scaled once.
    """
    max_norm = _number("max_norm", max_norm, minimum=0.0)
    if isinstance(norm_type, str) and norm_type == "inf":
        norm_type = math.inf
    norm_type = _number("norm_type", norm_type, minimum=0.0)
    if norm_type == 0:
        raise ValueError("norm_type: expected a number > 0 or inf, got 0")
    gradients = [p.grad for p in _unique_tensors(parameters) if p.grad is not None]
    if not gradients:
        return Tensor(np.zeros((), dtype=get_default_dtype()))
    # Norms are accumulated in float64: a float32 sum of a million squares loses digits.
    norms = [_p_norm(g.astype(np.float64).ravel(), norm_type) for g in gradients]
    total = _p_norm(np.array(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, so they "
            "cannot be clipped; find where the nan/inf comes from, or pass error_if_nonfinite=False to "
            "scale them anyway"
        )
    # np.minimum, not min(): it keeps a nan coefficient nan instead of depending on argument order.
    coefficient = np.minimum(max_norm / (total + 1e-6), 1.0)
    with np.errstate(invalid="ignore"):  # inf * 0 is nan, which is the point of a nonfinite norm
        for g in gradients:
            g *= g.dtype.type(coefficient)
    return Tensor(np.asarray(total), dtype=np.result_type(*gradients))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient entry into [-clip_value, clip_value], in place.

    parameters: a Tensor or an iterable of Tensors; those whose .grad is None are ignored.
    clip_value: a number >= 0 (PyTorch accepts a negative one and sets every entry to it; here it
        is a ValueError).

    Unlike clip_grad_norm_, this changes the gradient's direction; it bounds each coordinate's step.
    """
    clip_value = _number("clip_value", clip_value, minimum=0.0)
    for p in _unique_tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)


# Where a plain float64 sum of squares is as good as the scaled one: below overflow (inf and nan
# fail the test and take the scaled path) and far enough above float64's smallest normal number
# (2.2e-308) that squares lost to underflow cannot matter (they add at most n * 2.2e-308).
SQUARE_SUM_SAFE = (1e-200, 1e300)


def _p_norm(values, norm_type):
    """The p-norm of a flat float64 array: max |x| for p = inf, else (sum |x|^p)^(1/p).

    The sum is taken over |x| / max |x|, and the result scaled back, so that |x|^p cannot overflow
    to inf (or underflow to 0) for a large p or large values.
    """
    if norm_type == 2:
        # The common case in two passes over memory instead of six: a dot product, trusted
        # when it neither overflowed nor came near float64's underflow (then the scaled sum below).
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is caught just below
            square_sum = float(np.dot(values, values))
        if SQUARE_SUM_SAFE[0] < square_sum < SQUARE_SUM_SAFE[1]:
            return math.sqrt(square_sum)
    magnitudes = np.abs(values)
    largest = magnitudes.max(initial=0.0)
    if norm_type == math.inf or largest == 0 or not math.isfinite(largest):
        return float(largest)
    return float(largest * np.sum((magnitudes / largest) ** norm_type) ** (1.0 / norm_type))


def _unique_tensors(parameters):
    """parameters as a list of distinct Tensors (a single Tensor becomes a one-element list)."""
    if isinstance(parameters, Tensor):
        return [parameters]
    if not hasattr(parameters, "__iter__"):
        raise TypeError(f"parameters: expected a Tensor or an iterable of Tensors, got {type(parameters).__name__}")
    tensors, seen = [], set()
    for index, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters: expected tinyseq Tensors, got {type(p).__name__} at position {index}")
        if id(p) not in seen:
            seen.add(id(p))
            tensors.append(p)
    return tensors


def _number(name, value, minimum):
    """value as a float, or an error naming the argument when it is not a real number >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    if not value >= minimum:  # also refuses nan, for which every comparison is False
        raise ValueError(f"{name}: expected a number >= {minimum}, got {value!r}")
    return float(value)
