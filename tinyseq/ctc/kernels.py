"""The CTC recursions: forward (alpha) and backward (beta) over the extended target, compiled with Numba.

This file is the numerical heart of tinyseq's CTC loss (tinyseq/ctc/loss.py wraps it as an autograd
Function). Everything here is plain Python on numpy arrays; `numba.njit` compiles it, and
`NUMBA_DISABLE_JIT=1` runs exactly this code as ordinary Python, so a reader can step through it.
docs/ctc.md explains the ideas at more length.

The extended target. A labelling l = (l_1, ..., l_S) is aligned to T frames through the extended
target z = (blank, l_1, blank, l_2, ..., blank, l_S, blank) of length L = 2S + 1. An alignment is a
path through z that starts in z_0 or z_1, ends in z_{L-1} or z_{L-2}, and at each frame either stays
in its state, moves one state on, or skips a blank (moves two on). The skip z_{s-2} -> z_s is allowed
only when z_s differs from z_{s-2}: between two equal labels the blank is compulsory, otherwise
"a a" could not be told from "a".

The recursions, with y[t, k] the log-probability of class k at frame t:

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
agree once the gradient has flowed back through log_softmax.

Two ways to run the recursions.
  * Log space (forward_log_alpha, backward_log_beta): the textbook form above. It cannot underflow,
    but every cell costs about five exp/log calls. It is the reference and the fallback.
  * Scaled probability space (scaled_forward, scaled_backward): alpha and beta are kept as
    probabilities and each frame is rescaled, as in Graves, Fernández, Gomez & Schmidhuber 2006,
    "Connectionist Temporal Classification: Labelling Unsegmented Sequence Data with Recurrent
    Neural Networks", section 4.1, after Rabiner 1989. They divide each frame by its sum; this
    variant divides by its largest value. A cell costs a few multiply-adds and only the U <= S + 1
    distinct classes of the target are exponentiated per frame. Values far below their frame's
    maximum can underflow; scaled_backward bounds, to first order, the relative error that any
    underflow can have caused in p and in the gradient (see scaled_backward). When the bound
    exceeds UNDERFLOW_TOLERANCE (a choice, below the log-space path's own rounding error on all but
    the shortest inputs: benchmarks/ctc_rounding.py), or when a frame or p underflows outright, the
    sequence is recomputed in log space. The result is therefore as robust as log space, and fast
    whenever the inputs allow it, which is nearly always.

Accumulation is in float64 whatever the dtype of log_probs; the gradient is written in log_probs'
dtype.
"""

import math

import numba
import numpy as np

# Largest first-order bound on the relative error due to underflow that the scaled path accepts.
UNDERFLOW_TOLERANCE = 1e-15
# Absolute error that underflow can add to one scaled cell before its frame is normalised: the
# exp of an emission, the product with it and the normalising division each lose at most 2.2e-308
# (the smallest normal float64), on values of at most 3; 1e-306 covers the sum with headroom.
UNDERFLOW_PER_CELL = 1e-306


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
def log_sum_exp(a, b, c):
    """log(exp(a) + exp(b) + exp(c)), exact when terms are -inf and safe for terms of any size."""
    largest = max(a, b, c)
    if largest == -np.inf:
        return -np.inf
    return largest + math.log(math.exp(a - largest) + math.exp(b - largest) + math.exp(c - largest))


@numba.njit(cache=True)
def forward_log_alpha(emissions, can_skip):
    """The forward recursion in log space.

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
    for t in range(1, frames):
        for s in range(min(length, 2 * t + 2)):  # later states are out of reach from z_0 or z_1
            stay = log_alpha[t - 1, s]
            step = log_alpha[t - 1, s - 1] if s >= 1 else -np.inf
            skip = log_alpha[t - 1, s - 2] if can_skip[s] else -np.inf
            log_alpha[t, s] = emissions[t, s] + log_sum_exp(stay, step, skip)
    return log_alpha


@numba.njit(cache=True)
def backward_log_beta(emissions, can_skip):
    """The backward recursion in log space, the mirror image of forward_log_alpha.

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
    for t in range(frames - 2, -1, -1):
        for s in range(max(0, length - 2 * (frames - t)), length):  # earlier states cannot finish
            stay = emissions[t + 1, s] + log_beta[t + 1, s]
            step = emissions[t + 1, s + 1] + log_beta[t + 1, s + 1] if s + 1 < length else -np.inf
            skip = emissions[t + 1, s + 2] + log_beta[t + 1, s + 2] if s + 2 < length and can_skip[s + 2] else -np.inf
            log_beta[t, s] = log_sum_exp(stay, step, skip)
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


