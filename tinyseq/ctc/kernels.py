"""The CTC recursions: forward (alpha) and backward (beta) over the extended target, compiled with Numba.

This file is the numerical heart of tinyseq's CTC loss (tinyseq/ctc/loss.py wraps it as an autograd
Function). Everything here is plain Python on numpy arrays; `numba.njit` compiles it, and
`NUMBA_DISABLE_JIT=1` runs exactly this code as ordinary Python, so a reader can step through it.

The extended target. A labelling l = (l_1, ..., l_S) is aligned to T frames through the extended
target z = (blank, l_1, blank, l_2, ..., blank, l_S, blank) of length L = 2S + 1. An alignment is a
path through z that starts in z_0 or z_1, ends in z_{L-1} or z_{L-2}, and at each frame either stays
in its state, moves one state on, or skips a blank (moves two on). The skip z_{s-2} -> z_s is allowed
only when z_s differs from z_{s-2}: between two equal labels the blank is compulsory, otherwise
"a a" could not be told from "a".

The recursions, with y[t, k] the log-probability of class k at frame t (all in log space):

    log_alpha[t, s] = y[t, z_s] + logsumexp(log_alpha[t-1, s], log_alpha[t-1, s-1],
                                            log_alpha[t-1, s-2] if z_s != z_{s-2})
    log_beta[t, s]  = logsumexp(over s' in {s, s+1, s+2 if z_{s+2} != z_s}: y[t+1, z_s'] + log_beta[t+1, s'])

log_alpha[t, s] is the log of the total probability of all path prefixes that emit frames 0..t and
sit in state s at frame t; log_beta[t, s] is the log-probability of emitting frames t+1..T-1 from
state s and finishing (it does not include frame t's own emission, so alpha * beta needs no
correction). The likelihood is p = alpha[T-1, L-1] + alpha[T-1, L-2] (in probability space), and the
posterior occupancy of state s at frame t is gamma[t, s] = alpha[t, s] * beta[t, s] / p.

The gradient. -log p is a function of the log-probabilities y, and

    d(-log p) / d y[t, k] = - sum over s with z_s = k of gamma[t, s]

(each path's probability is exp of a sum of y's, so differentiating with respect to y[t, k] counts
how often the path sits in class k at frame t). That is the true derivative with respect to
log_probs, so gradcheck on log_probs passes. PyTorch's CPU kernel instead returns
exp(y[t, k]) - sum gamma, the gradient with respect to the logits *before* a log_softmax; the two
agree once the gradient has flowed back through log_softmax (see docs/ctc.md).

Speed without losing log-space robustness. A log-sum-exp of three terms costs three exp and one
log. Here every frame first subtracts the frame's largest value (shift) and exponentiates each state
once; each new cell then needs additions and a single log. Subtracting the frame maximum can make a
far-below-maximum term underflow to zero; a cell whose sum is below RESCUE_THRESHOLD (where that
underflow could matter) is recomputed with an exact per-cell log-sum-exp. So no cell ever loses more
than rounding error: the result is as robust as a plain log-space recursion (see docs/ctc.md).

Accumulation is in float64 whatever the dtype of log_probs; the gradient is written in log_probs'
dtype.
"""

import math

import numba
import numpy as np

# Below this, a shifted sum may have lost terms to underflow (each exp(x - shift) is exact to
# relative precision only above ~2.2e-308); above it, the at most 3 * 5e-324 of absolute error from
# underflowed terms is far below float64 rounding. The gap of ~1e17 is deliberate headroom.
RESCUE_THRESHOLD = 1e-290


