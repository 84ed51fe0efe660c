"""Elementwise ops: each output element depends on the matching element of each input.

Each op is a Function with forward and backward side by side. Binary ops broadcast like numpy;
their backward returns full-size gradients and the engine sums them back to each input's shape.
"""

import numbers

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .args import as_tensor, floating_input, operands, refuse_bool, unary_input


class Add(Function):
    """a + b.  d/da = 1, d/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """a - b.  d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    """a * b.  d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


class Div(Function):
    """a / b.  d/da = 1 / b, d/db = -a / b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad / b
        return grad_a, (-grad_a * a / b if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """-x.  d/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """a ** b.  d/da = b a^(b-1), taken as 0 where b = 0 (a^0 is the constant 1, also at a = 0,
    where b a^(b-1) would be 0 * inf); d/db = a^b log(a), taken as 0 where a = 0 and b >= 0 (the
    limit from b > 0). As in PyTorch, every other point keeps the formula's value: inf for
    0 ** 0.5, -inf for d/db of 0 ** -1, NaN for d/db at a < 0."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** negative and log(<= 0) are meant
            if ctx.needs_input_grad[0]:
                grad_a = grad * np.where(b == 0, 0.0, b * a ** (b - 1))
            if ctx.needs_input_grad[1]:
                grad_b = grad * np.where((a == 0) & (b >= 0), 0.0, out * np.log(a))
        return grad_a, grad_b


class Exp(Function):
    """exp(x).  d/dx = exp(x), saved from forward."""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """log(x).  d/dx = 1 / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    """sqrt(x).  d/dx = 1 / (2 sqrt(x))."""

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Abs(Function):
    """|x|; the gradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Tanh(Function):
    """tanh(x).  d/dx = 1 - tanh(x)^2, from the saved output."""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


def stable_sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp is only ever taken of -|x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Sigmoid(Function):
    """sigmoid(x) = 1 / (1 + exp(-x)).  d/dx = s (1 - s), from the saved output s."""

    @staticmethod
    def forward(ctx, x):
        out = stable_sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Relu(Function):
    """max(x, 0); the gradient at 0 is 0, as in PyTorch."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0)


class Softplus(Function):
    """log(1 + exp(x)), computed as logaddexp(0, x) so large |x| neither overflows nor loses x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * stable_sigmoid(x)


class Clamp(Function):
    """min(max(x, low), high); the gradient passes where low <= x <= high (ends included, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        inside = np.ones(x.shape, dtype=bool)
        if ctx.low is not None:
            inside &= x >= ctx.low
        if ctx.high is not None:
            inside &= x <= ctx.high
        return grad * inside, None, None


class Maximum(Function):
    """Elementwise max; where a == b the gradient is shared half and half, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)


class Minimum(Function):
    """Elementwise min; where a == b the gradient is shared half and half, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a < b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)


class Where(Function):
    """condition ? a : b, elementwise; condition is a bool array and gets no gradient."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        zero = np.zeros((), dtype=grad.dtype)
        return None, np.where(ctx.condition, grad, zero), np.where(ctx.condition, zero, grad)


