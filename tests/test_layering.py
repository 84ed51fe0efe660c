"""Every import points down the layers of docs/layers.py (engine < ops < op-level < nn < tools <
package < programs), docs/architecture.md shows the diagram that script prints today, and the
checker itself catches an upward import in a small made-up package."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("layers", ROOT / "docs" / "layers.py")
layers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(layers)

# Upward imports tolerated until the issue that removes them lands (the test below says when one is
# gone). None today: issue 10 item 2 moved CTCLoss into nn.
PENDING = set()


def test_no_import_points_up_a_layer():
    edges, _ = layers.measure()
    found = [v for v in layers.violations(edges)
             if not any(v.startswith(f"{importer} ") and f" imports {imported} " in v for importer, imported in PENDING)]
    assert found == [], "imports that point up a layer:\n" + "\n".join(found)


def test_pending_exceptions_are_still_needed():
    edges, _ = layers.measure()
    present = {(user, used) for user, _, used, _, _, _ in layers.upward(edges)}
    stale = PENDING - present
    assert not stale, (f"{stale} no longer exist: remove them from PENDING in tests/test_layering.py, and the "
                       "sentence about them at the end of docs/architecture.md's layers section")


def test_every_module_has_a_layer():
    _, unplaced = layers.measure()
    assert unplaced == [], f"modules without a layer (add them to LAYERS in docs/layers.py): {unplaced}"


def test_architecture_md_shows_the_diagram_of_the_current_imports():
    shown = layers.current_section(ROOT / "docs" / "architecture.md")
    assert shown is not None, "docs/architecture.md lost the markers of the generated layer diagram"
    assert shown == layers.section_text(), (
        "docs/architecture.md's layer diagram is out of date: run `python docs/layers.py --write`")


def write(root, path, text):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_the_checker_finds_an_upward_import_in_a_made_up_package(tmp_path):
    write(tmp_path, "tinyseq/__init__.py", "from . import nn, ops\n")
    write(tmp_path, "tinyseq/tensor.py", "from . import ops as _ops\n")  # the allowed binding
    write(tmp_path, "tinyseq/function.py", "def f():\n    from .tensor import Tensor\n")  # same layer, lazy
    write(tmp_path, "tinyseq/ops/__init__.py", "from .shape import reshape\n")
    write(tmp_path, "tinyseq/ops/shape.py", "from ..tensor import Tensor\n\n\ndef reshape():\n"
                                            "    from ..nn.module import Module\n")  # lazy and upward
    write(tmp_path, "tinyseq/nn/__init__.py", "")
    write(tmp_path, "tinyseq/nn/module.py", "import tinyseq.ops.shape\nfrom .. import rng\n")
    write(tmp_path, "tinyseq/rng.py", "")
    write(tmp_path, "tinyseq/ops/_bind.py", "from ..tensor import Tensor\nfrom .shape import reshape\n\n"
                                            "Tensor.reshape = reshape\n")  # the binding, as an assignment
    write(tmp_path, "tinyseq/nn/_patch.py", "from ..function import f\n\nf.cache = {}\n")  # not allowed
    write(tmp_path, "tinyseq/mystery.py", "")
    write(tmp_path, "demos/demo.py", "import tinyseq as ts\nimport tinyseq.nn as nn\n")
    edges, unplaced = layers.measure(tmp_path)
    assert {(user, used, how) for user, _, used, _, _, how in edges if how == "binding"} == {
        ("tinyseq.tensor", "tinyseq.ops._bind", "binding"), ("tinyseq.function", "tinyseq.nn._patch", "binding")}
    assert {(user, used) for user, _, used, _, _, how in edges if how == "import"} == {
        ("tinyseq", "tinyseq.nn"), ("tinyseq", "tinyseq.ops"),
        ("tinyseq.tensor", "tinyseq.ops"), ("tinyseq.function", "tinyseq.tensor"),
        ("tinyseq.ops", "tinyseq.ops.shape"), ("tinyseq.ops.shape", "tinyseq.tensor"),
        ("tinyseq.ops.shape", "tinyseq.nn.module"), ("tinyseq.nn.module", "tinyseq.ops.shape"),
        ("tinyseq.nn.module", "tinyseq.rng"), ("demos.demo", "tinyseq"), ("demos.demo", "tinyseq.nn"),
        ("tinyseq.ops._bind", "tinyseq.tensor"), ("tinyseq.ops._bind", "tinyseq.ops.shape"),
        ("tinyseq.nn._patch", "tinyseq.function"),
    }
    assert sorted(layers.violations(edges)) == [
        "tinyseq.nn._patch (layer nn) assigns to an attribute of tinyseq.function (layer engine, below it), line 3",
        "tinyseq.ops.shape (layer ops) imports tinyseq.nn.module (layer nn, above it), line 5",
    ]
    assert unplaced == ["tinyseq.mystery"]


def test_import_tinyseq_imports_neither_torch_nor_matplotlib():
    code = ("import sys, tinyseq, tinyseq.viz, tinyseq.interop; "
            "print(sorted(m for m in ('torch', 'matplotlib', 'onnx') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["tinyseq.viz", "tinyseq.interop"])
def test_viz_and_interop_are_importable_first(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
