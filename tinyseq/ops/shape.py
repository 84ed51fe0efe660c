"""Shape ops: they move, copy or select elements without changing their values.

The backward of each sends every gradient element back to where its value came from: reshape
reshapes back, permute applies the inverse permutation, getitem scatter-adds into zeros.
split, chunk and unbind are single ops with several outputs, so an RNN that walks a sequence
step by step costs one backward for the whole sequence, not one zero-filled array per step.
"""

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .elementwise import to_dtype
from .args import as_tensor, integer_sizes, is_integer, normalize_dim, shape_args


class Reshape(Function):
    """The same elements in a new shape.  Backward: reshape the gradient back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None


class Permute(Function):
    """Dimensions reordered by dims.  Backward: the inverse permutation."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims)), None


class Expand(Function):
    """x broadcast to a larger shape, without copying."""

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # the engine sums the expanded dimensions back down


class GetItem(Function):
    """x[index] for any numpy index: slices, integers, integer arrays, boolean masks.
    Backward scatter-adds, so an index repeated in an integer array accumulates its gradients."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.input_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.input_shape, dtype=grad.dtype)
        if _is_basic(ctx.index):
            full[ctx.index] = grad  # slices and integers cannot select an element twice
        else:
            np.add.at(full, ctx.index, grad)
        return full, None


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


class Concat(Function):
    """Arrays joined along dim.  Backward: the gradient cut back into their pieces."""

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.boundaries = np.cumsum([a.shape[dim] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None, *np.split(grad, ctx.boundaries, axis=ctx.dim))


class Stack(Function):
    """Arrays of one shape joined along a new dim.  Backward: the gradient's slices."""

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return (None, *np.moveaxis(grad, ctx.dim, 0))


class Split(Function):
    """Pieces of x along dim, cut at the given boundaries; backward concatenates their gradients."""

    @staticmethod
    def forward(ctx, x, boundaries, dim):
        ctx.dim = dim
        return tuple(np.split(x, boundaries, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.dim), None, None


class Unbind(Function):
    """The slices x[i] along dim as separate tensors; backward stacks their gradients."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return tuple(np.moveaxis(x, dim, 0))

    @staticmethod
    def backward(ctx, *grads):
        return np.stack(grads, axis=ctx.dim), None


class Pad(Function):
    """x surrounded by a constant.  Backward: the gradient's inner block."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner], None, None


class Flip(Function):
    """x reversed along dims.  Backward: the gradient reversed the same way."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.dims), None


def reshape(x, *shape):
    """x with a new shape holding the same number of elements (one entry may be -1)."""
    x = as_tensor(x)
    shape = integer_sizes(shape_args(shape), "reshape", "shape", allow_minus_one=True)
    try:
        np.empty(x.shape, dtype=bool).reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}") from None
    return Reshape.apply(x, shape)


def view(x, *shape):
    """Alias of reshape (tinyseq arrays have no strides to keep)."""
    return reshape(x, *shape)


def permute(x, *dims):
    """x with its dimensions reordered: output dimension i is input dimension dims[i]."""
    x = as_tensor(x)
    dims = shape_args(dims)
    axes = normalize_dim(dims, x.ndim, "permute", "dims")
    if len(axes) != x.ndim:
        raise ValueError(f"permute: dims must be a permutation of range({x.ndim}), got {dims}")
    return Permute.apply(x, axes)


def transpose(x, dim0, dim1):
    """x with dimensions dim0 and dim1 swapped (PyTorch's transpose, not numpy's)."""
    x = as_tensor(x)
    (a,), (b,) = normalize_dim(dim0, x.ndim, "transpose", "dim0"), normalize_dim(dim1, x.ndim, "transpose", "dim1")
    dims = list(range(x.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, tuple(dims))


def expand(x, *sizes):
    """x broadcast to sizes without copying; -1 keeps a dimension's size (PyTorch's expand)."""
    x = as_tensor(x)
    sizes = integer_sizes(shape_args(sizes), "expand", "sizes", allow_minus_one=True)
    offset = len(sizes) - x.ndim
    if offset < 0:
        raise ValueError(f"expand: sizes {sizes} have fewer dimensions than the tensor's shape {x.shape}")
    shape = tuple(x.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(sizes))
    try:
        np.broadcast_shapes(x.shape, shape)
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"expand: a tensor of shape {x.shape} cannot be expanded to {sizes}") from None
    return Expand.apply(x, shape)


def squeeze(x, dim=None):
    """x without size-1 dimensions (all of them, or only dim when it has size 1)."""
    x = as_tensor(x)
    dims = normalize_dim(dim, x.ndim, "squeeze")
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return Reshape.apply(x, shape)


def unsqueeze(x, dim):
    """x with a new size-1 dimension at position dim."""
    x = as_tensor(x)
    (dim,) = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, x.shape[:dim] + (1,) + x.shape[dim:])


def getitem(x, index):
    """x[index]: basic slicing, integer arrays (repeats allowed) and boolean masks."""
    x = as_tensor(x)
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        # An empty list selects nothing (as in numpy and PyTorch); np.asarray([]) would be float.
        index = np.asarray(index, dtype=np.intp) if len(index) == 0 else np.asarray(index)
    try:
        np.empty(x.shape, dtype=bool)[index]
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape {x.shape}: {error}") from None
    return GetItem.apply(x, index)


def _check_same_shapes(tensors, dim, op_name, skip_dim):
    if len(tensors) == 0:
        raise ValueError(f"{op_name}: expected a non-empty sequence of tensors, got none")
    first = tensors[0].shape
    for position, t in enumerate(tensors):
        same = len(t.shape) == len(first) and all(
            a == b for i, (a, b) in enumerate(zip(t.shape, first)) if not (skip_dim and i == dim)
        )
        if not same:
            raise ValueError(f"{op_name}: tensor {position} has shape {t.shape}, incompatible with tensor 0's {first}")


def _common_dtype(tensors):
    """The tensors in one dtype, by PyTorch's rule: integers and bools joined with floats take the
    floats' dtype (numpy would make float32 with int64 float64)."""
    floats = [t.dtype for t in tensors if t.dtype.kind == "f"]
    target = np.result_type(*floats) if floats else np.result_type(*[t.dtype for t in tensors])
    return [t if t.dtype == target else Tensor._wrap(t.data.astype(target)) if not t.requires_grad
            else to_dtype(t, target) for t in tensors]


