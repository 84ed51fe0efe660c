"""Tests of tinyseq.metrics: span F1 with conlleval semantics, edit distance, CER and WER.

Every expected number is derived by hand in the test (the chunks are listed, then counted); the
Hypothesis tests check properties that hold for any input (metric axioms, symmetry of precision
and recall, agreement with a brute-force recursive edit distance).
"""

import math
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyseq.metrics import (cer, edit_distance, extract_chunks, intent_accuracy, sentence_accuracy, span_f1, span_report,
                             split_bio_tag, wer)

# ----------------------------------------------------------------------------------------------
# Chunks


def test_split_bio_tag_takes_everything_after_the_first_dash_as_type():
    assert split_bio_tag("O") == ("O", "")
    assert split_bio_tag("B-toloc.city_name") == ("B", "toloc.city_name")
    assert split_bio_tag("I-a-b") == ("I", "a-b")


@pytest.mark.parametrize("tag", ["X", "city", "S-city", "B-", "B_city", "b-city", "", None, 3])
def test_split_bio_tag_rejects_non_bio_tags(tag):
    with pytest.raises(ValueError, match="not a BIO tag"):
        split_bio_tag(tag)


def test_chunks_of_well_formed_bio():
    tags = ["B-city", "I-city", "O", "B-day", "B-day", "I-day"]
    assert extract_chunks(tags) == [("city", 0, 2), ("day", 3, 4), ("day", 4, 6)]


def test_i_after_o_starts_a_chunk():
    # conlleval: an I- that follows O (or opens the sentence) begins a chunk.
    assert extract_chunks(["I-city", "I-city", "O", "I-day"]) == [("city", 0, 2), ("day", 3, 4)]


def test_i_of_another_type_ends_the_chunk_and_starts_a_new_one():
    assert extract_chunks(["B-city", "I-city", "I-day", "I-day"]) == [("city", 0, 2), ("day", 2, 4)]


def test_chunk_running_to_the_end_of_the_sentence_is_closed():
    assert extract_chunks(["O", "B-city", "I-city"]) == [("city", 1, 3)]
    assert extract_chunks(["B-city"]) == [("city", 0, 1)]
    assert extract_chunks([]) == []


# ----------------------------------------------------------------------------------------------
# Span F1, hand-worked


def test_span_f1_hand_worked_example():
    gold = [["B-from", "I-from", "O", "B-to"], ["B-day", "O"]]
    pred = [["B-from", "O", "O", "B-to"], ["B-day", "B-day"]]
    # gold chunks: (0, from, 0-2), (0, to, 3-4), (1, day, 0-1)                  -> 3
    # pred chunks: (0, from, 0-1), (0, to, 3-4), (1, day, 0-1), (1, day, 1-2)   -> 4
    # correct: (0, to, 3-4) and (1, day, 0-1); "from" is cut short           -> 2
    # precision 2/4, recall 2/3, f1 = 2 * 2 / (3 + 4) = 4/7
    scores = span_f1(gold, pred)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(4 / 7)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_span_f1_needs_start_end_and_type_to_match():
    gold = ["B-city", "I-city", "O"]
    assert span_f1(gold, ["B-city", "I-city", "O"])["f1"] == 1.0
    assert span_f1(gold, ["B-city", "I-city", "I-city"])["f1"] == 0.0  # end differs
    assert span_f1(gold, ["O", "B-city", "O"])["f1"] == 0.0  # start differs
    assert span_f1(gold, ["B-day", "I-day", "O"])["f1"] == 0.0  # type differs


