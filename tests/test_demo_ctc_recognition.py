"""Tests for demos/ctc_recognition.py: its Viterbi alignment against brute force, its helpers, its
flag checking, and a --smoke run end to end in a subprocess."""

import importlib.util
import itertools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

DEMO = Path(__file__).resolve().parents[1] / "demos" / "ctc_recognition.py"


def _load_demo():
    spec = importlib.util.spec_from_file_location("ctc_recognition_demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


# ---------------------------------------------------------------------------------------------
# Viterbi over the CTC lattice, against enumerating every frame labelling
# ---------------------------------------------------------------------------------------------


def _collapse(path, blank):
    merged = [label for t, label in enumerate(path) if t == 0 or label != path[t - 1]]
    return [label for label in merged if label != blank]


def _brute_force_best_alignment(log_probs, target, blank):
    """The highest-scoring frame labelling among all C^T that collapse to target (None if none)."""
    num_frames, num_classes = log_probs.shape
    best_score, best_path = -np.inf, None
    for path in itertools.product(range(num_classes), repeat=num_frames):
        if _collapse(path, blank) == list(target):
            score = log_probs[np.arange(num_frames), path].sum()
            if score > best_score:
                best_score, best_path = score, path
    return best_score, best_path


@st.composite
def ctc_cases(draw):
    num_classes = draw(st.integers(2, 4))
    blank = draw(st.integers(0, num_classes - 1))
    labels = [k for k in range(num_classes) if k != blank]
    target = draw(st.lists(st.sampled_from(labels), min_size=0, max_size=3))
    needed = len(target) + sum(a == b for a, b in zip(target, target[1:]))
    num_frames = draw(st.integers(max(needed, 1), 6))
    logits = draw(st.lists(st.floats(-4, 4), min_size=num_frames * num_classes, max_size=num_frames * num_classes))
    logits = np.array(logits).reshape(num_frames, num_classes)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return log_probs, target, blank


@given(ctc_cases())
def test_viterbi_finds_the_best_alignment_found_by_brute_force(case):
    log_probs, target, blank = case
    states, score = demo.viterbi_alignment(log_probs, target, blank)
    best_score, _ = _brute_force_best_alignment(log_probs, target, blank)
    assert score == pytest.approx(best_score, abs=1e-9)

    extended = [blank] + [symbol for label in target for symbol in (label, blank)]
    path = [extended[s] for s in states]
    assert _collapse(path, blank) == list(target)
    assert log_probs[np.arange(len(path)), path].sum() == pytest.approx(score, abs=1e-9)
    # A lattice path: starts at z_0 or z_1, ends at one of the last two rows, moves 0, 1 or 2 rows
    # down per frame, and skips a row only over a blank between different labels.
    assert states[0] in (0, 1) and states[-1] >= len(extended) - 2
    steps = np.diff(states)
    assert set(steps.tolist()) <= {0, 1, 2}
    for t in np.flatnonzero(steps == 2):
        landed = states[t + 1]
        assert extended[landed] != blank and extended[landed] != extended[landed - 2]


def test_viterbi_on_a_hand_worked_case():
    # Frames favour a, a, blank, b (probabilities 0.7 each): the best alignment of "ab" is a a - b,
    # rows 1 1 2 3 of the lattice (-, a, -, b, -), log-probability 4 * log 0.7.
    probs = np.array([[0.1, 0.7, 0.2], [0.1, 0.7, 0.2], [0.7, 0.1, 0.2], [0.1, 0.2, 0.7]])
    states, score = demo.viterbi_alignment(np.log(probs), [1, 2], blank=0)
    assert states.tolist() == [1, 1, 2, 3]
    assert score == pytest.approx(4 * np.log(0.7))


def test_viterbi_refuses_a_target_the_frames_cannot_hold():
    # "aa" needs three frames (a, blank, a); two are not enough.
    with pytest.raises(ValueError, match="fewer than the 3"):
        demo.viterbi_alignment(np.log(np.full((2, 3), 1 / 3)), [1, 1])


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def test_stack_columns_joins_neighbouring_columns_and_rounds_lengths_up():
    frames = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)  # 2 lines, 3 columns of height 2
    stacked, lengths = demo.stack_columns(frames, np.array([3, 2]), columns=2)
    assert stacked.shape == (2, 2, 4)
    np.testing.assert_array_equal(stacked[0], [[0, 1, 2, 3], [4, 5, 0, 0]])
    np.testing.assert_array_equal(stacked[1], [[6, 7, 8, 9], [10, 11, 0, 0]])
    assert lengths.tolist() == [2, 1]


def test_learning_rate_holds_for_half_then_falls_linearly_to_zero():
    assert demo.learning_rate(0, 100, 0.01) == 0.01
    assert demo.learning_rate(50, 100, 0.01) == 0.01
    assert demo.learning_rate(75, 100, 0.01) == pytest.approx(0.005)
    assert demo.learning_rate(100, 100, 0.01) == 0.0


@pytest.mark.parametrize("argv, message", [
    (["--hidden", "0"], "--hidden must be at least 1, got 0"),
    (["--epochs", "-2"], "--epochs must be at least 1"),
    (["--columns-per-frame", "4"], "--columns-per-frame must be at most 3"),
    (["--lr", "0"], "--lr must be positive"),
    (["--seed", "-1"], "--seed must be non-negative"),
    (["--cell", "rnn"], "invalid choice: 'rnn'"),
    (["--batch-size", "many"], "invalid int value: 'many'"),
])
def test_bad_flags_raise_a_usage_error_naming_the_flag(argv, message):
    with pytest.raises(demo.UsageError, match=re.escape(message)):
        demo.parse_args(argv)


def test_bad_flag_on_the_command_line_is_one_line_and_a_nonzero_exit(tmp_path):
    result = subprocess.run([sys.executable, str(DEMO), "--hidden", "0", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "error: --hidden must be at least 1, got 0\n"


def test_out_that_is_a_file_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(demo.UsageError, match="cannot create --out"):
        demo.main(["--smoke", "--out", str(blocker / "run")])


# ---------------------------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------------------------


def test_smoke_run_prints_the_test_cer_last_and_writes_the_pictures(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, str(DEMO), "--smoke", "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"test CER: \d+\.\d\d%", lines[-1]), lines[-1]
    assert lines[-2].startswith("better decoder: ")
    assert "valid CER" in result.stdout and "test CER, greedy decoding" in result.stdout
    assert "beam search" in result.stdout
    for name in ("examples", "posteriors", "alignment", "curves"):
        picture = out / f"{name}.png"
        assert f"wrote {picture}" in result.stdout
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
