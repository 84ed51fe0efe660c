"""Tensor: a numpy array that remembers how it was made, and backward() that walks that memory.

Every op (tinyseq/ops/) is a Function (function.py); calling one on tensors that require gradients
records its Context as a node of the graph on its result (`_node`). backward() orders those nodes so
that each runs after every node that uses its outputs, then applies the chain rule node by node,
from the loss back to the leaves.

This is the bottom of the package: it imports no op and not function.py. The operators and the
op methods (x + y, x.sum(), x.reshape(...)) are attached to Tensor in one place,
tinyseq/ops/_bind.py, because the ops are built on Tensor and not the other way round.
"""

import itertools
from operator import attrgetter

import numpy as np

from .dtype import as_array, get_default_dtype

# One clock for the whole engine: recorded nodes take their creation order from it and in-place
# updates stamp the tensor they change with it, so "changed after this node saved it" is a < test.
clock = itertools.count(1)
# The time of the most recent in-place update anywhere: a node created after it needs no check.
last_in_place_update = 0


class Tensor:
    """An n-dimensional array with reverse-mode autograd.

    data: np.ndarray   grad: np.ndarray or None (filled in on leaves by backward)
    requires_grad: bool, only for floating-point data
    """

    # Makes `ndarray + tensor` call Tensor.__radd__ instead of numpy broadcasting over the tensor.
    __array_priority__ = 1000
    # Fixed attributes: smaller and faster to create, which matters at one tensor per recorded op.
    __slots__ = ("data", "grad", "requires_grad", "_node", "_output_index", "_version", "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = as_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = None
        self._node = None
        self._output_index = 0
        self._version = 0
        self.requires_grad = bool(requires_grad)
        if self.requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, got {self.dtype}")

    @staticmethod
    def _wrap(array, requires_grad=False):
        """Wrap an op's output array as is (no dtype conversion, none of __init__'s checks)."""
        # A static method and object.__new__, not a class method and cls.__new__: this runs once per
        # op, and that alone took it from 0.54 to 0.24 us (timeit, Python 3.11).
        tensor = object.__new__(Tensor)
        tensor.data = array
        tensor.grad = None
        tensor._node = None
        tensor._output_index = 0
        tensor._version = 0
        tensor.requires_grad = requires_grad
        return tensor

    def mark_modified_in_place(self):
        """Record that self.data was just changed in place (an optimizer step does this), so that a
        backward through a graph that saved the old values fails instead of mixing old and new.
        (Assigning a new array to .data needs no mark: the graph keeps the old array it saved.)"""
        global last_in_place_update
        self._version = last_in_place_update = next(clock)

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: _Size(self.data.size, self.data.shape))
    is_leaf = property(lambda self: self._node is None)
    grad_fn = property(lambda self: None if self._node is None else self._node.function.__name__)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        # Without this Python iterates through __getitem__ until an IndexError, which a 0-d
        # tensor raises at once: list(ts.tensor(1.0)) would be [] instead of an error.
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self):
        # Without this Python falls back to __len__, and `if x > 0:` is true for any 1-element x.
        return bool(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        # As in PyTorch, the dtype is shown unless it is the default float dtype, int64 or bool:
        # a float64 tensor among float32 ones is visible at a glance.
        shown = self.dtype not in (get_default_dtype(), np.int64, np.bool_)
        dtype = f", dtype={self.dtype}" if shown else ""
        grad = f", grad_fn={self.grad_fn}" if self.grad_fn else (", requires_grad=True" if self.requires_grad else "")
        return f"tensor({body}{dtype}{grad})"

    def numpy(self):
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The values as (nested) Python lists of Python numbers; a number for a 0-d tensor."""
        return self.data.tolist()

    def dim(self):
        """The number of dimensions (PyTorch's name for ndim)."""
        return self.data.ndim

    def numel(self):
        """The number of elements (PyTorch's name for the count that x.size also gives)."""
        return self.data.size

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def detach(self):
        """The same data, cut from the graph: no gradient flows through the result."""
        return Tensor._wrap(self.data)

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) * grad into .grad of every leaf that requires a gradient.

        grad: the upstream gradient, shape of self; may be omitted only for a one-element tensor.
        retain_graph: keep the saved arrays so backward can run through this graph again.
        """
        pending = {}  # node -> the gradients received so far, one entry per output of the node
        _send(pending, self, self._upstream_gradient(grad))
        if self._node is None:
            return
        for node in _nodes_newest_first(self._node):
            output_grads = pending.pop(node, None)
            if output_grads is None:  # every path from the loss to this node carried no gradient
                continue
            for tensor, input_grad in node.input_gradients(output_grads):
                _send(pending, tensor, input_grad)
            if not retain_graph:
                node.free()

    def _upstream_gradient(self, grad):
        """The gradient backward starts from, checked: ones for a one-element tensor, else grad."""
        if not self.requires_grad:
            raise ValueError(
                "backward(): this tensor does not require grad and has no graph; "
                "create the inputs with requires_grad=True (and not inside no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward(): grad must be given for a non-scalar output, got shape {self.shape}")
            return np.ones_like(self.data)
        try:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"backward(): grad must be numbers of the output's shape {self.shape}, got {grad!r}") from None
        if grad.shape != self.shape:
            raise ValueError(f"backward(): grad must have the output's shape {self.shape}, got {grad.shape}")
        return grad

    # Comparisons give bool tensors outside the graph: a step function has no useful gradient.
    def _compare(self, other, compare):
        other = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._wrap(np.asarray(compare(self.data, other)))
        except (ValueError, TypeError) as error:  # numpy's own subclasses take other arguments
            raise (ValueError if isinstance(error, ValueError) else TypeError)(
                f"{compare.__name__}: cannot compare a tensor of shape {self.shape} and dtype {self.dtype} "
                f"with {type(other).__name__} {np.shape(other)}: {error}"
            ) from None

    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)
    def __eq__(self, other): return self._compare(other, np.equal)
    def __ne__(self, other): return self._compare(other, np.not_equal)
    __hash__ = object.__hash__

    def argmax(self, dim=None, keepdim=False):
        """Indices of the maxima (an integer tensor, outside the graph)."""
        if dim is not None:
            check_dim(dim, self.ndim, "argmax", max(self.ndim, 1), expected="an int or None")
            if self.ndim == 0:  # PyTorch allows dim 0 or -1 on a 0-d tensor: the only index is 0
                dim = None
        if self.data.size == 0 and (dim is None or self.shape[dim] == 0):
            raise ValueError(f"argmax: cannot take the argmax over an empty dimension of a tensor of shape {self.shape}")
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=dim, keepdims=keepdim)))


class _Size(int):
    """x.size for both habits: numpy's number of elements (x.size == 6 is an int comparison) and
    PyTorch's method (x.size() is the shape, x.size(d) its length along d). Without the call,
    x.size(0) would be "'int' object is not callable"; without the int, numpy code such as
    `if x.size == 0` would compare a method with 0 and be silently False."""

    def __new__(cls, count, shape):
        size = super().__new__(cls, count)
        size.shape = shape
        return size

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        check_dim(dim, len(self.shape), "size()", len(self.shape))
        return self.shape[dim]


def check_dim(dim, ndim, op_name, axes, name="dim", expected="an int", within=""):
    """The one check of a dimension index, for this file and for ops/args.py's normalize_dim (which
    this bottom layer cannot import): TypeError unless dim is an int (not a bool), ValueError unless
    it is in [-axes, axes), where axes is ndim, or max(ndim, 1) for the ops that let a 0-d tensor
    take dim 0 or -1 as PyTorch does. within: text after the value in the TypeError, such as the
    tuple it came from."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op_name}: {name} must be {expected}, got {dim!r}{within}")
    if not -axes <= dim < axes:
        raise ValueError(f"{op_name}: {name} must be in [{-axes}, {axes}) for a {ndim}-d tensor, got {dim}")


