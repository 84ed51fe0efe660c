"""Tests for tinyseq/datasets/spoken_digits.py on tiny WAV folders written here: indexing by file
name and its errors, FSDD's split and the unseen-speaker split, and the connected digit strings."""

import wave
from collections import Counter

import numpy as np
import pytest

from tinyseq.datasets import spoken_digits as fsdd


def write_wav(path, samples, channels=1, sample_rate=8000):
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Three speakers x 10 digits x indices 0-11, in an FSDD-shaped recordings/ folder."""
    root = tmp_path_factory.mktemp("fsdd")
    fsdd.write_tone_recordings(root / "recordings", speaker_names=("ann", "bo", "cy"), indices=range(12))
    (root / "README.md").write_text("not a recording")
    return root


@pytest.fixture(scope="module")
def recordings(folder):
    return fsdd.index_recordings(folder)


# ---------------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------------


def test_index_reads_every_matching_file_from_the_folder_or_its_recordings(folder, recordings):
    assert len(recordings) == 3 * 10 * 12
    assert fsdd.speakers(recordings) == ["ann", "bo", "cy"]
    first = recordings[0]
    assert (first.speaker, first.digit, first.index) == ("ann", 0, 0)
    assert first.path.name == "0_ann_0.wav" and first.sample_rate == 8000
    assert first.samples.dtype == np.float32 and np.abs(first.samples).max() <= 1.0
    assert len(fsdd.index_recordings(folder / "recordings")) == len(recordings)


def test_files_with_other_names_are_ignored(tmp_path):
    write_wav(tmp_path / "3_zed_7.wav", np.zeros(400))
    write_wav(tmp_path / "three_zed_7.wav", np.zeros(400))
    write_wav(tmp_path / "3_zed_7.WAV.bak", np.zeros(400))
    assert [r.path.name for r in fsdd.index_recordings(tmp_path)] == ["3_zed_7.wav"]


def test_a_missing_folder_says_where_to_get_fsdd(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere does not exist.*free-spoken-digit-dataset"):
        fsdd.index_recordings(tmp_path / "nowhere")


def test_a_folder_without_recordings_is_an_error_naming_it(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"no \{digit\}_\{speaker\}_\{index\}\.wav files in .*test_a_folder"):
        fsdd.index_recordings(tmp_path)


def test_a_stereo_recording_is_an_error_naming_the_file(tmp_path):
    write_wav(tmp_path / "1_zed_0.wav", np.zeros(800), channels=2)
    with pytest.raises(ValueError, match=r"1_zed_0\.wav has 2 channels"):
        fsdd.index_recordings(tmp_path)


def test_a_corrupt_recording_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "1_zed_0.wav").write_bytes(b"RIFF\x00\x00garbage")
    with pytest.raises(ValueError, match=r"1_zed_0\.wav is not a PCM WAV file"):
        fsdd.index_recordings(tmp_path)


def test_a_recording_shorter_than_one_frame_is_skipped_with_a_warning_naming_it(tmp_path):
    write_wav(tmp_path / "1_zed_0.wav", np.ones(800))
    write_wav(tmp_path / "2_zed_0.wav", np.ones(150))  # 150 samples < one 25 ms frame (200) at 8 kHz
    with pytest.warns(UserWarning, match=r"skipping .*2_zed_0\.wav: 150 samples, shorter than one 25 ms frame"):
        kept = fsdd.index_recordings(tmp_path)
    assert [r.digit for r in kept] == [1]


def test_recordings_of_different_sample_rates_are_an_error(tmp_path):
    write_wav(tmp_path / "1_zed_0.wav", np.zeros(800))
    write_wav(tmp_path / "2_zed_0.wav", np.zeros(1600), sample_rate=16000)
    with pytest.raises(ValueError, match="different sample rates"):
        fsdd.index_recordings(tmp_path)


# ---------------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------------


def test_fsdd_split_tests_on_indices_0_to_4_and_validates_on_5_to_9(recordings):
    splits = fsdd.split_recordings(recordings)
    assert {r.index for r in splits.test} == {0, 1, 2, 3, 4}
    assert {r.index for r in splits.valid} == {5, 6, 7, 8, 9}
    assert {r.index for r in splits.train} == {10, 11}
    assert len(splits.test) + len(splits.valid) + len(splits.train) == len(recordings)
    for split in (splits.train, splits.valid, splits.test):
        assert fsdd.speakers(split) == ["ann", "bo", "cy"]


def test_unseen_speaker_split_tests_on_all_of_that_speaker_and_trains_on_the_others(recordings):
    splits = fsdd.split_recordings(recordings, speaker_out="bo")
    assert fsdd.speakers(splits.test) == ["bo"] and len(splits.test) == 10 * 12
    assert fsdd.speakers(splits.train + splits.valid) == ["ann", "cy"]
    assert {r.index for r in splits.valid} == {5, 6, 7, 8, 9}
    assert len(splits.train) + len(splits.valid) == 2 * 10 * 12


def test_an_unknown_speaker_is_an_error_listing_the_speakers(recordings):
    with pytest.raises(ValueError, match=r"speaker_out 'dee' is not in the data; its speakers are ann, bo, cy"):
        fsdd.split_recordings(recordings, speaker_out="dee")


# ---------------------------------------------------------------------------------------------
# Connected strings
# ---------------------------------------------------------------------------------------------


def test_strings_use_every_recording_once_per_pass_one_speaker_each(recordings):
    train = fsdd.split_recordings(recordings).train
    strings = fsdd.make_strings(train, np.random.default_rng(0), passes=3)
    assert all(1 <= len(s.digits) <= 7 for s in strings)
    said = Counter((s.speaker, digit) for s in strings for digit in s.digits)
    expected = Counter({key: 3 * count for key, count in Counter((r.speaker, r.digit) for r in train).items()})
    assert said == expected
    assert len({len(s.digits) for s in strings}) > 3  # lengths really vary


def test_strings_are_the_same_under_a_seed_and_new_under_another(recordings):
    test = fsdd.split_recordings(recordings).test
    first = fsdd.make_strings(test, np.random.default_rng(7))
    again = fsdd.make_strings(test, np.random.default_rng(7))
    other = fsdd.make_strings(test, np.random.default_rng(8))
    assert [s.text for s in first] == [s.text for s in again]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(first, again))
    assert [s.text for s in first] != [s.text for s in other]


def test_a_string_is_the_recordings_with_gains_gaps_and_a_little_noise(recordings):
    chosen = [r for r in recordings if r.speaker == "ann" and r.index == 3][:4]
    string = fsdd.join_recordings(chosen, np.random.default_rng(3))
    assert string.digits == tuple(r.digit for r in chosen) and string.text == "".join(str(r.digit) for r in chosen)
    low, high = 10 ** (fsdd.GAIN_DB[0] / 20), 10 ** (fsdd.GAIN_DB[1] / 20)
    for recording, (start, end) in zip(chosen, string.segments):
        piece = string.samples[start:end].astype(np.float64)
        gain = piece @ recording.samples / (recording.samples @ recording.samples)  # least squares
        assert low - 0.02 <= gain <= high + 0.02
        residual = piece - gain * recording.samples
        assert np.mean(residual ** 2) < 10 ** (-fsdd.SNR_DB[0] / 10 + 0.3) * np.mean(piece ** 2)
    for (_, end), (start, _) in zip(string.segments, string.segments[1:]):
        assert fsdd.GAP_SECONDS[0] <= (start - end) / 8000 <= fsdd.GAP_SECONDS[1]
        assert np.abs(string.samples[end:start]).max() < 0.05  # noise only
    assert string.segments[0][0] <= fsdd.EDGE_SECONDS[1] * 8000
    assert len(string.samples) - string.segments[-1][1] <= fsdd.EDGE_SECONDS[1] * 8000


def test_digit_labels_put_the_blank_at_zero():
    assert fsdd.digit_labels([0, 9, 3]) == [1, 10, 4]
    assert fsdd.labels_to_text([1, 10, 4]) == "093"


def test_change_speed_resamples_by_linear_interpolation():
    ramp = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(fsdd.change_speed(ramp, 1.0), ramp)
    np.testing.assert_array_equal(fsdd.change_speed(ramp, 2.0), [0, 2, 4, 6, 8])
    np.testing.assert_allclose(fsdd.change_speed(ramp, 0.5), np.arange(19) / 2)  # in between: the average


def test_speed_perturbed_strings_change_the_lengths_within_the_range(recordings):
    chosen = [r for r in recordings if r.speaker == "cy" and r.index == 0][:5]
    string = fsdd.join_recordings(chosen, np.random.default_rng(4), perturb_speed=True)
    ratios = [(end - start) / len(r.samples) for r, (start, end) in zip(chosen, string.segments)]
    assert all(1 / fsdd.SPEED[1] - 0.01 <= ratio <= 1 / fsdd.SPEED[0] + 0.01 for ratio in ratios)
    assert max(ratios) - min(ratios) > 0.01
