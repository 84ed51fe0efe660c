"""Argument handling shared by the op front ends: turning operands into tensors and checking
shapes early, so a user sees the op's name and both shapes instead of a numpy error from inside."""

import numbers

import numpy as np

from ..dtype import as_array, get_default_dtype
from ..tensor import Tensor


def as_tensor(value, like=None, name="input"):
    """A Tensor for value. Python numbers stay Python numbers (numpy then keeps the tensor's
    dtype for them); numpy arrays take the floating dtype of `like` when it has one."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, (bool, np.bool_)):
        # A numpy scalar becomes a Python number, so np.float64(2) * x keeps x's dtype as 2.0 * x does.
        return value.item() if isinstance(value, np.generic) else value
    if like is not None and isinstance(like, Tensor) and like.dtype.kind == "f":
        return Tensor._wrap(as_array(value, name=name).astype(like.dtype, copy=False))
    return Tensor(value)


def operands(a, b, op_name, true_division=False):
    """Both operands of a binary elementwise op, checked to broadcast together.

    Mixed kinds follow PyTorch, not numpy (which would give float64): an integer or bool tensor
    meeting a float tensor takes that tensor's dtype, and meeting a Python float (or divided, when
    true_division) takes the default dtype.
    """
    a_t = as_tensor(a, like=b)
    b_t = as_tensor(b, like=a_t)
    try:
        np.broadcast_shapes(np.shape(getattr(a_t, "data", a_t)), np.shape(getattr(b_t, "data", b_t)))
    except ValueError:
        raise ValueError(
            f"{op_name}: shapes {np.shape(getattr(a_t, 'data', a_t))} and {np.shape(getattr(b_t, 'data', b_t))} "
            "cannot be broadcast together"
        ) from None
    float_dtypes = [t.dtype for t in (a_t, b_t) if isinstance(t, Tensor) and t.dtype.kind == "f"]
    if float_dtypes:
        target = np.result_type(*float_dtypes)
    elif true_division or isinstance(a_t, float) or isinstance(b_t, float):
        target = get_default_dtype()
    else:
        return a_t, b_t
    return tuple(
        Tensor._wrap(t.data.astype(target)) if isinstance(t, Tensor) and t.dtype.kind != "f" else t for t in (a_t, b_t)
    )


def normalize_dim(dim, ndim, op_name, name="dim"):
    """dim (int, tuple of ints, or None for all) as a tuple of non-negative axes, checked."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    result = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or not -max(ndim, 1) <= d < max(ndim, 1):
            raise ValueError(f"{op_name}: {name} must be in [{-max(ndim, 1)}, {max(ndim, 1)}) for a {ndim}-d tensor, got {d}")
        result.append(int(d) % max(ndim, 1))
    return tuple(result)
