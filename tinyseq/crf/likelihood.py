"""The CRF log-likelihood as an autograd Function, the functional crf_log_likelihood(), and crf_marginals().

Where this sits: a tagger produces emission scores (T, N, K), one score per step, sequence and tag;
crf_log_likelihood() checks its arguments and calls CRFLogLikelihood, whose forward runs the
compiled forward-backward of tinyseq/crf/kernels.py (one call gives every sequence's
log-likelihood and its gradient with respect to the emissions and the three score tables) and whose
backward scales those gradients by the upstream gradient and the reduction's weights. nn.CRF
(tinyseq/nn/crf.py) holds the parameters and turns a mask into lengths.

Allowed transitions: `allowed` = (start_allowed (K,), end_allowed (K,), transition_allowed (K, K))
bool arrays, or None for all allowed. A forbidden score counts as -inf in the normaliser, in the
gold path and (decode.py) in Viterbi, so training and decoding see the same model. A gold path that
uses a forbidden transition has log-likelihood -inf and a zero gradient; a sequence for which every
path is forbidden is an error.
"""

import numbers

import numba
import numpy as np

from ..function import Function
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import kernels

REDUCTIONS = ("none", "sum", "mean", "token_mean")

# Below this many (step, tag, tag) cells in the batch the kernels run on one thread: starting and
# joining a parallel region costs tens of microseconds on an idle machine, more on a busy one.
PARALLEL_MIN_CELLS = 50_000


class CRFLogLikelihood(Function):
    """log p(tags | emissions) of a linear-chain CRF as one autograd node.

    forward(ctx, emissions, start_transitions, end_transitions, transitions, tags, lengths, allowed, reduction)
        emissions: (T, N, K) float32/float64.  start_transitions, end_transitions: (K,).
        transitions: (K, K), transitions[i, j] scores tag i followed by tag j.  tags: (N, T) int64.
        lengths: (N,) int64 in [1, T].  allowed: None or the three bool masks.  All checked by
        crf_log_likelihood(). Returns (N,) for reduction "none", else ().
    backward(ctx, grad) -> gradients for emissions and the three score tables, None for the rest.
    """

    @staticmethod
    def forward(ctx, emissions, start_transitions, end_transitions, transitions, tags, lengths, allowed, reduction):
        batch_major = np.ascontiguousarray(emissions.transpose(1, 0, 2), dtype=np.float64)
        start, end, trans = effective_scores(start_transitions, end_transitions, transitions, allowed)
        wants_grad = is_grad_enabled() and any(ctx.needs_input_grad[:4])
        log_likelihood, log_z, *grads = run_kernel(
            kernels.crf_log_likelihood_and_grad, lengths, len(start),
            batch_major, tags, lengths, start, end, trans, wants_grad,
        )
        check_some_path_allowed(log_z, lengths)
        # d loss / d log_likelihood[n] for each reduction.
        if reduction == "none":
            weight, loss = np.ones(len(lengths)), log_likelihood
        elif reduction == "sum":
            weight, loss = np.ones(len(lengths)), log_likelihood.sum()
        elif reduction == "mean":
            weight, loss = np.full(len(lengths), 1.0 / len(lengths)), log_likelihood.mean()
        else:  # token_mean: divided by the number of real steps in the batch
            weight, loss = np.full(len(lengths), 1.0 / lengths.sum()), log_likelihood.sum() / lengths.sum()
        if wants_grad:
            ctx.save_for_backward(weight, *grads)
        return np.asarray(loss, dtype=emissions.dtype)

    @staticmethod
    def backward(ctx, grad):
        weight, grad_emissions, grad_start, grad_end, grad_transitions = ctx.saved_tensors
        # grad is () for the reductions to one number and (N,) for "none"; either broadcasts.
        scale = weight * np.asarray(grad, dtype=np.float64)
        return (
            (grad_emissions * scale[:, None, None]).transpose(1, 0, 2),
            scale @ grad_start,
            scale @ grad_end,
            np.tensordot(scale, grad_transitions, axes=1),
            None, None, None, None,
        )


