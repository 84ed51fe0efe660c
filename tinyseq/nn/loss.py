"""Losses as modules: nn.CTCLoss, the module form of ctc_loss (tinyseq/ctc/loss.py).

The loss computation lives at the op level, in the ctc package, which imports nothing from nn; this
file only holds the options a module keeps between calls.
"""

import numbers

import numpy as np

from ..ctc.loss import REDUCTIONS, ctc_loss
from .module import Module


class CTCLoss(Module):
    """The CTC loss as a module (PyTorch's nn.CTCLoss): CTCLoss(blank=0, reduction="mean",
    zero_infinity=False)(log_probs, targets, input_lengths, target_lengths). See ctc_loss()."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"CTCLoss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        if not isinstance(blank, numbers.Integral) or isinstance(blank, (bool, np.bool_)) or blank < 0:
            raise ValueError(f"CTCLoss: blank must be a non-negative int, got {blank!r}")
        self.blank = int(blank)
        self.reduction = reduction
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)

    def extra_repr(self):
        return f"blank={self.blank}, reduction={self.reduction!r}, zero_infinity={self.zero_infinity}"
