"""Tests of the synthetic flight corpus (tinyseq.datasets.flights).

They check what the demo relies on: determinism, well-formed BIO tags with ATIS slot names, splits
that share no template (and slot combinations held out for test), the contrast pairs' tags written
out by hand, and that the words around each contrast really are the same.
"""

import pytest

from tinyseq.datasets.atis_format import check_bio, read_slot_folder
from tinyseq.datasets.flights import (
    CITIES,
    contrast_pairs,
    make_flights_corpus,
    slot_combination,
    write_flights_corpus,
)

SMALL = dict(n_train=600, n_valid=100, n_test=150)

# Slot names as ATIS spells them (all occur in the public ATIS copies' seq.out files).
ATIS_SLOT_NAMES = {
    "fromloc.city_name", "toloc.city_name", "stoploc.city_name",
    *(f"{event}.{part}" for event in ("depart_date", "arrive_date", "return_date")
      for part in ("day_name", "month_name", "day_number", "date_relative", "today_relative")),
    *(f"{event}.{part}" for event in ("depart_time", "arrive_time")
      for part in ("time", "time_relative", "period_of_day")),
    "airline_name", "flight_number", "class_type", "round_trip", "cost_relative", "flight_stop",
    "meal_description",
}


@pytest.fixture(scope="module")
def corpus_and_templates():
    return make_flights_corpus(seed=0, return_templates=True)


def test_same_seed_same_corpus_other_seed_other_corpus():
    assert make_flights_corpus(**SMALL, seed=1) == make_flights_corpus(**SMALL, seed=1)
    assert make_flights_corpus(**SMALL, seed=1).train != make_flights_corpus(**SMALL, seed=2).train


def test_default_sizes(corpus_and_templates):
    corpus, _ = corpus_and_templates
    assert [len(split) for split in corpus] == [4000, 500, 800]
    assert [len(split) for split in make_flights_corpus(**SMALL)] == [600, 100, 150]


def test_every_utterance_is_well_formed_bio_with_atis_slot_names(corpus_and_templates):
    corpus, _ = corpus_and_templates
    for split in corpus:
        for example in split:
            assert len(example.tokens) == len(example.tags) > 0
            assert all(token and token.split() == [token] for token in example.tokens)
            check_bio(example.tags, strict=True)
            assert slot_combination(example) <= ATIS_SLOT_NAMES
            assert example.intent in ("atis_flight", "atis_airfare", "atis_flight_time")


def test_splits_share_no_template(corpus_and_templates):
    corpus, templates = corpus_and_templates
    train, valid, test = (set(split) for split in templates)
    assert not train & test and not train & valid and not valid & test
    train_sentences = {example.tokens for example in corpus.train}
    assert not any(example.tokens in train_sentences for example in corpus.test)


def test_some_test_slot_combinations_never_occur_in_training(corpus_and_templates):
    corpus, _ = corpus_and_templates
    train_combinations = {slot_combination(example) for example in corpus.train + corpus.valid}
    unseen = [example for example in corpus.test if slot_combination(example) not in train_combinations]
    assert len(unseen) >= 0.1 * len(corpus.test)


def test_every_test_slot_type_is_taught_in_training(corpus_and_templates):
    corpus, _ = corpus_and_templates
    train_types = set().union(*(slot_combination(example) for example in corpus.train))
    test_types = set().union(*(slot_combination(example) for example in corpus.test))
    assert test_types <= train_types
    assert len(train_types) >= 25


def test_hundreds_of_cities_many_of_several_words():
    assert len(CITIES) >= 300 and len(set(CITIES)) == len(CITIES)
    assert sum(len(city.split()) > 1 for city in CITIES) >= 80
    assert all(city == city.strip().lower() for city in CITIES)