def crf_log_likelihood(emissions, tags, lengths, start_transitions, end_transitions, transitions,
                       allowed=None, reduction="sum"):
    """Log-likelihood of tag sequences under a linear-chain CRF (what nn.CRF's forward returns).

    emissions: (T, N, K) Tensor (or array) of scores, float32 or float64; finite or -inf.
    tags: (T, N) integers; tags[t, n] in [0, K) for t < lengths[n], anything past it.
    lengths: (N,) integers in [1, T], how many steps of each sequence are real.
    start_transitions, end_transitions: (K,) Tensors; transitions: (K, K), [i, j] = i followed by j.
    allowed: None, or (start_allowed (K,), end_allowed (K,), transition_allowed (K, K)) bool arrays.
    reduction: "none" -> (N,); "sum"; "mean" over the batch; "token_mean" = sum / sum(lengths).

    Per sequence: log p(y) = s(y) - log Z, s the path score and Z the sum of exp(s) over all paths
    (see tinyseq/crf/kernels.py). -inf when the gold path uses a forbidden transition (its gradient is
    then zero); a ValueError when every path of a sequence is forbidden.
    """
    emissions = as_emissions(emissions, "crf_log_likelihood")
    steps, batch, num_tags = emissions.shape
    start_transitions, end_transitions, transitions = check_score_tables(
        start_transitions, end_transitions, transitions, num_tags, "crf_log_likelihood"
    )
    lengths = check_lengths(lengths, steps, batch, "crf_log_likelihood")
    tags = check_tags(tags, lengths, steps, batch, num_tags, "crf_log_likelihood")
    allowed = check_allowed(allowed, num_tags, "crf_log_likelihood")
    if reduction not in REDUCTIONS:
        raise ValueError(f"crf_log_likelihood: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return CRFLogLikelihood.apply(
        emissions, start_transitions, end_transitions, transitions, tags.T.copy(), lengths, allowed, reduction
    )


def crf_marginals(emissions, lengths, start_transitions, end_transitions, transitions, allowed=None):
    """P(y_t = j | emissions) for every step, sequence and tag: a (T, N, K) float64 array, zero past
    lengths[n]. Arguments as crf_log_likelihood (no gradient flows through marginals)."""
    emissions = as_emissions(emissions, "crf_marginals")
    steps, batch, num_tags = emissions.shape
    tables = check_score_tables(start_transitions, end_transitions, transitions, num_tags, "crf_marginals")
    lengths = check_lengths(lengths, steps, batch, "crf_marginals")
    start, end, trans = effective_scores(*(t.data for t in tables), check_allowed(allowed, num_tags, "crf_marginals"))
    batch_major = np.ascontiguousarray(emissions.data.transpose(1, 0, 2), dtype=np.float64)
    marginals, log_z = run_kernel(kernels.crf_marginals, lengths, num_tags, batch_major, lengths, start, end, trans)
    check_some_path_allowed(log_z, lengths)
    return marginals.transpose(1, 0, 2)


# ---------------------------------------------------------------------------------------------
# Shared by the likelihood, the marginals and the decoders
# ---------------------------------------------------------------------------------------------


def run_kernel(kernel, lengths, num_tags, *args):
    """kernel(*args), on one thread when the batch is too small to pay for starting more."""
    threads = numba.get_num_threads()
    if threads == 1 or int(lengths.sum()) * num_tags * num_tags >= PARALLEL_MIN_CELLS:
        return kernel(*args)
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(threads)


def effective_scores(start_transitions, end_transitions, transitions, allowed):
    """float64 copies of the three score tables with -inf where `allowed` forbids."""
    start = np.array(start_transitions, dtype=np.float64)
    end = np.array(end_transitions, dtype=np.float64)
    trans = np.array(transitions, dtype=np.float64)
    if allowed is not None:
        start_allowed, end_allowed, transition_allowed = allowed
        start[~start_allowed] = -np.inf
        end[~end_allowed] = -np.inf
        trans[~transition_allowed] = -np.inf
    return start, end, trans


def check_some_path_allowed(log_z, lengths):
    """ValueError naming the first sequence for which every tag path is forbidden (Z = 0)."""
    if np.all(log_z > -np.inf):
        return
    n = int(np.argmin(log_z > -np.inf))
    raise ValueError(
        f"CRF: every tag path of sequence {n} (length {lengths[n]}) is forbidden by the allowed transitions "
        "(or by -inf emissions), so its probability is undefined"
    )


