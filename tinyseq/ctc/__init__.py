"""CTC: the loss (a Numba-compiled recursion with the true gradient) and the decoders.

    from tinyseq.ctc import ctc_loss, CTCLoss, greedy_decode, beam_search_decode

kernels.py holds the forward/backward recursions, loss.py the autograd Function, ctc_loss() and
the CTCLoss module, decode.py greedy and prefix beam search decoding. docs/ctc.md explains them.
"""

from .decode import beam_search_decode, greedy_decode
from .loss import CTCLoss, CTCLossFunction, ctc_loss

__all__ = ["CTCLoss", "CTCLossFunction", "beam_search_decode", "ctc_loss", "greedy_decode"]
