"""Neural-network ops: linear, log_softmax, softmax, cross_entropy, embedding, dropout.

These are fused ops: each could be composed from elementwise and reduce ops, but a single
Function is faster and its backward is the textbook formula (softmax minus one-hot for
cross-entropy), which is worth seeing written out.
"""

import numpy as np

from .. import rng
from ..function import Function
from ..tensor import Tensor
from .args import as_tensor, is_integer, normalize_dim, require_floating
from .reduce import max_shift


class Linear(Function):
    """y = x W^T + b.  x: (*, in_features), W: (out_features, in_features), b: (out_features,).

    The leading dimensions are flattened into rows, so that x W^T is one matrix product: numpy's
    matmul of a (B, T, in) stack with a matrix runs one small product per batch row, 2.4 times
    slower for (32, 10, 256) x (256, 64) (measured single-threaded)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        rows = x.reshape(_rows(x.shape), x.shape[-1])  # (N, in_features), N = the product of the leading dims
        out = (rows @ weight.T).reshape(*x.shape[:-1], weight.shape[0])
        if bias is not None:
            # In place: out is our own new array. `out + bias` would allocate a second array of the
            # output's size, and two large temporaries alive at once make glibc's malloc give the
            # memory back to the OS and fault it in again on the next call (measured: 1,568 page
            # faults and 7 ms of a 9.4 ms (1600, 64) x (64, 512) projection, on this project's VMs).
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        rows = grad.reshape(_rows(grad.shape), grad.shape[-1])  # (N, out_features)
        grad_x = (rows @ weight).reshape(x.shape) if ctx.needs_input_grad[0] else None
        grad_w = rows.T @ x.reshape(_rows(x.shape), x.shape[-1]) if ctx.needs_input_grad[1] else None
        grad_b = rows.sum(axis=0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


def _rows(shape):
    """The number of rows of an array of this shape seen as a matrix of its last dimension's columns
    (not -1 in reshape: that cannot be inferred when the last dimension is 0)."""
    return int(np.prod(shape[:-1], dtype=np.int64))


def stable_log_softmax(x, axis):
    """x - logsumexp(x) along axis, shifted by the maximum so that exp never overflows. Written as
    (x - max) - log(sum(exp(x - max))) rather than x - logsumexp(x): for large |x| the subtraction of
    two nearly equal large numbers would lose the result's digits."""
    shifted = x - max_shift(x, axis)
    with np.errstate(divide="ignore"):  # an all -inf slice gives log 0 = -inf, as it should
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