def as_emissions(emissions, caller):
    """emissions as a float32/float64 Tensor of shape (T, N, K) with T, N, K >= 1, no NaN or +inf."""
    if not isinstance(emissions, Tensor):
        emissions = Tensor._wrap(np.asarray(emissions))
    if emissions.dtype not in (np.float32, np.float64):
        raise TypeError(f"{caller}: emissions must be float32 or float64, got dtype {emissions.dtype}")
    if emissions.ndim != 3:
        raise ValueError(
            f"{caller}: emissions must have 3 dimensions (seq_length, batch_size, num_tags), got shape {emissions.shape}"
        )
    if min(emissions.shape) == 0:
        raise ValueError(f"{caller}: emissions must have at least one step, sequence and tag, got shape {emissions.shape}")
    data = emissions.data
    if np.isnan(data).any() or (data == np.inf).any():
        raise ValueError(f"{caller}: emissions must be finite or -inf, got NaN or +inf")
    return emissions


def check_score_tables(start_transitions, end_transitions, transitions, num_tags, caller):
    """The three score tables as Tensors of shapes (K,), (K,), (K, K)."""
    tables = []
    for name, value, shape in (("start_transitions", start_transitions, (num_tags,)),
                               ("end_transitions", end_transitions, (num_tags,)),
                               ("transitions", transitions, (num_tags, num_tags))):
        value = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, dtype=np.float64))
        if value.shape != shape:
            raise ValueError(f"{caller}: {name} must have shape {shape} for {num_tags} tags, got {value.shape}")
        tables.append(value)
    return tables


def integer_array(value, name, caller):
    """value (Tensor, ndarray, list) as an int64 ndarray; non-integers are a TypeError."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "iub":
        raise TypeError(f"{caller}: {name} must hold integers, got dtype {array.dtype}")
    return array.astype(np.int64)


def check_lengths(lengths, steps, batch, caller):
    """(N,) int64 lengths with 1 <= lengths[n] <= T."""
    lengths = integer_array(lengths, "lengths", caller)
    if lengths.shape != (batch,):
        raise ValueError(f"{caller}: lengths must have shape ({batch},), one per sequence, got shape {lengths.shape}")
    bad = (lengths < 1) | (lengths > steps)
    if bad.any():
        n = int(np.argmax(bad))
        raise ValueError(f"{caller}: lengths must be in [1, {steps}] (the emissions' steps), got {lengths[n]} for sequence {n}")
    return lengths


def check_tags(tags, lengths, steps, batch, num_tags, caller):
    """(T, N) int64 tags with every tag inside a sequence's length in [0, K)."""
    tags = integer_array(tags, "tags", caller)
    if tags.shape != (steps, batch):
        raise ValueError(f"{caller}: tags must have shape {(steps, batch)} like the emissions' first two, "
                         f"got shape {tags.shape}")
    inside = np.arange(steps)[:, None] < lengths[None, :]
    bad = inside & ((tags < 0) | (tags >= num_tags))
    if bad.any():
        t, n = (int(i[0]) for i in np.nonzero(bad))
        raise ValueError(f"{caller}: tags must be in [0, {num_tags}), got {tags[t, n]} at step {t} of sequence {n}")
    return tags


def check_allowed(allowed, num_tags, caller):
    """None, or the three masks as bool arrays of shapes (K,), (K,), (K, K)."""
    if allowed is None:
        return None
    if not isinstance(allowed, (tuple, list)) or len(allowed) != 3:
        raise TypeError(f"{caller}: allowed must be None or (start_allowed, end_allowed, transition_allowed), "
                        f"got {type(allowed).__name__}")
    masks = []
    for name, mask, shape in zip(("start_allowed", "end_allowed", "transition_allowed"), allowed,
                                 ((num_tags,), (num_tags,), (num_tags, num_tags))):
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.shape != shape:
            raise ValueError(f"{caller}: {name} must be a bool array of shape {shape}, got {mask.dtype} {mask.shape}")
        masks.append(mask)
    return tuple(masks)


def positive_int(value, name, caller):
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or value < 1:
        raise ValueError(f"{caller}: {name} must be a positive int, got {value!r}")
    return int(value)
