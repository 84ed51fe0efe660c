"""A picture of the graph that backward walks: `to_dot(tensor)` and `draw(tensor, path)`.

Sits beside the engine, reading what ops recorded: a tensor made by an op holds a Node (function.py)
with the op (`node.function`) and its input tensors (`node.inputs`, None for non-tensor arguments).
Walking those links from a loss back to the leaves gives the graph; it is drawn in the direction
of the data, from the leaves to the loss:

    [x (2,) float64] ──► (Mul) ──► [(2,) float64] ──► (Sum) ──► [() float64]

Tensors are boxes (shape, dtype, and for a few elements the values and the gradient, as micrograd
shows them), ops are ellipses. After `backward()` the graph is freed (the links to the inputs are
dropped): draw before, or call `backward(retain_graph=True)` to see the leaves' gradients too.

`draw` uses the Graphviz `dot` program when it is installed and otherwise lays the graph out
itself with matplotlib (an optional dependency, the demos extra), so it works without Graphviz.
"""

import os
import shutil
import subprocess

import numpy as np

from .tensor import Tensor

SHOWN_ELEMENTS = 6  # tensors of at most this many elements show their values and gradient
FORMATS = (".svg", ".png")
RENDERERS = ("dot", "matplotlib")


def to_dot(tensor, names=None):
    """Graphviz DOT text of the graph that `tensor.backward()` would walk.

    tensor: a Tensor; one without a graph (a leaf, or made under no_grad) gives a one-node graph.
    names: optional {name: tensor} (or (name, tensor) pairs) labelling some tensors, e.g.
        model.named_parameters().
    Node ids are t0, t1, ... for tensors and op0, op1, ... for ops, numbered inputs first.
    """
    nodes, edges = _graph(tensor, names)
    lines = ["digraph tinyseq {", "  rankdir=LR;", '  node [fontname="monospace", fontsize=10];',
             '  edge [fontname="monospace", fontsize=9];']
    for node_id, label, kind in nodes:
        shape = {"leaf": 'box, style=filled, fillcolor="#dbe9f6"', "tensor": "box", "op": "ellipse"}[kind]
        lines.append(f'  {node_id} [shape={shape}, label="{_escape(label)}"];')
    for source, target, label in edges:
        lines.append(f'  {source} -> {target}' + (f' [label="{label}"];' if label else ";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw(tensor, path, names=None, renderer=None):
    """Write the graph of `tensor` (see to_dot) as an SVG or PNG image at `path`; returns path.

    renderer: "dot" (Graphviz, must be installed), "matplotlib" (a layered layout of its own), or
    None: dot when `shutil.which("dot")` finds it, matplotlib otherwise.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in FORMATS:
        raise ValueError(f"draw: path must end in one of {FORMATS}, got {path!r} (extension {extension!r})")
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"draw: cannot write {path!r}: it is a directory")
    if not os.path.isdir(directory):
        raise ValueError(f"draw: cannot write {path!r}: the directory {directory!r} does not exist")
    if not os.access(path if os.path.exists(path) else directory, os.W_OK):
        raise ValueError(f"draw: cannot write {path!r}: permission denied")
    if renderer is None:
        renderer = "dot" if shutil.which("dot") else "matplotlib"
    if renderer not in RENDERERS:
        raise ValueError(f"draw: renderer must be one of {RENDERERS} or None, got {renderer!r}")
    try:
        if renderer == "dot":
            _render_with_dot(to_dot(tensor, names), path, extension)
        else:
            _render_with_matplotlib(_graph(tensor, names), path)
    except OSError as error:  # e.g. a file in the way that cannot be replaced
        raise ValueError(f"draw: cannot write {path!r}: {error}") from error
    return path


# ---------------------------------------------------------------------------------------------
# The walk: from the tensor back to the leaves, then numbered in the direction of the data.
# ---------------------------------------------------------------------------------------------


def _graph(tensor, names):
    """(nodes, edges): nodes as (id, label, kind) with kind "leaf", "tensor" or "op", each listed
    after its inputs; edges as (source id, target id, label)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot/draw: tensor must be a tinyseq Tensor, got {type(tensor).__name__}")
    name_of = {id(t): name for name, t in dict(names or {}).items()}
    tensor_ids, op_ids, nodes, edges = {}, {}, [], []

    def tensor_id(t):
        if id(t) not in tensor_ids:
            tensor_ids[id(t)] = f"t{len(tensor_ids)}"
            kind = "leaf" if t._node is None and t.requires_grad else "tensor"
            nodes.append((tensor_ids[id(t)], _tensor_label(t, name_of.get(id(t))), kind))
        return tensor_ids[id(t)]

    for node in _nodes_inputs_first(tensor._node):
        op_id = op_ids[id(node)] = f"op{len(op_ids)}"
        for t in node.inputs:
            if t is None:
                continue
            made_by = t._node
            new = id(t) not in tensor_ids
            source = tensor_id(t)
            if new and made_by is not None:  # an intermediate result: link it to the op that made it
                edges.append((op_ids[id(made_by)], source, _output_label(made_by, t)))
            edges.append((source, op_id, ""))
        nodes.append((op_id, node.function.__name__, "op"))
    if id(tensor) not in tensor_ids:
        root = tensor_id(tensor)
        if tensor._node is not None:
            edges.append((op_ids[id(tensor._node)], root, _output_label(tensor._node, tensor)))
    return nodes, edges


def _nodes_inputs_first(root):
    """The nodes reachable from root, each after every node that made one of its inputs
    (an iterative depth-first post-order: a long chain does not hit the recursion limit)."""
    if root is None:
        return []
    order, visited = [], {id(root)}
    stack = [(root, iter(root.inputs))]
    while stack:
        node, inputs = stack[-1]
        for t in inputs:
            parent = None if t is None else t._node
            if parent is not None and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _tensor_label(t, name):
    lines = [name] if name else []
    lines.append(f"{tuple(t.shape)} {t.dtype}")
    if t.size <= SHOWN_ELEMENTS:
        lines.append(f"data {_values(t.data)}")
        if t.grad is not None:
            lines.append(f"grad {_values(np.asarray(t.grad))}")
    return "\n".join(lines)


def _values(array):
    return np.array2string(np.asarray(array), separator=", ", formatter={"float_kind": lambda v: f"{v:.4g}"})


def _output_label(node, t):
    """Which output of a several-output op (split, chunk, a fused LSTM) this tensor is; "" for one."""
    return str(t._output_index) if node.output_count > 1 else ""


def _escape(label):
    return label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ---------------------------------------------------------------------------------------------
# The two renderers.
# ---------------------------------------------------------------------------------------------


def _render_with_dot(dot_text, path, extension):
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError("draw: renderer='dot' needs the Graphviz dot program on PATH "
                           "(apt-get install graphviz), or use renderer='matplotlib'")
    result = subprocess.run([program, f"-T{extension[1:]}", "-o", path], input=dot_text.encode(),
                            capture_output=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"draw: dot failed on {path!r}: {result.stderr.decode(errors='replace').strip()}")


def _render_with_matplotlib(graph, path):
    """A layered layout: each node in the column after its furthest input, columns left to right,
    rows ordered by the mean row of each node's inputs (one sweep of the barycentre heuristic)."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch
    except ImportError as error:
        raise ImportError("draw: without Graphviz, drawing needs matplotlib: pip install 'tinyseq[demos]' "
                          "(or install Graphviz's dot program)") from error
    nodes, edges = graph
    labels = {node_id: label for node_id, label, _ in nodes}
    kinds = {node_id: kind for node_id, _, kind in nodes}
    inputs_of = {node_id: [] for node_id in labels}
    for source, target, _ in edges:
        inputs_of[target].append(source)

    column = {}
    for node_id in labels:  # _graph lists every node after its inputs, so one pass suffices
        column[node_id] = 1 + max((column[s] for s in inputs_of[node_id]), default=-1)
    columns = [[] for _ in range(max(column.values()) + 1)]
    row = {}
    for node_id in labels:
        columns[column[node_id]].append(node_id)
    for members in columns:
        members.sort(key=lambda n: np.mean([row[s] for s in inputs_of[n]]) if inputs_of[n] else 0.0)
        for position, node_id in enumerate(members):
            row[node_id] = position - (len(members) - 1) / 2

    tallest = max(len(members) for members in columns)
    # Capped so that a graph of thousands of nodes still fits in an image Agg can write (crowded).
    figure = Figure(figsize=(min(2.4 * len(columns) + 0.6, 250), min(1.2 * tallest + 0.8, 250)))
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_xlim(-0.6, len(columns) - 0.4)
    axes.set_ylim(-tallest / 2, tallest / 2)
    boxes = {}
    for node_id, label in labels.items():
        style = dict(boxstyle="round,pad=0.4" if kinds[node_id] == "op" else "square,pad=0.4",
                     facecolor={"leaf": "#dbe9f6", "tensor": "white", "op": "#f4f4f4"}[kinds[node_id]],
                     edgecolor="black")
        text = axes.text(column[node_id], -row[node_id], label, ha="center", va="center", fontsize=8,
                         family="monospace", bbox=style)
        boxes[node_id] = text
    figure.draw_without_rendering()  # sizes the boxes, so each arrow can stop at its box's edge
    to_data = axes.transData.inverted()
    half_size = {node_id: np.abs(np.diff(to_data.transform(text.get_bbox_patch().get_window_extent()), axis=0))[0] / 2
                 for node_id, text in boxes.items()}
    for source, target, label in edges:
        start, end = np.array(boxes[source].get_position()), np.array(boxes[target].get_position())
        direction = end - start
        axes.add_patch(FancyArrowPatch(start + direction * _to_edge(direction, half_size[source]),
                                       end - direction * _to_edge(direction, half_size[target]),
                                       arrowstyle="-|>", mutation_scale=10, shrinkA=0, shrinkB=0,
                                       color="black", linewidth=0.8))
        if label:
            x, y = (start + end) / 2
            axes.text(x, y, label, fontsize=7, ha="center", va="bottom")
    figure.savefig(path, bbox_inches="tight")


def _to_edge(direction, half_size):
    """The fraction of `direction` from a box's centre to its edge (half_size: half width, height)."""
    with np.errstate(divide="ignore"):
        return np.min(half_size / np.abs(direction))
