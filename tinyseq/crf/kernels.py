"""The linear-chain CRF recursions, compiled with Numba: forward-backward, gold score, Viterbi, n-best.

This file is the numerical heart of tinyseq's CRF (tinyseq/crf/likelihood.py wraps it as an
autograd Function, tinyseq/crf/decode.py calls the decoders). Everything is plain Python on numpy
arrays; `numba.njit` compiles it and `NUMBA_DISABLE_JIT=1` runs exactly this code as ordinary
Python. docs/crf.md derives every recursion at more length.

The model. For one sequence of L steps with emission scores e[t, j] (tag j at step t) and the
parameters start[j], end[j] and trans[i, j] (tag i followed by tag j), a tag path y = (y_0..y_{L-1})
scores

    s(y) = start[y_0] + e[0, y_0] + sum_{t=1}^{L-1} (trans[y_{t-1}, y_t] + e[t, y_t]) + end[y_{L-1}]

and p(y) = exp(s(y)) / Z with Z = sum over all K^L paths of exp(s(y')). A forbidden transition is a
score of -inf: its paths get probability 0 (the caller writes -inf into start, end or trans).

The forward algorithm sums over paths one step at a time:

    log_alpha[0, j] = start[j] + e[0, j]
    log_alpha[t, j] = e[t, j] + logsumexp_i(log_alpha[t-1, i] + trans[i, j])
    log Z           = logsumexp_j(log_alpha[L-1, j] + end[j])

and the backward algorithm is its mirror image:

    log_beta[L-1, i] = end[i]
    log_beta[t, i]   = logsumexp_j(trans[i, j] + e[t+1, j] + log_beta[t+1, j])

The gradient. log p(y) = s(y) - log Z, and d log Z / d(score) is the expected count of that score
under p, so

    d log p / d e[t, j]      = [y_t = j]                - P(y_t = j)
    d log p / d start[j]     = [y_0 = j]                - P(y_0 = j)
    d log p / d end[j]       = [y_{L-1} = j]            - P(y_{L-1} = j)
    d log p / d trans[i, j]  = #{t : y_{t-1}=i, y_t=j}  - sum_t P(y_{t-1} = i, y_t = j)

with the marginals P(y_t = j) = exp(log_alpha[t, j] + log_beta[t, j] - log Z) and
P(y_{t-1} = i, y_t = j) = exp(log_alpha[t-1, i] + trans[i, j] + e[t, j] + log_beta[t, j] - log Z).
One forward and one backward pass give the whole gradient; no graph of per-step ops is recorded.

Two ways to run forward-backward.
  * Log space (log_forward_backward): the equations above. It cannot underflow, but every
    (step, i, j) cell costs an exp: K^2 exps per step. It is the reference and the fallback.
  * Scaled probability space (scaled_forward_backward): exp(trans - c) is computed once, each
    step's emissions are exponentiated once (K exps), and a step is a vector-matrix product
    alpha_{t-1} @ exp(trans) (K^2 multiply-adds, which the compiler vectorises). Every step is
    divided by its sum, whose logs add up to log Z. Underflow could only bite where a step's sum
    (or an overlap of alpha and beta) is tiny; then the sequence is redone in log space, so the
    result is as robust as log space (see TINY).

Accumulation is in float64. The batch kernels at the bottom run one sequence per iteration of a
`numba.prange` loop, so sequences are spread over the threads.
"""

import math

import numba
import numpy as np

# A scaled step whose normaliser falls below this hands the sequence to the log-space path. Each
# scaled value is at most K in size and can lose at most K * 5e-324 to gradual underflow, so above
# 1e-280 that loss is below 1e-40 relative, far below float64 rounding.
TINY = 1e-280


@numba.njit(cache=True)
def log_sum_exp(values):
    """log(sum(exp(values))) of a 1-d array, exact for -inf entries (all -inf gives -inf)."""
    largest = -np.inf
    for v in values:
        largest = max(largest, v)
    if largest == -np.inf:
        return -np.inf
    total = 0.0
    for v in values:
        total += math.exp(v - largest)
    return largest + math.log(total)


@numba.njit(cache=True)
def gold_score(emissions, tags, start, end, transitions):
    """s(y) for one sequence: emissions (L, K) float64, tags (L,) int64 -> float (-inf if forbidden)."""
    length = emissions.shape[0]
    score = start[tags[0]] + emissions[0, tags[0]]
    for t in range(1, length):
        score += transitions[tags[t - 1], tags[t]] + emissions[t, tags[t]]
    return score + end[tags[length - 1]]


