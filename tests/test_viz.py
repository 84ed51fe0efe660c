"""tinyseq.viz: the DOT text of small graphs, checked line by line against graphs worked out by hand,
and both renderers (Graphviz's dot when installed, matplotlib's own layout always) writing files."""

import shutil
import sys

import numpy as np
import pytest

import tinyseq as ts
from tinyseq import viz

HEADER = [
    "digraph tinyseq {",
    "  rankdir=LR;",
    '  node [fontname="monospace", fontsize=10];',
    '  edge [fontname="monospace", fontsize=9];',
]
LEAF = 'shape=box, style=filled, fillcolor="#dbe9f6"'


def dot_lines(tensor, names=None):
    text = viz.to_dot(tensor, names)
    assert text.endswith("}\n")
    return text.splitlines()


def test_dot_of_a_product_summed_lists_each_tensor_and_op_once_in_data_order():
    x = ts.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    w = ts.tensor([3.0, -1.0], dtype=np.float64, requires_grad=True)
    loss = (x * w).sum()
    # x * w = [0, -2], its sum -2: the values are worked out by hand, not read from the graph.
    assert dot_lines(loss, names={"x": x, "w": w}) == HEADER + [
        f'  t0 [{LEAF}, label="x\\n(2,) float64\\ndata [0, 2]"];',
        f'  t1 [{LEAF}, label="w\\n(2,) float64\\ndata [3, -1]"];',
        '  op0 [shape=ellipse, label="Mul"];',
        '  t2 [shape=box, label="(2,) float64\\ndata [0, -2]"];',
        '  op1 [shape=ellipse, label="Sum"];',
        '  t3 [shape=box, label="() float64\\ndata -2"];',
        "  t0 -> op0;",
        "  t1 -> op0;",
        "  op0 -> t2;",
        "  t2 -> op1;",
        "  op1 -> t3;",
        "}",
    ]


def test_dot_shows_the_gradients_of_leaves_after_backward_with_retain_graph():
    x = ts.tensor([0.0, 2.0], dtype=np.float64, requires_grad=True)
    w = ts.tensor([3.0, -1.0], dtype=np.float64, requires_grad=True)
    loss = (x * w).sum()
    loss.backward(retain_graph=True)
    lines = dot_lines(loss, names={"x": x, "w": w})
    # d(sum(x * w))/dx = w and d/dw = x.
    assert f'  t0 [{LEAF}, label="x\\n(2,) float64\\ndata [0, 2]\\ngrad [3, -1]"];' in lines
    assert f'  t1 [{LEAF}, label="w\\n(2,) float64\\ndata [3, -1]\\ngrad [0, 2]"];' in lines


def test_a_tensor_used_twice_is_one_node_with_an_edge_per_use():
    x = ts.tensor([1.5], dtype=np.float64, requires_grad=True)
    y = x * x + x
    assert dot_lines(y) == HEADER + [
        f'  t0 [{LEAF}, label="(1,) float64\\ndata [1.5]"];',
        '  op0 [shape=ellipse, label="Mul"];',
        '  t1 [shape=box, label="(1,) float64\\ndata [2.25]"];',
        '  op1 [shape=ellipse, label="Add"];',
        '  t2 [shape=box, label="(1,) float64\\ndata [3.75]"];',
        "  t0 -> op0;",
        "  t0 -> op0;",
        "  op0 -> t1;",
        "  t1 -> op1;",
        "  t0 -> op1;",
        "  op1 -> t2;",
        "}",
    ]


def test_outputs_of_a_several_output_op_are_labelled_with_their_position():
    first, second = ts.tensor(np.zeros((4, 4)), requires_grad=True).chunk(2)
    lines = dot_lines(second * first)
    # Larger tensors (16 and 8 elements) show shape and dtype only.
    assert lines[len(HEADER):] == [
        f'  t0 [{LEAF}, label="(4, 4) float32"];',
        '  op0 [shape=ellipse, label="Split"];',
        '  t1 [shape=box, label="(2, 4) float32"];',
        '  t2 [shape=box, label="(2, 4) float32"];',
        '  op1 [shape=ellipse, label="Mul"];',
        '  t3 [shape=box, label="(2, 4) float32"];',
        "  t0 -> op0;",
        '  op0 -> t1 [label="1"];',
        "  t1 -> op1;",
        '  op0 -> t2 [label="0"];',
        "  t2 -> op1;",
        "  op1 -> t3;",
        "}",
    ]


@pytest.mark.parametrize("make", [
    lambda: ts.tensor([1.0, 2.0], requires_grad=True),
    lambda: ts.tensor([1.0, 2.0]) * 3,
])
def test_a_tensor_without_a_graph_gives_a_one_node_graph(make):
    lines = dot_lines(make())
    assert lines[len(HEADER):-1] and len(lines[len(HEADER):-1]) == 1
    assert lines[len(HEADER)].startswith("  t0 [shape=box") and "(2,) float32" in lines[len(HEADER)]


