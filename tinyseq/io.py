"""Checkpoints: save and load state dicts as .npz files, written atomically.

    ts.save(model.state_dict(), "model.npz", extra={"vocab": vocab_tokens, "epoch": 3})
    model.load_state_dict(ts.load("model.npz"))
    state, extra = ts.load("model.npz", return_extra=True)

The file is numpy's .npz format (a zip of .npy files, one per state-dict entry), so any numpy can
read the arrays back without tinyseq. One more entry, "__tinyseq__", marks the file as a tinyseq
checkpoint: a UTF-8 JSON header holding the format name and version, the entry names in their
saved order, and the optional `extra` metadata. Pickle is never used, in either direction, so
loading a checkpoint cannot run code.

Atomic: save writes to a temporary file in the target's folder, flushes it to disk, and only then
renames it over the target with os.replace, which replaces a file in one step. Whenever a crash, a
full disk or Ctrl-C interrupts it, the old checkpoint (if any) is left untouched and the temporary
file is removed.
"""

import json
import os
import secrets
import zipfile
from collections.abc import Mapping

import numpy as np

from .tensor import Tensor

HEADER_KEY = "__tinyseq__"
FORMAT_NAME = "tinyseq-checkpoint"
FORMAT_VERSION = 1


def save(state_dict, path, extra=None):
    """Write state_dict to path as a tinyseq checkpoint, atomically.

    state_dict: a mapping {str name: array}, e.g. Module.state_dict(); values may be numpy arrays,
        tinyseq Tensors or numbers. Names (dots included, "rnn.weight_ih_l0"), their order, every
        array's dtype and shape are kept. The name "__tinyseq__" is reserved for the header.
    path: the file to write (str or os.PathLike), used exactly as given (no ".npz" is appended).
    extra: optional metadata that JSON can represent (dicts with str keys, lists, str, numbers,
        bools, None), e.g. a vocabulary or training settings; JSON returns tuples as lists.
    """
    arrays = _arrays_to_save(state_dict)
    path = _checked_path(path, "save")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path} is a folder; give the path of the checkpoint file to write")
    try:
        header = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "names": list(arrays), "extra": extra})
    except (TypeError, ValueError) as error:
        raise TypeError(f"extra: expected JSON-serialisable metadata, got {type(extra).__name__}: {error}") from None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: cannot write {path}: the folder {folder} does not exist")
    # In the target's folder, so the rename never crosses file systems (which would be a copy).
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as file:
            _write_npz(file, {HEADER_KEY: np.frombuffer(header.encode("utf-8"), dtype=np.uint8), **arrays})
            file.flush()
            # On disk before the rename: otherwise a power cut could leave the new name on an empty file.
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def load(path, return_extra=False):
    """Read a checkpoint written by save().

    Returns {name: np.ndarray} in the saved order with the saved dtypes, or, with
    return_extra=True, the pair (that dict, the saved `extra`, None if there was none).
    Raises ValueError naming the path when the file is not a tinyseq checkpoint (not a zip, or an
    .npz without tinyseq's header) or is damaged; FileNotFoundError when it does not exist.
    """
    path = _checked_path(path, "load")
    if os.path.isdir(path):
        raise IsADirectoryError(f"load: {path} is a folder, not a checkpoint file")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"load: {path} is not a tinyseq checkpoint: it is not an .npz (zip) archive") from None
    with archive:
        header = _read_header(archive, path)
        try:
            arrays = {name: _read_array(archive, name) for name in header["names"]}
        except (KeyError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"load: {path} is a damaged tinyseq checkpoint: {error}") from error
    return (arrays, header.get("extra")) if return_extra else arrays


def _checked_path(path, function_name):
    """path as a str, or a TypeError naming the argument (os.fspath's own message does not)."""
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{function_name}: path must be a str or os.PathLike, got {type(path).__name__} {path!r}") from None


def _arrays_to_save(state_dict):
    """state_dict's values as numpy arrays, with its names checked."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"state_dict: names must be str, got {name!r} ({type(name).__name__})")
        # Zip member names are UTF-8 and end at a NUL, so such names would not come back intact.
        if "\x00" in name or name.encode("utf-8", errors="replace").decode("utf-8") != name:
            raise ValueError(f"state_dict: the name {name!r} has a NUL or a character UTF-8 cannot encode")
        if name == HEADER_KEY:
            raise ValueError(f"state_dict: the name {HEADER_KEY!r} is reserved for the checkpoint header")
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError(
                f"state_dict[{name!r}]: expected a numeric array, got dtype object "
                "(checkpoints store plain arrays, never pickled objects; put metadata in extra=)"
            )
        arrays[name] = array
    return arrays


def _write_npz(file, arrays):
    """Write arrays as an uncompressed .npz (what np.savez writes), one '<name>.npy' member each.

    Not np.savez itself: its keyword arguments would clash with entries named "file" or "allow_pickle".
    """
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


def _read_array(archive, name):
    with archive.open(name + ".npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _read_header(archive, path):
    """The parsed JSON header, or ValueError naming path if the archive is not a tinyseq checkpoint."""
    not_ours = f"load: {path} is not a tinyseq checkpoint"
    try:
        raw = _read_array(archive, HEADER_KEY)
    except KeyError:
        raise ValueError(f"{not_ours}: it is an .npz archive without the {HEADER_KEY!r} header entry "
                         "(np.load reads arbitrary .npz files)") from None
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"load: {path} is a damaged tinyseq checkpoint: {error}") from error
    try:
        header = json.loads(raw.tobytes().decode("utf-8")) if raw.dtype == np.uint8 else None
    except ValueError:  # bad UTF-8 or bad JSON
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ValueError(f"{not_ours}: its {HEADER_KEY!r} entry is not a tinyseq header")
    if not isinstance(header.get("version"), int) or header["version"] > FORMAT_VERSION:
        raise ValueError(
            f"load: {path} has checkpoint format version {header.get('version')!r}; this tinyseq reads "
            f"versions up to {FORMAT_VERSION} (upgrade tinyseq to read it)"
        )
    return header