def test_i_after_o_in_predictions_counts_as_a_correct_chunk():
    # The prediction writes I-city where gold writes B-city: conlleval still sees the same chunk.
    assert span_f1(["O", "B-city", "I-city"], ["O", "I-city", "I-city"]) == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_type_change_inside_i_run_splits_the_prediction():
    gold = ["B-city", "I-city", "I-city"]
    pred = ["B-city", "I-city", "I-day"]
    # pred chunks: (city, 0-2), (day, 2-3); gold: (city, 0-3); none correct.
    assert span_f1(gold, pred) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # Two gold chunks of different types side by side, both with I-, are found exactly.
    assert span_f1(["I-a", "I-b"], ["B-a", "B-b"])["f1"] == 1.0


def test_chunks_do_not_run_across_sentence_boundaries():
    # As one flat sentence the two I-city tags would form one chunk; as two sentences they are two.
    gold = [["O", "B-city"], ["I-city", "O"]]
    pred = [["O", "B-city"], ["B-city", "O"]]
    assert span_f1(gold, pred)["f1"] == 1.0
    assert span_f1(["O", "B-city", "I-city", "O"], ["O", "B-city", "B-city", "O"])["f1"] == 0.0


def test_empty_predictions_give_zero_not_nan():
    gold = [["B-city", "O"], ["O", "B-day"]]
    pred = [["O", "O"], ["O", "O"]]
    scores = span_f1(gold, pred)
    assert scores == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert not any(math.isnan(value) for value in scores.values())