@numba.njit(cache=True)
def distinct_classes(extended):
    """The classes the extended target uses, each once, and where each state's class sits among them.

    Returns used (U,) int64 in order of first appearance, and slot (L,) int64 with
    used[slot[s]] == extended[s].
    """
    length = extended.shape[0]
    used = np.empty(length, dtype=np.int64)
    slot = np.empty(length, dtype=np.int64)
    count = 0
    for s in range(length):
        slot[s] = -1
        for u in range(count):
            if used[u] == extended[s]:
                slot[s] = u
                break
        if slot[s] < 0:
            used[count] = extended[s]
            slot[s] = count
            count += 1
    return used[:count].copy(), slot


# exp for the scaled path, written out so that the compiler can vectorise it (math.exp is a call
# per value, about 3x slower here): exp(x) = 2^k * exp(r) with k the integer nearest x / ln 2 and
# r = x - k ln 2, so |r| <= ln(2) / 2; ln 2 is split in two (Cody & Waite) so that k * LN2_HIGH is
# exact; exp(r) is its Taylor series to r^13 / 13! (the first omitted term is below 5e-18),
# evaluated by Estrin's scheme (pairs, then pairs of pairs: a short dependency chain); 2^k is built
# from its bits. Against numpy's exp on 400,000 values in [-750, 0]: at most 2 units in the last
# place where the result is a normal number, and below that (x < -708.4) at most 1.6e-308 apart.
LOG2_E = 1.4426950408889634
LN2_HIGH = 6.93147180369123816490e-01  # ln 2 rounded to 32 significant bits: k * LN2_HIGH is exact
LN2_LOW = 1.90821492927058770002e-10  # ln 2 - LN2_HIGH
INVERSE_FACTORIALS = tuple(1.0 / math.factorial(n) for n in range(14))


@numba.njit(cache=True)
def exp_of_nonpositive(values):
    """values[i] = exp(values[i]) in place, for values in [-inf, 0] (a 1-d contiguous float64 array).

    A result that would be below 2^-1022 (about 2.2e-308, the smallest normal float64) is 0 when
    x / ln 2 rounds below -1022, so it is off by at most 2^-1022.5 (1.6e-308); -inf gives 0. NaN
    and positive values are not allowed (scaled_forward never passes them).
    """
    c = INVERSE_FACTORIALS
    power_bits = np.empty(values.shape[0], dtype=np.int64)  # the bits of 2^k, as float64
    for i in range(values.shape[0]):
        x = values[i]
        x = x if x > -746.0 else -746.0  # keeps k an int32; exp(-746) is 0 whatever follows
        k = np.int32(x * LOG2_E - 0.5)  # x <= 0, so truncation rounds x / ln 2 to the nearest integer
        r = (x - k * LN2_HIGH) - k * LN2_LOW
        r2 = r * r
        r4 = r2 * r2
        low = (c[0] + c[1] * r) + (c[2] + c[3] * r) * r2 + ((c[4] + c[5] * r) + (c[6] + c[7] * r) * r2) * r4
        high = (c[8] + c[9] * r) + (c[10] + c[11] * r) * r2 + (c[12] + c[13] * r) * r4
        values[i] = low + high * (r4 * r4)
        # 2^k: biased exponent k + 1023 in bits 52..62 and a zero fraction; 0 below the normal range.
        power_bits[i] = (np.int64(k) + 1023) << 52 if k > -1023 else 0
    powers = power_bits.view(np.float64)
    for i in range(values.shape[0]):
        values[i] *= powers[i]


