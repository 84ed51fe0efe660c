"""Decoding a linear-chain CRF: the best tag path of each sequence (Viterbi), or its k best.

Where this sits: after training, nn.CRF.decode() hands its emissions and score tables here; the
compiled max-product recursions live in tinyseq/crf/kernels.py (viterbi_sequence, nbest_sequence).
Allowed transitions forbid the same paths here as in training (tinyseq/crf/likelihood.py).
"""

import numpy as np

from . import kernels
from .likelihood import (as_emissions, check_allowed, check_lengths, check_score_tables, check_some_path_allowed,
                         effective_scores, positive_int, run_kernel)


def viterbi_decode(emissions, lengths, start_transitions, end_transitions, transitions, allowed=None, top_k=None):
    """The highest-scoring tag paths.

    emissions: (T, N, K); lengths: (N,) in [1, T]; the score tables and `allowed` as in
    crf_log_likelihood.
    top_k: None -> a list of N paths, each a list of lengths[n] tag ids;
           k    -> a list of N lists of up to k (path, score) pairs, best first (fewer when fewer
                   than k paths are allowed). score is the path score s(y); log p(y) = s(y) - log Z.
    Ties between equal scores go to the lower tag id (1-best) or the path found first (k-best).
    """
    emissions = as_emissions(emissions, "viterbi_decode")
    steps, batch, num_tags = emissions.shape
    tables = check_score_tables(start_transitions, end_transitions, transitions, num_tags, "viterbi_decode")
    lengths = check_lengths(lengths, steps, batch, "viterbi_decode")
    start, end, trans = effective_scores(*(t.data for t in tables), check_allowed(allowed, num_tags, "viterbi_decode"))
    batch_major = np.ascontiguousarray(emissions.data.transpose(1, 0, 2), dtype=np.float64)
    if top_k is None:
        paths, scores = run_kernel(kernels.viterbi_decode, lengths, num_tags, batch_major, lengths, start, end, trans)
        check_some_path_allowed(scores, lengths)
        return [paths[n, : lengths[n]].tolist() for n in range(batch)]
    k = positive_int(top_k, "top_k", "viterbi_decode")
    paths, scores = run_kernel(kernels.nbest_decode, lengths, num_tags * k, batch_major, lengths, start, end, trans, k)
    check_some_path_allowed(scores[:, 0], lengths)
    return [
        [(paths[n, m, : lengths[n]].tolist(), float(scores[n, m])) for m in range(k) if scores[n, m] > -np.inf]
        for n in range(batch)
    ]