def _send(pending, tensor, grad):
    """Deliver grad to tensor: into .grad for a leaf, else to the pending gradients of its node."""
    node = tensor._node
    if node is None:  # a leaf: accumulate into .grad, across backward calls too (as PyTorch does)
        if tensor.grad is None:
            tensor.grad = grad.copy()  # a copy: grad may be an array another gradient also points to
        else:
            tensor.grad += grad
        return
    received = pending.get(node)
    if received is None:
        received = pending[node] = [None] * node.output_count
    index = tensor._output_index
    # A tensor used by several ops receives the sum of the gradients along every path; `+`, not
    # `+=`, because grad may be the very array another input also received (add passes it on).
    received[index] = grad if received[index] is None else received[index] + grad


def _nodes_newest_first(root):
    """The nodes that root depends on, root included, newest first.

    Why that order works: an op can only take tensors that already exist, so every node is created
    after the nodes that made its inputs. Newest first, a node therefore comes after every node that
    uses its outputs, so all its gradient has arrived when its turn comes (a topological order, with
    no recursion: a 20,000-step chain is fine).
    """
    nodes, stack = {root}, [root]
    while stack:
        for tensor in stack.pop().inputs:
            parent = None if tensor is None else tensor._node
            if parent is not None and parent not in nodes:
                nodes.add(parent)
                stack.append(parent)
    return sorted(nodes, key=attrgetter("sequence"), reverse=True)
