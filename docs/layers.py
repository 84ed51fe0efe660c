"""The layers of tinyseq, measured from its import statements.

    python docs/layers.py            print the layer diagram and the measured imports
    python docs/layers.py --write    put them into docs/architecture.md (between the marker comments)

Every module of the package (and every demo and benchmark) belongs to one layer of LAYERS, matched
by the longest module-name prefix. An import may point to the module's own layer or to a layer
below, never up: the engine imports no op, ops import no nn, the op-level packages (ctc, crf)
import no nn. Imports are read with ast from the source, without importing anything, and include
imports inside functions (a lazy import is still an arrow). An assignment to an attribute of a class
imported from another module (`Tensor.sum = sum`, a binding) is an arrow too, from the module that
owns the class to the one that assigns. tests/test_layering.py fails on an arrow up, on a module
without a layer, and on a diagram in docs/architecture.md that is no longer what this script prints.
"""

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Bottom to top: (name, what it holds, module-name prefixes). Names listed here that do not exist
# (yet) are harmless: a prefix only places the modules that do.
LAYERS = [
    ("base", "dtype rules, the random generator, grad mode, malloc settings",
     ["tinyseq.dtype", "tinyseq.rng", "tinyseq.grad_mode", "tinyseq.memory"]),
    ("engine", "Tensor, Function, backward",
     ["tinyseq.tensor", "tinyseq.function", "tinyseq.autograd", "tinyseq.engine"]),
    ("ops", "the op set and the tensor factories",
     ["tinyseq.ops", "tinyseq.creation"]),
    ("op-level", "kernels, Functions and decoders of CTC and CRF",
     ["tinyseq.ctc", "tinyseq.crf"]),
    ("nn", "modules and layers, losses, functional",
     ["tinyseq.nn"]),
    ("tools", "training, data, metrics, files, checking, pictures, bridges",
     ["tinyseq.optim", "tinyseq.data", "tinyseq.datasets", "tinyseq.metrics", "tinyseq.io", "tinyseq.audio",
      "tinyseq.gradcheck", "tinyseq.testing", "tinyseq.viz", "tinyseq.interop"]),
    ("package", "`import tinyseq`: the public names",
     ["tinyseq"]),
    ("programs", "demos and benchmarks",
     ["demos", "benchmarks"]),
]
RANK = {name: rank for rank, (name, _, _) in enumerate(LAYERS)}

# The arrows up the design allows, with the reason: (lower module, higher module or package). Only
# one: the binding of Tensor's operators and methods to the ops, whichever form it takes (tensor.py
# importing the ops, or a module of ops assigning to Tensor's attributes).
ALLOWED_UPWARD = {
    ("tinyseq.tensor", "tinyseq.ops"): "Tensor's operators and methods are bound to the ops in one documented place",
}

SOURCES = ["tinyseq", "demos", "benchmarks"]


def module_name(path, root=ROOT):
    """tinyseq/nn/layers.py -> tinyseq.nn.layers; tinyseq/nn/__init__.py -> tinyseq.nn."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module):
    """The layer whose longest prefix matches module, or None."""
    best, best_length = None, -1
    for name, _, prefixes in LAYERS:
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            # "tinyseq" as a prefix would swallow every module: the package layer is __init__ only.
            if prefix == "tinyseq" and module != "tinyseq":
                matches = False
            if matches and len(prefix) > best_length:
                best, best_length = name, len(prefix)
    return best


def source_files(root=ROOT):
    for top in SOURCES:
        directory = root / top
        if directory.is_dir():
            yield from sorted(p for p in directory.rglob("*.py") if "__pycache__" not in p.parts)


def imports_of(path, known_modules, root=ROOT):
    """(line, imported module) for every import in path that names a module of the repository, and
    (line, module, name) for every binding: an assignment to an attribute of a class (or any name)
    imported from another module, `Tensor.sum = sum`, which makes that module depend on this one.
    `from package import name` counts as importing package.name when that is a module."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found, origin, bindings = [], {}, []
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known_modules else source
                       for alias in node.names]
            origin.update({alias.asname or alias.name: source for alias in node.names
                           if source in known_modules and f"{source}.{alias.name}" not in known_modules})
        else:
            continue
        for target in targets:
            # `import tinyseq.nn.functional` imports that module; keep the longest known prefix.
            parts = target.split(".")
            while parts and ".".join(parts) not in known_modules:
                parts.pop()
            if parts:
                found.append((node.lineno, ".".join(parts)))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id in origin):
                    bindings.append((node.lineno, origin[target.value.id], target.value.id))
    return found, bindings


