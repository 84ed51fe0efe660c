"""nn.CRF, a linear-chain conditional random field layer, and allowed_transitions() for BIO tags.

Where this sits: on top of a tagger's emission scores. Training maximises the log-likelihood that
crf(emissions, tags, mask) returns; decode() gives the best tag paths (Viterbi), marginals() the
per-token tag posteriors. The recursions are in tinyseq/crf/ (compiled with Numba); docs/crf.md
derives them.

The parameters and the call follow pytorch-crf (torchcrf.CRF 0.7.2), so its users feel at home and
its state dicts load: CRF(num_tags, batch_first=False), parameters start_transitions (K,),
end_transitions (K,), transitions (K, K) with transitions[i, j] the score of tag i followed by tag
j, each initialised from U(-0.1, 0.1). Deliberate differences:
  * `lengths=` is accepted instead of a mask (as by tinyseq's recurrent layers), and a mask must be
    a prefix of ones per sequence (pytorch-crf silently mis-scores a mask with holes);
  * decode(top_k=k) returns the k best paths with their scores; marginals() is extra;
  * constraints (from allowed_transitions) forbid transitions in training *and* decoding: a
    forbidden transition scores -inf everywhere, so the model never puts probability on a path it
    could not output. A gold path with a forbidden transition has log-likelihood -inf (and a zero
    gradient); a sequence for which every path is forbidden is a ValueError.
"""

import numbers

import numpy as np

from .. import rng
from ..crf import crf_log_likelihood, crf_marginals, viterbi_decode
from ..dtype import get_default_dtype
from ..ops import transpose
from ..tensor import Tensor
from .module import Module, Parameter

SCHEMES = ("BIO",)


class CRF(Module):
    """Linear-chain CRF over num_tags tags (pytorch-crf's torchcrf.CRF, plus lengths, n-best,
    marginals and constraints).

    CRF(num_tags, batch_first=False, constraints=None)
      constraints: None, or the allowed transitions as (i, j) pairs in AllenNLP's convention: tag
        ids 0..K-1, i = K means "start" and j = K + 1 means "end" (what allowed_transitions returns).
        Every pair not listed is forbidden.
    Parameters: start_transitions (K,), end_transitions (K,), transitions (K, K).

    crf(emissions, tags, mask=None, reduction="sum", lengths=None) -> log-likelihood
      emissions: (T, N, K) ((N, T, K) with batch_first); tags: (T, N) ((N, T)) ints;
      mask: (T, N) ((N, T)) bool, each sequence a prefix of ones starting at step 0; or lengths:
      (N,) ints in [1, T]; neither means every step is real.
      reduction: "none" -> (N,), "sum", "mean" (over the batch), "token_mean" (over real steps).
      The loss to minimise is the negative of what this returns.
    """

    def __init__(self, num_tags, batch_first=False, constraints=None):
        super().__init__()
        if not isinstance(num_tags, numbers.Integral) or isinstance(num_tags, bool) or num_tags <= 0:
            raise ValueError(f"CRF: num_tags must be a positive int, got {num_tags!r}")
        self.num_tags = int(num_tags)
        self.batch_first = bool(batch_first)
        self.start_transitions = Parameter(np.zeros(num_tags, dtype=get_default_dtype()))
        self.end_transitions = Parameter(np.zeros(num_tags, dtype=get_default_dtype()))
        self.transitions = Parameter(np.zeros((num_tags, num_tags), dtype=get_default_dtype()))
        self.reset_parameters()
        self.allowed = None if constraints is None else _constraint_masks(constraints, self.num_tags)

    def reset_parameters(self):
        """Every score from U(-0.1, 0.1), as pytorch-crf initialises them."""
        for parameter in (self.start_transitions, self.end_transitions, self.transitions):
            parameter.data[...] = rng.generator().uniform(-0.1, 0.1, size=parameter.shape)

    def forward(self, emissions, tags, mask=None, reduction="sum", lengths=None):
        emissions, lengths = self._time_major(emissions, mask, lengths, "CRF")
        tags = np.asarray(tags.data if isinstance(tags, Tensor) else tags)
        if self.batch_first and tags.ndim == 2:
            tags = tags.T
        return crf_log_likelihood(emissions, tags, lengths, self.start_transitions, self.end_transitions,
                                  self.transitions, self.allowed, reduction)

    def decode(self, emissions, mask=None, top_k=None, lengths=None):
        """Viterbi: the best tag path of each sequence, a list of lists of tag ids (lengths[n] each).
        With top_k=k: for each sequence a list of up to k (path, score) pairs, best first."""
        emissions, lengths = self._time_major(emissions, mask, lengths, "CRF.decode")
        return viterbi_decode(emissions, lengths, self.start_transitions, self.end_transitions, self.transitions,
                              self.allowed, top_k)

    def marginals(self, emissions, mask=None, lengths=None):
        """P(y_t = j | emissions): a Tensor shaped like emissions (zero past each sequence's end),
        without a gradient."""
        emissions, lengths = self._time_major(emissions, mask, lengths, "CRF.marginals")
        marginals = crf_marginals(emissions, lengths, self.start_transitions, self.end_transitions,
                                  self.transitions, self.allowed)
        if self.batch_first:
            marginals = marginals.transpose(1, 0, 2)
        return Tensor._wrap(np.ascontiguousarray(marginals).astype(emissions.dtype))

    def _time_major(self, emissions, mask, lengths, caller):
        """(T, N, K) emissions and (N,) lengths from the call's emissions, mask or lengths."""
        if not isinstance(emissions, Tensor):
            emissions = Tensor._wrap(np.asarray(emissions))
        if emissions.ndim != 3 or emissions.shape[2] != self.num_tags:
            layout = "(batch_size, seq_length, num_tags)" if self.batch_first else "(seq_length, batch_size, num_tags)"
            raise ValueError(f"{caller}: emissions must have shape {layout} with num_tags = {self.num_tags}, "
                             f"got shape {emissions.shape}")
        if self.batch_first:
            emissions = transpose(emissions, 0, 1)
        steps, batch = emissions.shape[:2]
        if mask is not None and lengths is not None:
            raise ValueError(f"{caller}: give mask or lengths, not both")
        if mask is not None:
            lengths = _lengths_from_mask(mask, steps, batch, self.batch_first, caller)
        elif lengths is None:
            lengths = np.full(batch, steps, dtype=np.int64)
        return emissions, lengths

    def extra_repr(self):
        constrained = ", constraints=..." if self.allowed is not None else ""
        return f"num_tags={self.num_tags}{constrained}"

    def __repr__(self):
        return f"CRF({self.extra_repr()})"