def test_contrast_pairs_tags_written_out():
    pairs = contrast_pairs()
    arrive, leave = pairs[0]
    assert " ".join(arrive.tokens) == "i want to arrive in taipei on november second"
    assert arrive.tags == ("O", "O", "O", "O", "O", "B-toloc.city_name", "O",
                           "B-arrive_date.month_name", "B-arrive_date.day_number")
    assert " ".join(leave.tokens) == "i want to leave taipei on november second"
    assert leave.tags == ("O", "O", "O", "O", "B-fromloc.city_name", "O",
                          "B-depart_date.month_name", "B-depart_date.day_number")
    to_city, from_city = pairs[1]
    assert " ".join(to_city.tokens) == "show me flights to the city of san francisco on friday"
    assert to_city.tags == ("O", "O", "O", "O", "O", "O", "O", "B-toloc.city_name", "I-toloc.city_name",
                            "O", "B-depart_date.day_name")
    assert from_city.tags == tuple(tag.replace("toloc", "fromloc") for tag in to_city.tags)
    arrive, leave = pairs[2]
    assert arrive.tags == ("O", "O", "O", "O", "B-toloc.city_name", "I-toloc.city_name",
                           "I-toloc.city_name", "O", "O", "B-arrive_date.day_number",
                           "I-arrive_date.day_number", "O", "B-arrive_date.month_name")
    assert leave.tags[3:] == ("B-fromloc.city_name", "I-fromloc.city_name", "I-fromloc.city_name",
                              "O", "O", "B-depart_date.day_number", "I-depart_date.day_number", "O",
                              "B-depart_date.month_name")
    arrive, leave = pairs[3]
    assert arrive.tags[-1] == "B-arrive_time.period_of_day" and leave.tags[-1] == "B-depart_time.period_of_day"
    for pair in pairs:
        for example in pair:
            check_bio(example.tags, strict=True)


def _window(tokens, position, width):
    padded = ("<s>",) * width + tuple(tokens) + ("</s>",) * width
    return padded[position : position + 2 * width + 1]


def test_contrast_pairs_differ_where_a_two_word_window_is_blind():
    # Aligning each pair from the end, some position has different tags but the same five words
    # around it: a tagger that sees only two words either side must get one of the two wrong.
    for first, second in contrast_pairs():
        blind = [
            offset
            for offset in range(1, min(len(first.tokens), len(second.tokens)) + 1)
            if first.tags[-offset] != second.tags[-offset]
            and _window(first.tokens, len(first.tokens) - offset, 2)
            == _window(second.tokens, len(second.tokens) - offset, 2)
        ]
        assert blind, " ".join(first.tokens)


def test_training_data_teaches_the_contrasts(corpus_and_templates):
    # The arrive/leave contrast needs examples of a date after "<arrive verb> in <city>" and after
    # "leave <city>", and of "to/from the city of <city>", all in training.
    corpus, _ = corpus_and_templates

    def has(predicate):
        return any(predicate(" ".join(e.tokens), e.tags) for e in corpus.train)

    assert has(lambda text, tags: "arrive in" in text and "B-arrive_date.month_name" in tags)
    assert has(lambda text, tags: " leave " in text and "B-depart_date.month_name" in tags)
    assert has(lambda text, tags: "to the city of" in text)
    assert has(lambda text, tags: "from the city of" in text)
    assert has(lambda text, tags: "B-arrive_time.period_of_day" in tags)


def test_written_corpus_reads_back_identically(tmp_path):
    root = write_flights_corpus(tmp_path / "flights", **SMALL, seed=5)
    assert read_slot_folder(root, strict_bio=True) == make_flights_corpus(**SMALL, seed=5)


@pytest.mark.parametrize("arguments, message", [
    (dict(n_train=0), "n_train must be an int >= 1, got 0"),
    (dict(n_test=2.5), "n_test must be an int >= 1, got 2.5"),
    (dict(heldout_combinations=1.0), r"heldout_combinations must be in \[0, 1\)"),
])
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_flights_corpus(**arguments)