@numba.njit(cache=True)
def scaled_forward(log_probs, used, slot, can_skip):
    """The forward recursion in probability space, each frame divided by its largest value.

    log_probs: (T, C) one sequence's frames (T >= 1).  used, slot: from distinct_classes.
    Returns
      alpha: (T, L + 2), alpha[t, s + 2] = exp(log_alpha[t, s] - log_scale[t]) with
             max_s alpha[t, s + 2] = 1, for the states that can still finish (0 for the others);
             the two leading columns are zeros standing for the states before z_0, so that every
             state reads "one back" and "two back" without a bounds test;
      emission: (T, U), emission[t, u] = exp(log_probs[t, used[u]] - max over u of the same);
      log_likelihood: log p, or -inf when the scaled pass gave up (a frame has no finite
             log-probability among the target's classes, one is NaN or +inf, or p underflowed);
      underflow_error: (T,), the absolute error one cell of alpha[t] can have picked up from
             underflow, UNDERFLOW_PER_CELL / (frame t's largest value before division).
    """
    frames, length, distinct = log_probs.shape[0], slot.shape[0], used.shape[0]
    alpha = np.zeros((frames, length + 2))
    emission = np.empty((frames, distinct))
    underflow_error = np.zeros(frames)
    # Every frame's emissions first, as one table, so that exp runs over all of them at once.
    frame_max = np.full(frames, -np.inf)
    for t in range(frames):
        for u in range(distinct):
            value = log_probs[t, used[u]]
            if not value < np.inf:  # NaN or +inf: left to the log-space path
                return alpha, emission, -np.inf, underflow_error
            emission[t, u] = value
            if value > frame_max[t]:
                frame_max[t] = value
        if frame_max[t] == -np.inf:
            return alpha, emission, -np.inf, underflow_error
        for u in range(distinct):
            emission[t, u] -= frame_max[t]
    exp_of_nonpositive(emission.reshape(frames * distinct))
    skip = np.zeros(length)  # 1.0 where the skip z_{s-2} -> z_s is allowed, else 0.0 (0.0 * x == 0)
    for s in range(length):
        skip[s] = 1.0 if can_skip[s] else 0.0
    log_scale = 0.0
    for t in range(frames):
        # Live states: reachable from z_0 or z_1 (s < 2t + 2) and still able to reach the end. The
        # loops run over slices from 0, which the compiler can prove in bounds.
        first, last = max(0, length - 2 * (frames - t)), min(length, 2 * t + 2)
        frame_emission, slots, row = emission[t], slot[first:last], alpha[t, first + 2:last + 2]
        largest = 0.0
        if t == 0:  # paths start in z_0 or z_1
            for i in range(last - first):
                row[i] = frame_emission[slots[i]]
                largest = max(largest, row[i])
        else:
            stay, step, jump = alpha[t - 1, first + 2:last + 2], alpha[t - 1, first + 1:last + 1], alpha[t - 1, first:last]
            skips = skip[first:last]
            for i in range(last - first):
                value = (stay[i] + step[i] + skips[i] * jump[i]) * frame_emission[slots[i]]
                row[i] = value
                if value > largest:
                    largest = value
        if not largest > 0.0:
            return alpha, emission, -np.inf, underflow_error
        inverse = 1.0 / largest
        for i in range(last - first):
            row[i] *= inverse
        log_scale += frame_max[t] + math.log(largest)
        underflow_error[t] = UNDERFLOW_PER_CELL / largest
    end = alpha[frames - 1, length + 1] + alpha[frames - 1, length]  # z_{L-1} and z_{L-2} (or the zero column)
    if not end > 0.0:
        return alpha, emission, -np.inf, underflow_error
    return alpha, emission, log_scale + math.log(end), underflow_error


