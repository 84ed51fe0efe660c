"""Tests for the glyph-string data behind the CTC demo (tinyseq/datasets/glyphs.py)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyseq.datasets import glyphs
from tinyseq.datasets.glyphs import ALPHABET, BLANK, NUM_CLASSES, decode, encode, make_glyph_strings, render_text

SMALL = dict(num_train=60, num_valid=20, num_test=30, seed=3)


@pytest.fixture(scope="module")
def small_data():
    return make_glyph_strings(**SMALL)


def _splits(data):
    return {"train": data.train, "valid": data.valid, "test": data.test}


def test_same_seed_gives_identical_data(small_data):
    again = make_glyph_strings(**SMALL)
    for name, split in _splits(small_data).items():
        other = getattr(again, name)
        assert split.texts == other.texts, name
        np.testing.assert_array_equal(split.frames, other.frames)
        np.testing.assert_array_equal(split.targets, other.targets)
        np.testing.assert_array_equal(split.frame_lengths, other.frame_lengths)


def test_different_seeds_give_different_data(small_data):
    other = make_glyph_strings(**{**SMALL, "seed": 4})
    assert small_data.train.texts != other.train.texts
    assert small_data.test.texts != other.test.texts


def test_split_sizes_and_padded_shapes(small_data):
    assert small_data.alphabet == ALPHABET and small_data.blank == 0 and small_data.num_classes == len(ALPHABET) + 1
    for name, split in _splits(small_data).items():
        count = SMALL[f"num_{name}"]
        assert len(split) == count
        assert split.frames.shape == (count, split.frame_lengths.max(), small_data.height)
        assert split.frames.dtype == np.float32
        assert split.targets.shape == (count, split.target_lengths.max())
        assert split.targets.dtype == np.int64
        assert split.frame_lengths.shape == split.target_lengths.shape == (count,)


def test_padding_is_zero_frames_and_blank_labels(small_data):
    for split in _splits(small_data).values():
        for i in range(len(split)):
            assert not split.frames[i, split.frame_lengths[i]:].any()
            assert (split.targets[i, split.target_lengths[i]:] == BLANK).all()
            # The right margin holds pixel noise, so the last real column is not all zeros.
            assert split.frames[i, split.frame_lengths[i] - 1].any()


def test_labels_are_in_range_and_decode_to_the_texts(small_data):
    for split in _splits(small_data).values():
        for i, text in enumerate(split.texts):
            labels = split.targets[i, : split.target_lengths[i]]
            assert ((labels >= 1) & (labels < NUM_CLASSES)).all()
            assert decode(labels) == text
            assert 3 <= len(text) <= 8


def test_enough_frames_for_ctc_even_after_stacking_column_pairs(small_data):
    # CTC needs one frame per label plus one blank between each pair of equal neighbours. The demo
    # stacks two columns per frame, so the bound must hold for ceil(T / 2) frames too.
    for split in _splits(small_data).values():
        for i, text in enumerate(split.texts):
            repeats = sum(a == b for a, b in zip(text, text[1:]))
            needed = len(text) + repeats
            assert split.frame_lengths[i] >= needed
            assert (split.frame_lengths[i] + 1) // 2 >= needed


def test_repeated_characters_occur_so_the_blank_between_them_matters():
    data = make_glyph_strings(num_train=400, num_valid=1, num_test=1, seed=0)
    assert any(a == b for text in data.train.texts for a, b in zip(text, text[1:]))


def test_test_strings_never_occur_in_train_or_valid():
    data = make_glyph_strings(num_train=3000, num_valid=300, num_test=300, min_length=1, max_length=3, seed=1)
    held_out = set(data.test.texts)
    assert not held_out & set(data.train.texts)
    assert not held_out & set(data.valid.texts)


@given(text=st.text(alphabet=ALPHABET, min_size=1, max_size=10), seed=st.integers(0, 2**32 - 1),
       height=st.integers(12, 32))
def test_rendered_line_has_the_height_range_and_a_width_that_grows_with_the_text(text, seed, height):
    image = render_text(text, np.random.default_rng(seed), height)
    assert image.dtype == np.float32
    assert image.shape[0] == height
    assert 0.0 <= image.min() and image.max() <= 1.0
    # Each glyph is at least 5 * 1.2 = 6 columns wide, glyphs are at least 1 column apart and each
    # margin is at least 1 column (the bounds in WIDTH_SCALE, GAP and MARGIN).
    assert image.shape[1] >= 6 * len(text) + (len(text) - 1) + 2


@pytest.fixture
def plain_style(monkeypatch):
    """Switch every random distortion off: unit scale, no slant, jitter, noise or bold strokes."""
    for name, value in dict(WIDTH_SCALE=(1.0, 1.0), HEIGHT_SCALE=(1.0, 1.0), HEIGHT_JITTER=0.0, GAP=(1, 1),
                            SLANT=(0.0, 0.0), VERTICAL_JITTER=0.0, NOISE_STD=(0.0, 0.0), INK=(1.0, 1.0),
                            BOLD_PROBABILITY=0.0, SPECKLE_RATE=0.0, MARGIN=(1, 1)).items():
        monkeypatch.setattr(glyphs, name, value)


def test_undistorted_rendering_is_the_font_bitmap_placed_by_hand(plain_style):
    # Height 13: the 7-row glyphs sit at rows 3..9 ((13 - 7) / 2 = 3). Columns: margin 1, "1" at
    # 1..5, gap 1, "0" at 7..11, margin 1, so 13 columns. Drawn by hand from the font's string art.
    expected_art = [
        ".............",
        ".............",
        ".............",
        "...#....###..",
        "..##...#...#.",
        "...#...#...#.",
        "...#...#...#.",
        "...#...#...#.",
        "...#...#...#.",
        "..###...###..",
        ".............",
        ".............",
        ".............",
    ]
    expected = np.array([[cell == "#" for cell in row] for row in expected_art], dtype=np.float32)
    image = render_text("10", np.random.default_rng(0), height=13)
    np.testing.assert_array_equal(image, expected)


def test_every_glyph_is_a_distinct_5x7_bitmap():
    assert set(glyphs.FONT) == set(ALPHABET)
    bitmaps = [glyphs.FONT[char] for char in ALPHABET]
    assert all(bitmap.shape == (7, 5) for bitmap in bitmaps)
    for i in range(len(bitmaps)):
        for j in range(i + 1, len(bitmaps)):
            assert (bitmaps[i] != bitmaps[j]).sum() >= 3, (ALPHABET[i], ALPHABET[j])


def test_encode_and_decode_use_blank_zero_and_alphabet_order():
    assert encode("0A") == [1, 11]
    assert decode([0, 1, 0, 11, 0]) == "0A"
    assert encode("") == []


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_train=0), "num_train"),
    (dict(num_valid=-1), "num_valid"),
    (dict(num_test=2.5), "num_test"),
    (dict(min_length=0), "min_length"),
    (dict(min_length=5, max_length=4), "max_length"),
    (dict(height=8), "height"),
    (dict(seed=-1), "seed"),
    (dict(num_test=200, min_length=1, max_length=1), "num_test"),
])
def test_bad_arguments_raise_value_errors_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_glyph_strings(**{**SMALL, **kwargs})


def test_bad_text_and_labels_raise_clear_errors():
    with pytest.raises(ValueError, match="text must use only characters"):
        encode("1Z")
    with pytest.raises(TypeError, match="text must be a str"):
        encode(12)
    with pytest.raises(ValueError, match="labels must lie in"):
        decode([1, NUM_CLASSES])
    with pytest.raises(ValueError, match="at least one character"):
        render_text("", np.random.default_rng(0))