def test_no_chunks_anywhere_gives_zero_as_conlleval_does():
    assert span_f1([["O", "O"]], [["O", "O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert span_f1([], []) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_flat_list_equals_single_sentence():
    gold, pred = ["B-a", "I-a", "O", "B-b"], ["B-a", "O", "O", "B-b"]
    assert span_f1(gold, pred) == span_f1([gold], [pred])


def test_per_type_report_hand_worked():
    gold = [["B-from", "I-from", "O", "B-to"], ["B-day", "O"]]
    pred = [["B-from", "O", "O", "B-to"], ["B-day", "B-day"]]
    report = span_report(gold, pred)
    # day: gold 1, pred 2, correct 1; from: gold 1, pred 1, correct 0; to: 1, 1, 1.
    assert list(report.by_type) == ["day", "from", "to"]
    counts = {name: (c.gold, c.predicted, c.correct) for name, c in report.by_type.items()}
    assert counts == {"day": (1, 2, 1), "from": (1, 1, 0), "to": (1, 1, 1)}
    assert report.by_type["day"].precision == pytest.approx(0.5)
    assert report.by_type["day"].f1 == pytest.approx(2 / 3)
    assert report.by_type["from"].f1 == 0.0
    assert (report.overall.gold, report.overall.predicted, report.overall.correct) == (3, 4, 2)
    # tokens: 6, equal tags at positions 0, 2, 3 of sentence 0 and 0 of sentence 1 -> 4 of 6.
    assert report.token_accuracy == pytest.approx(4 / 6)


def test_report_table_prints_percentages():
    report = span_report([["B-from", "O", "B-to"]], [["B-from", "O", "O"]])
    table = str(report)
    lines = table.splitlines()
    assert lines[0].split() == ["slot", "type", "gold", "pred", "correct", "prec", "recall", "f1"]
    # from: 1/1 correct; to: missed; overall: precision 1/1, recall 1/2, f1 2/3.
    assert lines[2].split() == ["from", "1", "1", "1", "100.00", "100.00", "100.00"]
    assert lines[3].split() == ["to", "1", "0", "0", "0.00", "0.00", "0.00"]
    assert lines[5].split() == ["overall", "2", "1", "1", "100.00", "50.00", "66.67"]


def test_span_f1_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="sentence 1: gold_tags has 2 tags but pred_tags has 1"):
        span_f1([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="2 sentences but pred_tags has 1"):
        span_f1([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match="not a BIO tag"):
        span_f1(["B-a", "Z"], ["O", "O"])
    with pytest.raises(TypeError, match="pred_tags"):
        span_f1(["O"], "O")


bio_tag = st.sampled_from(["O", "B-a", "I-a", "B-b", "I-b"])
tag_sentences = st.lists(st.lists(bio_tag, min_size=1, max_size=8), min_size=1, max_size=4)


@given(tag_sentences, st.data())
def test_precision_and_recall_swap_when_gold_and_prediction_swap(gold, data):
    pred = [data.draw(st.lists(bio_tag, min_size=len(s), max_size=len(s))) for s in gold]
    forward, backward = span_f1(gold, pred), span_f1(pred, gold)
    assert forward["precision"] == backward["recall"]
    assert forward["recall"] == backward["precision"]
    assert forward["f1"] == backward["f1"]
    assert all(0.0 <= value <= 1.0 for value in forward.values())


@given(tag_sentences)
def test_perfect_prediction_scores_one_whenever_there_is_a_chunk(gold):
    has_chunk = any(tag != "O" for sentence in gold for tag in sentence)
    assert span_f1(gold, gold)["f1"] == (1.0 if has_chunk else 0.0)


@given(tag_sentences)
def test_chunks_cover_exactly_the_non_o_positions(tags_by_sentence):
    for tags in tags_by_sentence:
        covered = [position for _, start, end in extract_chunks(tags) for position in range(start, end)]
        assert covered == [position for position, tag in enumerate(tags) if tag != "O"]


# ----------------------------------------------------------------------------------------------
# Edit distance, CER, WER


@pytest.mark.parametrize(
    "a, b, distance",
    [
        ("kitten", "sitting", 3),  # k->s, e->i, insert g
        ("flaw", "lawn", 2),  # delete f, insert n
        ("intention", "execution", 5),  # Jurafsky & Martin's example with unit substitution cost
        ("", "abc", 3),
        ("abc", "", 3),
        ("", "", 0),
        ("abc", "abc", 0),
        (["the", "cat", "sat"], ["the", "cat", "sat", "down"], 1),
        ([1, 2, 3, 4], [2, 3, 4, 5], 2),  # delete 1, insert 5
    ],
)
def test_edit_distance_hand_worked(a, b, distance):
    assert edit_distance(a, b) == distance


def test_edit_distance_accepts_integer_arrays():
    assert edit_distance(np.array([1, 2, 3]), np.array([1, 3])) == 1


def test_edit_distance_rejects_non_sequences():
    with pytest.raises(TypeError, match="a must be a sequence"):
        edit_distance(3, [1])


def test_wer_hand_worked():
    refs = ["the cat sat on the mat", "hello world"]
    hyps = ["the cat sat on mat", "hello there world"]
    # sentence 1: delete "the" -> 1 edit over 6 words; sentence 2: insert "there" -> 1 over 2.
    assert wer(refs, hyps) == pytest.approx(2 / 8)
    assert wer("a b c", "a x c") == pytest.approx(1 / 3)
    assert wer([["a", "b"]], [["b"]]) == pytest.approx(1 / 2)


def test_cer_hand_worked():
    # "abcd" -> "abd": one deletion over 4; "xy" -> "xyz": one insertion over 2; spaces count.
    assert cer(["abcd", "xy"], ["abd", "xyz"]) == pytest.approx(2 / 6)
    assert cer("a b", "ab") == pytest.approx(1 / 3)
    assert cer([[1, 2, 3]], [[1, 3]]) == pytest.approx(1 / 3)


def test_error_rate_can_exceed_one():
    assert wer(["a"], ["x y z"]) == pytest.approx(3.0)  # one substitution, two insertions


def test_empty_references_are_defined():
    # An empty reference in a corpus adds insertions and nothing to the denominator.
    assert wer(["", "a b"], ["x", "a b"]) == pytest.approx(1 / 2)
    # All references empty: 0 when the hypotheses are empty too, inf otherwise; never NaN.
    assert wer([""], [""]) == 0.0
    assert cer([], []) == 0.0
    assert wer(["", ""], ["", "x"]) == math.inf


def test_error_rates_reject_mismatched_inputs():
    with pytest.raises(ValueError, match="refs has 2 items but hyps has 1"):
        wer(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="refs is a str"):
        cer("abc", ["abc"])


symbols = st.lists(st.integers(0, 3), max_size=7)


@lru_cache(maxsize=None)
def _levenshtein_by_recursion(a, b):
    """The textbook recursive definition, independent of the row-by-row implementation."""
    if not a or not b:
        return len(a) + len(b)
    return min(
        _levenshtein_by_recursion(a[1:], b) + 1,
        _levenshtein_by_recursion(a, b[1:]) + 1,
        _levenshtein_by_recursion(a[1:], b[1:]) + (a[0] != b[0]),
    )


@given(symbols, symbols)
def test_edit_distance_matches_the_recursive_definition(a, b):
    assert edit_distance(a, b) == _levenshtein_by_recursion(tuple(a), tuple(b))


@given(symbols, symbols, symbols)
def test_edit_distance_is_a_metric(a, b, c):
    assert edit_distance(a, b) == edit_distance(b, a)
    assert (edit_distance(a, b) == 0) == (a == b)
    assert edit_distance(a, c) <= edit_distance(a, b) + edit_distance(b, c)


@given(symbols, symbols)
def test_edit_distance_bounds(a, b):
    distance = edit_distance(a, b)
    assert abs(len(a) - len(b)) <= distance <= max(len(a), len(b))


@given(st.lists(st.tuples(symbols, symbols), min_size=1, max_size=5))
def test_corpus_error_rate_is_total_edits_over_total_length(pairs):
    refs, hyps = [list(r) for r, _ in pairs], [list(h) for _, h in pairs]
    total_length = sum(len(r) for r in refs)
    rate = cer(refs, hyps)
    assert rate >= 0.0 and not math.isnan(rate)
    if total_length:
        assert rate == pytest.approx(sum(edit_distance(r, h) for r, h in pairs) / total_length)
        assert rate <= sum(max(len(r), len(h)) for r, h in pairs) / total_length
    assert cer(refs, refs) == 0.0


# ----------------------------------------------------------------------------------------------
# Intent and sentence accuracy, against values counted by hand


def test_intent_accuracy_hand_counted():
    gold = ["atis_flight", "atis_airfare", "atis_flight#atis_airfare", "atis_city"]
    pred = ["atis_flight", "atis_flight", "atis_flight", "atis_city"]
    # Right: 1st and 4th. The multi-intent label is one class: "atis_flight" alone is wrong.
    assert intent_accuracy(gold, pred) == 0.5
    assert intent_accuracy([], []) == 0.0


def test_sentence_accuracy_needs_every_tag_and_the_intent():
    gold_tags = [["O", "B-city"], ["B-date", "I-date"], ["O"], ["I-city"]]
    pred_tags = [["O", "B-city"], ["B-date", "O"], ["O"], ["B-city"]]
    gold_intents = ["flight", "flight", "fare", "flight"]
    pred_intents = ["flight", "flight", "flight", "flight"]
    # 1: all right. 2: a tag wrong. 3: tags right, intent wrong. 4: same chunk for conlleval,
    # but the tag differs, so wrong. Slots alone: sentences 1 and 3 are right.
    assert sentence_accuracy(gold_tags, pred_tags, gold_intents, pred_intents) == 0.25
    assert sentence_accuracy(gold_tags, pred_tags) == 0.5


def test_accuracy_length_mismatches_are_errors():
    with pytest.raises(ValueError, match="gold_intents has 2 labels but pred_intents has 1"):
        intent_accuracy(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="2 sentences of tags but 1 gold and 1 predicted intents"):
        sentence_accuracy([["O"], ["O"]], [["O"], ["O"]], ["a"], ["a"])
    with pytest.raises(ValueError, match="or neither"):
        sentence_accuracy([["O"]], [["O"]], ["a"], None)