@numba.njit(cache=True)
def scaled_backward(alpha, emission, slot, can_skip, underflow_error):
    """The backward recursion in probability space, the occupancies, and the underflow error bound.

    alpha, emission, underflow_error: from scaled_forward (alpha with its two zero columns).
    Returns (error_bound, occupancy) with occupancy: (T, U), occupancy[t, u] = sum over s with
    slot[s] = u of gamma[t, s], and error_bound = sum_t L * (underflow_error[t] + beta's underflow
    error at t) / overlap[t], where overlap[t] = sum_s alpha[t, s] * beta[t, s] (both frames scaled
    to a maximum of 1).

    Why that bounds the damage: an absolute error e in alpha[t, s] changes p, relative to p, by
    e * beta[t, s] / overlap[t] <= e / overlap[t], because the rest of the recursion is linear and
    carries alpha[t] into p as <alpha[t], beta[t]>. Summing over the at most L cells of every frame
    bounds the relative error in p and (as occupancies are alpha * beta / overlap) the absolute
    error in each frame's occupancies; the argument for errors in beta is the mirror image.
    error_bound is +inf when a frame of beta, or an overlap, underflowed to 0.
    """
    frames, length = alpha.shape[0], alpha.shape[1] - 2
    occupancy = np.zeros((frames, emission.shape[1]))
    beta = np.zeros(length)  # beta[t, s] for the current frame, scaled to a maximum of 1
    # arriving[s] = emission at t+1 of state s times beta[t+1, s]; two trailing zeros stand for the
    # states past the end, so every state reads "one on" and "two on" without a bounds test.
    arriving = np.zeros(length + 2)
    skip_to = np.zeros(length)  # 1.0 where the skip s -> s + 2 is allowed, else 0.0 (x + 0.0 * y == x)
    for s in range(length - 2):
        skip_to[s] = 1.0 if can_skip[s + 2] else 0.0
    overlaps = np.empty(length)  # alpha[t, s] * beta[t, s]
    blank_slot = slot[0]  # z_s is the blank exactly at the even s
    beta[length - 1] = 1.0
    if length > 1:
        beta[length - 2] = 1.0
    beta_error = 0.0  # the last frame's beta is exact
    error_bound = 0.0
    for t in range(frames - 1, -1, -1):
        first, last = max(0, length - 2 * (frames - t)), min(length, 2 * t + 2)
        live = last - first
        frame_beta = beta[first:last]
        if t < frames - 1:
            # Frame t+1's live states end at most two past frame t's; those it lacks at the start
            # were never written and hold beta = 0.
            reach = min(length, last + 2) - first
            next_emission, slots, sources = emission[t + 1], slot[first:first + reach], beta[first:first + reach]
            targets = arriving[first:first + reach]
            for i in range(reach):
                targets[i] = next_emission[slots[i]] * sources[i]
            stay, step, jump = arriving[first:last], arriving[first + 1:last + 1], arriving[first + 2:last + 2]
            skips = skip_to[first:last]
            largest = 0.0
            for i in range(live):
                value = stay[i] + step[i] + skips[i] * jump[i]
                frame_beta[i] = value
                if value > largest:
                    largest = value
            if not largest > 0.0:
                return np.inf, occupancy
            inverse = 1.0 / largest
            for i in range(live):
                frame_beta[i] *= inverse
            beta_error = UNDERFLOW_PER_CELL / largest
        frame_alpha, frame_overlaps = alpha[t, first + 2:last + 2], overlaps[first:last]
        for i in range(live):
            frame_overlaps[i] = frame_alpha[i] * frame_beta[i]
        # Blanks and labels summed apart: the blank's occupancy is then one sum, not an update of
        # the same cell at every other state.
        blank_overlap = 0.0
        for value in overlaps[first + first % 2:last:2]:
            blank_overlap += value
        label_overlaps, label_slots = overlaps[first | 1:last:2], slot[first | 1:last:2]
        label_overlap = 0.0
        for value in label_overlaps:
            label_overlap += value
        overlap = blank_overlap + label_overlap
        if not overlap > 0.0:
            return np.inf, occupancy
        error_bound += length * (underflow_error[t] + beta_error) / overlap
        inverse = 1.0 / overlap
        frame_occupancy = occupancy[t]
        frame_occupancy[blank_slot] = blank_overlap * inverse
        for i in range(label_overlaps.shape[0]):
            frame_occupancy[label_slots[i]] += label_overlaps[i] * inverse  # += : a label may recur
    return error_bound, occupancy


