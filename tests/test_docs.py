"""docs/extending.md is executed, so its walkthrough cannot fall behind the code.

The page's fenced blocks are of three kinds:
  ```python starting with "# append to <path>"   appended to that file of a temporary copy of the
                                                  package and tests (the reader's edits)
  ```python otherwise                             run in order, as one script, against that copy
  ```text                                         output the script must print
The copy keeps the real tree untouched, so the new op never leaks into the other tests.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "extending.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
APPEND = re.compile(r"^# append to (\S+)\n")


def blocks(page):
    return [(language, body) for language, body in FENCE.findall(page.read_text())]


def test_extending_page_has_only_python_and_text_blocks():
    languages = {language for language, _ in blocks(PAGE)}
    assert languages <= {"python", "text"}, f"blocks test_docs.py does not run: {languages - {'python', 'text'}}"


def test_extending_walkthrough_runs_and_prints_what_the_page_shows(tmp_path):
    shutil.copytree(ROOT / "tinyseq", tmp_path / "tinyseq", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    for name in ("conftest.py", "op_registry.py", "test_ops.py"):
        shutil.copy(ROOT / "tests" / name, tmp_path / "tests" / name)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    script, expected_output = [], []
    for language, body in blocks(PAGE):
        edit = APPEND.match(body)
        if language == "text":
            expected_output.append(body.strip())
        elif edit:
            target = tmp_path / edit.group(1)
            assert target.exists(), f"docs/extending.md appends to {edit.group(1)}, which does not exist"
            with target.open("a") as handle:
                handle.write("\n" + body[edit.end():])
        else:
            script.append(body)
    assert script and expected_output, "docs/extending.md lost its runnable blocks"
    (tmp_path / "walkthrough.py").write_text("\n\n".join(script))

    # PYTHONPATH first, so the copy (not the installed tinyseq) is imported, also by pytest.main.
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "walkthrough.py"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    report = f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    assert result.returncode == 0, f"the walkthrough in docs/extending.md failed:\n{report}"
    for text in expected_output:
        assert text in result.stdout, f"docs/extending.md shows output the walkthrough did not print:\n{text}\n{report}"


@pytest.mark.parametrize("path", ["tinyseq/ops/elementwise.py", "tinyseq/ops/__init__.py", "tinyseq/ops/_bind.py",
                                  "tests/op_registry.py"])
def test_names_the_appended_blocks_rely_on_exist_in_the_files(path):
    """The appended blocks use names from their file (Function, as_tensor, stable_sigmoid,
    __all__, REGISTRY, _unary_entry, MODERATE): if one is renamed, say so here, clearly."""
    needed = {
        "tinyseq/ops/elementwise.py": ["Function", "as_tensor", "def stable_sigmoid", "import numpy as np"],
        "tinyseq/ops/__init__.py": ["__all__"],
        "tinyseq/ops/_bind.py": ["from ..tensor import Tensor"],
        "tests/op_registry.py": ["REGISTRY", "def _unary_entry", "MODERATE ="],
    }[path]
    text = (ROOT / path).read_text()
    missing = [name for name in needed if name not in text]
    assert not missing, f"docs/extending.md relies on {missing} in {path}"