def test_no_grad_results_have_no_graph():
    x = ts.tensor([1.0], requires_grad=True)
    with ts.no_grad():
        y = x * 2
    assert [line for line in dot_lines(y) if "->" in line] == []


def test_labels_with_quotes_are_escaped():
    x = ts.tensor([1.0], requires_grad=True)
    assert 'label="say \\"hi\\"\\n(1,) float32\\ndata [1]"' in viz.to_dot(x, names={'say "hi"': x})


def test_to_dot_of_something_else_names_its_type():
    with pytest.raises(TypeError, match="tensor must be a tinyseq Tensor, got ndarray"):
        viz.to_dot(np.ones(2))


def small_graph():
    x = ts.tensor([1.0, -2.0], requires_grad=True)
    a, b = x.chunk(2)
    return ts.tanh(a * b + x).sum()


@pytest.mark.parametrize("extension, magic", [(".png", b"\x89PNG"), (".svg", b"<svg")])
def test_matplotlib_renderer_writes_the_image(tmp_path, extension, magic):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"graph{extension}"
    assert viz.draw(small_graph(), path, renderer="matplotlib") == str(path)
    assert magic in path.read_bytes()[:2000]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
@pytest.mark.parametrize("extension, magic", [(".png", b"\x89PNG"), (".svg", b"<svg")])
def test_dot_renderer_writes_the_image(tmp_path, extension, magic):
    path = tmp_path / f"graph{extension}"
    viz.draw(small_graph(), path, renderer="dot")
    assert magic in path.read_bytes()[:2000]


def test_draw_picks_dot_when_installed_and_matplotlib_otherwise(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    chosen = []
    monkeypatch.setattr(viz, "_render_with_dot", lambda *args: chosen.append("dot"))
    monkeypatch.setattr(viz, "_render_with_matplotlib", lambda *args: chosen.append("matplotlib"))
    monkeypatch.setattr(viz.shutil, "which", lambda program: "/usr/bin/dot")
    viz.draw(small_graph(), tmp_path / "a.png")
    monkeypatch.setattr(viz.shutil, "which", lambda program: None)
    viz.draw(small_graph(), tmp_path / "b.png")
    assert chosen == ["dot", "matplotlib"]


def test_dot_renderer_without_dot_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda program: None)
    with pytest.raises(RuntimeError, match="Graphviz dot program"):
        viz.draw(small_graph(), tmp_path / "graph.svg", renderer="dot")


def test_without_matplotlib_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(ImportError, match="needs matplotlib"):
        viz.draw(small_graph(), tmp_path / "graph.png", renderer="matplotlib")


@pytest.mark.parametrize("name, message", [
    ("graph.pdf", r"must end in one of \('.svg', '.png'\), got '.*graph.pdf' \(extension '.pdf'\)"),
    ("graph", r"extension ''"),
    ("missing/graph.png", r"cannot write '.*missing/graph.png': the directory '.*missing' does not exist"),
    ("folder.png", r"cannot write '.*folder.png': it is a directory"),
])
def test_draw_refuses_paths_it_cannot_write(tmp_path, name, message):
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(ValueError, match=message):
        viz.draw(small_graph(), tmp_path / name, renderer="matplotlib")


def test_draw_refuses_a_read_only_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if shutil.os.access(locked, shutil.os.W_OK):  # root can write anywhere
        pytest.skip("running as a user who can write to a read-only directory")
    with pytest.raises(ValueError, match="permission denied"):
        viz.draw(small_graph(), locked / "graph.png", renderer="matplotlib")


def test_draw_refuses_an_unknown_renderer(tmp_path):
    with pytest.raises(ValueError, match="renderer must be one of \\('dot', 'matplotlib'\\) or None, got 'tikz'"):
        viz.draw(small_graph(), tmp_path / "graph.png", renderer="tikz")


def test_a_failed_write_names_the_path(tmp_path, monkeypatch):
    def refuse(graph, path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(viz, "_render_with_matplotlib", refuse)
    with pytest.raises(ValueError, match=r"cannot write '.*graph.png': \[Errno 13\] Permission denied"):
        viz.draw(small_graph(), tmp_path / "graph.png", renderer="matplotlib")


def test_names_may_be_named_parameters():
    layer = ts.nn.Linear(1, 1)
    lines = dot_lines(layer(ts.tensor([[2.0]])), names=layer.named_parameters())
    assert any('label="weight\\n(1, 1) float32' in line for line in lines)
    assert any('label="bias\\n(1,) float32' in line for line in lines)
