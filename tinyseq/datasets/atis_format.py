"""Slot-filling corpora in memory and on disk, in the folder layout ATIS and SNIPS copies use.

The widely shared copies of ATIS and SNIPS for joint intent detection and slot filling (those used
by slot-gated and JointBERT-style models, for instance) are laid out as

    <root>/train/seq.in     one utterance per line, tokens separated by spaces
    <root>/train/seq.out    the BIO slot tags of the same line, one per token
    <root>/train/label      the utterance's intent, one per line (optional here)
    <root>/valid/...        (some copies call it dev/)
    <root>/test/...

Lines may end in trailing spaces, which are ignored. read_slot_folder() reads such a folder into a
SlotCorpus and reports any problem as one clear error naming the file and, where there is one, the
line; write_slot_folder() writes the same layout. A SlotCorpus holds three lists of SlotExample.
"""

import os
from pathlib import Path
from typing import NamedTuple

from ..metrics import split_bio_tag

SPLITS = ("train", "valid", "test")


class SlotExample(NamedTuple):
    """One utterance: its tokens, one BIO tag per token, and its intent label (None if unknown)."""

    tokens: tuple
    tags: tuple
    intent: str | None = None


class SlotCorpus(NamedTuple):
    """A slot-filling corpus: train, valid and test lists of SlotExample."""

    train: list
    valid: list
    test: list


def check_bio(tags, strict=True, where="tags"):
    """Raise ValueError unless tags is a valid BIO sequence.

    Every tag must be O, B-<type> or I-<type>. With strict=True an I-<type> must also continue a
    chunk of the same type (follow B-<type> or I-<type>); conlleval reads a stray I- as the start of
    a new chunk, so strict=False accepts it. where: prefix for the message (a file and line).
    """
    if isinstance(tags, str):
        raise TypeError(f"{where}: expected a sequence of tags, got the str {tags!r}; split it first")
    previous_type = None
    for position, tag in enumerate(tags):
        try:
            prefix, slot_type = split_bio_tag(tag)
        except ValueError as error:
            raise ValueError(f"{where}: token {position + 1}: {error}") from None
        if strict and prefix == "I" and slot_type != previous_type:
            before = "the start of the line" if position == 0 else repr(tags[position - 1])
            raise ValueError(
                f"{where}: token {position + 1}: {tag!r} follows {before}; "
                f"an I- tag must continue a B-{slot_type} or I-{slot_type}"
            )
        previous_type = slot_type if prefix != "O" else None


