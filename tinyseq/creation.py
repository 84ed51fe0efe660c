"""Factories: tensors made from data, constants or the seeded random generator."""

import numpy as np

from . import rng
from .dtype import as_array, get_default_dtype
from .ops._args import shape_args
from .tensor import Tensor


def _make(array, dtype, requires_grad):
    return Tensor(array, requires_grad=requires_grad, dtype=dtype or get_default_dtype())


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of data; float data takes the default dtype (float32)
    unless dtype is given; integer and bool data keep theirs."""
    array = np.array(as_array(data, dtype), copy=True)
    return Tensor(array, requires_grad=requires_grad, dtype=array.dtype)


def zeros(*size, dtype=None, requires_grad=False):
    """A tensor of shape size filled with 0 (default float dtype unless dtype is given)."""
    return _make(np.zeros(shape_args(size)), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    """A tensor of shape size filled with 1 (default float dtype unless dtype is given)."""
    return _make(np.ones(shape_args(size)), dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of shape size filled with fill_value; as in PyTorch, the dtype follows fill_value
    (bool, int64, or the default float dtype) unless dtype is given."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    return _make(np.full(shape_args((size,)), fill_value), dtype, requires_grad)


def zeros_like(other, dtype=None, requires_grad=False):
    """Zeros of other's shape and (unless dtype is given) dtype."""
    return _make(np.zeros(other.shape), dtype or other.dtype, requires_grad)


def ones_like(other, dtype=None, requires_grad=False):
    """Ones of other's shape and (unless dtype is given) dtype."""
    return _make(np.ones(other.shape), dtype or other.dtype, requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    """Standard normal samples from the seeded generator (see manual_seed)."""
    return _make(rng.generator().standard_normal(shape_args(size)), dtype, requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1) from the seeded generator (see manual_seed)."""
    return _make(rng.generator().random(shape_args(size)), dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from start up to (not including) end; integers unless a bound or dtype is a float."""
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is not None or values.dtype.kind == "f":
        values = values.astype(dtype or get_default_dtype())
    return Tensor(values, requires_grad=requires_grad, dtype=values.dtype)