@numba.njit(cache=True)
def log_forward_backward(emissions, start, end, transitions, compute_pairs):
    """Forward-backward in log space for one sequence (the reference and the fallback).

    emissions: (L, K) float64, L >= 1.  start, end: (K,).  transitions: (K, K); -inf = forbidden.
    Returns (log_z, unary, pair):
      unary: (L, K), unary[t, j] = P(y_t = j);
      pair: (K, K), pair[i, j] = sum_t P(y_{t-1} = i, y_t = j) (zeros unless compute_pairs).
    When log_z is -inf (no allowed path) unary and pair are zero.
    """
    length, tags = emissions.shape
    log_alpha = np.empty((length, tags))
    log_beta = np.empty((length, tags))
    column = np.empty(tags)
    for j in range(tags):
        log_alpha[0, j] = start[j] + emissions[0, j]
    for t in range(1, length):
        for j in range(tags):
            for i in range(tags):
                column[i] = log_alpha[t - 1, i] + transitions[i, j]
            log_alpha[t, j] = emissions[t, j] + log_sum_exp(column)
    for j in range(tags):
        column[j] = log_alpha[length - 1, j] + end[j]
    log_z = log_sum_exp(column)
    unary = np.zeros((length, tags))
    pair = np.zeros((tags, tags))
    if log_z == -np.inf:
        return log_z, unary, pair
    for i in range(tags):
        log_beta[length - 1, i] = end[i]
    for t in range(length - 2, -1, -1):
        for i in range(tags):
            for j in range(tags):
                column[j] = transitions[i, j] + emissions[t + 1, j] + log_beta[t + 1, j]
            log_beta[t, i] = log_sum_exp(column)
    for t in range(length):
        for j in range(tags):
            # A probability; the cap at log 1 = 0 keeps rounding in huge scores from overflowing exp.
            unary[t, j] = math.exp(min(log_alpha[t, j] + log_beta[t, j] - log_z, 0.0))
    if compute_pairs:
        for t in range(1, length):
            for i in range(tags):
                for j in range(tags):
                    log_pair = log_alpha[t - 1, i] + transitions[i, j] + emissions[t, j] + log_beta[t, j] - log_z
                    if log_pair > -np.inf:
                        pair[i, j] += math.exp(min(log_pair, 0.0))
    return log_z, unary, pair


