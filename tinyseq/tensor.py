"""Tensor: a numpy array that remembers how it was made, and backward() that walks that memory.

Every op (tinyseq/ops/) is a Function; calling one on tensors that require gradients records a
Node (function.py) on its result. backward() orders those nodes so that each runs after every node
that uses its outputs, then applies the chain rule node by node, from the loss back to the leaves.
"""

import numpy as np

from .dtype import as_array, get_default_dtype
from .function import input_gradients


class Tensor:
    """An n-dimensional array with reverse-mode autograd.

    data: np.ndarray   grad: np.ndarray or None (filled in on leaves by backward)
    requires_grad: bool, only for floating-point data
    """

    # Makes `ndarray + tensor` call Tensor.__radd__ instead of numpy broadcasting over the tensor.
    __array_priority__ = 1000
    # Fixed attributes: smaller and faster to create, which matters at one tensor per recorded op.
    __slots__ = ("data", "grad", "requires_grad", "_node", "_output_index", "__weakref__")

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = as_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = None
        self._node = None
        self._output_index = 0
        self.requires_grad = bool(requires_grad)
        if self.requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, got {self.dtype}")

    @classmethod
    def _wrap(cls, array, requires_grad=False):
        """Wrap an op's output array as is (no dtype conversion)."""
        tensor = cls.__new__(cls)
        tensor.data, tensor.grad, tensor._node, tensor._output_index = array, None, None, 0
        tensor.requires_grad = requires_grad
        return tensor

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
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
        if not self.requires_grad:
            raise ValueError(
                "backward(): this tensor does not require grad and has no graph; "
                "create the inputs with requires_grad=True (and not inside no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward(): grad must be given for a non-scalar output, got shape {self.shape}")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward(): grad must have the output's shape {self.shape}, got {grad.shape}")
        if self._node is None:
            self._accumulate(grad)
            return
        pending = {(id(self._node), self._output_index): grad}
        for node in _nodes_outputs_first(self._node):
            if len(node.output_specs) == 1:  # the common case, spelled out for speed
                output_grads = [pending.pop((id(node), 0), None)]
                if output_grads[0] is None:
                    continue
            else:
                output_grads = [pending.pop((id(node), i), None) for i in range(len(node.output_specs))]
                if all(g is None for g in output_grads):
                    continue
            for tensor, g in zip(node.inputs, input_gradients(node, output_grads)):
                if g is None:
                    continue
                if tensor._node is None:
                    tensor._accumulate(g)
                else:
                    key = (id(tensor._node), tensor._output_index)
                    # A tensor used by several ops receives the sum of the gradients along every path.
                    pending[key] = g if key not in pending else pending[key] + g
            if not retain_graph:
                # Drop everything forward kept (saved arrays, masks, indices) and the links to the
                # inputs, so a loss kept after backward holds no intermediate arrays; keep the mark.
                node.ctx.__dict__.clear()
                node.ctx.saved_tensors, node.ctx.freed = (), True
                node.inputs = ()

    def _accumulate(self, grad):
        if self.grad is None:
            self.grad = grad.copy()  # a copy: grad may be an array another gradient also points to
        else:
            self.grad += grad

    # Operators; the ops live in tinyseq/ops/, imported at the bottom of this file.
    def __add__(self, other): return _ops.add(self, other)
    def __radd__(self, other): return _ops.add(other, self)
    def __sub__(self, other): return _ops.sub(self, other)
    def __rsub__(self, other): return _ops.sub(other, self)
    def __mul__(self, other): return _ops.mul(self, other)
    def __rmul__(self, other): return _ops.mul(other, self)
    def __truediv__(self, other): return _ops.div(self, other)
    def __rtruediv__(self, other): return _ops.div(other, self)
    def __pow__(self, other): return _ops.pow(self, other)
    def __rpow__(self, other): return _ops.pow(other, self)
    def __matmul__(self, other): return _ops.matmul(self, other)
    def __rmatmul__(self, other): return _ops.matmul(other, self)
    def __neg__(self): return _ops.neg(self)
    def __getitem__(self, index): return _ops.getitem(self, index)

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

    @property
    def T(self):
        """All dimensions reversed (numpy's .T)."""
        return _ops.permute(self, *reversed(range(self.ndim)))

    def __getattr__(self, name):
        # x.exp(), x.sum(dim=0), x.reshape(2, 3), ...: every public op is also a method.
        if name in _ops.__all__:
            op = getattr(_ops, name)
            return lambda *args, **kwargs: op(self, *args, **kwargs)
        raise AttributeError(f"'Tensor' object has no attribute '{name}'")

    def argmax(self, dim=None, keepdim=False):
        """Indices of the maxima (an integer tensor, outside the graph)."""
        if dim is not None:
            if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
                raise TypeError(f"argmax: dim must be an int or None, got {dim!r}")
            if not -max(self.ndim, 1) <= dim < max(self.ndim, 1):
                raise ValueError(f"argmax: dim must be in [{-max(self.ndim, 1)}, {max(self.ndim, 1)}) "
                                 f"for a {self.ndim}-d tensor, got {dim}")
            if self.ndim == 0:  # PyTorch allows dim 0 or -1 on a 0-d tensor: the only index is 0
                dim = None
        if self.data.size == 0 and (dim is None or self.shape[dim] == 0):
            raise ValueError(f"argmax: cannot take the argmax over an empty dimension of a tensor of shape {self.shape}")
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=dim, keepdims=keepdim)))

    def float(self):
        """This tensor as float32, differentiably (same shape)."""
        return _ops.to_dtype(self, np.float32)

    def double(self):
        """This tensor as float64, differentiably (same shape)."""
        return _ops.to_dtype(self, np.float64)


def _nodes_outputs_first(root):
    """The nodes reachable from root, each before every node that produced one of its inputs.

    An iterative depth-first post-order, reversed: no recursion, so a 20,000-step chain is fine.
    """
    order, visited = [], {id(root)}
    stack = [(root, iter(root.inputs))]
    while stack:
        node, inputs = stack[-1]
        for tensor in inputs:
            parent = None if tensor is None else tensor._node
            if parent is not None and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return reversed(order)


from . import ops as _ops  # noqa: E402  (ops import Tensor, so they come after it)