def measure(root=ROOT):
    """(edges, unplaced): edges as (user, line, used, user's layer, used layer, how), one per imported
    name ("import") and one per binding, which runs the other way: in `Tensor.sum = sum` written in
    ops/_bind.py, tensor.py's Tensor uses ops/_bind.py ("binding", line of ops/_bind.py).
    unplaced: modules that no layer claims."""
    modules = {module_name(path, root): path for path in source_files(root)}
    unplaced = sorted(m for m in modules if layer_of(m) is None)
    edges = []
    for module, path in modules.items():
        imports, bindings = imports_of(path, modules, root)
        for line, imported in imports:
            if imported != module:
                edges.append((module, line, imported, layer_of(module), layer_of(imported), "import"))
        for line, bound, _ in bindings:
            if bound != module:
                edges.append((bound, line, module, layer_of(bound), layer_of(module), "binding"))
    return edges, unplaced


def upward(edges):
    """The edges that point to a higher layer, allowed ones included."""
    return [e for e in edges if e[3] and e[4] and RANK[e[4]] > RANK[e[3]]]


def violations(edges):
    """Upward edges not in ALLOWED_UPWARD, as readable lines."""
    return [f"{user} (layer {a}) imports {used} (layer {b}, above it), line {line}" if how == "import" else
            f"{used} (layer {b}) assigns to an attribute of {user} (layer {a}, below it), line {line}"
            for user, line, used, a, b, how in upward(edges) if allowed_reason(user, used) is None]


def allowed_reason(user, used):
    """The reason ALLOWED_UPWARD gives for user depending on used, or None."""
    return next((reason for (lower, higher), reason in ALLOWED_UPWARD.items()
                 if user == lower and (used == higher or used.startswith(higher + "."))), None)


def unit(module, root=ROOT):
    """How the diagram names a module: packages and programs by folder, modules by file."""
    parts = module.split(".")
    if parts[0] in ("demos", "benchmarks"):
        return parts[0] + "/"
    if module == "tinyseq":
        return "tinyseq/__init__.py"
    if len(parts) > 2 or (root / Path(*parts)).is_dir():
        return parts[1] + "/"
    return parts[1] + ".py"


def diagram(root=ROOT):
    """The text of the layer diagram and the table of measured imports."""
    edges, _ = measure(root)
    members = {name: set() for name in RANK}
    for path in source_files(root):
        module = module_name(path, root)
        if layer_of(module):
            members[layer_of(module)].add(unit(module, root))
    width = max(len(name) for name in RANK)
    present = [(name, what) for name, what, _ in reversed(LAYERS) if members[name]]
    lines = []
    for index, (name, what) in enumerate(present):
        lines.append(f"{name:<{width}}  {'  '.join(sorted(members[name]))}")
        lines.append(f"{'':<{width}}  ({what})")
        if index < len(present) - 1:
            lines.append(f"{'':<{width - 4}}│")
            lines.append(f"{'':<{width - 4}}▼")
    arrows_up = sorted({(user, used, how) for user, _, used, _, _, how in upward(edges)})
    if arrows_up:
        lines.append("")
        lines.append("arrows up (only ALLOWED_UPWARD in docs/layers.py may stay):")
        for user, used, how in arrows_up:
            arrow = f"{user} ──► {used}" if how == "import" else f"{user} ◄── {used} (assigns to its attributes)"
            lines.append(f"  {arrow}: {allowed_reason(user, used) or 'NOT ALLOWED'}")
    imported = {(a, b) for _, _, _, a, b, how in edges if a and b and a != b and how == "import"}
    lines.append("")
    lines.append("imports measured (each layer ──► the other layers it imports from):")
    for name, _ in present:
        targets = [other for other, _ in present if (name, other) in imported]
        if targets:
            lines.append(f"  {name:<{width}} ──► " + ", ".join(targets))
    return "\n".join(lines) + "\n"


BEGIN = "<!-- layers: generated by `python docs/layers.py --write`; do not edit by hand -->"
END = "<!-- end of the generated layers -->"


def section_text(root=ROOT):
    return f"{BEGIN}\n```text\n{diagram(root)}```\n{END}"


def current_section(page):
    """The generated part of docs/architecture.md, or None when the markers are missing."""
    text = page.read_text()
    if BEGIN not in text or END not in text:
        return None
    return text[text.index(BEGIN): text.index(END) + len(END)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update the section of docs/architecture.md")
    args = parser.parse_args(argv)
    edges, unplaced = measure()
    problems = violations(edges) + [f"{m} has no layer: add its name to LAYERS in docs/layers.py" for m in unplaced]
    if not args.write:
        print(diagram(), end="")
    else:
        page = ROOT / "docs" / "architecture.md"
        old = current_section(page)
        if old is None:
            sys.exit(f"docs/architecture.md has no markers {BEGIN!r} ... {END!r}")
        page.write_text(page.read_text().replace(old, section_text()))
        print(f"wrote the layer diagram into {page}")
    for problem in problems:
        print("problem:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
