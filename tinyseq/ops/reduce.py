"""Reductions: sum, mean, amax, amin, max, min, logsumexp, var over one or more dimensions.

Arguments follow PyTorch: dim (int, tuple, or None for all) and keepdim. The backward of a
reduction broadcasts the output gradient back over the reduced dimensions, so each first restores
them as size-1 axes (`_keep`).

max and min follow PyTorch too, which makes them two functions in one: over everything (no dim)
they return the extreme value, like amax/amin; along one dim they return (values, indices), the
idiom `x.max(dim=1)[0]` or `values, indices = x.max(1)` that PyTorch users write without thinking.
"""

from collections import namedtuple

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .args import as_tensor, check_keepdim, floating, normalize_dim, require_floating


def _keep(grad, axes, keepdim):
    """grad with the reduced axes restored as size-1 axes, ready to broadcast against the input."""
    return grad if keepdim else np.expand_dims(grad, axes)


def _count(shape, axes):
    """How many elements each output of a reduction over axes combines."""
    return int(np.prod([shape[a] for a in axes]))


def max_shift(x, axes):
    """The maximum over axes (kept as size-1 axes), the shift that keeps exp(x - shift) <= 1.
    0 where the maximum is infinite, so an all -inf slice stays -inf instead of becoming NaN
    (and over an empty dimension, whose maximum is taken as -inf, so logsumexp gives log 0 = -inf)."""
    shift = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(shift), shift, 0)


class Sum(Function):
    """sum over axes.  Backward: the output gradient copied to every summed element."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return np.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_keep(grad, ctx.axes, ctx.keepdim), ctx.shape), None, None


class Mean(Function):
    """mean over axes.  Backward: the output gradient / N to every averaged element."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.count = _count(x.shape, axes)
        with np.errstate(invalid="ignore", divide="ignore"):  # no elements: 0 / 0 is NaN, as in PyTorch
            return np.sum(x, axis=axes, keepdims=keepdim) / x.dtype.type(ctx.count)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_keep(grad, ctx.axes, ctx.keepdim) / ctx.count, ctx.shape), None, None


class Max(Function):
    """The largest element. When several elements tie for the maximum, they share the gradient
    equally (PyTorch's amax rule), so the gradient is the same whichever order they come in. A NaN
    is the maximum of its slice (np.max and PyTorch agree), and the NaNs share the gradient, as in
    torch.max(x); torch.amax gives such a slice a NaN gradient instead."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        out = np.max(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        is_max = (x == out) | (np.isnan(x) & np.isnan(out))  # a NaN is the maximum of its slice
        count = np.sum(is_max, axis=ctx.axes, keepdims=True)
        return np.where(is_max, _keep(grad, ctx.axes, ctx.keepdim) / count, 0).astype(x.dtype, copy=False), None, None


class Logsumexp(Function):
    """log(sum(exp(x))), shifted by the maximum so no exp overflows; the gradient is softmax(x)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        shift = max_shift(x, axes)
        with np.errstate(divide="ignore"):  # log 0 = -inf for an all -inf or empty slice is meant
            out = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _keep(grad, ctx.axes, ctx.keepdim) * np.exp(x - out), None, None