class LogSoftmax(Function):
    """log_softmax(x)_i = x_i - log sum_j exp(x_j).  Backward: grad - softmax * sum(grad)."""

    @staticmethod
    def forward(ctx, x, axis):
        out = stable_log_softmax(x, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * np.sum(grad, axis=ctx.axis, keepdims=True), None


class Softmax(Function):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j).  Backward: s * (grad - sum(grad * s))."""

    @staticmethod
    def forward(ctx, x, axis):
        out = np.exp(stable_log_softmax(x, axis))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - np.sum(grad * out, axis=ctx.axis, keepdims=True)), None


class CrossEntropy(Function):
    """Cross-entropy of logits (N, C, *) against class indices (N, *), classes on axis 1, with
    PyTorch's class weights w (C,) (all ones when not given) and label smoothing e in [0, 1]:

        loss_n = (1 - e) w[y_n] (-log p_n[y_n])  +  (e / C) sum_c w[c] (-log p_n[c]),
        p_n = softmax(logits_n),   loss_n = 0 where y_n == ignore_index.

    reduction "mean" divides the sum by sum_n w[y_n] over the positions not ignored (their number
    when there are no weights), as PyTorch does. The gradient, with W = sum_c w[c]:

        d loss_n / d logits_n = (1 - e) w[y_n] (p_n - one_hot(y_n)) + (e / C) (W p_n - w).
    """

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, reduction, label_smoothing):
        log_probs = stable_log_softmax(logits, axis=1)
        keep = target != ignore_index
        safe_target = np.where(keep, target, 0)[:, None]
        picked = np.take_along_axis(log_probs, safe_target, axis=1)[:, 0]
        # Each position's weight w[y_n]: 1, or 0 where ignored.
        target_weight = keep.astype(logits.dtype) if weight is None else np.where(keep, weight[safe_target[:, 0]], 0)
        losses = np.where(keep, -picked if weight is None else -picked * target_weight, 0).astype(logits.dtype)
        ctx.save_for_backward(log_probs, safe_target, keep, target_weight)
        ctx.weight, ctx.reduction, ctx.label_smoothing = weight, reduction, label_smoothing
        ctx.denominator = np.count_nonzero(keep) if weight is None else target_weight.sum()
        if label_smoothing:
            class_weight = 1 if weight is None else _along_axis_1(weight, logits.ndim)
            smooth = np.where(keep, -np.sum(log_probs * class_weight, axis=1), 0) * (label_smoothing / logits.shape[1])
            if reduction == "mean":  # each part over the denominator, as PyTorch: 0/0 stays NaN
                with np.errstate(invalid="ignore", divide="ignore"):
                    parts = (1 - label_smoothing) * (losses.sum() / ctx.denominator) + smooth.sum() / ctx.denominator
                return np.asarray(parts, dtype=logits.dtype)
            losses = ((1 - label_smoothing) * losses + smooth).astype(logits.dtype)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        with np.errstate(invalid="ignore"):  # all positions ignored: 0/0 is NaN, as in PyTorch
            return np.asarray(losses.sum() / ctx.denominator, dtype=logits.dtype)

    @staticmethod
    def backward(ctx, grad):
        log_probs, safe_target, keep, target_weight = ctx.saved_tensors
        smoothing, weight = ctx.label_smoothing, ctx.weight
        if ctx.reduction == "mean":  # d total / d loss_n (0 where ignored; no NaN when all are)
            grad = grad / (ctx.denominator if ctx.denominator else 1)
        probs = np.exp(log_probs)
        grad_logits = probs.copy()  # p - one_hot(y)
        np.put_along_axis(grad_logits, safe_target, np.take_along_axis(probs, safe_target, axis=1) - 1, axis=1)
        grad_logits *= np.expand_dims(grad * target_weight, 1)  # times w[y_n]
        if not smoothing:
            return grad_logits, None, None, None, None, None
        classes = log_probs.shape[1]
        class_weight = np.ones(classes, log_probs.dtype) if weight is None else weight
        smooth = (class_weight.sum() * probs - _along_axis_1(class_weight, log_probs.ndim)) * (smoothing / classes)
        grad_logits = (1 - smoothing) * grad_logits + smooth * np.expand_dims(grad * keep, 1)
        return grad_logits.astype(log_probs.dtype, copy=False), None, None, None, None, None


def _along_axis_1(values, ndim):
    """A (C,) array shaped to broadcast along axis 1 of an ndim-d (N, C, *) array."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


