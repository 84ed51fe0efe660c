"""The functional API, imported as F: stateless versions of the layers' computations.

    import tinyseq.nn.functional as F
    loss = F.cross_entropy(logits, target, ignore_index=-100)
"""

from ..ops import cross_entropy, dropout, embedding, linear, log_softmax, relu, sigmoid, softmax, softplus, tanh
from ..ctc.loss import ctc_loss
from ..ops.shape import pad

__all__ = ["ctc_loss", "cross_entropy", "dropout", "embedding", "linear", "log_softmax", "relu", "sigmoid", "softmax",
           "softplus", "tanh", "pad"]