class Var(Function):
    """Variance with Bessel's correction: sum((x - mean)^2) / (N - correction)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        count = _count(x.shape, axes)
        centred = x - np.mean(x, axis=axes, keepdims=True)
        ctx.save_for_backward(centred)
        # A Python int (not the builtin max, which this module's max op shadows): N <= correction
        # gives inf or NaN, as in PyTorch.
        ctx.axes, ctx.keepdim, ctx.denominator = axes, keepdim, (count - correction if count > correction else 0)
        return np.sum(centred * centred, axis=axes, keepdims=keepdim) / ctx.denominator

    @staticmethod
    def backward(ctx, grad):
        (centred,) = ctx.saved_tensors
        return _keep(grad, ctx.axes, ctx.keepdim) * 2 * centred / ctx.denominator, None, None, None


def _reduction_axes(x, dim, keepdim, op_name):
    """The axes to reduce, checked; a 0-d tensor accepts dim 0 or -1 and reduces over nothing, as in PyTorch."""
    check_keepdim(keepdim, op_name)
    axes = normalize_dim(dim, x.ndim, op_name)
    return () if x.ndim == 0 else axes


def sum(x, dim=None, keepdim=False):
    """Sum over dim (int, tuple, or None for all dimensions)."""
    x = as_tensor(x)
    return Sum.apply(x, _reduction_axes(x, dim, keepdim, "sum"), keepdim)


def mean(x, dim=None, keepdim=False):
    """Mean over dim (int, tuple, or None for all dimensions); x must be floating point, as in
    PyTorch. The mean of no elements is NaN (0 / 0), also as in PyTorch."""
    x = require_floating(as_tensor(x), "mean")
    return Mean.apply(x, _reduction_axes(x, dim, keepdim, "mean"), keepdim)


def amax(x, dim=None, keepdim=False):
    """Maximum over dim (int, tuple, or None for all dimensions): the values only. Tied maxima share
    the gradient equally (see Max). The maximum over an empty dimension is an error, as in PyTorch."""
    x = as_tensor(x)
    return Max.apply(x, _nonempty_axes(x, dim, keepdim, "amax"), keepdim)


def amin(x, dim=None, keepdim=False):
    """Minimum over dim, as -amax(-x): values only, tied minima share the gradient equally."""
    return _amin(as_tensor(x), dim, keepdim, "amin")


def _amin(x, dim, keepdim, op_name):
    from .elementwise import neg

    _nonempty_axes(x, dim, keepdim, op_name)
    return neg(amax(neg(x), dim, keepdim))


# What max(x, dim) and min(x, dim) return, as PyTorch's torch.return_types.max does: a tuple whose
# fields have names, so both `values, indices = x.max(1)` and `x.max(1).values` read naturally.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


class TakeAlongDim(Function):
    """x's elements at `indices` along one axis (np.take_along_axis): indices has x's shape with
    size 1 on that axis. The gradient goes to the taken elements only, zero elsewhere."""

    @staticmethod
    def forward(ctx, x, indices, axis, keepdim):
        ctx.shape, ctx.indices, ctx.axis, ctx.keepdim = x.shape, indices, axis, keepdim
        out = np.take_along_axis(x, indices, axis)
        return out if keepdim else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx, grad):
        grad_x = np.zeros(ctx.shape, grad.dtype)
        np.put_along_axis(grad_x, ctx.indices, _keep(grad, ctx.axis, ctx.keepdim), ctx.axis)
        return grad_x, None, None, None


def _extreme_along_dim(x, dim, keepdim, op_name, arg_index):
    """(values, indices) of the maxima or minima along one dim: the first of tied extremes (as
    PyTorch and numpy), and the gradient goes to that element alone (PyTorch's rule for max(x, dim))."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op_name}: dim must be an int when given (max/min along one dim return values "
                        f"and indices); for several dims use a{op_name}, got {dim!r}")
    (axis,) = _nonempty_axes(x, dim, keepdim, op_name) or (None,)
    if axis is None:  # a 0-d tensor with dim 0 or -1: its one value, at index 0
        return ValuesIndices(amax(x, dim, keepdim), Tensor._wrap(np.zeros((), np.int64)))
    indices = np.expand_dims(arg_index(x.data, axis=axis), axis)
    values = TakeAlongDim.apply(x, indices, axis, keepdim)
    return ValuesIndices(values, Tensor._wrap(indices if keepdim else np.squeeze(indices, axis)))


def max(x, dim=None, keepdim=False):
    """PyTorch's max: with no dim, the largest element (a 0-d tensor, as amax(x)); along one dim,
    (values, indices), the first index of tied maxima, the gradient to that element alone:
        x: (..., n, ...) -> values, indices: (..., ...) (or (..., 1, ...) with keepdim)
    A NaN is the maximum wherever it appears (PyTorch and numpy agree)."""
    x = as_tensor(x)
    if dim is None:
        return Max.apply(x, _nonempty_axes(x, None, keepdim, "max"), keepdim)
    return _extreme_along_dim(x, dim, keepdim, "max", np.argmax)


def min(x, dim=None, keepdim=False):
    """PyTorch's min: with no dim, the smallest element (as amin(x)); along one dim, (values, indices),
    as max."""
    x = as_tensor(x)
    if dim is None:
        return _amin(x, None, keepdim, "min")
    return _extreme_along_dim(x, dim, keepdim, "min", np.argmin)


def _nonempty_axes(x, dim, keepdim, op_name):
    """The axes to reduce, checked, none of them empty (the maximum of no elements is undefined)."""
    axes = _reduction_axes(x, dim, keepdim, op_name)
    empty = [axis for axis in axes if x.shape[axis] == 0]
    if empty:
        extreme = "minimum" if op_name.endswith("min") else "maximum"
        raise ValueError(
            f"{op_name}: cannot reduce over dimension {empty[0]} of a tensor of shape {x.shape}: it is empty "
            f"(the {extreme} of no elements is undefined)"
        )
    return axes


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x), dim)), finite for inputs of any size; -inf over an empty dimension (log 0)."""
    x = floating(as_tensor(x))
    return Logsumexp.apply(x, _reduction_axes(x, dim, keepdim, "logsumexp"), keepdim)


def var(x, dim=None, keepdim=False, correction=1):
    """Variance over dim; correction=1 (PyTorch's default) divides by N - 1. x must be floating
    point; N <= correction gives inf or NaN, as in PyTorch."""
    x = require_floating(as_tensor(x), "var")
    if isinstance(correction, (bool, np.bool_)) or not isinstance(correction, (int, np.integer, float, np.floating)):
        raise TypeError(f"var: correction must be a number, got {correction!r}")
    axes = _reduction_axes(x, dim, keepdim, "var")
    with np.errstate(invalid="ignore", divide="ignore"):
        return Var.apply(x, axes, keepdim, correction)
