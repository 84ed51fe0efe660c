"""Turning CTC outputs into label sequences: best-path (greedy) and prefix beam search decoding.

Where this sits: after a model trained with ctc_loss produces log_probs (T, N, C), a decoder picks
a labelling. Both decoders read plain numpy (a Tensor's .data is taken as is) and return Python
lists; they are evaluation tools, outside the autograd graph.

Greedy (best path) takes the most probable class at every frame, merges repeats and drops blanks.
It finds the most probable *alignment*, which is not always the most probable *labelling*: many
alignments collapse to the same labelling and the labelling's probability is their sum.

Prefix beam search (Hannun, Maas, Jurafsky & Ng 2014, "First-Pass Large Vocabulary Continuous
Speech Recognition using Bi-Directional Recurrent DNNs"; not the best-first prefix search of
Graves's 2012 book "Supervised Sequence Labelling with Recurrent Neural Networks", ch. 7) keeps,
for each candidate prefix, two log-probabilities over the frames so far: of the alignments that
end in a blank and of those that end in the prefix's last label. The split matters for repeats:
after "a", another "a" merges into the same prefix unless a blank came between, in which case it
starts "a a". At every frame each prefix may stay (blank, or a repeat of its last label) or grow by
one label; the beam_width most probable prefixes survive. Without prefix_scorer, a beam wide enough
to keep every prefix gives exact labelling probabilities, and a narrower beam drops alignments, so
a score never exceeds the true probability.
"""

import math
import numbers

import numpy as np

from ..tensor import Tensor


def greedy_decode(log_probs, input_lengths=None, blank=0):
    """Best-path decoding.

    log_probs: (T, N, C) or unbatched (T, C), Tensor or ndarray (any monotone score works, e.g.
        logits, since only the argmax is used).
    input_lengths: (N,) ints in [0, T], frames past a sequence's length are ignored; None means T
        for every sequence.
    Returns one list of labels per sequence (a single list when unbatched).
    """
    scores, lengths, unbatched = _check_decoder_inputs(log_probs, input_lengths, blank, "greedy_decode")
    best_classes = np.argmax(scores, axis=2)  # (T, N)
    labellings = []
    for n, length in enumerate(lengths):
        path = best_classes[:length, n]
        # Keep a frame's class if it differs from the previous frame's (merge repeats) and is not blank.
        changed = np.ones(len(path), dtype=bool)
        changed[1:] = path[1:] != path[:-1]
        labellings.append([int(k) for k in path[changed & (path != blank)]])
    return labellings[0] if unbatched else labellings


def beam_search_decode(log_probs, input_lengths=None, beam_width=10, blank=0, top_paths=1, prefix_scorer=None):
    """Prefix beam search.

    log_probs: (T, N, C) or unbatched (T, C) log-probabilities, Tensor or ndarray.
    input_lengths: (N,) ints in [0, T], or None for T everywhere.
    beam_width: how many prefixes survive each frame.  top_paths: how many to return, <= beam_width.
    prefix_scorer: optional language-model hook, called as prefix_scorer(prefix, label) with prefix a
        tuple of labels and label the one being appended; it returns a log-weight added to the
        score of the extended prefix, e.g. 0.5 * lm_log_prob(label | prefix) + 1.0 (an LM weight
        and an insertion bonus). It is called once per (prefix, label) per frame.
    Returns, per sequence, a list of at most top_paths (labels, log_score) pairs, best first (a
    single list when unbatched); labellings of probability 0 are never returned. Without prefix_scorer, log_score is the log of the summed probability of the
    alignments of that labelling the beam kept (exact when the beam never had to drop a prefix).
    """
    scores, lengths, unbatched = _check_decoder_inputs(log_probs, input_lengths, blank, "beam_search_decode")
    for name, value in (("beam_width", beam_width), ("top_paths", top_paths)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"beam_search_decode: {name} must be an int >= 1, got {value!r}")
    if top_paths > beam_width:
        raise ValueError(f"beam_search_decode: top_paths ({top_paths}) must be at most beam_width ({beam_width})")
    if prefix_scorer is not None and not callable(prefix_scorer):
        raise TypeError(f"beam_search_decode: prefix_scorer must be callable or None, got {type(prefix_scorer).__name__}")
    results = []
    for n, length in enumerate(lengths):
        beams = _prefix_beam_search(scores[:length, n, :].astype(np.float64), beam_width, blank, prefix_scorer)
        results.append([(list(prefix), score) for prefix, score in beams[:top_paths]])
    return results[0] if unbatched else results


