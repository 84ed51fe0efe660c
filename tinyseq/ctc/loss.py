"""The CTC loss as an autograd Function and the functional ctc_loss() (nn.CTCLoss, in nn/loss.py, calls it).

Where this sits: a recurrent model produces log_probs (T, N, C) through log_softmax; ctc_loss()
checks its arguments, brings the targets to one padded layout and calls CTCLossFunction, whose
forward runs the compiled recursions of tinyseq/ctc/kernels.py (one call computes every sequence's
negative log-likelihood and its gradient, already weighted for the reduction) and whose backward
scales that gradient by the upstream gradient.

Semantics follow torch.nn.functional.ctc_loss, with three deliberate differences:
  * The gradient is the true derivative with respect to log_probs (minus the posterior occupancy),
    so gradcheck on log_probs passes. PyTorch's CPU kernel returns exp(log_probs) - occupancy,
    which is only the right gradient once it has flowed back through a log_softmax; through
    log_softmax the two agree.
  * A sequence with no valid alignment gets a zero gradient, also without zero_infinity (PyTorch's
    is NaN there): its loss is +inf and no direction in log_probs changes that.
  * Arguments are checked up front: a blank or an out-of-range label inside a target is an error
    (PyTorch silently computes something), and an unbatched target may be longer than its
    target_length (the rest is padding), as for a batched padded target.
"""

import numbers

import numba
import numpy as np

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import kernels

REDUCTIONS = ("none", "mean", "sum")

# Below this many recursion cells (sum over the batch of input_length * (2 * target_length + 1),
# about 20 us of work on one core) the kernel runs on one thread: starting and joining a parallel
# region costs about 10 us. Measured with `python benchmarks/bench_ctc.py`-sized inputs: at 8,400
# cells two threads already took 88 us against 123 us on one (kernel alone, min of 300 calls).
PARALLEL_MIN_CELLS = 5_000