@numba.njit(cache=True)
def extended_targets_and_skips(target, blank):
    """The extended target z = (blank, l_1, blank, ..., l_S, blank) and where the skip is allowed.

    target: (S,) int64 labels (no blanks).  Returns extended (2S + 1,) int64 and can_skip (2S + 1,)
    bool, can_skip[s] = (s >= 2 and z_s != z_{s-2}), i.e. True exactly at labels that differ from
    the previous label.
    """
    length = 2 * target.shape[0] + 1
    extended = np.full(length, blank, dtype=np.int64)
    can_skip = np.zeros(length, dtype=np.bool_)
    for s in range(1, length, 2):
        extended[s] = target[s // 2]
        can_skip[s] = s >= 3 and extended[s] != extended[s - 2]
    return extended, can_skip


@numba.njit(cache=True)
def forward_log_alpha(emissions, can_skip):
    """The forward recursion.

    emissions: (T, L) float64, emissions[t, s] = log_probs[t, z_s].  can_skip: (L,) bool.
    Returns log_alpha: (T, L) float64, -inf where no path prefix reaches (t, s).
    """
    frames, length = emissions.shape
    log_alpha = np.full((frames, length), -np.inf)
    if frames == 0:
        return log_alpha
    log_alpha[0, 0] = emissions[0, 0]
    if length > 1:
        log_alpha[0, 1] = emissions[0, 1]
    # shifted[s] = exp(log_alpha[t-1, s] - shift). States not yet reachable are never written and
    # keep their 0, so the sums below need no bounds tests.
    shifted = np.zeros(length)
    for t in range(1, frames):
        # At frame t only states s <= 2t + 1 can be reached from z_0 or z_1.
        reachable_before = min(length, 2 * t)
        reachable_now = min(length, 2 * t + 2)
        shift = -np.inf
        for s in range(reachable_before):
            shift = max(shift, log_alpha[t - 1, s])
        if shift == -np.inf:
            return log_alpha  # every path has died: the rest of the table stays -inf
        for s in range(reachable_before):
            shifted[s] = math.exp(log_alpha[t - 1, s] - shift)
        for s in range(reachable_now):
            total = shifted[s]
            if s >= 1:
                total += shifted[s - 1]
            if can_skip[s]:
                total += shifted[s - 2]
            if total > RESCUE_THRESHOLD:
                log_alpha[t, s] = emissions[t, s] + shift + math.log(total)
                continue
            # Rare: all incoming terms are far below this frame's maximum (or -inf).
            incoming_max = log_alpha[t - 1, s]
            if s >= 1:
                incoming_max = max(incoming_max, log_alpha[t - 1, s - 1])
            if can_skip[s]:
                incoming_max = max(incoming_max, log_alpha[t - 1, s - 2])
            if incoming_max == -np.inf:
                continue
            total = math.exp(log_alpha[t - 1, s] - incoming_max)
            if s >= 1:
                total += math.exp(log_alpha[t - 1, s - 1] - incoming_max)
            if can_skip[s]:
                total += math.exp(log_alpha[t - 1, s - 2] - incoming_max)
            log_alpha[t, s] = emissions[t, s] + incoming_max + math.log(total)
    return log_alpha


@numba.njit(cache=True)
def backward_log_beta(emissions, can_skip):
    """The backward recursion, the mirror image of forward_log_alpha.

    emissions: (T, L) float64.  can_skip: (L,) bool.
    Returns log_beta: (T, L) float64, log_beta[t, s] = log P(frames t+1..T-1 | state s at frame t),
    -inf where the end cannot be reached from (t, s).
    """
    frames, length = emissions.shape
    log_beta = np.full((frames, length), -np.inf)
    if frames == 0:
        return log_beta
    log_beta[frames - 1, length - 1] = 0.0
    if length > 1:
        log_beta[frames - 1, length - 2] = 0.0
    # arriving[s] = emissions[t+1, s] + log_beta[t+1, s], the log-probability of the rest of the
    # sequence given that it enters state s at frame t+1; shifted[s] = exp(arriving[s] - shift).
    arriving = np.full(length, -np.inf)
    shifted = np.zeros(length)
    for t in range(frames - 2, -1, -1):
        # The end can be reached from (t, s) only if s >= L - 2(T - t).
        live_after = max(0, length - 2 * (frames - 1 - t))
        live_now = max(0, length - 2 * (frames - t))
        shift = -np.inf
        for s in range(live_after, length):
            arriving[s] = emissions[t + 1, s] + log_beta[t + 1, s]
            shift = max(shift, arriving[s])
        if shift == -np.inf:
            return log_beta  # the end is unreachable: the rest of the table stays -inf
        for s in range(live_after, length):
            shifted[s] = math.exp(arriving[s] - shift)
        for s in range(live_now, length):
            skip = s + 2 < length and can_skip[s + 2]
            total = shifted[s]
            if s + 1 < length:
                total += shifted[s + 1]
            if skip:
                total += shifted[s + 2]
            if total > RESCUE_THRESHOLD:
                log_beta[t, s] = shift + math.log(total)
                continue
            outgoing_max = arriving[s]
            if s + 1 < length:
                outgoing_max = max(outgoing_max, arriving[s + 1])
            if skip:
                outgoing_max = max(outgoing_max, arriving[s + 2])
            if outgoing_max == -np.inf:
                continue
            total = math.exp(arriving[s] - outgoing_max)
            if s + 1 < length:
                total += math.exp(arriving[s + 1] - outgoing_max)
            if skip:
                total += math.exp(arriving[s + 2] - outgoing_max)
            log_beta[t, s] = outgoing_max + math.log(total)
    return log_beta


@numba.njit(cache=True)
def log_likelihood_from_alpha(log_alpha):
    """log p = logsumexp(log_alpha[T-1, L-1], log_alpha[T-1, L-2]) for T >= 1 (0 for T = 0 and L = 1,
    the empty labelling of the empty input; -inf for T = 0 otherwise)."""
    frames, length = log_alpha.shape
    if frames == 0:
        return 0.0 if length == 1 else -np.inf
    last = log_alpha[frames - 1, length - 1]
    if length == 1:
        return last
    second_last = log_alpha[frames - 1, length - 2]
    largest = max(last, second_last)
    if largest == -np.inf:
        return -np.inf
    return largest + math.log(math.exp(last - largest) + math.exp(second_last - largest))


@numba.njit(cache=True)
def occupancy_gradient(log_alpha, log_beta, log_likelihood, extended, grad):
    """Write d(-log p)/d log_probs for one sequence into grad: (T, C), any float dtype.

    grad[t, k] = -sum over s with z_s = k of exp(log_alpha[t, s] + log_beta[t, s] - log p),
    accumulated in float64. Classes outside the extended target get 0.
    """
    frames, length = log_alpha.shape
    classes = grad.shape[1]
    per_class = np.zeros(classes)
    for t in range(frames):
        per_class[:] = 0.0
        for s in range(length):
            log_occupancy = log_alpha[t, s] + log_beta[t, s] - log_likelihood
            if log_occupancy > -np.inf:
                # An occupancy is a probability; capping at log 1 = 0 stops rounding in huge
                # log-probabilities (say -1e30) from overflowing exp.
                per_class[extended[s]] -= math.exp(min(log_occupancy, 0.0))
        for k in range(classes):
            grad[t, k] = per_class[k]


@numba.njit(parallel=True, cache=True)
def ctc_loss_and_grad(log_probs, targets, input_lengths, target_lengths, blank, compute_grad):
    """Per-sequence CTC negative log-likelihood and its gradient, parallel over the batch.

    log_probs: (T, N, C) float32 or float64.  targets: (N, S) int64, padded (entries past a
    sequence's target length are ignored).  input_lengths, target_lengths: (N,) int64, already
    validated (0 <= input_lengths <= T, 0 <= target_lengths <= S, labels in [0, C) and != blank).
    compute_grad: bool; when False the gradient is skipped and returned with shape (0, N, C).

    Returns (negative_log_likelihood (N,) float64, grad (T, N, C) in log_probs' dtype):
    negative_log_likelihood[n] = -log p(target_n | log_probs[:input_lengths[n], n]), +inf when no
    alignment exists; grad[t, n, k] = d negative_log_likelihood[n] / d log_probs[t, n, k], zero
    past input_lengths[n] and zero for a sequence whose likelihood is 0.
    """
    frames, batch, classes = log_probs.shape
    negative_log_likelihood = np.empty(batch)
    grad = np.empty((frames if compute_grad else 0, batch, classes), dtype=log_probs.dtype)
    for n in numba.prange(batch):
        extended, can_skip = extended_targets_and_skips(targets[n, : target_lengths[n]], blank)
        sequence_frames = input_lengths[n]
        emissions = np.empty((sequence_frames, extended.shape[0]))
        for t in range(sequence_frames):
            for s in range(extended.shape[0]):
                emissions[t, s] = log_probs[t, n, extended[s]]
        log_alpha = forward_log_alpha(emissions, can_skip)
        log_likelihood = log_likelihood_from_alpha(log_alpha)
        negative_log_likelihood[n] = -log_likelihood
        if compute_grad:
            grad[:, n, :] = 0.0
            if log_likelihood > -np.inf:
                log_beta = backward_log_beta(emissions, can_skip)
                occupancy_gradient(log_alpha, log_beta, log_likelihood, extended, grad[:sequence_frames, n, :])
    return negative_log_likelihood, grad
