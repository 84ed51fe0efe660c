"""gradcheck: compare backward() with central finite differences.

For a random cotangent v (not all ones, which hides gradients summed in the wrong order), the
analytic gradient of <v, fn(inputs)> from backward must match, element by element,
(<v, fn(x + eps e_i)> - <v, fn(x - eps e_i)>) / (2 eps). The cotangent is the "upstream gradient"
d(loss)/d(output) that backward starts from; here it stands for an arbitrary loss. Needs float64:
in float32 the difference quotient's rounding error is larger than the tolerance.
"""

import numpy as np

from .grad_mode import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """backward() and finite differences disagree; the message names the function, the op that made
    its output, the input, the index and its value, both gradients, the cotangent and the tolerance."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Return True if the gradients of fn at inputs match finite differences, else raise GradcheckError.

    fn: maps the tensors in `inputs` (positionally) to one Tensor of any shape.
    inputs: a sequence of Tensors (and other arguments); the float64 tensors with requires_grad=True
        are checked. They may be leaves or results of other ops; either way gradcheck differentiates
        with respect to their current values, and neither their values nor their .grad change.
    Passes when |analytic - numerical| <= atol + rtol * |numerical| for every element.
    """
    _check_arguments(fn, inputs, eps, atol, rtol, seed)
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: inputs has no tensor with requires_grad=True, so there is nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} has dtype {inputs[i].dtype}, expected float64 (finite differences in "
                "lower precision are too inexact to check against); use ts.tensor(..., dtype=np.float64)"
            )

    # Fresh leaves with copies of the checked inputs' values: backward fills a leaf's .grad even when
    # the caller passed an intermediate result (a non-leaf's .grad stays empty), and the caller's
    # tensors, their values and their .grad are never touched.
    for i in checked:
        inputs[i] = Tensor(inputs[i].data.copy(), requires_grad=True, dtype=np.float64)
    owner = getattr(fn, "__self__", None)  # Op.apply is a classmethod: name the op, not Function
    if isinstance(owner, type):
        function_name = f"{owner.__name__}.{fn.__name__}"
    else:
        function_name = getattr(fn, "__qualname__", type(fn).__name__).split("<locals>.")[-1]
    output = fn(*inputs)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__} (return the op's result, not its .data)")
    cotangent = np.random.default_rng(seed).standard_normal(output.shape)
    output.backward(cotangent)
    analytic = {i: (np.zeros(inputs[i].shape) if inputs[i].grad is None else inputs[i].grad) for i in checked}
    made_by = f" (its output made by {output.grad_fn})" if output.grad_fn else ""

    for i in checked:
        values = inputs[i].data
        numerical_gradient = finite_differences(fn, inputs, values, cotangent, eps)
        for index in np.ndindex(values.shape):
            original = values[index]
            numerical = numerical_gradient[index]
            found = analytic[i][index]
            allowed = atol + rtol * abs(numerical)
            if not abs(found - numerical) <= allowed:
                if output.size == 1:
                    upstream = f"cotangent {cotangent.item():.6g}"
                elif output.shape == values.shape:
                    upstream = f"cotangent there {cotangent[index]:.6g}"
                else:
                    upstream = f"cotangent a standard normal array of shape {output.shape}, seed {seed}"
                raise GradcheckError(
                    f"gradcheck of {function_name}{made_by}: gradient mismatch for input {i} at index {index} "
                    f"(value {original:.6g}; {upstream}): |analytic - numerical| = {abs(found - numerical):.3g} "
                    f"> atol {atol:g} + rtol {rtol:g} * |numerical| = {allowed:.3g}; "
                    f"analytic {found:.10g}, numerical {numerical:.10g}"
                )
    return True


def finite_differences(fn, inputs, values, cotangent, eps):
    """d<cotangent, fn(*inputs)>/d values by central differences, one element at a time.

    values: the array of one of the inputs (shape S), changed in place and restored, so views and
    strides are kept. Returns a float64 array of shape S:
    (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) with f = sum(cotangent * fn(*inputs)).
    """
    def objective():
        with no_grad():
            return float(np.sum(fn(*inputs).data * cotangent))

    gradient = np.zeros(values.shape)
    for index in np.ndindex(values.shape):
        original = values[index]
        values[index] = original + eps
        plus = objective()
        values[index] = original - eps
        minus = objective()
        values[index] = original
        gradient[index] = (plus - minus) / (2 * eps)
    return gradient


def _check_arguments(fn, inputs, eps, atol, rtol, seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"gradcheck: seed must be an int >= 0, got {seed!r}")
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be callable, got {type(fn).__name__}")
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)):
        raise TypeError(
            f"gradcheck: inputs must be a list or tuple of tensors, got {type(inputs).__name__} "
            "(wrap a single tensor as [x])"
        )
    for name, value, smallest in (("eps", eps, None), ("atol", atol, 0.0), ("rtol", rtol, 0.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"gradcheck: {name} must be a number, got {value!r}")
        if not np.isfinite(value) or (value <= 0 if smallest is None else value < smallest):
            expected = "a finite number > 0" if smallest is None else "a finite number >= 0"
            raise ValueError(f"gradcheck: {name} must be {expected}, got {value}")
