"""Tests for demos/spoken_digits.py: its features and batches, its bad-input messages (one line,
exit status 2, no traceback), and a --smoke run followed by --predict with the saved model."""

import importlib.util
import itertools
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from tinyseq.datasets import spoken_digits as fsdd

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demos" / "spoken_digits.py"


def _load_demo():
    spec = importlib.util.spec_from_file_location("spoken_digits_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


def _run(*argv, timeout=300):
    # PYTHONPATH: the demo imports this checkout's tinyseq, not another installed copy.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, str(DEMO), *argv], capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    return fsdd.write_tone_recordings(tmp_path_factory.mktemp("tones") / "recordings", indices=range(12))


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def test_features_stack_neighbouring_frames_and_drop_the_incomplete_step():
    args = demo.parse_args(["--smoke", "--frames-per-step", "3", "--normalise", "utterance"])
    samples = np.random.default_rng(0).normal(size=8000).astype(np.float32)  # 98 frames of 10 ms
    steps = demo.features(samples, 8000, args)
    assert steps.shape == (32, 3 * 40)  # floor(98 / 3) steps
    frames = demo.audio.log_mel_features(samples, 8000)
    np.testing.assert_array_equal(steps[1], frames[3:6].reshape(-1))


def test_features_normalised_with_the_training_statistics_are_not_normalised_per_utterance():
    args = demo.parse_args(["--smoke", "--frames-per-step", "1", "--normalise", "training"])
    args.feature_mean, args.feature_std = np.linspace(-3, 3, 40), np.linspace(0.5, 2, 40)
    samples = np.random.default_rng(1).normal(size=2000).astype(np.float32)
    raw = demo.audio.log_mel_features(samples, 8000, normalise_utterance=False)
    np.testing.assert_allclose(demo.features(samples, 8000, args), (raw - args.feature_mean) / args.feature_std,
                               rtol=1e-5, atol=1e-5)
    args.normalise = "utterance"
    np.testing.assert_allclose(demo.features(samples, 8000, args).mean(axis=0), 0.0, atol=1e-5)


def test_batches_pad_inputs_with_zeros_and_targets_with_the_blank():
    inputs = [np.ones((2, 3), np.float32), np.full((4, 3), 2.0, np.float32)]
    labels = [[5], [1, 2, 3]]
    (indices, steps, lengths, targets, target_lengths), = demo.batches(inputs, np.array([2, 4]), labels, 8,
                                                                        shuffle=False)
    assert indices.tolist() == [0, 1] and steps.shape == (4, 2, 3)
    np.testing.assert_array_equal(steps[:, 0, 0], [1, 1, 0, 0])
    np.testing.assert_array_equal(steps[:, 1, 0], [2, 2, 2, 2])
    assert lengths.tolist() == [2, 4] and target_lengths.tolist() == [1, 3]
    assert targets.tolist() == [[5, 0, 0], [1, 2, 3]]


def _one_digit_probability_by_enumeration(probs, label):
    """p(label | probs) for a one-label target, summing over every path in {blank, label}^T that
    collapses to (label,): written out independently of ctc_loss, for tiny T."""
    total = 0.0
    for path in itertools.product([fsdd.BLANK, label], repeat=len(probs)):
        collapsed = [symbol for number, symbol in enumerate(path)
                     if symbol != fsdd.BLANK and (number == 0 or path[number - 1] != symbol)]
        if collapsed == [label]:
            total += np.prod([probs[t, symbol] for t, symbol in enumerate(path)])
    return total


@pytest.mark.parametrize("seed", range(6))
def test_isolated_digits_are_read_as_the_digit_of_highest_total_probability_over_alignments(seed):
    rng = np.random.default_rng(seed)
    utterances = [rng.dirichlet(np.full(fsdd.NUM_CLASSES, 0.3), size=length) for length in (1, 3, 6)]
    digits = demo.classify_isolated([np.log(probs) for probs in utterances])
    for probs, digit in zip(utterances, digits):
        scores = [_one_digit_probability_by_enumeration(probs, label) for label in range(1, fsdd.NUM_CLASSES)]
        assert digit == int(np.argmax(scores))


def test_isolated_reading_sums_alignments_where_the_best_single_path_would_not():
    # Digit 5 (label 6) wins the best single path by a hair in one step; digit 3 (label 4) has
    # more probability summed over where it may sit. Probabilities by hand: rows are steps.
    probs = np.full((3, fsdd.NUM_CLASSES), 0.01)
    probs[:, 0] = 0.31
    probs[1, 6] = 0.35
    probs[:, 4] = 0.3
    probs /= probs.sum(axis=1, keepdims=True)
    assert fsdd.labels_to_text(demo.ts.ctc.greedy_decode(np.log(probs), blank=0)) == "5"
    assert demo.classify_isolated([np.log(probs)]).tolist() == [3]


def test_learning_rate_holds_for_half_then_falls_linearly_to_zero():
    assert demo.learning_rate(0.0, 0.01) == 0.01
    assert demo.learning_rate(0.5, 0.01) == 0.01
    assert demo.learning_rate(0.75, 0.01) == pytest.approx(0.005)
    assert demo.learning_rate(1.0, 0.01) == 0.0


# ---------------------------------------------------------------------------------------------
# Bad input: a UsageError with one clear line
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    ([], "no --data: get the Free Spoken Digit Dataset"),
    (["--data", "x", "--hidden", "0"], "--hidden must be at least 1, got 0"),
    (["--data", "x", "--lr", "0"], "--lr must be positive"),
    (["--data", "x", "--deltas", "3"], "invalid choice: 3"),
])
def test_bad_flags_raise_a_usage_error_naming_the_flag(argv, message):
    with pytest.raises(demo.UsageError, match=re.escape(message)):
        demo.parse_args(argv)


