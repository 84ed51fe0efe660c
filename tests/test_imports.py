"""Imports: every module of the package can be imported first, and the layers point one way.

An import cycle hides until someone reorders an import line (sorting tinyseq/__init__.py's imports
once made `import tinyseq` fail). So each module is imported first in a clean interpreter state,
and the import statements themselves are read to check the layering of docs/architecture.md: the
engine imports no op, ops import no nn, the op-level ctc and crf packages import no nn, and no module of the
package imports, directly or through others, a module that imports it back.
"""

import ast
import importlib.util
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import tinyseq

PACKAGE_DIR = Path(tinyseq.__file__).parent
MODULES = sorted(["tinyseq"] + [info.name for info in pkgutil.walk_packages([str(PACKAGE_DIR)], "tinyseq.")])

ENGINE = ("tinyseq.tensor", "tinyseq.function", "tinyseq.dtype", "tinyseq.grad_mode")

# One subprocess for all modules (one interpreter per module would take a minute): before each
# import, every tinyseq module is removed from sys.modules, so the package's code runs again from
# nothing, in the order that importing this module first triggers.
IMPORT_EACH_FIRST = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "tinyseq" or m.startswith("tinyseq.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failures[name] = traceback.format_exc()
print(json.dumps(failures))
"""


def test_every_module_can_be_imported_first():
    result = subprocess.run([sys.executable, "-c", IMPORT_EACH_FIRST, json.dumps(MODULES)], capture_output=True,
                            text=True, cwd=PACKAGE_DIR.parent, timeout=300)
    assert result.returncode == 0, result.stderr
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert not failures, "\n".join(f"importing {name} first fails:\n{error}" for name, error in failures.items())
    assert len(MODULES) > 20  # the walk found the package's modules


def imported_modules(name):
    """The tinyseq modules that module `name` imports anywhere in its source (lazy imports included)."""
    path = Path(importlib.util.find_spec(name).origin)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def test_lower_layers_import_no_higher_layer():
    for name in MODULES:
        imports = imported_modules(name)
        if name in ENGINE:
            assert not [m for m in imports if m.startswith(("tinyseq.ops", "tinyseq.nn", "tinyseq.ctc"))], name
        if name.startswith("tinyseq.ops") and name != "tinyseq.ops._bind":
            assert not [m for m in imports if m.startswith(("tinyseq.nn", "tinyseq.ctc"))], name
        if name.startswith(("tinyseq.ctc", "tinyseq.crf")):
            assert not [m for m in imports if m.startswith("tinyseq.nn")], f"{name} imports nn: {imports}"
    assert "tinyseq.ops._bind" in imported_modules("tinyseq"), "import tinyseq must bind the ops to Tensor"


def test_no_import_cycles_between_modules():
    graph = {name: imported_modules(name) for name in MODULES}
    state = {}

    def visit(name, path):
        state[name] = "open"
        for nxt in sorted(graph[name]):
            assert state.get(nxt) != "open", "import cycle: " + " -> ".join(path + [name, nxt])
            if nxt not in state:
                visit(nxt, path + [name])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [])