@numba.njit(cache=True)
def scaled_forward_backward(emissions, start, end, exp_transitions, transition_shift, compute_pairs):
    """Forward-backward in probability space, each step divided by its sum (one sequence).

    emissions: (L, K) float64.  start, end: (K,).  exp_transitions: (K, K) = exp(transitions - shift),
    transition_shift: that shift (the largest finite transition score).
    Returns (ok, log_z, unary, pair) as log_forward_backward, with ok False when a normaliser fell
    below TINY (the caller then uses log space; the other outputs are then meaningless).

    With alpha[t] = exp(log_alpha[t]) / (product of the normalisers so far) and the same for beta:
      alpha[t] = (alpha[t-1] @ E) * q[t] / n[t],   E = exp(trans - c),  q[t, j] = exp(e[t, j] - m[t]),
      log Z = sum_t (m[t] + c + log n[t]) (+ the first and last steps' own terms),
      P(y_t = j) = alpha[t, j] beta[t, j] / o[t],  o[t] = sum_j alpha[t, j] beta[t, j],
      P(y_{t-1} = i, y_t = j) = alpha[t-1, i] E[i, j] q[t, j] beta[t, j] / (n[t] o[t]).
    """
    length, tags = emissions.shape
    alpha = np.zeros((length, tags))
    beta = np.zeros((length, tags))
    emitted = np.zeros((length, tags))  # q[t, j] for t >= 1
    normaliser = np.ones(length)
    unary = np.zeros((length, tags))
    pair = np.zeros((tags, tags))
    # Step 0: start scores and emissions together, shifted by their maximum.
    shift = -np.inf
    for j in range(tags):
        shift = max(shift, start[j] + emissions[0, j])
    if shift == -np.inf:
        return True, -np.inf, unary, pair  # every first tag is forbidden or impossible: Z = 0
    total = 0.0
    for j in range(tags):
        alpha[0, j] = math.exp(start[j] + emissions[0, j] - shift)
        total += alpha[0, j]
    for j in range(tags):
        alpha[0, j] /= total
    log_z = shift + math.log(total)
    for t in range(1, length):
        step_max = -np.inf
        for j in range(tags):
            step_max = max(step_max, emissions[t, j])
        if step_max == -np.inf:
            return True, -np.inf, unary, pair
        for j in range(tags):
            emitted[t, j] = math.exp(emissions[t, j] - step_max)
        # alpha[t] = alpha[t-1] @ E, row by row so the inner loop runs along contiguous memory.
        for i in range(tags):
            weight = alpha[t - 1, i]
            if weight != 0.0:
                for j in range(tags):
                    alpha[t, j] += weight * exp_transitions[i, j]
        total = 0.0
        for j in range(tags):
            alpha[t, j] *= emitted[t, j]
            total += alpha[t, j]
        if not total >= TINY:
            return False, 0.0, unary, pair
        for j in range(tags):
            alpha[t, j] /= total
        normaliser[t] = total
        log_z += step_max + transition_shift + math.log(total)
    end_shift = -np.inf
    for j in range(tags):
        end_shift = max(end_shift, end[j])
    if end_shift == -np.inf:
        return True, -np.inf, unary, pair
    total = 0.0
    for j in range(tags):
        beta[length - 1, j] = math.exp(end[j] - end_shift)
        total += alpha[length - 1, j] * beta[length - 1, j]
    if not total >= TINY:
        return False, 0.0, unary, pair
    log_z += end_shift + math.log(total)
    # Backward: beta[t] = E @ (q[t+1] * beta[t+1]), normalised; then the marginals step by step.
    # Column by column of E (row by row of its transpose), so that the inner loop adds into K
    # independent sums along contiguous memory; a dot product per row would be one long chain of
    # dependent additions, which the compiler may not reorder and so cannot vectorise.
    exp_transitions_t = np.ascontiguousarray(exp_transitions.T)
    arriving = np.empty(tags)
    for t in range(length - 1, -1, -1):
        if t < length - 1:
            for j in range(tags):
                arriving[j] = emitted[t + 1, j] * beta[t + 1, j]
            for j in range(tags):
                weight = arriving[j]
                if weight != 0.0:
                    for i in range(tags):
                        beta[t, i] += exp_transitions_t[j, i] * weight
            total = 0.0
            for i in range(tags):
                total += beta[t, i]
            if not total >= TINY:
                return False, 0.0, unary, pair
            for i in range(tags):
                beta[t, i] /= total
        overlap = 0.0
        for j in range(tags):
            overlap += alpha[t, j] * beta[t, j]
        if not overlap >= TINY:
            return False, 0.0, unary, pair
        for j in range(tags):
            unary[t, j] = alpha[t, j] * beta[t, j] / overlap
        if compute_pairs and t >= 1:
            # sum over i, j of alpha[t-1, i] E[i, j] q[t, j] beta[t, j] is normaliser[t] * overlap.
            scale = 1.0 / (normaliser[t] * overlap)
            for j in range(tags):
                arriving[j] = emitted[t, j] * beta[t, j] * scale
            for i in range(tags):
                weight = alpha[t - 1, i]
                if weight != 0.0:
                    for j in range(tags):
                        pair[i, j] += weight * arriving[j]
    if compute_pairs:
        for i in range(tags):
            for j in range(tags):
                pair[i, j] *= exp_transitions[i, j]
    return True, log_z, unary, pair


@numba.njit(cache=True)
def forward_backward(emissions, start, end, transitions, exp_transitions, transition_shift, compute_pairs):
    """The scaled path, or log space when the scaled path cannot vouch for its result."""
    ok, log_z, unary, pair = scaled_forward_backward(
        emissions, start, end, exp_transitions, transition_shift, compute_pairs
    )
    if ok:
        return log_z, unary, pair
    return log_forward_backward(emissions, start, end, transitions, compute_pairs)


@numba.njit(cache=True)
def shifted_exp_transitions(transitions):
    """(exp(transitions - c), c) with c the largest finite transition score (0 if there is none)."""
    tags = transitions.shape[0]
    shift = -np.inf
    for i in range(tags):
        for j in range(tags):
            shift = max(shift, transitions[i, j])
    if shift == -np.inf:
        shift = 0.0
    exp_transitions = np.empty((tags, tags))
    for i in range(tags):
        for j in range(tags):
            exp_transitions[i, j] = math.exp(transitions[i, j] - shift)
    return exp_transitions, shift