def test_bad_data_folders_are_usage_errors(tmp_path, tones):
    with pytest.raises(demo.UsageError, match="does not exist"):
        demo.main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(demo.UsageError, match=r"no \{digit\}_\{speaker\}_\{index\}\.wav files"):
        demo.main(["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run")])
    with pytest.raises(demo.UsageError, match="speaker_out 'zoe' is not in the data; its speakers are alice, bob"):
        demo.main(["--data", str(tones), "--speaker-out", "zoe", "--out", str(tmp_path / "run")])


def test_a_stereo_recording_in_the_folder_is_a_usage_error_naming_it(tmp_path):
    with wave.open(str(tmp_path / "4_zed_0.wav"), "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(np.zeros(1600, "<i2").tobytes())
    with pytest.raises(demo.UsageError, match=r"4_zed_0\.wav has 2 channels, expected 1"):
        demo.main(["--data", str(tmp_path), "--out", str(tmp_path / "run")])


def test_predict_before_training_is_a_usage_error(tmp_path, tones):
    with pytest.raises(demo.UsageError, match="no saved model at .*model.npz: train first"):
        demo.main(["--predict", str(tones / "1_alice_0.wav"), "--out", str(tmp_path / "untrained")])


def test_predict_reads_a_model_saved_before_normalise_existed_as_normalised_per_utterance(tmp_path, tones, capsys):
    config = {"step_size": 3 * 40, "cell": "lstm", "hidden": 4, "layers": 1, "bidirectional": True,
              "dropout": 0.0, "num_mels": 40, "deltas": 0, "frames_per_step": 3, "sample_rate": 8000}
    demo.ts.save(demo.build_model(config).state_dict(), tmp_path / demo.MODEL_FILE, extra=config)
    demo.main(["--predict", str(tones / "1_alice_0.wav"), "--out", str(tmp_path)])
    assert re.search(r"^greedy decoding: (\d+|\(nothing\))$", capsys.readouterr().out, flags=re.M)


def test_no_data_on_the_command_line_is_one_line_and_a_nonzero_exit(tmp_path):
    result = _run("--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: no --data: get the Free Spoken Digit Dataset")
    assert "github.com/Jakobovski/free-spoken-digit-dataset" in result.stderr


# ---------------------------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------------------------


def test_smoke_run_prints_the_test_cer_last_writes_the_pictures_and_predict_uses_its_model(tmp_path):
    out = tmp_path / "run"
    result = _run("--smoke", "--out", str(out), "--average", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"test CER: \d+\.\d\d%", lines[-1]), lines[-1]
    for expected in ("valid digit error rate", "isolated-digit accuracy", "digit error rate, greedy decoding",
                     "digit error rate, beam search", "string accuracy", f"best model saved to {out / 'model.npz'}",
                     "mean of the last 2 epochs' weights"):
        assert expected in result.stdout
    for name in ("posteriors", "alignment", "curves"):
        picture = out / f"{name}.png"
        assert f"wrote {picture}" in result.stdout
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    predicted = _run("--predict", str(out / "smoke_recordings" / "7_bob_2.wav"), "--out", str(out))
    assert predicted.returncode == 0, predicted.stderr
    assert re.search(r"^greedy decoding: (\d+|\(nothing\))$", predicted.stdout, flags=re.M)
    assert re.search(r"^beam search \(width 4\): (\d+|\(nothing\))$", predicted.stdout, flags=re.M) or \
        re.search(r"^beam search \(width 10\): (\d+|\(nothing\))$", predicted.stdout, flags=re.M)

    not_a_wav = tmp_path / "notes.wav"
    not_a_wav.write_text("hello")
    refused = _run("--predict", str(not_a_wav), "--out", str(out))
    assert refused.returncode == 2 and refused.stdout == ""
    assert re.fullmatch(r"error: read_wav: .*notes\.wav is not a PCM WAV file \(.*\)\n", refused.stderr)
