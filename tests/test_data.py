"""Tests of tinyseq.data: Vocab, pad_sequences and BucketBatchSampler."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyseq.data import BucketBatchSampler, Vocab, pad_sequences

SENTENCES = [["to", "boston", "to"], ["from", "denver", "to", "boston"], ["from", "oslo"]]
# Counts: to 3, boston 2, from 2, denver 1, oslo 1.

# ----------------------------------------------------------------------------------------------
# Vocab


def test_build_orders_specials_then_by_count_then_alphabetically():
    vocab = Vocab.build(SENTENCES)
    assert vocab.itos == ["<pad>", "<unk>", "to", "boston", "from", "denver", "oslo"]
    assert (vocab.pad_index, vocab.unk_index) == (0, 1)
    assert len(vocab) == 7


def test_build_ignores_the_order_of_the_data():
    assert Vocab.build(SENTENCES) == Vocab.build([list(reversed(s)) for s in reversed(SENTENCES)])


def test_min_freq_max_size_and_extra_specials():
    vocab = Vocab.build(SENTENCES, min_freq=2, specials=("<bos>",))
    assert vocab.itos == ["<pad>", "<unk>", "<bos>", "to", "boston", "from"]
    assert vocab.encode(["to", "oslo"]) == [3, 1]
    assert Vocab.build(SENTENCES, max_size=4).itos == ["<pad>", "<unk>", "to", "boston"]


def test_vocabulary_without_pad_and_unk_for_tags():
    tags = Vocab.build([["O", "B-city"], ["O"]], pad_token=None, unk_token=None)
    assert tags.itos == ["O", "B-city"]
    assert (tags.pad_index, tags.unk_index) == (None, None)
    with pytest.raises(ValueError, match="token 'I-city' at position 1 is not in this vocabulary"):
        tags.encode(["O", "I-city"])


def test_encode_decode_round_trip_and_unknown_tokens():
    vocab = Vocab.build(SENTENCES)
    assert vocab.encode(["from", "boston", "to", "paris"]) == [4, 3, 2, 1]
    assert vocab.decode([4, 3, 2, 1]) == ["from", "boston", "to", "<unk>"]
    assert vocab.decode(np.array([0, 6])) == ["<pad>", "oslo"]
    assert "oslo" in vocab and "paris" not in vocab


def test_decode_rejects_ids_out_of_range():
    vocab = Vocab.build(SENTENCES)
    with pytest.raises(ValueError, match=r"id 7 at position 1 is not in \[0, 7\)"):
        vocab.decode([0, 7])
    with pytest.raises(ValueError, match="id -1"):
        vocab.decode([-1])


def test_encode_rejects_an_unsplit_string():
    with pytest.raises(TypeError, match="split it first"):
        Vocab.build(SENTENCES).encode("to boston")


def test_save_and_load_round_trip_through_json(tmp_path):
    vocab = Vocab.build(SENTENCES + [["zürich", "são"]], specials=("<bos>",))
    path = tmp_path / "vocab.json"
    vocab.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["tokens"][:3] == ["<pad>", "<unk>", "<bos>"]
    loaded = Vocab.load(path)
    assert loaded == vocab and loaded.itos == vocab.itos
    assert Vocab.from_dict(vocab.to_dict()) == vocab


@pytest.mark.parametrize(
    "tokens, kwargs, message",
    [
        (["<pad>", "<unk>", "a", "a"], {}, "must not repeat"),
        (["<unk>", "<pad>"], {}, "pad_token '<pad>' must be tokens\\[0\\]"),
        (["<pad>", "a"], {}, "unk_token '<unk>' is not among the tokens"),
        (["<pad>", "<unk>", 3], {}, "tokens must be strings"),
    ],
)
def test_constructor_rejects_inconsistent_tokens(tokens, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Vocab(tokens, **kwargs)


def test_build_rejects_bad_arguments():
    with pytest.raises(ValueError, match="min_freq must be an int >= 1, got 0"):
        Vocab.build(SENTENCES, min_freq=0)
    with pytest.raises(TypeError, match="got the str 'to boston'"):
        Vocab.build(["to boston"])
    with pytest.raises(ValueError, match="max_size must be at least the 2 special tokens"):
        Vocab.build(SENTENCES, max_size=1)


# ----------------------------------------------------------------------------------------------
# pad_sequences


def test_pad_sequences_hand_worked():
    padded, lengths = pad_sequences([[5, 6, 7], [8], []])
    np.testing.assert_array_equal(padded, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    assert lengths.dtype == np.int64 and padded.dtype == np.int64


def test_pad_value_and_dtype():
    padded, _ = pad_sequences([[1], [2, 3]], pad_value=-100)
    np.testing.assert_array_equal(padded, [[1, -100], [2, 3]])
    padded, _ = pad_sequences([[1], [2, 3]], dtype=np.float32)
    assert padded.dtype == np.float32


def test_pad_sequences_of_feature_frames():
    frames = [np.ones((2, 3), np.float32), np.full((4, 3), 2.0, np.float32)]
    padded, lengths = pad_sequences(frames)
    assert padded.shape == (2, 4, 3) and padded.dtype == np.float32
    np.testing.assert_array_equal(lengths, [2, 4])
    np.testing.assert_array_equal(padded[0, 2:], 0.0)
    np.testing.assert_array_equal(padded[1], 2.0)


def test_pad_sequences_of_nothing():
    padded, lengths = pad_sequences([])
    assert padded.shape == (0, 0) and lengths.shape == (0,)


def test_pad_sequences_rejects_bad_input():
    with pytest.raises(ValueError, match="share their trailing shape"):
        pad_sequences([np.zeros((2, 3)), np.zeros((2, 4))])
    with pytest.raises(ValueError, match=r"sequences\[1\] is a scalar"):
        pad_sequences([[1], 2])
    with pytest.raises(TypeError, match="list of sequences"):
        pad_sequences("abc")


@given(st.lists(st.lists(st.integers(1, 50), max_size=6), max_size=6))
def test_padding_keeps_every_sequence_and_pads_only_after_it(sequences):
    padded, lengths = pad_sequences(sequences, pad_value=-1)
    assert lengths.tolist() == [len(sequence) for sequence in sequences]
    for row, sequence in zip(padded, sequences):
        assert row[: len(sequence)].tolist() == sequence
        assert (row[len(sequence):] == -1).all()


# ----------------------------------------------------------------------------------------------
# BucketBatchSampler


@given(
    lengths=st.lists(st.integers(0, 30), max_size=60),
    batch_size=st.integers(1, 8),
    pool_size=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_every_example_exactly_once_per_epoch(lengths, batch_size, pool_size, seed):
    sampler = BucketBatchSampler(lengths, batch_size, pool_size=pool_size, seed=seed)
    for _ in range(2):
        batches = list(sampler)
        assert sorted(np.concatenate(batches).tolist() if batches else []) == list(range(len(lengths)))
        assert len(batches) == len(sampler)
        sizes = sorted(len(batch) for batch in batches)
        assert all(size == batch_size for size in sizes[1:])  # only one batch may be short
        assert all(0 < size <= batch_size for size in sizes)


def test_same_seed_same_epochs_and_epochs_differ():
    lengths = list(range(40))
    first = BucketBatchSampler(lengths, 4, seed=3)
    second = BucketBatchSampler(lengths, 4, seed=3)
    epochs_first = [[batch.tolist() for batch in first] for _ in range(3)]
    epochs_second = [[batch.tolist() for batch in second] for _ in range(3)]
    assert epochs_first == epochs_second
    assert epochs_first[0] != epochs_first[1]
    assert [[b.tolist() for b in BucketBatchSampler(lengths, 4, seed=4)]] != epochs_first[:1]


@given(st.lists(st.integers(0, 30), min_size=1, max_size=60), st.integers(1, 8), st.integers(0, 100))
def test_one_pool_gives_batches_of_consecutive_lengths(lengths, batch_size, seed):
    # With the whole epoch in one pool, the batches are cuts of the length-sorted examples.
    sampler = BucketBatchSampler(lengths, batch_size, pool_size=len(lengths), seed=seed)
    lengths = np.array(lengths)
    batches = sorted((sorted(lengths[batch].tolist()) for batch in sampler), key=lambda b: (b[0], b[-1]))
    concatenated = [length for batch in batches for length in batch]
    assert concatenated == sorted(lengths.tolist())


def test_bucketing_reduces_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=1000)

    def padded_positions(pool_size):
        sampler = BucketBatchSampler(lengths, 32, pool_size=pool_size, seed=0)
        return sum(len(batch) * lengths[batch].max() for batch in sampler)

    # pool_size=1 shuffles without sorting; sorting pools of 10 batches packs far tighter.
    assert padded_positions(10) < 0.7 * padded_positions(1)


def test_no_shuffle_keeps_order_and_drop_last_drops_the_short_batch():
    batches = [batch.tolist() for batch in BucketBatchSampler([3, 1, 2, 5, 4], 2, shuffle=False)]
    assert batches == [[0, 1], [2, 3], [4]]
    sampler = BucketBatchSampler([3, 1, 2, 5, 4], 2, drop_last=True, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 2 and all(len(batch) == 2 for batch in batches)


def test_sampler_rejects_bad_arguments():
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        BucketBatchSampler([1, 2], 0)
    with pytest.raises(ValueError, match="lengths must be a 1-D list of ints"):
        BucketBatchSampler([[1, 2]], 1)
    with pytest.raises(ValueError, match="lengths must be a 1-D list of ints"):
        BucketBatchSampler([1.5, 2.0], 1)