class CTCLossFunction(Function):
    """CTC negative log-likelihood as one autograd node.

    forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)
        log_probs: (T, N, C) or unbatched (T, C), float32 or float64.  targets: (N, S) int64 padded.
        input_lengths, target_lengths: (N,) int64.  All already checked by ctc_loss().
        Returns the loss: (N,) for reduction "none" (() when unbatched), else ().
    backward(ctx, grad) -> gradient for log_probs, None for the rest.
    """

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
        unbatched = log_probs.ndim == 2
        batched_log_probs = log_probs[:, None, :] if unbatched else log_probs
        wants_grad = is_grad_enabled() and ctx.needs_input_grad[0]
        # d loss / d negative_log_likelihood[n]: "mean" divides each loss by its target length
        # (clamped at 1 so empty targets count as length 1), then averages over the batch. The
        # kernel applies it as it writes the gradient, so the saved gradient is d loss / d log_probs.
        if reduction == "mean":
            weight = 1.0 / (np.maximum(target_lengths, 1) * len(target_lengths))
        else:
            weight = np.ones(len(target_lengths))
        negative_log_likelihood, grad_log_probs = _run_kernel(
            np.ascontiguousarray(batched_log_probs), targets, input_lengths, target_lengths, blank, wants_grad, weight
        )
        if zero_infinity:
            negative_log_likelihood[np.isinf(negative_log_likelihood)] = 0.0
        if reduction == "none":
            loss = negative_log_likelihood[0] if unbatched else negative_log_likelihood
        else:
            loss = negative_log_likelihood @ weight
        if wants_grad:
            ctx.save_for_backward(grad_log_probs[:, 0, :] if unbatched else grad_log_probs)
        return np.asarray(loss, dtype=log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        (grad_log_probs,) = ctx.saved_tensors
        # grad is () for "mean", "sum" and unbatched "none", (N,) for batched "none". After a plain
        # loss.backward() it is 1 and the saved gradient is the answer as it stands.
        grad = np.asarray(grad)
        if grad.ndim == 0 and grad == 1:
            return grad_log_probs, None, None, None, None, None, None
        scale = grad.astype(grad_log_probs.dtype)
        return grad_log_probs * (scale[None, :, None] if scale.ndim else scale), None, None, None, None, None, None


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist Temporal Classification loss, PyTorch's F.ctc_loss (Graves et al. 2006, "Connectionist
    Temporal Classification: Labelling Unsegmented Sequence Data with Recurrent Neural Networks").

    log_probs: (T, N, C) or unbatched (T, C) Tensor of log-probabilities (usually log_softmax
        output), float32 or float64.
    targets: padded (N, S) with S >= max(target_lengths) (entries past a target's length are
        ignored), or concatenated (sum(target_lengths),); unbatched: (S,). Integer labels in [0, C),
        never the blank. Tensor, numpy array or list.
    input_lengths: (N,) ints in [0, T], how many frames of each sequence are real.
    target_lengths: (N,) ints; unbatched: an int or a single-element sequence for both lengths.
    blank: the blank's class index, in [0, C).
    reduction: "none" -> (N,) per-sequence losses; "sum"; "mean" (PyTorch's rule): each loss
        divided by its target length clamped at 1, then averaged over the batch.
    zero_infinity: replace infinite losses (targets with no valid alignment, e.g. too long for
        their input once the blanks between repeated labels are counted) and their gradients by 0.

    Per sequence the loss is -log p(target | log_probs), p summing exp(sum_t log_probs[t, pi_t])
    over every alignment pi that collapses to the target (merge repeats, then drop blanks). An
    empty target gives -sum_t log_probs[t, blank]; input length 0 gives 0 for an empty target and
    inf otherwise. The gradient is d loss / d log_probs exactly (see the module docstring for how
    that differs from PyTorch's).
    """
    log_probs = log_probs if isinstance(log_probs, Tensor) else Tensor._wrap(np.asarray(log_probs))
    frames, batch, classes, unbatched = _check_log_probs(log_probs)
    blank = _check_blank(blank, classes)
    if reduction not in REDUCTIONS:
        raise ValueError(f"ctc_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if not isinstance(zero_infinity, (bool, np.bool_)):
        raise TypeError(f"ctc_loss: zero_infinity must be a bool, got {type(zero_infinity).__name__}")
    input_lengths = _check_lengths(input_lengths, "input_lengths", batch, unbatched)
    target_lengths = _check_lengths(target_lengths, "target_lengths", batch, unbatched)
    if input_lengths.max() > frames:
        n = int(np.argmax(input_lengths > frames))
        raise ValueError(
            f"ctc_loss: input_lengths must be at most T = {frames} (log_probs has {frames} frames), "
            f"got {input_lengths[n]} for sequence {n}"
        )
    padded_targets = _padded_targets(targets, target_lengths, batch, unbatched)
    _check_labels(padded_targets, target_lengths, classes, blank)
    return CTCLossFunction.apply(
        log_probs, padded_targets, input_lengths, target_lengths, blank, reduction, bool(zero_infinity)
    )


def _run_kernel(log_probs, targets, input_lengths, target_lengths, blank, compute_grad, grad_scale):
    """kernels.ctc_loss_and_grad, on one thread when the batch is too small to pay for more."""
    arguments = (log_probs, targets, input_lengths, target_lengths, blank, compute_grad, grad_scale)
    threads = numba.get_num_threads()
    if threads == 1 or int(np.dot(input_lengths, 2 * target_lengths + 1)) >= PARALLEL_MIN_CELLS:
        return kernels.ctc_loss_and_grad(*arguments)
    numba.set_num_threads(1)
    try:
        return kernels.ctc_loss_and_grad(*arguments)
    finally:
        numba.set_num_threads(threads)


def _check_log_probs(log_probs):
    """(T, N, C, unbatched) for a float32/float64 log_probs of rank 2 or 3."""
    if log_probs.dtype not in (np.float32, np.float64):
        raise TypeError(f"ctc_loss: log_probs must be float32 or float64, got dtype {log_probs.dtype}")
    if log_probs.ndim == 3:
        frames, batch, classes = log_probs.shape
        unbatched = False
    elif log_probs.ndim == 2:
        (frames, classes), batch, unbatched = log_probs.shape, 1, True
    else:
        raise ValueError(
            f"ctc_loss: log_probs must have shape (T, N, C) or unbatched (T, C), got shape {log_probs.shape}"
        )
    if classes == 0:
        raise ValueError(f"ctc_loss: log_probs needs at least one class (the blank), got shape {log_probs.shape}")
    if batch == 0:
        raise ValueError(f"ctc_loss: log_probs needs a batch of at least one sequence, got shape {log_probs.shape}")
    return frames, batch, classes, unbatched


def _check_blank(blank, classes):
    if not isinstance(blank, numbers.Integral) or isinstance(blank, (bool, np.bool_)):
        raise TypeError(f"ctc_loss: blank must be an int, got {type(blank).__name__}")
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: blank must be in [0, C) = [0, {classes}), got {blank}")
    return int(blank)


def _integer_array(value, name):
    """value (Tensor, ndarray, list, tuple or int) as an int64 ndarray; anything else is a TypeError."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.size == 0 and array.dtype.kind == "f":
        array = array.astype(np.int64)  # np.asarray([]) is float64, but an empty list is fine
    if array.dtype.kind not in "iu":
        raise TypeError(f"ctc_loss: {name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def _check_lengths(lengths, name, batch, unbatched):
    """(N,) int64 lengths, each >= 0; unbatched accepts an int, a 0-d array or one element."""
    lengths = _integer_array(lengths, name)
    if unbatched and lengths.ndim == 0:
        lengths = lengths.reshape(1)
    if lengths.shape != (batch,):
        raise ValueError(f"ctc_loss: {name} must have shape ({batch},), one per sequence, got shape {lengths.shape}")
    if lengths.min() < 0:  # batch >= 1, checked before; min() is one pass and cheaper than np.any
        n = int(np.argmax(lengths < 0))
        raise ValueError(f"ctc_loss: {name} must be >= 0, got {lengths[n]} for sequence {n}")
    return lengths


def _padded_targets(targets, target_lengths, batch, unbatched):
    """The targets as a padded (N, S) int64 array, whatever layout they came in."""
    targets = _integer_array(targets, "targets")
    if unbatched:
        if targets.ndim != 1:
            raise ValueError(f"ctc_loss: unbatched targets must have shape (S,), got shape {targets.shape}")
        targets = targets[None, :]
    if targets.ndim == 2:
        if targets.shape[0] != batch:
            raise ValueError(
                f"ctc_loss: padded targets must have shape (N, S) with N = {batch}, got shape {targets.shape}"
            )
        longest = int(target_lengths.max())
        if longest > targets.shape[1]:
            n = int(np.argmax(target_lengths))
            raise ValueError(
                f"ctc_loss: target_lengths must be at most S = {targets.shape[1]} (the width of the padded "
                f"targets), got {longest} for sequence {n}"
            )
        return np.ascontiguousarray(targets)
    if targets.ndim == 1:
        total = int(target_lengths.sum())
        if targets.shape[0] != total:
            raise ValueError(
                f"ctc_loss: concatenated targets must have sum(target_lengths) = {total} labels, "
                f"got shape {targets.shape}"
            )
        used = np.arange(int(target_lengths.max()))[None, :] < target_lengths[:, None]
        padded = np.zeros(used.shape, dtype=np.int64)
        padded[used] = targets  # row-major order of the mask is the concatenation order
        return padded
    raise ValueError(
        f"ctc_loss: targets must be padded (N, S) or concatenated (sum(target_lengths),), got shape {targets.shape}"
    )


def _check_labels(padded_targets, target_lengths, classes, blank):
    """Every label inside a target's length is in [0, C) and is not the blank."""
    n, position = kernels.first_invalid_label(padded_targets, target_lengths, classes, blank)
    if n >= 0:
        label = padded_targets[n, position]
        reason = "the blank" if label == blank else f"outside [0, C) = [0, {classes})"
        raise ValueError(
            f"ctc_loss: targets must hold labels in [0, {classes}) other than the blank {blank}, "
            f"got {label} ({reason}) in sequence {n} at position {position}"
        )