def _prefix_beam_search(log_probs, beam_width, blank, prefix_scorer):
    """One sequence: log_probs (T, C) float64 -> [(prefix tuple, log_score)] best first."""
    # beams: prefix -> (log P(alignments so far ending in blank), log P(... ending in the last label))
    beams = {(): (0.0, -math.inf)}
    labels = [k for k in range(log_probs.shape[1]) if k != blank]
    for frame in log_probs.tolist():
        blank_log_prob = frame[blank]
        next_beams = {}
        for prefix, (ends_blank, ends_label) in beams.items():
            total = _log_add(ends_blank, ends_label)
            # Blank: the prefix is unchanged and now ends in a blank.
            _accumulate(next_beams, prefix, total + blank_log_prob, -math.inf)
            last = prefix[-1] if prefix else None
            for label in labels:
                label_log_prob = frame[label]
                extended = prefix + (label,)
                bonus = 0.0 if prefix_scorer is None else prefix_scorer(prefix, label)
                if label == last:
                    # A repeat with no blank between merges into the same prefix; only after a
                    # blank does it start a new copy of the label.
                    _accumulate(next_beams, prefix, -math.inf, ends_label + label_log_prob)
                    _accumulate(next_beams, extended, -math.inf, ends_blank + label_log_prob + bonus)
                else:
                    _accumulate(next_beams, extended, -math.inf, total + label_log_prob + bonus)
        # Prefixes of probability 0 (say, forbidden by prefix_scorer) are dropped, not kept.
        ranked = sorted(
            (item for item in next_beams.items() if _log_add(*item[1]) > -math.inf),
            key=lambda item: (-_log_add(*item[1]), item[0]),
        )
        beams = dict(ranked[:beam_width])
    return sorted(((prefix, _log_add(*split)) for prefix, split in beams.items()), key=lambda item: (-item[1], item[0]))


def _accumulate(beams, prefix, ends_blank, ends_label):
    """Add (in probability space) the two log-probabilities into beams[prefix]."""
    old_blank, old_label = beams.get(prefix, (-math.inf, -math.inf))
    beams[prefix] = (_log_add(old_blank, ends_blank), _log_add(old_label, ends_label))


def _log_add(a, b):
    """log(exp(a) + exp(b)) without overflow, exact when either is -inf."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def _check_decoder_inputs(log_probs, input_lengths, blank, name):
    """(scores (T, N, C) ndarray, lengths list of ints, unbatched) after checking every argument;
    NaN scores inside the lengths are an error (and +inf ones for beam search)."""
    scores = np.asarray(log_probs.data if isinstance(log_probs, Tensor) else log_probs)
    if scores.dtype.kind != "f":
        raise TypeError(f"{name}: log_probs must be floating point, got dtype {scores.dtype}")
    if scores.ndim not in (2, 3):
        raise ValueError(f"{name}: log_probs must have shape (T, N, C) or unbatched (T, C), got shape {scores.shape}")
    unbatched = scores.ndim == 2
    if unbatched:
        scores = scores[:, None, :]
    frames, batch, classes = scores.shape
    if not isinstance(blank, numbers.Integral) or isinstance(blank, bool):
        raise TypeError(f"{name}: blank must be an int, got {type(blank).__name__}")
    if not 0 <= blank < classes:
        raise ValueError(f"{name}: blank must be in [0, C) = [0, {classes}), got {blank}")
    if input_lengths is None:
        lengths = [frames] * batch
    else:
        lengths = _check_lengths(input_lengths, frames, batch, unbatched, name)
    _check_finite(scores, lengths, name)
    return scores, lengths, unbatched


def _check_finite(scores, lengths, name):
    """A NaN score (or a +inf log-probability in beam search, where inf - inf is NaN) ranks nothing:
    argmax would pick it and the beam's log-sum-exp would turn every prefix it touches into NaN."""
    used = np.arange(scores.shape[0])[:, None] < np.asarray(lengths, dtype=np.int64)[None, :]  # (T, N)
    bad = np.isnan(scores) if name == "greedy_decode" else np.isnan(scores) | (scores == np.inf)
    bad &= used[:, :, None]
    if bad.any():
        t, n, c = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: log_probs must not hold NaN{'' if name == 'greedy_decode' else ' or +inf'} within the "
            f"input lengths, got {scores[t, n, c]} at frame {t}, sequence {n}, class {c}"
        )


def _check_lengths(input_lengths, frames, batch, unbatched, name):
    lengths = np.asarray(input_lengths.data if isinstance(input_lengths, Tensor) else input_lengths)
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"{name}: input_lengths must hold integers, got dtype {lengths.dtype}")
    if unbatched and lengths.ndim == 0:
        lengths = lengths.reshape(1)
    if lengths.shape != (batch,):
        raise ValueError(f"{name}: input_lengths must have shape ({batch},), one per sequence, got shape {lengths.shape}")
    if np.any((lengths < 0) | (lengths > frames)):
        n = int(np.argmax((lengths < 0) | (lengths > frames)))
        raise ValueError(f"{name}: input_lengths must be in [0, T] = [0, {frames}], got {lengths[n]} for sequence {n}")
    return [int(length) for length in lengths]