class ToDtype(Function):
    """A change of floating dtype (x.float(), x.double()); the gradient goes back in x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def add(a, b):
    """a + b, broadcasting."""
    return Add.apply(*operands(a, b, "add"))


def sub(a, b):
    """a - b, broadcasting. A bool tensor on either side is refused, as PyTorch refuses it (numpy
    refuses two bools but answers with numbers when one side is a number)."""
    for x in (a, b):
        if isinstance(x, Tensor):
            refuse_bool(x, "sub", hint="to invert a mask use x == False")
    return Sub.apply(*operands(a, b, "sub"))


def mul(a, b):
    """a * b, broadcasting."""
    return Mul.apply(*operands(a, b, "mul"))


def div(a, b):
    """a / b, broadcasting; integers divide as floats of the default dtype (true division)."""
    return Div.apply(*operands(a, b, "div", true_division=True))


def pow(a, b):
    """a ** b; b may be a tensor or a Python number."""
    a, b = operands(a, b, "pow")
    a_data, b_data = np.asarray(getattr(a, "data", a)), np.asarray(getattr(b, "data", b))
    if a_data.dtype.kind in "iub" and b_data.dtype.kind in "iub" and np.any(b_data < 0):
        raise ValueError(
            f"pow: integers to negative integer powers are not allowed, got exponent {b_data.min()} "
            "(use a float base or exponent)"
        )
    return Pow.apply(a, b)


def neg(x):
    """-x, elementwise: any shape -> the same shape."""
    return Neg.apply(refuse_bool(unary_input(x), "neg", hint="use x == False for a logical not"))


def exp(x):
    """exp(x), elementwise: any shape -> the same shape."""
    return Exp.apply(floating_input(x))


def log(x):
    """Natural log, elementwise: any shape -> the same shape (-inf at 0, NaN below)."""
    return Log.apply(floating_input(x))


def sqrt(x):
    """Square root, elementwise: any shape -> the same shape."""
    return Sqrt.apply(floating_input(x))


def abs(x):
    """|x|, elementwise: any shape -> the same shape (gradient 0 at 0). A bool tensor is refused,
    as PyTorch refuses it."""
    return Abs.apply(refuse_bool(unary_input(x), "abs"))


def tanh(x):
    """tanh(x), elementwise: any shape -> the same shape."""
    return Tanh.apply(floating_input(x))


def sigmoid(x):
    """1 / (1 + exp(-x)), elementwise and overflow-free: any shape -> the same shape."""
    return Sigmoid.apply(floating_input(x))


def relu(x):
    """max(x, 0), elementwise: any shape -> the same shape (gradient 0 at 0). A bool tensor is
    refused, as PyTorch refuses it (numpy would give int64 ones and zeros)."""
    return Relu.apply(refuse_bool(unary_input(x), "relu"))


def softplus(x):
    """log(1 + exp(x)) (PyTorch's softplus with beta=1, computed exactly for every x)."""
    return Softplus.apply(floating_input(x))


def clamp(x, min=None, max=None):
    """Limit x to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given, got both None")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, (numbers.Real, Tensor, np.ndarray)):
            raise TypeError(f"clamp: {name} must be a number, a tensor or None, got {type(bound).__name__} {bound!r}")
    return Clamp.apply(unary_input(x), min, max)


def maximum(a, b):
    """Elementwise max of a and b, broadcasting; ties share the gradient half and half."""
    return Maximum.apply(*operands(a, b, "maximum"))


def minimum(a, b):
    """Elementwise min of a and b, broadcasting; ties share the gradient half and half."""
    return Minimum.apply(*operands(a, b, "minimum"))


def where(condition, a, b):
    """Elements of a where condition is true, else of b (all three broadcast together)."""
    condition = np.asarray(getattr(condition, "data", condition))
    if condition.dtype != bool:
        raise TypeError(f"where: condition must be a bool array or tensor, got dtype {condition.dtype}")
    a, b = operands(a, b, "where")
    try:
        np.broadcast_shapes(condition.shape, np.shape(getattr(a, "data", a)), np.shape(getattr(b, "data", b)))
    except ValueError:
        raise ValueError(
            f"where: condition of shape {condition.shape} does not broadcast with inputs of shapes "
            f"{np.shape(getattr(a, 'data', a))} and {np.shape(getattr(b, 'data', b))}"
        ) from None
    return Where.apply(condition, a, b)


def to_dtype(x, dtype):
    """x converted to a floating dtype, differentiably."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"to_dtype: dtype must be a numpy floating dtype such as np.float32, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"to_dtype: dtype must be a floating dtype, got {dtype}")
    return ToDtype.apply(unary_input(x), dtype)
