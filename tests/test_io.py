"""Checkpoints (tinyseq/io.py): round trips, atomic writes, and clear errors for foreign files."""

import json
import os
import pathlib
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyseq as ts
import tinyseq.nn as nn
from tinyseq.io import HEADER_KEY, load, save


def assert_same_state(loaded, expected):
    assert list(loaded) == list(expected)
    for name, array in expected.items():
        assert loaded[name].dtype == array.dtype, name
        np.testing.assert_array_equal(loaded[name], array, err_msg=name)


def sample_state():
    rng = np.random.default_rng(0)
    # Deliberately not in sorted order, so a loader that sorts names would fail.
    return OrderedDict([
        ("rnn.weight_ih_l0", rng.standard_normal((8, 3)).astype(np.float32)),
        ("rnn.bias_hh_l0_reverse", rng.standard_normal(8)),
        ("embedding.weight", rng.standard_normal((5, 2)).astype(np.float32)),
        ("steps", np.array(12, dtype=np.int64)),
        ("mask", np.array([True, False, True])),
        ("empty", np.zeros((0, 4), dtype=np.float16)),
    ])


def test_round_trip_keeps_names_order_dtypes_and_values(tmp_path):
    state = sample_state()
    save(state, tmp_path / "model.npz")
    assert_same_state(load(tmp_path / "model.npz"), state)


def test_module_state_dict_round_trip_restores_the_model(tmp_path):
    ts.manual_seed(0)
    model = nn.Linear(3, 2)
    save(model.state_dict(), str(tmp_path / "linear.npz"))
    ts.manual_seed(1)
    restored = nn.Linear(3, 2)
    restored.load_state_dict(load(str(tmp_path / "linear.npz")))
    x = ts.randn(4, 3)
    np.testing.assert_array_equal(restored(x).data, model(x).data)


def test_tensors_and_numbers_are_saved_as_arrays(tmp_path):
    save({"weight": ts.tensor([1.0, 2.0]), "scale": 0.5}, tmp_path / "c.npz")
    loaded = load(tmp_path / "c.npz")
    assert loaded["weight"].dtype == np.float32 and loaded["scale"].shape == ()
    np.testing.assert_array_equal(loaded["weight"], [1.0, 2.0])


def test_names_that_clash_with_numpy_keywords_are_fine(tmp_path):
    state = {"file": np.ones(2), "allow_pickle": np.zeros(1), "a/b": np.arange(3), "x.npy": np.ones(1)}
    save(state, tmp_path / "c.npz")
    assert_same_state(load(tmp_path / "c.npz"), state)


def test_extra_metadata_round_trips_and_defaults_to_none(tmp_path):
    extra = {"vocab": ["<pad>", "b", "é"], "epoch": 3, "config": {"hidden_size": 16, "bidirectional": True}}
    save(sample_state(), tmp_path / "c.npz", extra=extra)
    state, loaded_extra = load(tmp_path / "c.npz", return_extra=True)
    assert loaded_extra == extra
    assert_same_state(state, sample_state())
    save(sample_state(), tmp_path / "d.npz")
    assert load(tmp_path / "d.npz", return_extra=True)[1] is None


def test_checkpoint_is_a_plain_npz_that_numpy_reads(tmp_path):
    state = sample_state()
    save(state, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz") as archive:
        assert archive.files == [HEADER_KEY, *state]
        np.testing.assert_array_equal(archive["rnn.weight_ih_l0"], state["rnn.weight_ih_l0"])
        header = json.loads(archive[HEADER_KEY].tobytes().decode("utf-8"))
    assert header["names"] == list(state)


def test_path_is_used_as_given_and_an_existing_file_is_replaced(tmp_path):
    path = tmp_path / "checkpoint.bin"
    save({"a": np.ones(2)}, path)
    save({"b": np.zeros(3)}, path)
    assert os.listdir(tmp_path) == ["checkpoint.bin"]
    assert_same_state(load(path), {"b": np.zeros(3)})


@given(
    state=st.dictionaries(
        st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=10).filter(
            lambda name: name != HEADER_KEY
        ),
        hnp.arrays(
            st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_, np.float16]),
            hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
        ),
        max_size=5,
    )
)
def test_any_state_dict_round_trips(state):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "c.npz")
        save(state, path)
        assert_same_state(load(path), state)