def _lengths_from_mask(mask, steps, batch, batch_first, caller):
    """(N,) lengths from a prefix mask; anything else is a ValueError saying what is wrong."""
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.dtype != np.bool_:
        if mask.dtype.kind not in "iu" or not np.isin(mask, (0, 1)).all():
            raise TypeError(f"{caller}: mask must be bool (or 0/1 integers), got dtype {mask.dtype}")
        mask = mask.astype(bool)
    if batch_first:
        mask = mask.T
    expected = (steps, batch)
    if mask.shape != expected:
        shown = expected[::-1] if batch_first else expected
        actual = mask.shape[::-1] if batch_first else mask.shape
        raise ValueError(f"{caller}: mask must have shape {shown} like the emissions, got shape {actual}")
    if not mask[0].all():
        n = int(np.argmin(mask[0]))
        raise ValueError(f"{caller}: mask of the first timestep must all be on, but sequence {n} starts off")
    lengths = mask.sum(axis=0).astype(np.int64)
    prefix = np.arange(steps)[:, None] < lengths[None, :]
    if (prefix != mask).any():
        n = int(np.nonzero((prefix != mask).any(axis=0))[0][0])
        raise ValueError(f"{caller}: mask must be on for a prefix of each sequence and off after it; "
                         f"sequence {n} has a gap")
    return lengths


def _constraint_masks(constraints, num_tags):
    """(start_allowed (K,), end_allowed (K,), transition_allowed (K, K)) from AllenNLP-style pairs."""
    start_allowed = np.zeros(num_tags, dtype=bool)
    end_allowed = np.zeros(num_tags, dtype=bool)
    transition_allowed = np.zeros((num_tags, num_tags), dtype=bool)
    for pair in constraints:
        try:
            i, j = (int(v) for v in pair)
        except (TypeError, ValueError):
            raise TypeError(f"CRF: constraints must be (i, j) pairs of ints, got {pair!r}") from None
        if not (0 <= i <= num_tags and (0 <= j < num_tags or j == num_tags + 1)) or (i == num_tags and j == num_tags + 1):
            raise ValueError(
                f"CRF: constraint {pair!r} is out of range: i must be a tag id in [0, {num_tags}) or {num_tags} "
                f"(start), j a tag id or {num_tags + 1} (end)"
            )
        if i == num_tags:
            start_allowed[j] = True
        elif j == num_tags + 1:
            end_allowed[i] = True
        else:
            transition_allowed[i, j] = True
    return start_allowed, end_allowed, transition_allowed


def allowed_transitions(labels, scheme="BIO"):
    """The transitions a BIO tagging allows, as (i, j) pairs for CRF(..., constraints=...).

    labels: the tag strings in id order (a list, or a dict {id: label}); each must be "O", "B-<type>"
        or "I-<type>".
    Returns a list of pairs in AllenNLP's convention: i, j in [0, K) for tag i followed by tag j,
    i = K for the start of a sequence and j = K + 1 for its end. BIO allows everything except an
    I-x that does not continue an x chunk: I-x may only follow B-x or I-x (so never start a
    sequence, and never follow O or B-y / I-y of another type).
    """
    if scheme not in SCHEMES:
        raise ValueError(f"allowed_transitions: scheme must be one of {SCHEMES}, got {scheme!r}")
    if isinstance(labels, dict):
        if sorted(labels) != list(range(len(labels))):
            raise ValueError(f"allowed_transitions: a dict of labels must have the keys 0..{len(labels) - 1}")
        labels = [labels[i] for i in range(len(labels))]
    labels = list(labels)
    parsed = []
    for index, label in enumerate(labels):
        if not isinstance(label, str):
            raise TypeError(f"allowed_transitions: labels must be strings, got {label!r} at position {index}")
        if label == "O":
            parsed.append(("O", None))
        elif label[:2] in ("B-", "I-") and len(label) > 2:
            parsed.append((label[0], label[2:]))
        else:
            raise ValueError(f"allowed_transitions: label {label!r} at position {index} is not O, B-<type> or I-<type> "
                             f"(scheme {scheme})")
    num_tags = len(labels)
    start, end = num_tags, num_tags + 1
    pairs = []
    for j, (prefix, _) in enumerate(parsed):
        if prefix != "I":
            pairs.append((start, j))
    for i, (from_prefix, from_type) in enumerate(parsed):
        for j, (to_prefix, to_type) in enumerate(parsed):
            if to_prefix != "I" or (from_prefix != "O" and from_type == to_type):
                pairs.append((i, j))
        pairs.append((i, end))
    return pairs
