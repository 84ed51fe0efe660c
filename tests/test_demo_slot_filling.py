"""The slot-filling demo end to end in --smoke mode: it trains the joint intent + slot model, saves
it, writes its pictures and predictions, tags a sentence with the saved model, and turns bad input
into a one-line message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO = REPO_ROOT / "demos" / "slot_filling.py"


def run_demo(*args, cwd=None):
    # The demo imports the tinyseq of this checkout, not whichever copy happens to be installed.
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(DEMO), *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=environment)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("slot_filling")
    result = run_demo("--smoke", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_smoke_run_ends_with_intent_sentence_and_slot_f1_lines(trained):
    _, result = trained
    last_lines = result.stdout.strip().splitlines()[-3:]
    for line, prefix in zip(last_lines, ("test intent accuracy: ", "test sentence accuracy: ", "test slot F1: ")):
        assert line.startswith(prefix), line
        value = line.removeprefix(prefix)
        assert len(value.split(".")[1]) == 2 and 0.0 <= float(value) <= 100.0


def test_smoke_run_writes_model_pictures_and_predictions(trained):
    out, result = trained
    for name in ("model.npz", "curves.png", "tagged_examples.png", "transitions.png", "test.pred", "test.intent.pred"):
        assert (out / name).stat().st_size > 0, name
        assert str(out / name) in result.stdout, f"the demo should print where it wrote {name}"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predictions_are_in_the_seq_out_format(trained):
    out, _ = trained
    lines = (out / "test.pred").read_text().splitlines()
    assert len(lines) == 50  # the smoke corpus has 50 test utterances
    assert all(tag == "O" or tag[:2] in ("B-", "I-") for line in lines for tag in line.split())
    intents = (out / "test.intent.pred").read_text().splitlines()
    assert len(intents) == 50 and set(intents) <= {"atis_flight", "atis_airfare", "atis_flight_time"}


def test_both_taggers_are_shown_on_the_contrast_pairs(trained):
    _, result = trained
    assert "lstm tagger" in result.stdout and "window tagger" in result.stdout
    assert "i want to leave taipei on november second" in " ".join(result.stdout.split())


def test_predict_tags_a_sentence_with_the_saved_model(trained):
    out, _ = trained
    result = run_demo("--out", str(out), "--predict", "show me flights from boston to denver")
    assert result.returncode == 0, result.stderr
    intent_line, tokens_line, tags_line = result.stdout.rstrip("\n").splitlines()[-3:]
    assert intent_line.startswith("intent: atis_")
    assert tokens_line.split() == "show me flights from boston to denver".split()
    assert len(tags_line.split()) == 7


def test_predict_before_training_is_a_one_line_error(tmp_path):
    result = run_demo("--out", str(tmp_path / "empty"), "--predict", "fly to boston")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "no trained model" in result.stderr


def test_missing_data_folder_is_a_one_line_error(tmp_path):
    result = run_demo("--smoke", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "nowhere" in result.stderr


def test_bad_tags_in_data_are_a_one_line_error(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / split).mkdir()
        (tmp_path / split / "seq.in").write_text("fly to boston\n")
        (tmp_path / split / "seq.out").write_text("O O X-toloc.city_name\n")
    result = run_demo("--smoke", "--data", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "seq.out" in result.stderr


@pytest.mark.parametrize("flag, value", [("--dropout", "1.5"), ("--clip", "nan"), ("--lr", "nan"), ("--lr", "inf"),
                                         ("--intent-weight", "-1"), ("--word-dropout", "nan"), ("--epochs", "x")])
def test_bad_flag_values_are_one_line_errors(tmp_path, flag, value):
    result = run_demo("--smoke", flag, value, "--out", str(tmp_path))
    assert result.returncode != 0 and flag in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_predict_with_a_corrupt_or_foreign_checkpoint_is_a_one_line_error(tmp_path):
    (tmp_path / "model.npz").write_bytes(b"not a checkpoint")
    corrupt = run_demo("--out", str(tmp_path), "--predict", "fly to boston")
    foreign_dir = tmp_path / "foreign"
    foreign_dir.mkdir()
    subprocess.run([sys.executable, "-c", f"import tinyseq as ts, numpy as np; "
                    f"ts.save({{'w': np.zeros(2)}}, {str(foreign_dir / 'model.npz')!r})"], check=True,
                   env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))
    foreign = run_demo("--out", str(foreign_dir), "--predict", "fly to boston")
    for result in (corrupt, foreign):
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert result.stderr.strip().count("\n") == 0 and "model.npz" in result.stderr


def test_out_pointing_at_a_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("")
    for extra in ([], ["--predict", "fly to boston"]):
        result = run_demo("--smoke", "--out", str(path), *extra)
        assert result.returncode != 0 and "Traceback" not in result.stderr and str(path) in result.stderr
        assert result.stderr.strip().count("\n") == 0


def test_smoke_run_on_an_atis_layout_folder_without_crf_or_intent(tmp_path):
    fixture = Path(__file__).resolve().parent / "fixtures" / "atis_tiny"
    result = run_demo("--smoke", "--cell", "rnn", "--no-crf", "--no-intent", "--data", str(fixture), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    last_lines = result.stdout.strip().splitlines()[-2:]
    assert last_lines[0].startswith("test sentence accuracy (slots only, no intents): ")
    assert last_lines[1].startswith("test slot F1: ")
    assert len((tmp_path / "test.pred").read_text().splitlines()) == 2  # the fixture's test split
    assert not (tmp_path / "test.intent.pred").exists() and not (tmp_path / "transitions.png").exists()