class Embedding(Function):
    """Rows of weight (num_embeddings, dim) picked by integer indices (*) -> (*, dim).
    Backward scatter-adds into the picked rows; the padding row gets no gradient."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.weight_shape, ctx.indices, ctx.padding_idx = weight.shape, indices, padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        grad_weight = np.zeros(ctx.weight_shape, dtype=grad.dtype)
        np.add.at(grad_weight, ctx.indices.reshape(-1), grad.reshape(-1, ctx.weight_shape[1]))
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None, None


class Dropout(Function):
    """Inverted dropout: zero each element with probability p, scale the rest by 1 / (1 - p)."""

    @staticmethod
    def forward(ctx, x, p):
        keep = rng.generator().random(x.shape) >= p
        ctx.scale = keep * (1.0 / (1.0 - p)) if p < 1 else np.zeros(x.shape)
        ctx.scale = ctx.scale.astype(x.dtype)
        return x * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def linear(x, weight, bias=None):
    """x @ weight.T + bias.  x: (*, in_features), weight: (out_features, in_features)."""
    x, weight = as_tensor(x, like=weight), as_tensor(weight)
    if bias is not None:
        bias = as_tensor(bias, like=weight)
    for name, tensor in (("input", x), ("bias", bias)):
        if tensor is not None and tensor.dtype != weight.dtype:
            raise TypeError(
                f"linear: {name} has dtype {tensor.dtype} but weight has dtype {weight.dtype}; they must match "
                "(convert with .float() or .double(), or build the layer in that dtype)"
            )
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} needs a last dimension equal to weight.shape[1]; "
            f"weight has shape {weight.shape}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    return Linear.apply(x, weight, bias)


def log_softmax(x, dim=-1):
    """log of softmax along dim, computed stably (finite for inputs of +-1e4)."""
    x = require_floating(as_tensor(x), "log_softmax")
    (axis,) = normalize_dim(dim, x.ndim, "log_softmax")
    return LogSoftmax.apply(x, axis)


def softmax(x, dim=-1):
    """exp(x) / sum(exp(x)) along dim, computed stably."""
    x = require_floating(as_tensor(x), "softmax")
    (axis,) = normalize_dim(dim, x.ndim, "softmax")
    return Softmax.apply(x, axis)


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """PyTorch's cross_entropy with class-index targets (equations in CrossEntropy).

    input: (N, C), (N, C, d1, ...) or unbatched (C,) logits.  target: (N,), (N, d1, ...) or () ints.
    weight: None or (C,) class weights (a constant: it gets no gradient; one that requires a gradient
    is an error rather than silently left out). label_smoothing: e in [0, 1].
    reduction: "mean" (over positions whose target is not ignore_index, weighted by w[target]; NaN
    if all are ignored, as in PyTorch), "sum", or "none" (shape of target).
    Unlike PyTorch, the arguments after weight are keyword-only (PyTorch's fourth positional argument
    is the long-deprecated size_average). Not supported: probability targets.
    """
    input = require_floating(as_tensor(input), "cross_entropy")
    target = np.asarray(getattr(target, "data", target))
    check_cross_entropy_options(ignore_index, reduction, label_smoothing)
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
    unbatched = input.ndim == 1
    expected = input.shape[1:] if unbatched else input.shape[:1] + input.shape[2:]
    expected = () if unbatched else expected
    if input.ndim == 0 or target.shape != expected:
        raise ValueError(
            f"cross_entropy: input of shape {input.shape} needs a target of shape {expected}, got {target.shape}"
        )
    num_classes = input.shape[0] if unbatched else input.shape[1]
    bad = (target != ignore_index) & ((target < 0) | (target >= num_classes))
    if bad.any():
        raise ValueError(
            f"cross_entropy: target values must be in [0, {num_classes}) or ignore_index={ignore_index}, "
            f"got {target[bad].flat[0]}"
        )
    weight = _class_weight(weight, num_classes, input.dtype)
    smoothing = float(label_smoothing)
    if unbatched:
        input, target = input.reshape(1, num_classes), target.reshape(1)
        out = CrossEntropy.apply(input, target, weight, ignore_index, reduction, smoothing)
        return out.reshape(()) if reduction == "none" else out
    return CrossEntropy.apply(input, target, weight, ignore_index, reduction, smoothing)


def check_cross_entropy_options(ignore_index, reduction, label_smoothing, name="cross_entropy"):
    """TypeError/ValueError naming the option unless ignore_index is an int, reduction one of
    "mean", "sum", "none", and label_smoothing a number in [0, 1]."""
    if not is_integer(ignore_index):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(label_smoothing, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")


def _class_weight(weight, num_classes, dtype):
    """cross_entropy's weight as a (C,) array of the logits' dtype, or None; checked."""
    if weight is None:
        return None
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise ValueError("cross_entropy: weight must not require a gradient (class weights are constants here)")
    values = np.asarray(getattr(weight, "data", weight))
    if values.dtype.kind not in "biuf":
        raise TypeError(f"cross_entropy: weight must hold numbers, got dtype {values.dtype}")
    if values.shape != (num_classes,):
        raise ValueError(f"cross_entropy: weight must have shape ({num_classes},), one per class, got {values.shape}")
    return values.astype(dtype)


def embedding(input, weight, padding_idx=None):
    """weight[input]: input (*) integer indices into weight (num_embeddings, dim) -> (*, dim)."""
    indices = np.asarray(getattr(input, "data", input))
    weight = as_tensor(weight)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must hold integer indices, got dtype {indices.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    if padding_idx is not None and not is_integer(padding_idx):
        raise TypeError(f"embedding: padding_idx must be an int or None, got {padding_idx!r}")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise ValueError(
            f"embedding: indices must be in [0, {weight.shape[0]}), got values from {indices.min()} to {indices.max()}"
        )
    num_embeddings = weight.shape[0]
    if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"embedding: padding_idx must be in [{-num_embeddings}, {num_embeddings}), got {padding_idx}")
    return Embedding.apply(weight, indices, padding_idx)


def dropout(x, p=0.5, training=True):
    """Zero elements with probability p and scale the rest by 1/(1-p), in training only."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"dropout: p must be a number in [0, 1], got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    require_floating(x, "dropout")  # scaling by 1 / (1 - p) has no integer result
    return Dropout.apply(x, p)
