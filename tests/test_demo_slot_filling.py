"""The slot-filling demo end to end in --smoke mode: it trains, saves, writes its pictures and
predictions, tags a sentence with the saved model, and turns bad input into a one-line message."""

import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "demos" / "slot_filling.py"


def run_demo(*args, cwd=None):
    return subprocess.run([sys.executable, str(DEMO), *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("slot_filling")
    result = run_demo("--smoke", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_smoke_run_ends_with_the_test_f1_line(trained):
    _, result = trained
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.startswith("test slot F1: ")
    value = last_line.removeprefix("test slot F1: ")
    assert len(value.split(".")[1]) == 2 and 0.0 <= float(value) <= 100.0


def test_smoke_run_writes_model_pictures_and_predictions(trained):
    out, result = trained
    for name in ("model.npz", "curves.png", "tagged_examples.png", "test.pred"):
        assert (out / name).stat().st_size > 0, name
        assert str(out / name) in result.stdout, f"the demo should print where it wrote {name}"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predictions_are_in_the_seq_out_format(trained):
    out, _ = trained
    lines = (out / "test.pred").read_text().splitlines()
    assert len(lines) == 50  # the smoke corpus has 50 test utterances
    assert all(tag == "O" or tag[:2] in ("B-", "I-") for line in lines for tag in line.split())


def test_both_taggers_are_shown_on_the_contrast_pairs(trained):
    _, result = trained
    assert "lstm tagger" in result.stdout and "window tagger" in result.stdout
    assert "i want to leave taipei on november second" in " ".join(result.stdout.split())


def test_predict_tags_a_sentence_with_the_saved_model(trained):
    out, _ = trained
    result = run_demo("--out", str(out), "--predict", "show me flights from boston to denver")
    assert result.returncode == 0, result.stderr
    tokens_line, tags_line = result.stdout.rstrip("\n").splitlines()[-2:]
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


def test_bad_flag_values_are_refused(tmp_path):
    result = run_demo("--smoke", "--dropout", "1.5", "--out", str(tmp_path))
    assert result.returncode != 0 and "--dropout" in result.stderr and "Traceback" not in result.stderr


def test_smoke_run_on_an_atis_layout_folder(tmp_path):
    fixture = Path(__file__).resolve().parent / "fixtures" / "atis_tiny"
    result = run_demo("--smoke", "--cell", "rnn", "--data", str(fixture), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("test slot F1: ")
    assert len((tmp_path / "test.pred").read_text().splitlines()) == 2  # the fixture's test split