@numba.njit(parallel=True, cache=True)
def crf_log_likelihood_and_grad(emissions, tags, lengths, start, end, transitions, compute_grad):
    """Per-sequence log-likelihoods log p(tags_n | emissions_n) and their gradients, parallel over the batch.

    emissions: (N, T, K) float64 C-contiguous.  tags: (N, T) int64, in [0, K) for t < lengths[n]
    (the rest is ignored).  lengths: (N,) int64 in [1, T].  start, end: (K,), transitions: (K, K),
    float64, -inf where forbidden.  compute_grad: bool.
    Returns (log_likelihood (N,), log_z (N,), grad_emissions (N, T, K), grad_start (N, K),
    grad_end (N, K), grad_transitions (N, K, K)); the gradients are d log_likelihood[n] / d(...),
    per sequence, zero past lengths[n], zero for a sequence whose gold path is forbidden
    (log_likelihood -inf) and empty (first dimension 0) when compute_grad is False.
    """
    batch, steps, num_tags = emissions.shape
    rows = batch if compute_grad else 0
    log_likelihood = np.empty(batch)
    log_z = np.empty(batch)
    grad_emissions = np.zeros((rows, steps, num_tags))
    grad_start = np.zeros((rows, num_tags))
    grad_end = np.zeros((rows, num_tags))
    grad_transitions = np.zeros((rows, num_tags, num_tags))
    exp_transitions, transition_shift = shifted_exp_transitions(transitions)
    for n in numba.prange(batch):
        length = lengths[n]
        sequence = emissions[n, :length]
        path = tags[n, :length]
        gold = gold_score(sequence, path, start, end, transitions)
        if not compute_grad:
            sequence_log_z, _, _ = forward_backward(
                sequence, start, end, transitions, exp_transitions, transition_shift, False
            )
        else:
            sequence_log_z, unary, pair = forward_backward(
                sequence, start, end, transitions, exp_transitions, transition_shift, True
            )
            if gold > -np.inf and sequence_log_z > -np.inf:
                for t in range(length):
                    for j in range(num_tags):
                        grad_emissions[n, t, j] = -unary[t, j]
                    grad_emissions[n, t, path[t]] += 1.0
                for j in range(num_tags):
                    grad_start[n, j] = -unary[0, j]
                    grad_end[n, j] = -unary[length - 1, j]
                grad_start[n, path[0]] += 1.0
                grad_end[n, path[length - 1]] += 1.0
                for i in range(num_tags):
                    for j in range(num_tags):
                        grad_transitions[n, i, j] = -pair[i, j]
                for t in range(1, length):
                    grad_transitions[n, path[t - 1], path[t]] += 1.0
        log_z[n] = sequence_log_z
        log_likelihood[n] = gold - sequence_log_z if sequence_log_z > -np.inf else -np.inf
    return log_likelihood, log_z, grad_emissions, grad_start, grad_end, grad_transitions


@numba.njit(parallel=True, cache=True)
def crf_marginals(emissions, lengths, start, end, transitions):
    """P(y_t = j) for every sequence: (N, T, K) float64, zero past lengths[n], and log Z (N,).

    Arguments as crf_log_likelihood_and_grad. A sequence with no allowed path gets zeros and -inf.
    """
    batch, steps, num_tags = emissions.shape
    marginals = np.zeros((batch, steps, num_tags))
    log_z = np.empty(batch)
    exp_transitions, transition_shift = shifted_exp_transitions(transitions)
    for n in numba.prange(batch):
        length = lengths[n]
        sequence_log_z, unary, _ = forward_backward(
            emissions[n, :length], start, end, transitions, exp_transitions, transition_shift, False
        )
        log_z[n] = sequence_log_z
        marginals[n, :length] = unary
    return marginals, log_z


