"""Matrix multiplication, with numpy's rules: 1-D operands and batched (broadcast) leading dims."""

import numpy as np

from ..function import Function
from ..tensor import Tensor
from .args import as_tensor, broadcastable


class MatMul(Function):
    """a @ b. A 1-D a is treated as a row (1, k) and a 1-D b as a column (k, 1), and the added
    dimension is dropped from the result, exactly as numpy and PyTorch do.

    grad_a = grad @ b^T and grad_b = a^T @ grad on the 2-D (or batched) forms; the engine sums
    away any batch dimensions that were broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # Restore the dropped dimensions, last one first: for vector @ vector, grad is 0-d.
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = np.matmul(grad, b2.swapaxes(-1, -2))
            if a.ndim == 1:
                grad_a = grad_a[..., 0, :]
        if ctx.needs_input_grad[1]:
            grad_b = np.matmul(a2.swapaxes(-1, -2), grad)
            if b.ndim == 1:
                grad_b = grad_b[..., 0]
        return grad_a, grad_b


def matmul(a, b):
    """Matrix product a @ b: (..., n, k) @ (..., k, m) -> (..., n, m), with 1-D operands allowed."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        a, b = as_tensor(a, like=b), as_tensor(b, like=a)  # a number stays a number, refused below
    a_shape = a.data.shape if isinstance(a, Tensor) else ()
    b_shape = b.data.shape if isinstance(b, Tensor) else ()
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a_shape} and {b_shape}")
    if a.data.dtype != b.data.dtype:
        raise TypeError(
            f"matmul: both operands must have the same dtype, got {a.data.dtype} and {b.data.dtype} "
            "(convert one with .float() or .double(), as PyTorch requires)"
        )
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    batched = len(a_shape) > 2 or len(b_shape) > 2
    if inner_a != inner_b or batched and not broadcastable(a_shape[:-2], b_shape[:-2]):
        raise ValueError(
            f"matmul: shapes {a_shape} and {b_shape} do not fit: the last dimension of a ({inner_a}) must "
            f"equal the {'only' if len(b_shape) == 1 else 'second-to-last'} dimension of b ({inner_b}) "
            "and the leading (batch) dimensions must broadcast"
        )
    return MatMul.apply(a, b)
