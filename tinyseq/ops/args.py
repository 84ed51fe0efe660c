"""Argument handling shared by the op front ends and the factories (creation.py): turning operands
into tensors and checking shapes early, so a user sees the op's name and both shapes instead of a
numpy error from inside."""

import numbers

import numpy as np

from ..dtype import as_array, get_default_dtype
from ..tensor import Tensor, check_dim


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
    true_division) takes the default dtype. Two float tensors of different dtypes give the wider one,
    except that a 0-d tensor takes the dtype of a tensor with dimensions, as a Python number does:
    x (float32, shape (3,)) * ts.tensor(2.0, dtype=float64) is float32 in PyTorch and here.
    """
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype == b.data.dtype and a.data.dtype.kind == "f":
        a_shape, b_shape = a.data.shape, b.data.shape
        # Equal shapes, or b the trailing dimensions of a (a bias), broadcast without the full rule.
        if a_shape != b_shape and a_shape[-len(b_shape):] != b_shape and not broadcastable(a_shape, b_shape):
            raise ValueError(f"{op_name}: shapes {a_shape} and {b_shape} cannot be broadcast together")
        return a, b  # the common case: two float tensors of one dtype
    a = as_tensor(a, like=b)
    b = as_tensor(b, like=a)
    a_shape = a.data.shape if isinstance(a, Tensor) else ()
    b_shape = b.data.shape if isinstance(b, Tensor) else ()
    if a_shape != b_shape and not broadcastable(a_shape, b_shape):
        raise ValueError(f"{op_name}: shapes {a_shape} and {b_shape} cannot be broadcast together")
    a_is_integer = isinstance(a, Tensor) and a.data.dtype.kind != "f"
    b_is_integer = isinstance(b, Tensor) and b.data.dtype.kind != "f"
    if not (a_is_integer or b_is_integer):
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype != b.data.dtype:
            # A differentiable cast (Tensor.to_dtype, bound by ops/_bind.py), so the 0-d tensor's
            # gradient still reaches it, in its own dtype.
            if a.data.ndim == 0 and b.data.ndim > 0:
                a = a.to_dtype(b.data.dtype)
            elif b.data.ndim == 0 and a.data.ndim > 0:
                b = b.to_dtype(a.data.dtype)
        return a, b  # float tensors and Python numbers: numpy keeps the tensor's dtype for a number
    float_dtypes = [t.data.dtype for t in (a, b) if isinstance(t, Tensor) and t.data.dtype.kind == "f"]
    if float_dtypes:
        target = float_dtypes[0]
    elif true_division or isinstance(a, float) or isinstance(b, float):
        target = get_default_dtype()
    else:
        return a, b
    return tuple(Tensor._wrap(t.data.astype(target)) if isinstance(t, Tensor) and t.data.dtype.kind != "f" else t
                 for t in (a, b))


def shape_args(shape):
    """Accept both f(2, 3) and f((2, 3)): the sizes as one tuple."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def is_integer(value):
    """True for Python and numpy integers, False for bools (which Python counts as ints)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer_sizes(sizes, op_name, name="size", allow_minus_one=False):
    """sizes (already a tuple) checked to be integers >= 0 (or -1 where a size is inferred)."""
    for size in sizes:
        if not is_integer(size):
            raise TypeError(f"{op_name}: {name} must be a tuple of ints, got {sizes!r} (an element of type {type(size).__name__})")
        if size < (-1 if allow_minus_one else 0):
            expected = "integers >= 0, or -1" if allow_minus_one else "integers >= 0"
            raise ValueError(f"{op_name}: {name} must hold {expected}, got {sizes!r}")
    return tuple(int(size) for size in sizes)


def unary_input(x):
    """The input of a one-argument op (exp, tanh, relu, ...) as a Tensor. A Python or numpy number
    becomes a 0-d tensor as ts.tensor makes it (a float takes the default dtype), so ts.sigmoid(-3.0)
    is a float32 tensor like ts.sigmoid(ts.tensor(-3.0)). (PyTorch refuses numbers here; tinyseq
    accepts them since its binary ops do.)"""
    return x if isinstance(x, Tensor) else Tensor(x)


def floating(x):
    """x as a floating-point tensor: integer and bool tensors become the default float dtype, as
    PyTorch promotes them for exp, log, sigmoid and the other ops whose values are not integers."""
    if isinstance(x, Tensor) and x.data.dtype.kind != "f":
        return Tensor._wrap(x.data.astype(get_default_dtype()))
    return x


def floating_input(x):
    """floating(unary_input(x)): the input of a one-argument op whose values are not integers (exp,
    log, tanh, ...), in one call for the usual case of a floating-point tensor."""
    if isinstance(x, Tensor) and x.data.dtype.kind == "f":
        return x
    return floating(unary_input(x))


def require_floating(x, op_name, name="input"):
    """TypeError unless x is a floating-point tensor (what PyTorch demands of mean, var, softmax...)."""
    if x.data.dtype.kind != "f":
        raise TypeError(
            f"{op_name}: {name} must be a floating-point tensor, got dtype {x.data.dtype} (convert it with .float())"
        )
    return x


def refuse_bool(x, op_name, hint="convert with .float() first if numbers are meant"):
    """x itself, or a TypeError when it is a bool tensor, for which op_name has no meaning
    (PyTorch refuses bools in neg, abs, relu and sub; numpy would answer with ints or bools)."""
    if x.data.dtype == np.bool_:
        raise TypeError(f"{op_name}: bool tensors are not supported, got dtype bool ({hint})")
    return x


def check_keepdim(keepdim, op_name):
    if not isinstance(keepdim, (bool, np.bool_)):
        raise TypeError(f"{op_name}: keepdim must be a bool, got {keepdim!r}")


def broadcastable(a_shape, b_shape):
    """numpy's rule: aligned from the last dimension, each pair of sizes is equal or has a 1."""
    for m, n in zip(reversed(a_shape), reversed(b_shape)):
        if m != n and m != 1 and n != 1:
            return False
    return True


def normalize_dim(dim, ndim, op_name, name="dim"):
    """dim (int, tuple of ints, or None for all) as a tuple of non-negative axes, checked."""
    if dim is None:
        return tuple(range(ndim))
    if not isinstance(dim, (int, np.integer, tuple, list)):
        raise TypeError(f"{op_name}: {name} must be an int, a tuple of ints or None, got {dim!r}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    result = []
    for d in dims:
        check_dim(d, ndim, op_name, max(ndim, 1), name=name, expected="ints", within=f" in {dim!r}")
        result.append(int(d) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op_name}: {name} must not repeat a dimension, got {dim}")
    return tuple(result)
