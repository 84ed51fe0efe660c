"""Function and Context: how an op joins the graph.

An op is a subclass of Function with two static methods side by side:

    forward(ctx, *inputs)  numpy arrays (and plain Python values) in, one numpy array (or a tuple) out
    backward(ctx, grad)    d(loss)/d(output) in, one gradient per forward input out

`Function.apply(*args)` unwraps Tensor arguments to their arrays, runs forward, and, when any input
requires a gradient, wraps the result in a Tensor that remembers this node. Everything an op would
otherwise have to get right in every backward lives here, once: un-broadcasting each gradient to
its input's shape, casting it to its input's dtype, and checking that backward returned one
gradient per input with the right shape.
"""

import numpy as np

from .grad_mode import is_grad_enabled


class Context:
    """Per-call scratch space shared by an op's forward and backward.

    needs_input_grad: tuple of bools, one per positional argument of forward.
    save_for_backward(*arrays) / saved_tensors: what backward needs from forward. Arbitrary
    attributes (ctx.axis = ...) may be stored too.
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()
        self.freed = False

    def save_for_backward(self, *arrays):
        """Keep arrays from forward for backward (as ctx.saved_tensors); freed after backward."""
        self.saved_tensors = arrays


class Node:
    """One recorded call: the op, its context, its inputs (None for non-Tensor arguments) and the
    shapes and dtypes of its outputs (to fill in zeros for outputs that received no gradient)."""

    __slots__ = ("function", "ctx", "inputs", "output_specs")

    def __init__(self, function, ctx, inputs, output_specs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs
        self.output_specs = output_specs


class Function:
    """Base class of every op. Subclass it, write forward and backward, call `YourOp.apply(...)`.

    forward may return one array or a tuple of arrays (as split does); backward then receives one
    gradient per output, `backward(ctx, *grads)`, zeros for an output that was not used.
    """

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def apply(cls, *args):
        """Run the op: Tensor arguments are passed to forward as arrays, other arguments as they are;
        returns a Tensor (a tuple of Tensors for several outputs) that records this call when any
        input requires a gradient."""
        Tensor = _tensor_class()
        needs_input_grad = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        record = is_grad_enabled() and True in needs_input_grad
        ctx = Context(needs_input_grad)
        output = cls.forward(ctx, *[a.data if isinstance(a, Tensor) else a for a in args])
        if not isinstance(output, tuple):  # the common case, one output, spelled out for speed
            result = Tensor._wrap(np.asarray(output), record)
            if record:
                inputs = tuple([a if isinstance(a, Tensor) else None for a in args])
                result._node = Node(cls, ctx, inputs, ((result.data.shape, result.data.dtype),))
            return result
        results = tuple([Tensor._wrap(np.asarray(o), record) for o in output])
        if record:
            inputs = tuple([a if isinstance(a, Tensor) else None for a in args])
            node = Node(cls, ctx, inputs, tuple([(r.data.shape, r.data.dtype) for r in results]))
            for index, r in enumerate(results):
                r._node, r._output_index = node, index
        return results


def _tensor_class():
    """tensor.py imports this module, so Tensor is looked up on first use rather than imported."""
    global _Tensor
    if _Tensor is None:
        from .tensor import Tensor as _Tensor
    return _Tensor


_Tensor = None


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing numpy broadcasting (leading axes, then size-1 axes)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def input_gradients(node, output_grads):
    """Run node's backward on its outputs' gradients; return one checked gradient (or None) per input."""
    ctx = node.ctx
    name = node.function.__name__
    if ctx.freed:
        raise RuntimeError(
            f"trying to backward through {name} a second time: the graph is freed after backward(); "
            "call backward(retain_graph=True) the first time if you need to go through it again"
        )
    output_grads = [
        np.zeros(shape, dtype) if g is None else g for g, (shape, dtype) in zip(output_grads, node.output_specs)
    ]
    grads = node.function.backward(ctx, *output_grads)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(node.inputs):
        raise ValueError(
            f"{name}.backward returned {len(grads)} gradient(s), expected {len(node.inputs)} "
            "(one per forward input, None where not needed)"
        )
    checked = []
    for position, (tensor, g) in enumerate(zip(node.inputs, grads)):
        if tensor is None or not tensor.requires_grad or g is None:
            checked.append(None)
            continue
        data = tensor.data
        if type(g) is np.ndarray and g.shape == data.shape and g.dtype == data.dtype:
            checked.append(g)  # the common case: nothing to un-broadcast or cast
            continue
        g = np.asarray(g)
        if g.ndim >= data.ndim:
            g = unbroadcast(g, data.shape)
        if g.shape != data.shape:
            raise ValueError(
                f"{name}.backward returned a gradient of shape {g.shape} for input {position}, "
                f"whose shape is {tensor.shape}"
            )
        checked.append(g.astype(tensor.dtype, copy=False))
    return checked
