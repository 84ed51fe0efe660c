"""Losses as modules: nn.CrossEntropyLoss and nn.CTCLoss, the module forms of cross_entropy
(tinyseq/ops/nn.py) and ctc_loss (tinyseq/ctc/loss.py).

The loss computations live at the op level (the ctc package imports nothing from nn); this file
only holds the options a module keeps between calls.
"""

import numbers

import numpy as np

from ..ctc.loss import REDUCTIONS, ctc_loss
from ..ops.nn import check_cross_entropy_options, cross_entropy
from .module import Module


class CrossEntropyLoss(Module):
    """Cross-entropy as a module (PyTorch's nn.CrossEntropyLoss): CrossEntropyLoss(weight=None,
    ignore_index=-100, reduction="mean", label_smoothing=0.0)(input, target). See cross_entropy().
    The options are checked here; the weight's shape at the first call, where the number of
    classes is known."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__()
        check_cross_entropy_options(ignore_index, reduction, label_smoothing, name="CrossEntropyLoss")
        self.weight = weight  # a constant, not a parameter (as PyTorch's registered buffer)
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                             label_smoothing=self.label_smoothing)

    def extra_repr(self):
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


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