@numba.njit(cache=True)
def sequence_loss_and_grad(log_probs, target, blank, grad, compute_grad, grad_scale=1.0):
    """-log p(target | log_probs) for one sequence, and its gradient written into grad.

    log_probs: (T, C), the sequence's own frames.  target: (S,) int64.  grad: (T, C) (ignored when
    compute_grad is False), filled with grad_scale * d(-log p)/d log_probs, zero for an impossible
    target.  Returns -log p: +inf when no alignment exists, 0 for an empty target with T = 0.
    """
    frames = log_probs.shape[0]
    if compute_grad:
        grad[:, :] = 0.0
    # The shortest alignment has one frame per label plus a blank between each pair of equal labels.
    shortest = target.shape[0]
    for i in range(1, target.shape[0]):
        if target[i] == target[i - 1]:
            shortest += 1
    if frames < shortest:
        return np.inf
    if frames == 0:
        return 0.0
    extended, can_skip = extended_targets_and_skips(target, blank)
    used, slot = distinct_classes(extended)
    alpha, emission, log_likelihood, underflow_error = scaled_forward(log_probs, used, slot, can_skip)
    if log_likelihood > -np.inf:
        error_bound, occupancy = scaled_backward(alpha, emission, slot, can_skip, underflow_error)
        if error_bound <= UNDERFLOW_TOLERANCE:
            if compute_grad:
                for t in range(frames):
                    for u in range(used.shape[0]):
                        grad[t, used[u]] = -grad_scale * occupancy[t, u]
            return -log_likelihood
    # The scaled path could not vouch for its result: redo the sequence in log space.
    emissions = np.empty((frames, extended.shape[0]))
    for t in range(frames):
        for s in range(extended.shape[0]):
            emissions[t, s] = log_probs[t, extended[s]]
    log_alpha = forward_log_alpha(emissions, can_skip)
    log_likelihood = log_likelihood_from_alpha(log_alpha)
    if compute_grad and log_likelihood > -np.inf:
        log_beta = backward_log_beta(emissions, can_skip)
        occupancy_gradient(log_alpha, log_beta, log_likelihood, extended, grad)
        if grad_scale != 1.0:
            for t in range(frames):
                for k in range(grad.shape[1]):
                    grad[t, k] *= grad_scale
    return -log_likelihood


@numba.njit(parallel=True, cache=True)
def ctc_loss_and_grad(log_probs, targets, input_lengths, target_lengths, blank, compute_grad, grad_scale):
    """Per-sequence CTC negative log-likelihood and its gradient, parallel over the batch.

    log_probs: (T, N, C) float32 or float64.  targets: (N, S) int64, padded (entries past a
    sequence's target length are ignored).  input_lengths, target_lengths: (N,) int64, already
    validated (0 <= input_lengths <= T, 0 <= target_lengths <= S, labels in [0, C) and != blank).
    compute_grad: bool; when False the gradient is skipped and returned with shape (0, N, C).
    grad_scale: (N,) float64, a factor for each sequence's gradient (the reduction's weight, so
    the caller gets d loss / d log_probs without another pass over a (T, N, C) array).

    Returns (negative_log_likelihood (N,) float64, grad (T, N, C) in log_probs' dtype):
    negative_log_likelihood[n] = -log p(target_n | log_probs[:input_lengths[n], n]), +inf when no
    alignment exists; grad[t, n, k] = grad_scale[n] * d negative_log_likelihood[n] / d log_probs[t, n, k],
    zero past input_lengths[n] and zero for a sequence whose likelihood is 0.
    """
    frames, batch, classes = log_probs.shape
    negative_log_likelihood = np.empty(batch)
    grad = np.zeros((frames if compute_grad else 0, batch, classes), dtype=log_probs.dtype)
    for n in numba.prange(batch):
        sequence_frames = input_lengths[n]
        negative_log_likelihood[n] = sequence_loss_and_grad(
            log_probs[:sequence_frames, n, :], targets[n, : target_lengths[n]], blank, grad[:sequence_frames, n, :],
            compute_grad, grad_scale[n],
        )
    return negative_log_likelihood, grad


@numba.njit(cache=True)
def first_invalid_label(targets, target_lengths, classes, blank):
    """(n, position) of the first label that is outside [0, classes) or is the blank, within each
    sequence's target length; (-1, -1) when every label is valid.  targets: (N, S) int64."""
    for n in range(targets.shape[0]):
        for position in range(target_lengths[n]):
            label = targets[n, position]
            if label < 0 or label >= classes or label == blank:
                return n, position
    return -1, -1
