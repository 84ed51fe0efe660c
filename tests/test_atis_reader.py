"""Tests of the ATIS/SNIPS folder reader and writer (tinyseq.datasets.atis_format).

tests/fixtures/atis_tiny is a hand-written folder in the public copies' layout: train/, valid/ and
test/ with seq.in, seq.out (some lines ending in a space, as in those copies) and label.
"""

import shutil
from pathlib import Path

import pytest

from tinyseq.datasets.atis_format import (
    SlotCorpus,
    SlotExample,
    check_bio,
    read_slot_folder,
    write_slot_folder,
)

FIXTURE = Path(__file__).parent / "fixtures" / "atis_tiny"


@pytest.fixture
def folder(tmp_path):
    """A writable copy of the fixture."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "atis_tiny"))


def _replace_line(path, line_number, text):
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line_number - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")


def test_reads_the_fixture():
    corpus = read_slot_folder(FIXTURE)
    assert [len(split) for split in corpus] == [4, 2, 2]
    assert corpus.train[0] == SlotExample(
        ("show", "me", "flights", "from", "boston", "to", "san", "francisco"),
        ("O", "O", "O", "O", "B-fromloc.city_name", "O", "B-toloc.city_name", "I-toloc.city_name"),
        "atis_flight",
    )
    assert corpus.valid[1].intent == "atis_airline"
    assert corpus.test[1].tokens == ("leave", "taipei", "on", "friday")
    assert corpus.test[1].tags == ("O", "B-fromloc.city_name", "O", "B-depart_date.day_name")


def test_dev_folder_is_accepted_for_valid(folder):
    (folder / "valid").rename(folder / "dev")
    assert len(read_slot_folder(folder).valid) == 2


def test_both_valid_and_dev_is_an_error(folder):
    shutil.copytree(folder / "valid", folder / "dev")
    with pytest.raises(ValueError, match="both valid/ and dev/"):
        read_slot_folder(folder)


def test_label_file_is_optional(folder):
    (folder / "test" / "label").unlink()
    corpus = read_slot_folder(folder)
    assert [example.intent for example in corpus.test] == [None, None]
    assert corpus.train[0].intent == "atis_flight"


def test_label_file_with_a_missing_line_names_the_file_and_line(folder):
    label = folder / "train" / "label"
    lines = label.read_text().splitlines()
    label.write_text("".join(line + "\n" for line in lines[:-1]))
    with pytest.raises(ValueError, match=f"{label} has {len(lines) - 1} lines but .*seq.in has {len(lines)}: "
                                         f"line {len(lines)} is missing from {label}"):
        read_slot_folder(folder)


def test_missing_root_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=f"data folder not found: {missing}"):
        read_slot_folder(missing)


def test_missing_split_folder_names_it(folder):
    shutil.rmtree(folder / "test")
    with pytest.raises(FileNotFoundError, match="missing folder: .*test"):
        read_slot_folder(folder)


def test_missing_file_names_it(folder):
    (folder / "train" / "seq.out").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing file: .*train/seq\.out"):
        read_slot_folder(folder)


def test_token_tag_count_mismatch_names_file_and_line(folder):
    _replace_line(folder / "train" / "seq.out", 3, "O O O")
    with pytest.raises(ValueError, match=r"train/seq\.out, line 3: 3 tags for the 11 tokens"):
        read_slot_folder(folder)


def test_empty_line_names_file_and_line(folder):
    _replace_line(folder / "valid" / "seq.in", 2, "   ")
    with pytest.raises(ValueError, match=r"valid/seq\.in, line 2: empty line"):
        read_slot_folder(folder)


def test_non_bio_tag_names_file_line_and_tag(folder):
    _replace_line(folder / "test" / "seq.out", 2, "O S-fromloc.city_name O B-depart_date.day_name")
    with pytest.raises(ValueError, match=r"test/seq\.out, line 2: token 2: tag 'S-fromloc.city_name' is not a BIO tag"):
        read_slot_folder(folder)


def test_line_count_mismatch_names_both_files(folder):
    path = folder / "valid" / "seq.in"
    path.write_text(path.read_text() + "one more line\n")
    with pytest.raises(ValueError, match=r"valid/seq\.in has 3 lines but .*valid/seq\.out has 2"):
        read_slot_folder(folder)


def test_stray_i_tag_is_accepted_unless_strict(folder):
    _replace_line(folder / "test" / "seq.out", 2, "O I-fromloc.city_name O B-depart_date.day_name")
    assert read_slot_folder(folder).test[1].tags[1] == "I-fromloc.city_name"
    with pytest.raises(ValueError, match=r"test/seq\.out, line 2: token 2: 'I-fromloc.city_name' follows 'O'"):
        read_slot_folder(folder, strict_bio=True)


def test_check_bio_strict_rules():
    check_bio(["B-a", "I-a", "O", "B-b", "B-b", "I-b"])
    with pytest.raises(ValueError, match="follows the start of the line"):
        check_bio(["I-a"])
    with pytest.raises(ValueError, match="'I-b' follows 'B-a'"):
        check_bio(["B-a", "I-b"])
    check_bio(["I-a", "I-b"], strict=False)


def test_write_then_read_round_trips(tmp_path):
    corpus = SlotCorpus(
        train=[SlotExample(("fly", "to", "new", "york"), ("O", "O", "B-toloc.city_name", "I-toloc.city_name"), "atis_flight")],
        valid=[SlotExample(("hi",), ("O",), "greeting")],
        test=[SlotExample(("to", "oslo"), ("O", "B-toloc.city_name"))],
    )
    root = write_slot_folder(corpus, tmp_path / "out")
    assert (root / "train" / "seq.in").read_text() == "fly to new york\n"
    assert not (root / "test" / "label").exists()  # an intent is missing, so no label file
    assert read_slot_folder(root, strict_bio=True) == corpus


def test_write_rejects_bad_examples_before_writing(tmp_path):
    bad = SlotCorpus([SlotExample(("new york",), ("B-toloc.city_name",))], [], [])
    with pytest.raises(ValueError, match=r"corpus\.train\[0\]: tokens must be non-empty and hold no whitespace"):
        write_slot_folder(bad, tmp_path / "out")
    mismatched = SlotCorpus([SlotExample(("a", "b"), ("O",))], [], [])
    with pytest.raises(ValueError, match=r"corpus\.train\[0\]: 1 tags for 2 tokens"):
        write_slot_folder(mismatched, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_byte_order_mark_and_windows_line_ends_are_tolerated(folder):
    for name in ("seq.in", "seq.out"):
        path = folder / "valid" / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert read_slot_folder(folder).valid[0].tokens[:2] == ("flights", "from")