def concat(tensors, dim=0):
    """The tensors joined along an existing dimension dim (integers joined with floats become floats)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    for position, t in enumerate(tensors):
        if t.ndim == 0:
            raise ValueError(f"concat: tensor {position} is 0-d and cannot be concatenated (use stack for scalars)")
    if tensors:
        tensors = _common_dtype(tensors)
        (dim,) = normalize_dim(dim, tensors[0].ndim, "concat")
    _check_same_shapes(tensors, dim, "concat", skip_dim=True)
    return Concat.apply(dim, *tensors)


cat = concat


def stack(tensors, dim=0):
    """The tensors (all of one shape) joined along a new dimension dim."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if tensors:
        tensors = _common_dtype(tensors)
        (dim,) = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    _check_same_shapes(tensors, dim, "stack", skip_dim=False)
    return Stack.apply(dim, *tensors)


def split(x, split_size_or_sections, dim=0):
    """PyTorch's split: an int gives pieces of that size (the last may be smaller); a list gives
    the size of each piece, which must add up to the dimension's length. Returns a tuple."""
    x = _at_least_1d(as_tensor(x), "split")
    (dim,) = normalize_dim(dim, x.ndim, "split")
    length = x.shape[dim]
    if is_integer(split_size_or_sections):
        if split_size_or_sections <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size_or_sections}")
        sizes = [split_size_or_sections] * (length // split_size_or_sections)
        if length % split_size_or_sections:
            sizes.append(length % split_size_or_sections)
    else:
        if not isinstance(split_size_or_sections, (list, tuple)):
            raise TypeError(
                f"split: split_size_or_sections must be an int or a list of ints, got {split_size_or_sections!r}"
            )
        sizes = list(integer_sizes(tuple(split_size_or_sections), "split", "sections"))
        if sum(sizes) != length:
            raise ValueError(f"split: sections {sizes} add up to {sum(sizes)}, but dimension {dim} has length {length}")
    return Split.apply(x, list(np.cumsum(sizes)[:-1]), dim)


def chunk(x, chunks, dim=0):
    """PyTorch's chunk: pieces of size ceil(length / chunks) along dim (the last may be smaller);
    an empty dimension gives `chunks` empty pieces, as in PyTorch."""
    x = _at_least_1d(as_tensor(x), "chunk")
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    (dim,) = normalize_dim(dim, x.ndim, "chunk")
    if x.shape[dim] == 0:
        return split(x, [0] * chunks, dim)
    return split(x, -(-x.shape[dim] // chunks), dim)


def unbind(x, dim=0):
    """The slices of x along dim, as a tuple of tensors with that dimension removed."""
    x = _at_least_1d(as_tensor(x), "unbind")
    (dim,) = normalize_dim(dim, x.ndim, "unbind")
    return Unbind.apply(x, dim)


def pad(x, pad, value=0.0):
    """PyTorch's F.pad in constant mode: pad = (last_left, last_right, prev_left, prev_right, ...)."""
    x = as_tensor(x)
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: pad must be a tuple of ints (last_left, last_right, ...), got {pad!r}")
    pad = tuple(pad)
    if not all(is_integer(p) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"pad: value must be a number, got {value!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim or any(p < 0 for p in pad):
        raise ValueError(f"pad: expected an even number (at most {2 * x.ndim}) of non-negative widths, got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(x, widths, value)


def _at_least_1d(x, op_name):
    if x.ndim == 0:
        raise ValueError(f"{op_name}: expected a tensor with at least 1 dimension, got a 0-d tensor")
    return x


def flip(x, dims):
    """x with the order of elements reversed along each of dims."""
    x = as_tensor(x)
    return Flip.apply(x, normalize_dim(dims, x.ndim, "flip", "dims"))
