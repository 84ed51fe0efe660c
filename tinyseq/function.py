"""Function and Context: how an op joins the graph.

An op is a subclass of Function with two static methods side by side:

    forward(ctx, *inputs)  numpy arrays (and plain Python values) in, one numpy array (or a tuple) out
    backward(ctx, grad)    d(loss)/d(output) in, one gradient per forward input out

`Function.apply(*args)` unwraps Tensor arguments to their arrays, runs forward, and, when any input
requires a gradient, wraps the result in a Tensor whose grad_fn is the call's Context: the context
is the graph node (as in PyTorch), so one object holds what forward saved and the links to the
inputs. Everything an op would otherwise have to get right in every backward lives here, once:
un-broadcasting each gradient to its input's shape, casting it to its input's dtype, checking that
backward returned one gradient per input with the right shape, and refusing to run on inputs that
were modified in place after forward saved them.

Imports: tensor.py (the engine's lower half) and grad_mode.py; never an op.
"""

import numpy as np

from . import tensor as _tensor_module
from .grad_mode import is_grad_enabled
from .tensor import Tensor

# Creation order of the recorded nodes. Tensor.backward visits nodes newest first, and an in-place
# update stamps its tensor with the same clock, so "modified after this node was recorded" is a
# comparison of two numbers (see Context.check_saved_inputs_unmodified).
_clock = _tensor_module.clock