# ---------------------------------------------------------------- atomicity


def fail_on_second_array(monkeypatch, exception):
    """Make numpy's .npy writer raise after it has written one array into the archive."""
    real_write_array = np.lib.format.write_array
    calls = []

    def write_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise exception
        return real_write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_array)
    return calls


@pytest.mark.parametrize("exception", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failure_while_writing_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch, exception):
    path = tmp_path / "model.npz"
    save({"old": np.arange(4.0)}, path)
    old_bytes = path.read_bytes()
    calls = fail_on_second_array(monkeypatch, exception)
    with pytest.raises(type(exception)):
        save(sample_state(), path)
    assert len(calls) == 2, "the simulated failure did not happen mid-write"
    assert os.listdir(tmp_path) == ["model.npz"]
    assert path.read_bytes() == old_bytes
    assert_same_state(load(path), {"old": np.arange(4.0)})


def test_a_failure_before_the_rename_leaves_no_file_behind(tmp_path, monkeypatch):
    def failing_replace(source, target):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated crash"):
        save(sample_state(), tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


def test_invalid_state_dict_writes_nothing(tmp_path):
    path = tmp_path / "model.npz"
    save({"old": np.ones(1)}, path)
    old_bytes = path.read_bytes()
    with pytest.raises(TypeError):
        save({"weights": np.array([object()])}, path)
    assert os.listdir(tmp_path) == ["model.npz"] and path.read_bytes() == old_bytes


# ---------------------------------------------------------------- errors


def test_loading_a_non_npz_file_names_the_path(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a checkpoint")
    with pytest.raises(ValueError, match=f"{path}.*not a tinyseq checkpoint.*not an .npz"):
        load(path)
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ValueError, match=f"{npy}.*not a tinyseq checkpoint"):
        load(npy)


def test_loading_an_arbitrary_npz_names_the_path_and_the_missing_header(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weight=np.ones(3))
    with pytest.raises(ValueError, match=f"{path}.*not a tinyseq checkpoint.*{HEADER_KEY}"):
        load(path)


def test_loading_an_npz_with_a_foreign_header_entry_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, **{HEADER_KEY: np.arange(3)})
    with pytest.raises(ValueError, match=f"{path}.*not a tinyseq header"):
        load(path)


def test_loading_a_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "model.npz"
    save(sample_state(), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=f"{path}"):
        load(path)


def test_a_checkpoint_missing_an_entry_is_reported_as_damaged(tmp_path):
    path = tmp_path / "model.npz"
    header = {"format": "tinyseq-checkpoint", "version": 1, "names": ["weight"], "extra": None}
    with zipfile.ZipFile(path, "w") as archive, archive.open(HEADER_KEY + ".npy", "w") as member:
        np.lib.format.write_array(member, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match=f"{path} is a damaged tinyseq checkpoint.*weight"):
        load(path)


def test_a_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    header = {"format": "tinyseq-checkpoint", "version": 99, "names": [], "extra": None}
    with zipfile.ZipFile(path, "w") as archive, archive.open(HEADER_KEY + ".npy", "w") as member:
        np.lib.format.write_array(member, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match=f"{path} has checkpoint format version 99"):
        load(path)


def test_missing_file_and_missing_folder_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save({"a": np.ones(1)}, tmp_path / "no" / "such" / "folder.npz")


@pytest.mark.parametrize("state, extra, error, message", [
    ([("a", np.ones(1))], None, TypeError, "state_dict: expected a mapping.*list"),
    ({1: np.ones(1)}, None, TypeError, "names must be str, got 1"),
    ({HEADER_KEY: np.ones(1)}, None, ValueError, "reserved"),
    ({"a\x00b": np.ones(1)}, None, ValueError, "NUL"),
    ({"w": np.array([{"a": 1}])}, None, TypeError, r"state_dict\['w'\].*dtype object"),
    ({"w": np.ones(1)}, {"vocab": {1, 2}}, TypeError, "extra: .*JSON"),
])
def test_invalid_save_arguments_raise_naming_them(tmp_path, state, extra, error, message):
    with pytest.raises(error, match=message):
        save(state, pathlib.Path(tmp_path) / "c.npz", extra=extra)
    assert os.listdir(tmp_path) == []