def _read_lines(path):
    """The lines of a UTF-8 text file with trailing whitespace removed; a final newline is fine.
    Bytes that are not UTF-8 are a ValueError naming the path and the line."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_number = raw[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, line {line_number}: not UTF-8 text (byte {raw[error.start]:#04x}); "
            "save the file as UTF-8"
        ) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip() for line in lines]


def _read_split(folder, strict_bio):
    tokens_path, tags_path, label_path = folder / "seq.in", folder / "seq.out", folder / "label"
    for path in (tokens_path, tags_path):
        if not path.is_file():
            raise FileNotFoundError(f"missing file: {path} (a split folder holds seq.in and seq.out)")
    token_lines, tag_lines = _read_lines(tokens_path), _read_lines(tags_path)
    label_lines = _read_lines(label_path) if label_path.is_file() else None
    if len(token_lines) != len(tag_lines):
        raise ValueError(
            f"{tokens_path} has {len(token_lines)} lines but {tags_path} has {len(tag_lines)}"
        )
    if label_lines is not None and len(label_lines) != len(token_lines):
        shorter = label_path if len(label_lines) < len(token_lines) else tokens_path
        raise ValueError(
            f"{label_path} has {len(label_lines)} lines but {tokens_path} has {len(token_lines)}: "
            f"line {min(len(label_lines), len(token_lines)) + 1} is missing from {shorter} "
            "(the label file holds one intent per utterance)"
        )
    examples = []
    for line_index, (token_line, tag_line) in enumerate(zip(token_lines, tag_lines)):
        line_number = line_index + 1
        for path, line in ((tokens_path, token_line), (tags_path, tag_line)):
            if not line.strip():
                raise ValueError(f"{path}, line {line_number}: empty line")
        tokens, tags = tuple(token_line.split()), tuple(tag_line.split())
        if len(tokens) != len(tags):
            raise ValueError(
                f"{tags_path}, line {line_number}: {len(tags)} tags for the {len(tokens)} tokens "
                f"of {tokens_path}, line {line_number}"
            )
        check_bio(tags, strict=strict_bio, where=f"{tags_path}, line {line_number}")
        intent = None
        if label_lines is not None:
            intent = label_lines[line_index].strip()
            if not intent:
                raise ValueError(f"{label_path}, line {line_number}: empty line")
        examples.append(SlotExample(tokens, tags, intent))
    if not examples:
        raise ValueError(f"{tokens_path} holds no utterances")
    return examples


def read_slot_folder(root, strict_bio=False):
    """Read an ATIS/SNIPS-layout folder (train/, valid/ or dev/, test/) into a SlotCorpus.

    root: the folder holding the three split folders.
    strict_bio: also reject an I-<type> that does not continue a chunk of its type. Off by default
        so that a public copy with such a tag still loads; span_f1 reads it the way conlleval does.
    Raises FileNotFoundError for a missing folder or file and ValueError for a malformed line; both
    name the path (and line).
    """
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root: expected a folder path (str or os.PathLike), got {type(root).__name__}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder not found: {root}")
    folders = {}
    for split in SPLITS:
        candidates = ("valid", "dev") if split == "valid" else (split,)
        present = [root / name for name in candidates if (root / name).is_dir()]
        if not present:
            expected = " or ".join(f"{name}/" for name in candidates)
            raise FileNotFoundError(
                f"missing folder: {root / candidates[0]} (expected {expected} in {root})"
            )
        if len(present) > 1:
            raise ValueError(f"{root} has both valid/ and dev/; keep one of them")
        folders[split] = present[0]
    return SlotCorpus(*(_read_split(folders[split], strict_bio) for split in SPLITS))


def write_slot_folder(corpus, root):
    """Write a SlotCorpus in the ATIS layout: root/{train,valid,test}/{seq.in,seq.out[,label]}.

    The label file is written when every example of a split has an intent. Every example is checked
    (tokens without whitespace, one tag per token, strict BIO) before anything is written.
    Returns Path(root).
    """
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root: expected a folder path (str or os.PathLike), got {type(root).__name__}")
    root = Path(root)
    if not isinstance(corpus, (tuple, list)) or len(corpus) != len(SPLITS):
        raise TypeError(f"corpus: expected a SlotCorpus (train, valid, test), got {type(corpus).__name__}")
    for split, examples in zip(SPLITS, corpus):
        for index, example in enumerate(examples):
            where = f"corpus.{split}[{index}]"
            if not isinstance(example, SlotExample):
                raise TypeError(f"{where}: expected a SlotExample(tokens, tags, intent), got {type(example).__name__}")
            if any(token.split() != [token] for token in example.tokens):
                raise ValueError(
                    f"{where}: tokens must be non-empty and hold no whitespace: {example.tokens}"
                )
            if not example.tokens or len(example.tokens) != len(example.tags):
                raise ValueError(f"{where}: {len(example.tags)} tags for {len(example.tokens)} tokens")
            check_bio(example.tags, where=where)
    for split, examples in zip(SPLITS, corpus):
        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        _write_lines(folder / "seq.in", (" ".join(example.tokens) for example in examples))
        _write_lines(folder / "seq.out", (" ".join(example.tags) for example in examples))
        label_path = folder / "label"
        if examples and all(example.intent for example in examples):
            _write_lines(label_path, (example.intent for example in examples))
        else:
            label_path.unlink(missing_ok=True)  # a stale label file would pair with the wrong lines
    return root


def _write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
