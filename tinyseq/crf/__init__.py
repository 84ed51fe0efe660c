"""The linear-chain CRF at the op level: compiled recursions, the log-likelihood Function, decoders.

    from tinyseq.crf import crf_log_likelihood, crf_marginals, viterbi_decode

kernels.py holds the forward-backward, Viterbi and n-best recursions (Numba), likelihood.py the
autograd Function, crf_log_likelihood() and crf_marginals(), decode.py viterbi_decode(). The module
users call, nn.CRF, lives in tinyseq/nn/crf.py; this package imports nothing from nn.
docs/crf.md derives the recursions.
"""

from .decode import viterbi_decode
from .likelihood import CRFLogLikelihood, crf_log_likelihood, crf_marginals

__all__ = ["CRFLogLikelihood", "crf_log_likelihood", "crf_marginals", "viterbi_decode"]
