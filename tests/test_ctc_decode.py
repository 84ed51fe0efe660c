"""Greedy and prefix beam search decoding against brute force and hand-worked examples.

The reference for beam search is the exact probability of every labelling, found by enumerating all
C**T alignments and summing, in log space, those that collapse to it.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
from tinyseq.ctc import beam_search_decode, greedy_decode

from test_ctc_kernels import collapse, log_softmax


def labelling_log_probs(log_probs, blank):
    """{labelling tuple: log of the summed probability of its alignments}, by enumeration."""
    frames, classes = log_probs.shape
    totals = {}
    for path in itertools.product(range(classes), repeat=frames):
        path_log_prob = float(sum(log_probs[t, k] for t, k in enumerate(path)))
        labelling = collapse(path, blank)
        previous = totals.get(labelling, -math.inf)
        high, low = max(previous, path_log_prob), min(previous, path_log_prob)
        totals[labelling] = high + math.log1p(math.exp(low - high)) if low > -math.inf else high
    return totals


@st.composite
def small_outputs(draw, max_frames=5, max_classes=3):
    frames = draw(st.integers(1, max_frames))
    classes = draw(st.integers(2, max_classes))
    blank = draw(st.integers(0, classes - 1))
    logits = draw(st.lists(st.floats(-4, 4), min_size=frames * classes, max_size=frames * classes))
    return log_softmax(np.array(logits).reshape(frames, classes)), blank


def prefix_count(frames, classes):
    """How many labellings of length <= frames exist: a beam this wide never drops a prefix."""
    return sum((classes - 1) ** k for k in range(frames + 1))


@given(small_outputs())
def test_wide_beam_finds_the_most_probable_labelling_with_its_exact_score(case):
    log_probs, blank = case
    exact = labelling_log_probs(log_probs, blank)
    beam_width = prefix_count(*log_probs.shape)
    (labels, score), = beam_search_decode(log_probs, beam_width=beam_width, blank=blank)
    assert score == pytest.approx(max(exact.values()), abs=1e-9)
    assert exact[tuple(labels)] == pytest.approx(score, abs=1e-9)


@given(small_outputs(), st.integers(1, 3))
def test_beam_scores_never_exceed_true_labelling_log_probabilities(case, beam_width):
    log_probs, blank = case
    exact = labelling_log_probs(log_probs, blank)
    for labels, score in beam_search_decode(log_probs, beam_width=beam_width, blank=blank, top_paths=beam_width):
        assert score <= exact[tuple(labels)] + 1e-9


@given(small_outputs(max_frames=4))
def test_top_paths_are_distinct_sorted_and_exact_with_a_wide_beam(case):
    log_probs, blank = case
    exact = labelling_log_probs(log_probs, blank)
    beam_width = max(3, prefix_count(*log_probs.shape))
    paths = beam_search_decode(log_probs, beam_width=beam_width, blank=blank, top_paths=3)
    assert len(paths) == min(3, len(exact))
    assert len({tuple(labels) for labels, _ in paths}) == len(paths)
    scores = [score for _, score in paths]
    assert scores == sorted(scores, reverse=True)
    expected = sorted(exact.values(), reverse=True)[: len(paths)]
    np.testing.assert_allclose(scores, expected, atol=1e-9)


@given(st.lists(st.integers(0, 3), min_size=1, max_size=12), st.integers(0, 3))
def test_greedy_and_beam_agree_on_peaked_outputs(best_path, blank):
    # One class per frame holds almost all the probability (e^-30 for the others), so the best
    # alignment's labelling is also the most probable labelling.
    logits = np.zeros((len(best_path), 4))
    logits[np.arange(len(best_path)), best_path] = 30.0
    log_probs = log_softmax(logits)
    greedy = greedy_decode(log_probs, blank=blank)
    (beam_labels, _), = beam_search_decode(log_probs, beam_width=4, blank=blank)
    assert greedy == list(collapse(tuple(best_path), blank))
    assert beam_labels == greedy


def test_greedy_merges_repeats_then_drops_blanks():
    # Frames' best classes: a a _ a b b _ _ b  ->  a a b b   (blank = 2, a = 0, b = 1)
    best = [0, 0, 2, 0, 1, 1, 2, 2, 1]
    log_probs = np.log(np.full((len(best), 3), 0.1))
    log_probs[np.arange(len(best)), best] = np.log(0.8)
    assert greedy_decode(log_probs, blank=2) == [0, 0, 1, 1]


def test_greedy_is_not_beam_when_the_best_alignment_is_not_the_best_labelling():
    # Two frames, classes (blank, a): P(blank) = 0.6 at each frame. The best alignment is
    # "blank blank" (0.36, labelling empty), but "a" has 0.4*0.6 + 0.6*0.4 + 0.4*0.4 = 0.64.
    log_probs = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))
    assert greedy_decode(log_probs) == []
    (labels, score), = beam_search_decode(log_probs, beam_width=4)
    assert labels == [1] and score == pytest.approx(math.log(0.64), abs=1e-12)


def test_input_lengths_are_honoured_by_both_decoders():
    rng = np.random.default_rng(0)
    log_probs = log_softmax(rng.normal(size=(8, 3, 4)))
    lengths = [8, 5, 0]
    # Frames past each length are made to shout a label; they must not change the result.
    for n, length in enumerate(lengths):
        log_probs[length:, n] = log_softmax(np.array([0.0, 50.0, 0.0, 0.0]))
    greedy = greedy_decode(ts.tensor(log_probs), lengths)
    beam = beam_search_decode(log_probs, np.array(lengths), beam_width=5, top_paths=2)
    for n, length in enumerate(lengths):
        assert greedy[n] == greedy_decode(log_probs[:length, n])
        assert beam[n] == beam_search_decode(log_probs[:length, n], beam_width=5, top_paths=2)
    assert greedy[2] == [] and beam[2] == [([], 0.0)]


def test_prefix_scorer_adds_its_log_weight_for_every_label():
    log_probs = log_softmax(np.random.default_rng(1).normal(size=(4, 3)))
    exact = labelling_log_probs(log_probs, 0)
    bonus = 0.7
    paths = beam_search_decode(log_probs, beam_width=prefix_count(4, 3), top_paths=5,
                               prefix_scorer=lambda prefix, label: bonus)
    for labels, score in paths:
        assert score == pytest.approx(exact[tuple(labels)] + bonus * len(labels), abs=1e-9)


def test_prefix_scorer_can_forbid_a_label():
    log_probs = log_softmax(np.random.default_rng(2).normal(size=(6, 4)))
    forbid_two = lambda prefix, label: -math.inf if label == 2 else 0.0  # noqa: E731
    for labels, _ in beam_search_decode(log_probs, beam_width=8, top_paths=8, prefix_scorer=forbid_two):
        assert 2 not in labels


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda x: greedy_decode(x, blank=3), ValueError, r"blank must be in \[0, C\) = \[0, 3\), got 3"),
        (lambda x: greedy_decode(x, [5, 6]), ValueError, r"input_lengths must be in \[0, T\] = \[0, 5\], got 6"),
        (lambda x: greedy_decode(x, [5]), ValueError, r"input_lengths must have shape \(2,\)"),
        (lambda x: greedy_decode(x, [5.0, 5.0]), TypeError, r"input_lengths must hold integers"),
        (lambda x: greedy_decode(x[0, 0]), ValueError, r"log_probs must have shape \(T, N, C\)"),
        (lambda x: greedy_decode(x.astype(int)), TypeError, r"log_probs must be floating point"),
        (lambda x: beam_search_decode(x, beam_width=0), ValueError, r"beam_width must be an int >= 1, got 0"),
        (lambda x: beam_search_decode(x, beam_width=2, top_paths=3), ValueError, r"top_paths \(3\) must be at most"),
        (lambda x: beam_search_decode(x, prefix_scorer=1), TypeError, r"prefix_scorer must be callable"),
    ],
)
def test_bad_decoder_input_raises_an_error_naming_the_argument(call, error, pattern):
    log_probs = log_softmax(np.random.default_rng(3).normal(size=(5, 2, 3)))
    with pytest.raises(error, match=pattern):
        call(log_probs)