@numba.njit(cache=True)
def viterbi_sequence(emissions, start, end, transitions, best_path):
    """The highest-scoring path of one sequence, written into best_path (L,); returns its score.

    score[0, j] = start[j] + e[0, j];  score[t, j] = e[t, j] + max_i (score[t-1, i] + trans[i, j]),
    backpointer[t, j] = that argmax; the best path ends in argmax_j score[L-1, j] + end[j] and is
    read backwards through the backpointers. Ties go to the lowest tag id. -inf if every path is
    forbidden (best_path is then all zeros).
    """
    length, tags = emissions.shape
    backpointer = np.zeros((length, tags), dtype=np.int64)
    score = np.empty(tags)
    new_score = np.empty(tags)
    for j in range(tags):
        score[j] = start[j] + emissions[0, j]
    for t in range(1, length):
        for j in range(tags):
            new_score[j] = -np.inf
        # Row by row (i outer) so the inner loop walks trans[i, :] contiguously.
        for i in range(tags):
            previous = score[i]
            for j in range(tags):
                candidate = previous + transitions[i, j]
                if candidate > new_score[j]:
                    new_score[j] = candidate
                    backpointer[t, j] = i
        for j in range(tags):
            score[j] = new_score[j] + emissions[t, j]
    best_score, last = -np.inf, 0
    for j in range(tags):
        if score[j] + end[j] > best_score:
            best_score, last = score[j] + end[j], j
    best_path[length - 1] = last
    for t in range(length - 1, 0, -1):
        best_path[t - 1] = backpointer[t, best_path[t]]
    return best_score


@numba.njit(parallel=True, cache=True)
def viterbi_decode(emissions, lengths, start, end, transitions):
    """Best path and its score for every sequence: (paths (N, T) int64, zero past lengths[n]; scores (N,))."""
    batch, steps, _ = emissions.shape
    paths = np.zeros((batch, steps), dtype=np.int64)
    scores = np.empty(batch)
    for n in numba.prange(batch):
        length = lengths[n]
        scores[n] = viterbi_sequence(emissions[n, :length], start, end, transitions, paths[n, :length])
    return paths, scores


@numba.njit(cache=True)
def insert_candidate(values, first, second, value, a, b):
    """Insert (value, a, b) into the descending list values/first/second, dropping the smallest.
    Equal values keep their order of arrival, so ties go to the earlier candidate."""
    k = values.shape[0]
    if not value > values[k - 1]:
        return
    position = k - 1
    while position > 0 and value > values[position - 1]:
        values[position] = values[position - 1]
        first[position] = first[position - 1]
        second[position] = second[position - 1]
        position -= 1
    values[position] = value
    first[position] = a
    second[position] = b


@numba.njit(cache=True)
def nbest_sequence(emissions, start, end, transitions, paths, path_scores):
    """The k best paths of one sequence (list Viterbi), k = paths.shape[0].

    paths: (k, L) int64 output, path_scores: (k,) output, best first; entries beyond the number of
    allowed paths get score -inf. The k best paths that end in tag j at step t extend the k best
    that end in some tag i at step t-1, so keeping k candidates per (t, j) is exact:
      score[t, j, r] = e[t, j] + r-th largest over (i, r') of score[t-1, i, r'] + trans[i, j].
    """
    length, tags = emissions.shape
    k = paths.shape[0]
    score = np.full((length, tags, k), -np.inf)
    from_tag = np.zeros((length, tags, k), dtype=np.int64)
    from_rank = np.zeros((length, tags, k), dtype=np.int64)
    for j in range(tags):
        score[0, j, 0] = start[j] + emissions[0, j]
    for t in range(1, length):
        for j in range(tags):
            for i in range(tags):
                for r in range(k):
                    candidate = score[t - 1, i, r] + transitions[i, j]
                    insert_candidate(score[t, j], from_tag[t, j], from_rank[t, j], candidate, i, r)
            for r in range(k):
                score[t, j, r] += emissions[t, j]
    last_tag = np.zeros(k, dtype=np.int64)
    last_rank = np.zeros(k, dtype=np.int64)
    path_scores[:] = -np.inf
    for j in range(tags):
        for r in range(k):
            insert_candidate(path_scores, last_tag, last_rank, score[length - 1, j, r] + end[j], j, r)
    for m in range(k):
        tag, rank = last_tag[m], last_rank[m]
        for t in range(length - 1, -1, -1):
            paths[m, t] = tag
            tag, rank = from_tag[t, tag, rank], from_rank[t, tag, rank]


@numba.njit(parallel=True, cache=True)
def nbest_decode(emissions, lengths, start, end, transitions, k):
    """The k best paths of every sequence: (paths (N, k, T) int64, scores (N, k), best first, -inf
    where a sequence has fewer than k allowed paths)."""
    batch, steps, _ = emissions.shape
    paths = np.zeros((batch, k, steps), dtype=np.int64)
    scores = np.empty((batch, k))
    for n in numba.prange(batch):
        length = lengths[n]
        nbest_sequence(emissions[n, :length], start, end, transitions, paths[n, :, :length], scores[n])
    return paths, scores