class Context:
    """One call of an op: scratch space shared by its forward and backward, and, when the call is
    recorded, the node of the graph that Tensor.backward walks.

    needs_input_grad: tuple of bools, one per positional argument of forward.
    save_for_backward(*arrays) / saved_tensors: what backward needs from forward. Arbitrary
    attributes (ctx.axis = ...) may be stored too; all of it is dropped after backward.
    Set when recorded: function (the op class), inputs (per argument, the Tensor, or None for
    other values), output_count, output_specs ((shape, dtype) per output when there are several,
    else None), sequence (creation order).
    """

    # The engine's fields are slots; an op's own attributes go to __dict__, which free() empties.
    __slots__ = ("needs_input_grad", "saved_tensors", "freed", "function", "inputs", "output_count",
                 "output_specs", "sequence", "__dict__")

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()
        self.freed = False

    def save_for_backward(self, *arrays):
        """Keep arrays from forward for backward (as ctx.saved_tensors); freed after backward."""
        self.saved_tensors = arrays

    @property
    def name(self):
        return self.function.__name__

    def record(self, function, inputs, results):
        """Make this context the graph node of the call: link it to its tensor inputs (inputs: per
        argument, the Tensor or None) and mark the results as its outputs."""
        self.function, self.inputs, self.sequence = function, inputs, next(_clock)
        self.output_count = len(results)
        if len(results) == 1:  # the usual case, without a loop: this runs once per op
            results[0]._node, results[0]._output_index, results[0].requires_grad = self, 0, True
            self.output_specs = None
            return
        for index, result in enumerate(results):
            result._node, result._output_index, result.requires_grad = self, index, True
        # Shapes and dtypes only for several outputs, where backward gives zeros to an output no path
        # used; a one-output node is only ever reached through its output. (Fewer objects per node
        # also means fewer garbage-collector passes over the graph.)
        self.output_specs = tuple([(result.data.shape, result.data.dtype) for result in results])

    def input_gradients(self, output_grads):
        """Run the op's backward on its outputs' gradients (None for an output no path used);
        return (input tensor, checked gradient) for each input that needs one."""
        if self.freed:
            raise RuntimeError(
                f"trying to backward through {self.name} a second time: the graph is freed after backward(); "
                "call backward(retain_graph=True) the first time if you need to go through it again"
            )
        if self.sequence < _tensor_module.last_in_place_update:
            self.check_saved_inputs_unmodified()
        if self.output_specs is not None:  # a multi-output op: an output that no path used gets zeros
            output_grads = [np.zeros(shape, dtype) if g is None else g
                            for g, (shape, dtype) in zip(output_grads, self.output_specs)]
        grads = self.function.backward(self, *output_grads)
        if type(grads) is not tuple:
            grads = (grads,)
        if len(grads) != len(self.inputs):
            raise ValueError(
                f"{self.name}.backward returned {len(grads)} gradient(s), expected {len(self.inputs)} "
                "(one per forward input, None where not needed)"
            )
        checked = []
        for tensor, grad in zip(self.inputs, grads):
            if grad is None or tensor is None or not tensor.requires_grad:
                continue
            # The common case is tested inline: an array of the input's shape and dtype needs no fixing.
            if not (type(grad) is np.ndarray and grad.shape == tensor.data.shape and grad.dtype == tensor.data.dtype):
                grad = self._fitted(tensor, grad)
            checked.append((tensor, grad))
        return checked

    def _fitted(self, tensor, grad):
        """grad summed over the axes its input was broadcast along and cast to the input's dtype."""
        data = tensor.data
        if type(grad) is not np.ndarray:
            grad = np.asarray(grad)
        if grad.ndim >= data.ndim:
            grad = unbroadcast(grad, data.shape)
        if grad.shape != data.shape:
            position = [t is tensor for t in self.inputs].index(True)
            raise ValueError(
                f"{self.name}.backward returned a gradient of shape {grad.shape} for input {position}, "
                f"whose shape is {data.shape}"
            )
        return grad if grad.dtype == data.dtype else grad.astype(data.dtype)

    def check_saved_inputs_unmodified(self):
        """Refuse to run backward on arrays that an in-place update (an optimizer step) changed after
        forward saved them: the gradient would silently mix old and new values."""
        kept = [a for a in self.saved_tensors + tuple(vars(self).values()) if isinstance(a, np.ndarray)]
        for position, tensor in enumerate(self.inputs):
            if tensor is None or tensor._version < self.sequence:
                continue
            if any(np.may_share_memory(tensor.data, array) for array in kept):
                raise RuntimeError(
                    f"one of the tensors needed for gradient computation has been modified by an in-place "
                    f"operation: input {position} of {self.name}, a {'leaf ' if tensor.is_leaf else ''}tensor "
                    f"of shape {tensor.shape} and dtype {tensor.dtype}, was updated (e.g. by optimizer.step()) "
                    f"after {self.name} saved it for backward; run the forward pass again after the update"
                )

    def free(self):
        """Drop everything forward kept (saved arrays, masks, indices) and the links to the inputs,
        so a loss kept after backward holds no intermediate arrays; keep the mark that it was freed."""
        vars(self).clear()
        self.saved_tensors, self.inputs, self.freed = (), (), True


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
        # One loop over the arguments, not a comprehension per list: this runs once per op, and in
        # Python 3.11 every comprehension is a function call of its own (measured: bench_overhead.py).
        values, inputs, needs_input_grad = [], [], []
        for a in args:
            if isinstance(a, Tensor):
                values.append(a.data)
                inputs.append(a)
                needs_input_grad.append(a.requires_grad)
            else:
                values.append(a)
                inputs.append(None)
                needs_input_grad.append(False)
        ctx = Context(tuple(needs_input_grad))
        output = cls.forward(ctx, *values)
        several = type(output) is tuple
        results = (tuple([Tensor._wrap(np.asarray(array)) for array in output]) if several
                   else (Tensor._wrap(np.asarray(output)),))
        if True in ctx.needs_input_grad and is_grad_enabled():
            ctx.record(cls, tuple(inputs), results)
        return results if several else results[0]


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing numpy broadcasting (leading axes, then size-1 axes)."""
    if grad.shape == shape:
        return grad
    # np.add.reduce is grad.sum without the Python wrapper numpy puts around it: on the small
    # arrays of a recurrent step the wrapper costs as much as the sum.
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = np.add.reduce(grad, axis=0 if extra == 1 else tuple(range(extra)))
        if grad.shape == shape:
            return grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = np.add.reduce(grad, axis=stretched, keepdims=True)
    return grad
