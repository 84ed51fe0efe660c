"""Factories: tensors made from data, constants or the seeded random generator."""

import numpy as np

from . import rng
from .dtype import as_array, get_default_dtype
from .ops.args import integer_sizes, shape_args
from .tensor import Tensor


def _make(array, dtype, requires_grad):
    return Tensor(array, requires_grad=requires_grad, dtype=dtype or get_default_dtype())


def _size(size, op_name):
    """The sizes of f(2, 3) or f((2, 3)), checked to be integers >= 0."""
    return integer_sizes(shape_args(size), op_name)


def _dtype(dtype, op_name):
    """dtype as a numpy dtype (None stays None), or a TypeError naming the argument."""
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op_name}: dtype must be a numpy dtype such as np.float32 or np.int64, got {dtype!r}") from None


def _random_dtype(dtype, op_name):
    """Random samples are real numbers: an integer dtype would truncate them (PyTorch refuses it too)."""
    dtype = _dtype(dtype, op_name)
    if dtype is not None and dtype.kind != "f":
        raise TypeError(f"{op_name}: dtype must be a floating dtype (float32 or float64), got {dtype}")
    return dtype


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of data.

    Float data takes the default dtype, float32, unless dtype is given, and that includes a numpy
    float64 array: ts.tensor(np.zeros(3)) is float32, where torch.tensor would keep float64. One
    dtype for data and weights keeps a model in the precision it was built in (float64 data meeting
    float32 weights would be a dtype error). Ask for float64 with dtype=np.float64, or make it the
    default with ts.set_default_dtype(np.float64) (what gradcheck needs). The repr of a tensor
    shows its dtype whenever it is not the default one.
    Integer and bool data keep their dtype; Python integers become int64 (ValueError outside it).
    """
    array = np.array(as_array(data, _dtype(dtype, "tensor")), copy=True)
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def zeros(*size, dtype=None, requires_grad=False):
    """A tensor of shape size filled with 0 (default float dtype unless dtype is given)."""
    return _make(np.zeros(_size(size, "zeros")), _dtype(dtype, "zeros"), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    """A tensor of shape size filled with 1 (default float dtype unless dtype is given)."""
    return _make(np.ones(_size(size, "ones")), _dtype(dtype, "ones"), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of shape size filled with fill_value; as in PyTorch, the dtype follows fill_value
    (bool, int64, or the default float dtype) unless dtype is given."""
    if isinstance(fill_value, Tensor) and fill_value.size == 1:
        fill_value = fill_value.item()
    if not isinstance(fill_value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"full: fill_value must be a number, got {type(fill_value).__name__} {fill_value!r}")
    dtype = _dtype(dtype, "full")
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    return _make(np.full(_size((size,), "full"), fill_value), dtype, requires_grad)


def zeros_like(other, dtype=None, requires_grad=False):
    """Zeros of other's shape and (unless dtype is given) dtype."""
    if not isinstance(other, (Tensor, np.ndarray)):
        raise TypeError(f"zeros_like: other must be a Tensor or an ndarray, got {type(other).__name__}")
    return _make(np.zeros(other.shape), _dtype(dtype, "zeros_like") or other.dtype, requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    """Ones of other's shape and (unless dtype is given) dtype."""
    if not isinstance(other, (Tensor, np.ndarray)):
        raise TypeError(f"ones_like: other must be a Tensor or an ndarray, got {type(other).__name__}")
    return _make(np.ones(other.shape), _dtype(dtype, "ones_like") or other.dtype, requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal samples from the seeded generator (see manual_seed)."""
    return _make(rng.generator().standard_normal(_size(size, "randn")), _random_dtype(dtype, "randn"), requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) from the seeded generator (see manual_seed)."""
    return _make(rng.generator().random(_size(size, "rand")), _random_dtype(dtype, "rand"), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from start up to (not including) end; integers unless a bound or dtype is a float."""
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"arange: {name} must be a number, got {type(value).__name__} {value!r}")
        if not np.isfinite(value):
            raise ValueError(f"arange: {name} must be finite, got {value}")
    if step == 0:
        raise ValueError("arange: step must be nonzero, got 0")
    dtype = _dtype(dtype, "arange")
    values = np.arange(start, end, step)
    if dtype is not None or values.dtype.kind == "f":
        values = values.astype(dtype or get_default_dtype())
    return Tensor(values, requires_grad=requires_grad, dtype=values.dtype)
