"""CTC: the loss (a Numba-compiled recursion with the true gradient) and the decoders.

    from tinyseq.ctc import ctc_loss, greedy_decode, beam_search_decode

kernels.py holds the forward/backward recursions, loss.py the autograd Function and ctc_loss(),
decode.py greedy and prefix beam search decoding. docs/ctc.md explains them. This package is at
the level of the ops: it imports the engine and never nn (the module nn.CTCLoss lives in
nn/loss.py and calls ctc_loss).
"""

from .decode import beam_search_decode, greedy_decode
from .loss import CTCLossFunction, ctc_loss

__all__ = ["CTCLossFunction", "beam_search_decode", "ctc_loss", "greedy_decode"]
