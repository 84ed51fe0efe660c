"""Bad input gives a ValueError or TypeError that names the argument, what was expected and what
was given, raised at the op's front door rather than from deep inside numpy.

The first tests are the original spot checks; BAD_CALLS below is the sweep over every public entry
point (factories, Tensor methods, ops, layers, optimizers, gradcheck, CTC, data, metrics, datasets,
checkpoints and the demos' flags), one row per bad call."""

import functools
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import tinyseq as ts
import tinyseq.nn as nn
import tinyseq.nn.functional as F
from tinyseq import data, io, metrics, optim
from tinyseq.ctc import beam_search_decode, ctc_loss, greedy_decode
from tinyseq.datasets import atis_format, flights, glyphs, long_range


@pytest.mark.parametrize("data", [
    np.array([1, "a"], dtype=object),
    np.array(["a", "b"]),
    ["x", "y"],
    "text",
    None,
    [1j, 2j],
], ids=["object array", "string array", "list of strings", "string", "None", "complex"])
def test_non_numeric_data_is_a_type_error_naming_the_dtype(data):
    with pytest.raises(TypeError, match=r"data: expected numeric or bool data, got an array of dtype"):
        ts.tensor(data)


def test_ragged_nested_lists_are_a_value_error_naming_data():
    with pytest.raises(ValueError, match=r"data: cannot make an array of numbers from list data"):
        ts.tensor([[1.0, 2.0], [3.0]])


def test_operands_that_are_strings_are_a_type_error():
    with pytest.raises(TypeError, match="expected numeric or bool data"):
        ts.ones(2) * "a"
    with pytest.raises(TypeError, match="expected numeric or bool data"):
        ts.ones(2) + None


def test_matmul_shape_mismatch_shows_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not fit"):
        ts.ones(2, 3) @ ts.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(2,\) do not fit"):
        ts.matmul(ts.ones(3), ts.ones(2))
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 2, 3\) and \(3, 3, 4\) do not fit.*batch"):
        ts.ones(2, 2, 3) @ ts.ones(3, 3, 4)
    with pytest.raises(ValueError, match=r"matmul: both operands need at least 1 dimension, got shapes \(\) and \(2,\)"):
        ts.matmul(ts.tensor(1.0), ts.ones(2))


@pytest.mark.parametrize("target, bad", [([0, 3], 3), ([-1, 0], -1), ([0, 7], 7)])
def test_cross_entropy_target_out_of_range_names_the_range_and_the_value(target, bad):
    with pytest.raises(ValueError, match=rf"target values must be in \[0, 3\) or ignore_index=-100, got {bad}"):
        ts.cross_entropy(ts.zeros(2, 3), ts.tensor(target))


def test_cross_entropy_target_of_the_wrong_shape_or_dtype():
    with pytest.raises(ValueError, match=r"input of shape \(2, 3\) needs a target of shape \(2,\), got \(3,\)"):
        ts.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"input of shape \(2, 3, 4\) needs a target of shape \(2, 4\), got \(2,\)"):
        ts.cross_entropy(ts.zeros(2, 3, 4), ts.tensor([0, 1]))
    with pytest.raises(TypeError, match="target must hold integer class indices, got dtype float32"):
        ts.cross_entropy(ts.zeros(2, 3), ts.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        ts.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), reduction="avg")


def test_gradcheck_on_float32_is_a_type_error():
    with pytest.raises(TypeError, match="gradcheck: input 0 has dtype float32, expected float64"):
        ts.gradcheck(ts.tanh, [ts.ones(2, requires_grad=True)])


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(ValueError, match="does not require grad.*requires_grad=True"):
        ts.ones(3).sum().backward()


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_broadcasting_mismatch_names_the_op_and_both_shapes(op):
    fn = getattr(ts, op)
    with pytest.raises(ValueError, match=rf"{op}: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        fn(ts.ones(2, 3), ts.ones(4))
    with pytest.raises(ValueError, match=rf"{op}: shapes \(4,\) and \(2, 3\) cannot be broadcast together"):
        fn(np.ones(4), ts.ones(2, 3))


def test_broadcasting_mismatch_through_operators_names_the_op():
    with pytest.raises(ValueError, match=r"sub: shapes \(5,\) and \(2, 3\)"):
        np.ones(5) - ts.ones(2, 3)
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(2,\)"):
        ts.ones(2, 3) * [1.0, 2.0]


def test_where_mismatch_names_all_three_shapes():
    with pytest.raises(ValueError, match=r"where: condition of shape \(2,\) does not broadcast with inputs of shapes \(3,\) and \(\)"):
        ts.where(ts.ones(2) > 0, ts.ones(3), 0.0)
    with pytest.raises(TypeError, match="where: condition must be a bool array or tensor, got dtype float32"):
        ts.where(ts.ones(2), ts.ones(2), 0.0)


@pytest.mark.parametrize("call, message", [
    (lambda: ts.ones(2, 3).reshape(4), r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4,\)"),
    (lambda: ts.ones(2, 3).sum(dim=2), r"sum: dim must be in \[-2, 2\) for a 2-d tensor, got 2"),
    (lambda: ts.ones(2, 3).permute(1, 2), r"permute: dims must be in \[-2, 2\) for a 2-d tensor, got 2"),
    (lambda: ts.ones(2, 3).permute(0, 0), r"permute: dims must not repeat a dimension, got \(0, 0\)"),
    (lambda: ts.ones(2, 3).permute(0), r"permute: dims must be a permutation of range\(2\), got \(0,\)"),
    (lambda: ts.ones(2, 3).sum(dim=(1, -1)), r"sum: dim must not repeat a dimension, got \(1, -1\)"),
    (lambda: ts.ones(2, 3).expand(4, 3), r"expand: a tensor of shape \(2, 3\) cannot be expanded to \(4, 3\)"),
    (lambda: ts.concat([ts.ones(2, 3), ts.ones(3, 2)]), r"concat: tensor 1 has shape \(3, 2\), incompatible with tensor 0's \(2, 3\)"),
    (lambda: ts.stack([ts.ones(2), ts.ones(3)]), r"stack: tensor 1 has shape \(3,\), incompatible with tensor 0's \(2,\)"),
    (lambda: ts.concat([]), "concat: expected a non-empty sequence of tensors"),
    (lambda: ts.split(ts.ones(5), [1, 3]), r"split: sections \[1, 3\] add up to 4, but dimension 0 has length 5"),
    (lambda: ts.split(ts.ones(5), 0), "split: split_size must be positive, got 0"),
    (lambda: ts.chunk(ts.ones(5), 0), "chunk: chunks must be a positive integer, got 0"),
    (lambda: ts.pad(ts.ones(4), (1,)), r"pad: expected an even number \(at most 2\) of non-negative widths, got \(1,\)"),
    (lambda: ts.softmax(ts.ones(2), dim=3), r"softmax: dim must be in \[-1, 1\) for a 1-d tensor, got 3"),
    (lambda: ts.linear(ts.ones(2, 3), ts.ones(4, 2)), r"linear: input of shape \(2, 3\) needs a last dimension equal to weight.shape\[1\]; weight has shape \(4, 2\)"),
    (lambda: ts.embedding(ts.tensor([0, 3]), ts.ones(3, 2)), r"embedding: indices must be in \[0, 3\), got values from 0 to 3"),
    (lambda: ts.embedding(ts.tensor([0]), ts.ones(3, 2), padding_idx=3), r"embedding: padding_idx must be in \[-3, 3\), got 3"),
    (lambda: ts.dropout(ts.ones(2), p=1.5), r"dropout: p must be in \[0, 1\], got 1.5"),
    (lambda: ts.clamp(ts.ones(2)), "clamp: at least one of min and max must be given"),
    (lambda: ts.ones(2).item(), r"item\(\): only one-element tensors can be converted, got shape \(2,\)"),
    (lambda: (ts.ones(2, requires_grad=True) * 2).backward(np.ones(3)), r"grad must have the output's shape \(2,\), got \(3,\)"),
], ids=lambda value: value.split(":")[0].replace("\\", "") if isinstance(value, str) else "error")
def test_shape_and_value_errors_name_the_op_the_expected_and_the_actual(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: ts.embedding(ts.tensor([0.0]), ts.ones(3, 2)), "embedding: input must hold integer indices, got dtype float32"),
    (lambda: ts.tensor([1, 2], requires_grad=True), "requires_grad: only floating-point tensors can require gradients, got int64"),
    (lambda: ts.to_dtype(ts.ones(2), np.int32), "to_dtype: dtype must be a floating dtype, got int32"),
    (lambda: ts.set_default_dtype(np.int64), "set_default_dtype: dtype must be float32 or float64, got int64"),
    (lambda: ts.ones(2, 3).mean(dim=1.0), "mean: dim must be an int, a tuple of ints or None, got 1.0"),
])
def test_type_errors_name_the_argument_the_expected_and_the_actual(call, message):
    with pytest.raises(TypeError, match=message):
        call()


# ------------------------------------------------------------------------------------------------
# The sweep: every public entry point, each kind of wrong value (negative or non-integer sizes,
# wrong dtype, wrong rank, empty, NaN/inf, wrong type, bad path, a file that is not what it should
# be). One row per bad call: the call, the exception type, a fragment the message must contain.
# The fragment names the function or argument and, where there is one, the value that was given.

DEMOS = Path(__file__).resolve().parents[1] / "demos"


@functools.cache
def _demo(name):
    spec = importlib.util.spec_from_file_location(f"{name}_demo_for_bad_input", DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flags(demo, *argv):
    """The demo's own flag parsing, as its command line runs it."""
    return lambda: _demo(demo).parse_args(list(argv))


def _param(rows=2):
    return nn.Parameter(np.ones((rows, 2), dtype=np.float32))


def _with_grad(grad):
    def step():
        weight = _param()
        weight.grad = grad
        optim.SGD([weight], lr=0.1).step()
    return step


def _f64(*shape):
    return ts.ones(*shape, dtype=np.float64, requires_grad=True)


def _file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _slot_folder(tmp_path, seq_in=b"hi there\n", seq_out=b"O O\n"):
    for split in ("train", "valid", "test"):
        (tmp_path / split).mkdir()
        (tmp_path / split / "seq.in").write_bytes(seq_in)
        (tmp_path / split / "seq.out").write_bytes(seq_out)
    return tmp_path


def row(name, call, error, fragment):
    return pytest.param(call, error, fragment, id=name)


BAD_CALLS = [
    # --- factories and tensor() ----------------------------------------------------------------
    row("zeros negative size", lambda: ts.zeros(-1), ValueError, "zeros: size must hold integers >= 0, got (-1,)"),
    row("ones negative size", lambda: ts.ones(2, -3), ValueError, "ones: size must hold integers >= 0, got (2, -3)"),
    row("zeros float size", lambda: ts.zeros(2.5), TypeError, "zeros: size must be a tuple of ints, got (2.5,)"),
    row("zeros str size", lambda: ts.zeros("a"), TypeError, "zeros: size must be a tuple of ints, got ('a',)"),
    row("randn negative size", lambda: ts.randn(-1), ValueError, "randn: size must hold integers >= 0, got (-1,)"),
    row("rand float size", lambda: ts.rand(1.5), TypeError, "rand: size must be a tuple of ints, got (1.5,)"),
    row("randn int dtype", lambda: ts.randn(3, dtype=np.int64), TypeError, "randn: dtype must be a floating dtype"),
    row("full negative size", lambda: ts.full(-1, 0.0), ValueError, "full: size must hold integers >= 0, got (-1,)"),
    row("full str fill", lambda: ts.full(2, "a"), TypeError, "full: fill_value must be a number, got str 'a'"),
    row("full bad dtype", lambda: ts.full(2, 1.0, dtype="foo"), TypeError, "full: dtype must be a numpy dtype"),
    row("zeros_like list", lambda: ts.zeros_like([1, 2]), TypeError, "zeros_like: other must be a Tensor or an ndarray, got list"),
    row("ones_like bad dtype", lambda: ts.ones_like(ts.ones(2), dtype="foo"), TypeError, "ones_like: dtype must be a numpy dtype"),
    row("arange step 0", lambda: ts.arange(0, 5, 0), ValueError, "arange: step must be nonzero, got 0"),
    row("arange nan", lambda: ts.arange(float("nan")), ValueError, "arange: end must be finite, got nan"),
    row("arange inf", lambda: ts.arange(0, float("inf")), ValueError, "arange: end must be finite, got inf"),
    row("arange str", lambda: ts.arange("a"), TypeError, "arange: end must be a number, got str 'a'"),
    row("tensor 2**63", lambda: ts.tensor([2**63]), ValueError, "data: integers must fit in int64"),
    row("tensor huge int", lambda: ts.tensor([[1], [2**70]]), ValueError, "data: integers must fit in int64"),
    row("tensor bad dtype", lambda: ts.tensor([1.0], dtype="foo"), TypeError, "tensor: dtype must be a numpy dtype"),
    row("tensor strings", lambda: ts.tensor(["a"]), TypeError, "data: expected numeric or bool data, got an array of dtype <U1"),
    row("tensor ragged", lambda: ts.tensor([[1.0], [2.0, 3.0]]), ValueError, "data: cannot make an array of numbers"),
    row("tensor int requires_grad", lambda: ts.tensor([1], requires_grad=True), TypeError, "requires_grad: only floating-point"),
    row("manual_seed str", lambda: ts.manual_seed("abc"), TypeError, "manual_seed: seed must be an int or None, got str 'abc'"),
    row("manual_seed float", lambda: ts.manual_seed(1.5), TypeError, "manual_seed: seed must be an int or None, got float 1.5"),
    row("manual_seed negative", lambda: ts.manual_seed(-1), ValueError, "manual_seed: seed must be >= 0, got -1"),
    row("set_default_dtype str", lambda: ts.set_default_dtype("foo"), TypeError, "set_default_dtype: dtype must be float32 or float64, got 'foo'"),
    row("set_default_dtype int", lambda: ts.set_default_dtype(np.int32), TypeError, "set_default_dtype: dtype must be float32 or float64, got int32"),
    # --- Tensor methods ------------------------------------------------------------------------
    row("len of 0-d", lambda: len(ts.tensor(1.0)), TypeError, "len() of a 0-d tensor"),
    row("iter of 0-d", lambda: iter(ts.tensor(1.0)), TypeError, "iteration over a 0-d tensor"),
    row("item of several", lambda: ts.ones(2).item(), ValueError, "item(): only one-element tensors can be converted, got shape (2,)"),
    row("float of empty", lambda: float(ts.ones(0)), ValueError, "got shape (0,)"),
    row("int of several", lambda: int(ts.ones(3)), ValueError, "got shape (3,)"),
    row("argmax dim out of range", lambda: ts.ones(2).argmax(5), ValueError, "argmax: dim must be in [-1, 1) for a 1-d tensor, got 5"),
    row("argmax float dim", lambda: ts.ones(2, 2).argmax(1.0), TypeError, "argmax: dim must be an int or None, got 1.0"),
    row("argmax empty", lambda: ts.ones(0).argmax(), ValueError, "argmax: cannot take the argmax over an empty dimension"),
    row("compare shapes", lambda: ts.ones(2) < ts.ones(3), ValueError, "less: cannot compare a tensor of shape (2,)"),
    row("compare with str", lambda: ts.ones(2) == "a", TypeError, "equal: cannot compare a tensor of shape (2,) and dtype float32 with str ()"),
    row("backward non-scalar", lambda: (ts.ones(2, requires_grad=True) * 2).backward(), ValueError, "backward(): grad must be given for a non-scalar output, got shape (2,)"),
    row("backward str grad", lambda: (ts.ones(2, requires_grad=True) * 2).backward("ab"), TypeError, "backward(): grad must be numbers of the output's shape (2,), got 'ab'"),
    row("backward no graph", lambda: ts.ones(1).backward(), ValueError, "backward(): this tensor does not require grad"),
    # --- elementwise ---------------------------------------------------------------------------
    row("add shapes", lambda: ts.ones(2, 3) + ts.ones(4), ValueError, "add: shapes (2, 3) and (4,) cannot be broadcast together"),
    row("mul string", lambda: ts.ones(2) * "a", TypeError, "expected numeric or bool data"),
    row("pow shapes", lambda: ts.ones(2) ** ts.ones(3), ValueError, "pow: shapes (2,) and (3,)"),
    row("int to negative int power", lambda: ts.tensor([2]) ** -1, ValueError, "pow: integers to negative integer powers are not allowed, got exponent -1"),
    row("neg bool", lambda: -ts.tensor([True]), TypeError, "neg: bool tensors are not supported, got dtype bool (use x == False"),
    row("sub bool", lambda: ts.tensor([1.0]) - ts.tensor([True]), TypeError, "sub: bool tensors are not supported, got dtype bool"),
    row("rsub bool", lambda: 1 - ts.tensor([True]), TypeError, "sub: bool tensors are not supported, got dtype bool"),
    row("relu bool", lambda: ts.relu(ts.tensor([True, False])), TypeError, "relu: bool tensors are not supported"),
    row("abs bool", lambda: ts.abs(ts.tensor([True, False])), TypeError, "abs: bool tensors are not supported"),
    row("clamp no bounds", lambda: ts.clamp(ts.ones(2)), ValueError, "clamp: at least one of min and max must be given"),
    row("clamp str bound", lambda: ts.clamp(ts.ones(2), "a"), TypeError, "clamp: min must be a number, a tensor or None, got str 'a'"),
    row("clamp str max", lambda: ts.clamp(ts.ones(2), max="b"), TypeError, "clamp: max must be a number"),
    row("where int condition", lambda: ts.where(np.array([1, 0]), ts.ones(2), 0.0), TypeError, "where: condition must be a bool array or tensor, got dtype int64"),
    row("where shapes", lambda: ts.where(ts.ones(2) > 0, ts.ones(3), 0.0), ValueError, "where: condition of shape (2,)"),
    row("to_dtype int", lambda: ts.to_dtype(ts.ones(2), np.int32), TypeError, "to_dtype: dtype must be a floating dtype, got int32"),
    row("to_dtype str", lambda: ts.to_dtype(ts.ones(2), "foo"), TypeError, "to_dtype: dtype must be a numpy floating dtype"),
    # --- reductions ----------------------------------------------------------------------------
    row("sum dim out of range", lambda: ts.ones(2, 3).sum(2), ValueError, "sum: dim must be in [-2, 2) for a 2-d tensor, got 2"),
    row("sum dim str", lambda: ts.ones(2).sum("a"), TypeError, "sum: dim must be an int, a tuple of ints or None, got 'a'"),
    row("sum dim float in tuple", lambda: ts.ones(2, 2).sum((0, 1.0)), TypeError, "sum: dim must be ints, got 1.0"),
    row("sum 0-d dim 1", lambda: ts.tensor(1.0).sum(1), ValueError, "sum: dim must be in [-1, 1) for a 0-d tensor, got 1"),
    row("sum keepdim str", lambda: ts.ones(2).sum(0, keepdim="yes"), TypeError, "sum: keepdim must be a bool, got 'yes'"),
    row("mean int", lambda: ts.tensor([1, 2]).mean(), TypeError, "mean: input must be a floating-point tensor, got dtype int64"),
    row("var int", lambda: ts.tensor([1, 2]).var(), TypeError, "var: input must be a floating-point tensor, got dtype int64"),
    row("var str correction", lambda: ts.ones(2).var(correction="a"), TypeError, "var: correction must be a number, got 'a'"),
    row("max empty", lambda: ts.ones(0).max(), ValueError, "max: cannot reduce over dimension 0 of a tensor of shape (0,): it is empty"),
    row("min empty dim", lambda: ts.ones(0, 3).min(0), ValueError, "min: cannot reduce over dimension 0 of a tensor of shape (0, 3)"),
    row("amax empty dim", lambda: ts.ones(2, 0).amax((0, 1)), ValueError, "amax: cannot reduce over dimension 1 of a tensor of shape (2, 0): it is empty (the maximum"),
    row("amin empty", lambda: ts.ones(0).amin(), ValueError, "amin: cannot reduce over dimension 0 of a tensor of shape (0,): it is empty (the minimum"),
    row("max tuple dim", lambda: ts.ones(2, 2).max((0, 1)), TypeError, "max: dim must be an int when given"),
    row("logsumexp dim", lambda: ts.ones(2).logsumexp(3), ValueError, "logsumexp: dim must be in [-1, 1)"),
    # --- shape ops -----------------------------------------------------------------------------
    row("reshape float", lambda: ts.ones(6).reshape(2, 3.0), TypeError, "reshape: shape must be a tuple of ints, got (2, 3.0)"),
    row("reshape str", lambda: ts.ones(6).reshape("a"), TypeError, "reshape: shape must be a tuple of ints"),
    row("reshape -2", lambda: ts.ones(6).reshape(-2, -3), ValueError, "reshape: shape must hold integers >= 0, or -1, got (-2, -3)"),
    row("reshape size", lambda: ts.ones(2, 3).reshape(4), ValueError, "reshape: cannot reshape a tensor of shape (2, 3) (6 elements) into (4,)"),
    row("view float", lambda: ts.ones(6).view(6.0), TypeError, "reshape: shape must be a tuple of ints"),
    row("expand float", lambda: ts.ones(1).expand(2.0), TypeError, "expand: sizes must be a tuple of ints, got (2.0,)"),
    row("expand -2", lambda: ts.ones(1).expand(-2), ValueError, "expand: sizes must hold integers >= 0, or -1, got (-2,)"),
    row("permute str", lambda: ts.ones(2, 2).permute("a", "b"), TypeError, "permute: dims must be ints, got 'a'"),
    row("transpose float", lambda: ts.ones(2, 2).transpose(1.0, 0), TypeError, "transpose: dim0 must be an int"),
    row("squeeze dim", lambda: ts.ones(2).squeeze(5), ValueError, "squeeze: dim must be in [-1, 1)"),
    row("unsqueeze dim", lambda: ts.ones(2).unsqueeze(5), ValueError, "unsqueeze: dim must be in [-2, 2)"),
    row("getitem float", lambda: ts.ones(3)[1.5], IndexError, "getitem: index 1.5 does not fit a tensor of shape (3,)"),
    row("getitem out of range", lambda: ts.ones(3)[5], IndexError, "getitem: index 5 does not fit a tensor of shape (3,)"),
    row("getitem float tensor", lambda: ts.ones(3)[ts.tensor([0.0])], IndexError, "arrays used as indices must be of integer"),
    row("concat 0-d", lambda: ts.concat([ts.tensor(1.0), ts.tensor(2.0)]), ValueError, "concat: tensor 0 is 0-d and cannot be concatenated"),
    row("concat empty list", lambda: ts.concat([]), ValueError, "concat: expected a non-empty sequence of tensors"),
    row("concat shapes", lambda: ts.concat([ts.ones(2, 3), ts.ones(3, 2)]), ValueError, "concat: tensor 1 has shape (3, 2)"),
    row("stack shapes", lambda: ts.stack([ts.ones(2), ts.ones(3)]), ValueError, "stack: tensor 1 has shape (3,)"),
    row("split float", lambda: ts.split(ts.ones(4), 1.5), TypeError, "split: split_size_or_sections must be an int or a list of ints, got 1.5"),
    row("split str", lambda: ts.split(ts.ones(4), "ab"), TypeError, "split: split_size_or_sections must be an int or a list of ints, got 'ab'"),
    row("split negative sections", lambda: ts.split(ts.ones(4), [-1, 5]), ValueError, "split: sections must hold integers >= 0, got (-1, 5)"),
    row("split 0-d", lambda: ts.split(ts.tensor(1.0), 1), ValueError, "split: expected a tensor with at least 1 dimension, got a 0-d tensor"),
    row("chunk float", lambda: ts.chunk(ts.ones(4), 2.0), ValueError, "chunk: chunks must be a positive integer, got 2.0"),
    row("chunk 0-d", lambda: ts.chunk(ts.tensor(1.0), 1), ValueError, "chunk: expected a tensor with at least 1 dimension"),
    row("unbind 0-d", lambda: ts.unbind(ts.tensor(1.0)), ValueError, "unbind: expected a tensor with at least 1 dimension, got a 0-d tensor"),
    row("pad int", lambda: ts.pad(ts.ones(4), 1), TypeError, "pad: pad must be a tuple of ints (last_left, last_right, ...), got 1"),
    row("pad float", lambda: ts.pad(ts.ones(4), (1.5, 1)), TypeError, "pad: pad must be a tuple of ints, got (1.5, 1)"),
    row("pad odd", lambda: ts.pad(ts.ones(4), (1,)), ValueError, "pad: expected an even number (at most 2) of non-negative widths, got (1,)"),
    row("pad str value", lambda: ts.pad(ts.ones(4), (1, 1), value="a"), TypeError, "pad: value must be a number, got 'a'"),
    row("flip dim", lambda: ts.flip(ts.ones(2), 5), ValueError, "flip: dims must be in [-1, 1)"),
    # --- linear algebra and neural-network ops -------------------------------------------------
    row("matmul shapes", lambda: ts.ones(2, 3) @ ts.ones(4, 5), ValueError, "matmul: shapes (2, 3) and (4, 5) do not fit"),
    row("matmul dtypes", lambda: ts.ones(1, 2, dtype=np.float64) @ ts.ones(2, 2), TypeError, "matmul: both operands must have the same dtype, got float64 and float32"),
    row("matmul 0-d", lambda: ts.matmul(ts.tensor(1.0), ts.ones(2)), ValueError, "matmul: both operands need at least 1 dimension"),
    row("linear int input", lambda: F.linear(ts.tensor([[1, 2]]), ts.ones(2, 2)), TypeError, "linear: input has dtype int64 but weight has dtype float32"),
    row("linear bias dtype", lambda: F.linear(ts.ones(1, 2), ts.ones(2, 2), ts.ones(2, dtype=np.float64)), TypeError, "linear: bias has dtype float64 but weight has dtype float32"),
    row("linear shapes", lambda: F.linear(ts.ones(2, 3), ts.ones(4, 2)), ValueError, "linear: input of shape (2, 3) needs a last dimension equal to weight.shape[1]"),
    row("linear bias shape", lambda: F.linear(ts.ones(1, 2), ts.ones(3, 2), [1.0, 2.0]), ValueError, "linear: bias must have shape (3,), got (2,)"),
    row("softmax int", lambda: F.softmax(ts.tensor([1, 2]), 0), TypeError, "softmax: input must be a floating-point tensor, got dtype int64"),
    row("log_softmax dim", lambda: F.log_softmax(ts.ones(2), dim=3), ValueError, "log_softmax: dim must be in [-1, 1)"),
    row("cross_entropy int logits", lambda: F.cross_entropy(ts.tensor([[1, 2]]), ts.tensor([0])), TypeError, "cross_entropy: input must be a floating-point tensor, got dtype int64"),
    row("cross_entropy float target", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0.0, 1.0])), TypeError, "cross_entropy: target must hold integer class indices, got dtype float32"),
    row("cross_entropy target range", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 3])), ValueError, "cross_entropy: target values must be in [0, 3) or ignore_index=-100, got 3"),
    row("cross_entropy float ignore_index", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), ignore_index=1.5), TypeError, "cross_entropy: ignore_index must be an int, got 1.5"),
    row("cross_entropy reduction", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), reduction="avg"), ValueError, "cross_entropy: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    row("cross_entropy weight shape", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), ts.ones(2)), ValueError, "cross_entropy: weight must have shape (3,), one per class, got (2,)"),
    row("cross_entropy weight dtype", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), np.array(["a", "b", "c"])), TypeError, "cross_entropy: weight must hold numbers, got dtype <U1"),
    row("cross_entropy weight with grad", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), ts.ones(3, requires_grad=True)), ValueError, "cross_entropy: weight must not require a gradient"),
    row("cross_entropy smoothing range", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), label_smoothing=1.5), ValueError, "cross_entropy: label_smoothing must be in [0, 1], got 1.5"),
    row("cross_entropy smoothing type", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), label_smoothing="0.1"), TypeError, "cross_entropy: label_smoothing must be a number in [0, 1], got '0.1'"),
    row("CrossEntropyLoss smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), ValueError, "CrossEntropyLoss: label_smoothing must be in [0, 1], got -0.1"),
    row("CrossEntropyLoss reduction", lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError, "CrossEntropyLoss: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    row("cross_entropy positional ignore_index", lambda: F.cross_entropy(ts.zeros(2, 3), ts.tensor([0, 1]), None, -1), TypeError, "takes from 2 to 3 positional arguments"),
    row("embedding float indices", lambda: F.embedding(ts.tensor([0.0]), ts.ones(3, 2)), TypeError, "embedding: input must hold integer indices, got dtype float32"),
    row("embedding 1-D weight", lambda: F.embedding(ts.tensor([0]), ts.ones(3)), ValueError, "embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape (3,)"),
    row("embedding index range", lambda: F.embedding(ts.tensor([0, 3]), ts.ones(3, 2)), ValueError, "embedding: indices must be in [0, 3), got values from 0 to 3"),
    row("embedding float padding_idx", lambda: F.embedding(ts.tensor([0]), ts.ones(3, 2), padding_idx=1.5), TypeError, "embedding: padding_idx must be an int or None, got 1.5"),
    row("dropout str p", lambda: F.dropout(ts.ones(2), "a"), TypeError, "dropout: p must be a number in [0, 1], got 'a'"),
    row("dropout nan p", lambda: F.dropout(ts.ones(2), float("nan")), ValueError, "dropout: p must be in [0, 1], got nan"),
    row("dropout int input", lambda: F.dropout(ts.tensor([1, 2]), 0.5), TypeError, "dropout: input must be a floating-point tensor, got dtype int64"),
    # --- layers and modules --------------------------------------------------------------------
    row("Linear negative", lambda: nn.Linear(-1, 2), ValueError, "Linear: in_features must be a positive integer, got -1"),
    row("Linear float", lambda: nn.Linear(2, 2.0), ValueError, "Linear: out_features must be a positive integer, got 2.0"),
    row("Linear wrong features", lambda: nn.Linear(2, 2)(ts.ones(3)), ValueError, "linear: input of shape (3,) needs a last dimension equal to weight.shape[1]"),
    row("Linear float64 input", lambda: nn.Linear(2, 2)(ts.ones(1, 2, dtype=np.float64)), TypeError, "linear: input has dtype float64 but weight has dtype float32"),
    row("Embedding negative", lambda: nn.Embedding(-1, 2), ValueError, "Embedding: num_embeddings must be >= 0, got -1"),
    row("Embedding float dim", lambda: nn.Embedding(3, 2.5), TypeError, "Embedding: embedding_dim must be an int, got float 2.5"),
    row("Embedding padding range", lambda: nn.Embedding(3, 2, padding_idx=3), ValueError, "Embedding: padding_idx must be in [-3, 3), got 3"),
    row("Embedding float padding", lambda: nn.Embedding(3, 2, padding_idx=1.5), TypeError, "Embedding: padding_idx must be an int or None, got 1.5"),
    row("Dropout str", lambda: nn.Dropout("a"), TypeError, "Dropout: p must be a number in [0, 1], got 'a'"),
    row("Dropout nan", lambda: nn.Dropout(float("nan")), ValueError, "Dropout: p must be in [0, 1], got nan"),
    row("Sequential function", lambda: nn.Sequential(nn.Linear(2, 2), ts.relu), TypeError, "Sequential: position 1 holds a function"),
    row("ModuleList int", lambda: nn.ModuleList(3), TypeError, "ModuleList: expected an iterable of Modules, got int"),
    row("Parameter strings", lambda: nn.Parameter("a"), TypeError, "data: expected numeric or bool data"),
    row("Parameter ints", lambda: nn.Parameter([1, 2]), TypeError, "requires_grad: only floating-point tensors can require gradients, got int64"),
    row("load_state_dict list", lambda: nn.Linear(2, 2).load_state_dict([1, 2]), TypeError, "load_state_dict: state_dict must be a mapping of names to arrays, got list"),
    row("load_state_dict strings", lambda: nn.Linear(2, 2).load_state_dict({"weight": "ab", "bias": np.zeros(2)}), TypeError, "load_state_dict: state_dict['weight'] must be a numeric array, got dtype <U2"),
    row("load_state_dict shape", lambda: nn.Linear(2, 2).load_state_dict({"weight": np.ones((3, 2)), "bias": np.ones(2)}), ValueError, "load_state_dict: state_dict['weight'] has shape (3, 2), but the parameter's shape is (2, 2)"),
    row("load_state_dict keys", lambda: nn.Linear(2, 2).load_state_dict({"weight": np.ones((2, 2))}), ValueError, "load_state_dict: state_dict is missing keys ['bias']"),
    row("RNN negative size", lambda: nn.RNN(-1, 2), ValueError, "RNN: input_size must be a positive integer, got -1"),
    row("GRU zero layers", lambda: nn.GRU(2, 2, num_layers=0), ValueError, "GRU: num_layers must be a positive integer, got 0"),
    row("RNN nonlinearity", lambda: nn.RNN(2, 2, nonlinearity="sig"), ValueError, "RNN: nonlinearity must be 'tanh' or 'relu', got 'sig'"),
    row("LSTM lengths", lambda: nn.LSTM(2, 2)(ts.ones(3, 1, 2), lengths=np.array([4])), ValueError, "LSTM: lengths must each be in [1, 3]"),
    row("LSTMCell input", lambda: nn.LSTMCell(2, 2)(ts.ones(2, 3)), ValueError, "LSTMCell: input must have shape (batch, 2) or (2,), got (2, 3)"),
    # --- optimizers and clipping ---------------------------------------------------------------
    row("SGD int params", lambda: optim.SGD(3), TypeError, "params: expected an iterable of tensors or of parameter-group dicts, got int"),
    row("SGD None params", lambda: optim.SGD(None), TypeError, "params: expected an iterable of tensors or of parameter-group dicts, got NoneType"),
    row("SGD single tensor", lambda: optim.SGD(_param()), TypeError, "got a single Tensor; wrap it in a list"),
    row("SGD empty", lambda: optim.SGD([]), ValueError, "params: the optimizer got an empty parameter list"),
    row("SGD group params int", lambda: optim.SGD([{"params": 3}]), TypeError, "params: expected an iterable of tensors, got int"),
    row("SGD group without params", lambda: optim.SGD([{"lr": 1}]), ValueError, "param_group: a parameter group needs a 'params' entry"),
    row("SGD lr nan", lambda: optim.SGD([_param()], lr=float("nan")), ValueError, "lr: expected a finite number >= 0, got nan"),
    row("SGD lr inf", lambda: optim.SGD([_param()], lr=float("inf")), ValueError, "lr: expected a finite number >= 0, got inf"),
    row("SGD lr str", lambda: optim.SGD([_param()], lr="a"), TypeError, "lr: expected a real number, got 'a'"),
    row("SGD nesterov", lambda: optim.SGD([_param()], nesterov=True), ValueError, "nesterov: Nesterov momentum needs momentum > 0"),
    row("Adam betas", lambda: optim.Adam([_param()], betas=(0.9,)), TypeError, "betas: expected a pair (beta1, beta2), got (0.9,)"),
    row("Adam beta nan", lambda: optim.Adam([_param()], betas=(float("nan"), 0.9)), ValueError, "betas[0]: expected a finite number >= 0, got nan"),
    row("AdamW eps negative", lambda: optim.AdamW([_param()], eps=-1.0), ValueError, "eps: expected a finite number >= 0, got -1.0"),
    row("step grad shape", _with_grad(np.ones(2, dtype=np.float32)), ValueError, "step(): param_groups[0]['params'][0].grad has shape (2,), but the parameter has shape (2, 2)"),
    row("step grad tensor", _with_grad(ts.ones(2, 2)), TypeError, "step(): param_groups[0]['params'][0].grad must be a floating-point numpy array, got Tensor"),
    row("optimizer load_state_dict empty", lambda: optim.SGD([_param()]).load_state_dict({}), ValueError, "state_dict: expected a dict with the keys 'state' and 'param_groups'"),
    row("optimizer load_state_dict str", lambda: optim.SGD([_param()]).load_state_dict("x"), ValueError, "state_dict: expected a dict with the keys 'state' and 'param_groups' (what state_dict() returns), got str"),
    row("clip_grad_norm_ str", lambda: nn.utils.clip_grad_norm_([_param()], "a"), TypeError, "max_norm: expected a real number, got 'a'"),
    row("clip_grad_norm_ nan", lambda: nn.utils.clip_grad_norm_([_param()], float("nan")), ValueError, "max_norm: expected a number >= 0.0, got nan"),
    row("clip_grad_norm_ norm_type 0", lambda: nn.utils.clip_grad_norm_([_param()], 1.0, norm_type=0), ValueError, "norm_type: expected a number > 0 or inf, got 0"),
    row("clip_grad_norm_ int param", lambda: nn.utils.clip_grad_norm_([3], 1.0), TypeError, "parameters: expected tinyseq Tensors, got int at position 0"),
    row("clip_grad_norm_ int parameters", lambda: nn.utils.clip_grad_norm_(3, 1.0), TypeError, "parameters: expected a Tensor or an iterable of Tensors, got int"),
    row("clip_grad_value_ negative", lambda: nn.utils.clip_grad_value_([_param()], -1), ValueError, "clip_value: expected a number >= 0.0, got -1"),
    # --- gradcheck -----------------------------------------------------------------------------
    row("gradcheck lone tensor", lambda: ts.gradcheck(ts.tanh, _f64(2)), TypeError, "gradcheck: inputs must be a list or tuple of tensors, got Tensor (wrap a single tensor as [x])"),
    row("gradcheck eps 0", lambda: ts.gradcheck(ts.tanh, [_f64(2)], eps=0), ValueError, "gradcheck: eps must be a finite number > 0, got 0"),
    row("gradcheck atol negative", lambda: ts.gradcheck(ts.tanh, [_f64(2)], atol=-1.0), ValueError, "gradcheck: atol must be a finite number >= 0, got -1.0"),
    row("gradcheck ndarray output", lambda: ts.gradcheck(lambda x: x.data, [_f64(2)]), TypeError, "gradcheck: fn must return a Tensor, got ndarray"),
    row("gradcheck seed str", lambda: ts.gradcheck(ts.tanh, [_f64(2)], seed="a"), TypeError, "gradcheck: seed must be an int >= 0, got 'a'"),
    row("gradcheck fn not callable", lambda: ts.gradcheck(3, [_f64(2)]), TypeError, "gradcheck: fn must be callable, got int"),
    row("gradcheck float32", lambda: ts.gradcheck(ts.tanh, [ts.ones(2, requires_grad=True)]), TypeError, "gradcheck: input 0 has dtype float32, expected float64"),
    row("gradcheck nothing to check", lambda: ts.gradcheck(ts.tanh, [ts.ones(2)]), ValueError, "gradcheck: inputs has no tensor with requires_grad=True"),
    # --- CTC loss and decoders -----------------------------------------------------------------
    row("ctc_loss blank in target", lambda: ctc_loss(ts.zeros(3, 1, 3), ts.tensor([[0]]), ts.tensor([3]), ts.tensor([1])), ValueError, "ctc_loss: targets must hold labels in [0, 3) other than the blank 0"),
    row("ctc_loss input length", lambda: ctc_loss(ts.zeros(3, 1, 3), ts.tensor([[1]]), ts.tensor([4]), ts.tensor([1])), ValueError, "ctc_loss: input_lengths must be at most T = 3"),
    row("ctc_loss float targets", lambda: ctc_loss(ts.zeros(3, 1, 3), ts.tensor([[1.0]]), ts.tensor([3]), ts.tensor([1])), TypeError, "ctc_loss: targets must hold integers, got dtype float32"),
    row("ctc_loss int log_probs", lambda: ctc_loss(ts.tensor(np.zeros((3, 1, 3), dtype=np.int64)), ts.tensor([[1]]), ts.tensor([3]), ts.tensor([1])), TypeError, "ctc_loss: log_probs must be float32 or float64, got dtype int64"),
    row("ctc_loss reduction", lambda: ctc_loss(ts.zeros(3, 1, 3), ts.tensor([[1]]), ts.tensor([3]), ts.tensor([1]), reduction="avg"), ValueError, "ctc_loss: reduction must be one of"),
    row("CTCLoss blank", lambda: nn.CTCLoss(blank="a"), ValueError, "CTCLoss: blank must be a non-negative int, got 'a'"),
    row("greedy NaN", lambda: greedy_decode(np.full((3, 1, 3), np.nan)), ValueError, "greedy_decode: log_probs must not hold NaN within the input lengths, got nan at frame 0, sequence 0, class 0"),
    row("beam NaN", lambda: beam_search_decode(np.full((3, 1, 3), np.nan)), ValueError, "beam_search_decode: log_probs must not hold NaN or +inf"),
    row("beam +inf", lambda: beam_search_decode(np.full((3, 1, 3), np.inf)), ValueError, "got inf at frame 0, sequence 0, class 0"),
    row("greedy strings", lambda: greedy_decode("abc"), TypeError, "greedy_decode: log_probs must be floating point, got dtype <U3"),
    row("greedy rank", lambda: greedy_decode(np.zeros(3)), ValueError, "greedy_decode: log_probs must have shape (T, N, C) or unbatched (T, C), got shape (3,)"),
    row("greedy no classes", lambda: greedy_decode(np.zeros((2, 1, 0))), ValueError, "greedy_decode: blank must be in [0, C) = [0, 0), got 0"),
    row("greedy float lengths", lambda: greedy_decode(np.zeros((2, 1, 3)), input_lengths=[1.5]), TypeError, "greedy_decode: input_lengths must hold integers, got dtype float64"),
    row("greedy lengths range", lambda: greedy_decode(np.zeros((2, 1, 3)), input_lengths=[3]), ValueError, "greedy_decode: input_lengths must be in [0, T] = [0, 2], got 3"),
    row("beam width float", lambda: beam_search_decode(np.zeros((2, 1, 3)), beam_width=2.0), ValueError, "beam_search_decode: beam_width must be an int >= 1, got 2.0"),
    row("beam top_paths", lambda: beam_search_decode(np.zeros((2, 1, 3)), beam_width=2, top_paths=3), ValueError, "beam_search_decode: top_paths (3) must be at most beam_width (2)"),
    row("beam scorer", lambda: beam_search_decode(np.zeros((2, 1, 3)), prefix_scorer=3), TypeError, "beam_search_decode: prefix_scorer must be callable or None, got int"),
    # --- data ----------------------------------------------------------------------------------
    row("pad_sequences pad_value fraction", lambda: data.pad_sequences([[1, 2], [3]], pad_value=0.5), ValueError, "pad_value 0.5 does not fit the padded array's dtype int64"),
    row("pad_sequences pad_value uint8", lambda: data.pad_sequences([[1, 2], [3]], pad_value=300, dtype=np.uint8), ValueError, "pad_value 300 does not fit the padded array's dtype uint8"),
    row("pad_sequences pad_value str", lambda: data.pad_sequences([[1, 2], [3]], pad_value="a"), TypeError, "pad_value must be a number, got str 'a'"),
    row("pad_sequences None", lambda: data.pad_sequences(None), TypeError, "sequences must be a list of sequences, got NoneType"),
    row("pad_sequences strings", lambda: data.pad_sequences([["a", "b"], ["c"]]), TypeError, "sequences[0] must hold numbers, got dtype <U1"),
    row("pad_sequences dtype", lambda: data.pad_sequences([[1]], dtype="foo"), TypeError, "dtype must be a numpy dtype or None, got 'foo'"),
    row("pad_sequences ragged item", lambda: data.pad_sequences([[[1], [2, 3]]]), ValueError, "sequences[0] is not a rectangular array"),
    row("pad_sequences scalar item", lambda: data.pad_sequences([1, 2]), ValueError, "sequences[0] is a scalar"),
    row("pad_sequences features", lambda: data.pad_sequences([np.ones((2, 3)), np.ones((1, 4))]), ValueError, "sequences must share their trailing shape"),
    row("Vocab None", lambda: data.Vocab(None), TypeError, "tokens must be a list of strings, got NoneType"),
    row("Vocab repeats", lambda: data.Vocab(["<pad>", "<unk>", "a", "a"]), ValueError, "tokens must not repeat, but these do: ['a']"),
    row("Vocab pad first", lambda: data.Vocab(["a", "<pad>", "<unk>"]), ValueError, "pad_token '<pad>' must be tokens[0], got 'a'"),
    row("Vocab.build int", lambda: data.Vocab.build(3), TypeError, "sequences must be an iterable of token sequences, got int"),
    row("Vocab.build str", lambda: data.Vocab.build(["ab"]), TypeError, "sequences must hold token sequences (lists of str), got the str 'ab'"),
    row("Vocab.build min_freq", lambda: data.Vocab.build([["a"]], min_freq=0), ValueError, "min_freq must be an int >= 1, got 0"),
    row("Vocab.build max_size str", lambda: data.Vocab.build([["a"]], max_size="a"), TypeError, "max_size must be an int or None, got 'a'"),
    row("Vocab.build max_size small", lambda: data.Vocab.build([["a"]], max_size=1), ValueError, "max_size must be at least the 2 special tokens, got 1"),
    row("Vocab.encode int", lambda: data.Vocab(["<pad>", "<unk>"]).encode(3), TypeError, "encode takes a sequence of tokens, got int"),
    row("Vocab.encode str", lambda: data.Vocab(["<pad>", "<unk>"]).encode("ab"), TypeError, "encode takes a sequence of tokens, got the str 'ab'"),
    row("Vocab.decode range", lambda: data.Vocab(["<pad>", "<unk>"]).decode([5]), ValueError, "id 5 at position 0 is not in [0, 2)"),
    row("Vocab.decode float", lambda: data.Vocab(["<pad>", "<unk>"]).decode([1.0]), ValueError, "id 1.0 at position 0 is not in [0, 2)"),
    row("Vocab.from_dict list", lambda: data.Vocab.from_dict([1]), TypeError, "a Vocab description must be a dict, got list"),
    row("Vocab.from_dict keys", lambda: data.Vocab.from_dict({"tokens": []}), ValueError, "a Vocab description needs the keys ['pad_token', 'unk_token']"),
    row("BucketBatchSampler negative length", lambda: data.BucketBatchSampler([-1, 2], 2), ValueError, "lengths must be >= 0, got -1 at index 0"),
    row("BucketBatchSampler float lengths", lambda: data.BucketBatchSampler([1.5, 2], 2), ValueError, "lengths must be a 1-D list of ints, got shape (2,) and dtype float64"),
    row("BucketBatchSampler batch_size", lambda: data.BucketBatchSampler([1, 2], 1.5), ValueError, "batch_size must be a positive int, got 1.5"),
    row("BucketBatchSampler pool_size", lambda: data.BucketBatchSampler([1, 2], 1, pool_size=0), ValueError, "pool_size must be a positive int, got 0"),
    row("BucketBatchSampler seed", lambda: data.BucketBatchSampler([1], 1, seed="a"), ValueError, "seed must be an int >= 0 or None, got 'a'"),
    # --- metrics -------------------------------------------------------------------------------
    row("edit_distance int", lambda: metrics.edit_distance(3, [1]), TypeError, "a must be a sequence (str, list, tuple or 1-D array), got int"),
    row("cer None", lambda: metrics.cer(None, None), TypeError, "cer: refs must be a list of strings or symbol sequences, got NoneType"),
    row("cer lengths", lambda: metrics.cer(["a"], ["a", "b"]), ValueError, "cer: refs has 1 items but hyps has 2"),
    row("cer item int", lambda: metrics.cer([1], [2]), TypeError, "refs[0] must be a sequence (str, list, tuple or 1-D array), got int"),
    row("wer str and list", lambda: metrics.wer("a b", ["a b"]), TypeError, "wer: refs is a str but the other argument is not"),
    row("span_f1 None", lambda: metrics.span_f1(None, None), TypeError, "gold_tags must be a list of tags or a list of sentences of tags, got NoneType"),
    row("span_f1 str", lambda: metrics.span_f1("O", "O"), TypeError, "gold_tags must be a list of tags or a list of sentences of tags, got a str"),
    row("span_f1 int sentence", lambda: metrics.span_f1([["O"], 3], [["O"], ["O"]]), TypeError, "gold_tags[1] must be a tag string or a sentence of tags, got int"),
    row("span_f1 bad tag", lambda: metrics.span_f1([["X"]], [["O"]]), ValueError, "tag 'X' is not a BIO tag"),
    row("span_report sentences", lambda: metrics.span_report([["O"]], [["O"], ["O"]]), ValueError, "gold_tags has 1 sentences but pred_tags has 2"),
    row("span_report sentence length", lambda: metrics.span_report([["O"]], [["O", "O"]]), ValueError, "sentence 0: gold_tags has 1 tags but pred_tags has 2"),
    row("split_bio_tag", lambda: metrics.split_bio_tag("S-x"), ValueError, "tag 'S-x' is not a BIO tag"),
    row("extract_chunks str", lambda: metrics.extract_chunks("B-x"), TypeError, "extract_chunks: tags must be a sequence of tags, got the str 'B-x'"),
    row("intent_accuracy None", lambda: metrics.intent_accuracy(None, None), TypeError, "gold_intents must be a list of intent labels, got NoneType"),
    row("intent_accuracy str", lambda: metrics.intent_accuracy("ab", "ab"), TypeError, "gold_intents must be a list of intent labels, got a str"),
    row("intent_accuracy lengths", lambda: metrics.intent_accuracy(["a"], ["a", "b"]), ValueError, "gold_intents has 1 labels but pred_intents has 2"),
    row("sentence_accuracy one side", lambda: metrics.sentence_accuracy([["O"]], [["O"]], ["a"]), ValueError, "give both gold_intents and pred_intents, or neither"),
    # --- CRF -----------------------------------------------------------------------------------
    row("CRF negative", lambda: nn.CRF(-1), ValueError, "CRF: num_tags must be a positive int, got -1"),
    row("CRF constraint range", lambda: nn.CRF(3, constraints=[(0, 5)]), ValueError, "CRF: constraint (0, 5) is out of range"),
    row("CRF float tags", lambda: nn.CRF(3)(ts.zeros(4, 2, 3), ts.zeros(4, 2)), TypeError, "crf_log_likelihood: tags must hold integers, got dtype float32"),
    row("CRF NaN emissions", lambda: nn.CRF(3)(ts.tensor(np.full((4, 2, 3), np.nan)), ts.tensor(np.zeros((4, 2), dtype=np.int64))), ValueError, "crf_log_likelihood: emissions must be finite or -inf, got NaN or +inf"),
    row("CRF emissions shape", lambda: nn.CRF(3)(ts.zeros(4, 2, 4), ts.tensor(np.zeros((4, 2), dtype=np.int64))), ValueError, "CRF: emissions must have shape (seq_length, batch_size, num_tags) with num_tags = 3, got shape (4, 2, 4)"),
    row("CRF mask and lengths", lambda: nn.CRF(3)(ts.zeros(4, 2, 3), ts.tensor(np.zeros((4, 2), dtype=np.int64)), mask=np.ones((4, 2), bool), lengths=[4, 4]), ValueError, "CRF: give mask or lengths, not both"),
    row("CRF decode top_k", lambda: nn.CRF(3).decode(ts.zeros(4, 2, 3), top_k=0), ValueError, "viterbi_decode: top_k must be a positive int, got 0"),
    row("CRF float mask", lambda: nn.CRF(3)(ts.zeros(4, 2, 3), ts.tensor(np.zeros((4, 2), dtype=np.int64)), mask=np.ones((4, 2))), TypeError, "CRF: mask must be bool (or 0/1 integers), got dtype float64"),
    # --- datasets ------------------------------------------------------------------------------
    row("flights float size", lambda: flights.make_flights_corpus(n_train=1.5), ValueError, "n_train must be an int >= 1, got 1.5"),
    row("flights zero size", lambda: flights.make_flights_corpus(n_valid=0), ValueError, "n_valid must be an int >= 1, got 0"),
    row("flights heldout str", lambda: flights.make_flights_corpus(10, 2, 2, heldout_combinations="a"), TypeError, "heldout_combinations must be a number in [0, 1), got 'a'"),
    row("flights heldout nan", lambda: flights.make_flights_corpus(10, 2, 2, heldout_combinations=float("nan")), ValueError, "heldout_combinations must be in [0, 1), got nan"),
    row("glyphs zero train", lambda: glyphs.make_glyph_strings(0, 1, 1), ValueError, "num_train must be an int >= 1, got 0"),
    row("glyphs height str", lambda: glyphs.make_glyph_strings(10, 2, 2, height="a"), ValueError, "height must be an int >= 12, got 'a'"),
    row("glyphs lengths", lambda: glyphs.make_glyph_strings(10, 2, 2, min_length=5, max_length=3), ValueError, "max_length must be an int >= 5, got 3"),
    row("glyphs too many test", lambda: glyphs.make_glyph_strings(10, 2, 10**9, min_length=1, max_length=1), ValueError, "num_test must be at most half of the 17 possible strings"),
    row("glyphs encode", lambda: glyphs.encode("abc"), ValueError, "text must use only characters of"),
    row("glyphs encode int", lambda: glyphs.encode(3), TypeError, "text must be a str, got int"),
    row("glyphs decode str", lambda: glyphs.decode("ab"), TypeError, "labels must be a sequence of integer label indices, got str"),
    row("glyphs decode float", lambda: glyphs.decode([1.5]), TypeError, "labels must be integer label indices, got 1.5"),
    row("glyphs decode range", lambda: glyphs.decode([40]), ValueError, "labels must lie in [0, 18), got 40"),
    row("glyphs render rng", lambda: glyphs.render_text("12", None), TypeError, "rng must be a numpy Generator (np.random.default_rng(seed)), got NoneType"),
    row("adding float", lambda: long_range.adding_problem(1.5, 3), TypeError, "num_sequences: expected an integer >= 1, got float 1.5"),
    row("adding short", lambda: long_range.adding_problem(1, 1), ValueError, "seq_len: expected an integer >= 2, got 1"),
    row("adding rng", lambda: long_range.adding_problem(1, 3, rng="a"), TypeError, "rng: expected None, a non-negative int seed or a np.random.Generator, got 'a'"),
    row("copy_memory delay", lambda: long_range.copy_memory(1, 0), ValueError, "delay: expected an integer >= 1, got 0"),
    row("copy_memory baseline", lambda: long_range.copy_memory_baseline_cross_entropy(1, num_to_copy=0), ValueError, "num_to_copy: expected an integer >= 1, got 0"),
    row("check_bio str", lambda: atis_format.check_bio("B-x"), TypeError, "tags: expected a sequence of tags, got the str 'B-x'"),
    row("check_bio strict", lambda: atis_format.check_bio(["O", "I-x"]), ValueError, "tags: token 2: 'I-x' follows 'O'"),
    row("read_slot_folder None", lambda: atis_format.read_slot_folder(None), TypeError, "root: expected a folder path (str or os.PathLike), got NoneType"),
    row("write_slot_folder None", lambda: atis_format.write_slot_folder(None, "unused"), TypeError, "corpus: expected a SlotCorpus (train, valid, test), got NoneType"),
    row("write_slot_folder tuples", lambda: atis_format.write_slot_folder(([("a",)], [], []), "unused"), TypeError, "corpus.train[0]: expected a SlotExample(tokens, tags, intent), got tuple"),
    row("write_slot_folder root int", lambda: atis_format.write_slot_folder(([], [], []), 3), TypeError, "root: expected a folder path (str or os.PathLike), got int"),
    # --- checkpoints ---------------------------------------------------------------------------
    row("save path None", lambda: io.save({"a": np.ones(1)}, None), TypeError, "save: path must be a str or os.PathLike, got NoneType None"),
    row("load path int", lambda: io.load(3), TypeError, "load: path must be a str or os.PathLike, got int 3"),
    row("save state_dict list", lambda: io.save([1], "unused.npz"), TypeError, "state_dict: expected a mapping of names to arrays, got list"),
    row("save int name", lambda: io.save({1: np.ones(1)}, "unused.npz"), TypeError, "state_dict: names must be str, got 1 (int)"),
    row("save object array", lambda: io.save({"a": np.array([None])}, "unused.npz"), TypeError, "state_dict['a']: expected a numeric array, got dtype object"),
    row("save extra", lambda: io.save({"a": np.ones(1)}, "unused.npz", extra={1j}), TypeError, "extra: expected JSON-serialisable metadata, got set"),
    # --- demo flags, through each demo's own argument parsing ----------------------------------
    row("ctc demo hidden 0", _flags("ctc_recognition", "--hidden", "0"), Exception, "--hidden must be at least 1, got 0"),
    row("ctc demo layers -1", _flags("ctc_recognition", "--layers", "-1"), Exception, "--layers must be at least 1, got -1"),
    row("ctc demo epochs float", _flags("ctc_recognition", "--epochs", "1.5"), Exception, "argument --epochs: invalid int value: '1.5'"),
    row("ctc demo batch-size 0", _flags("ctc_recognition", "--batch-size", "0"), Exception, "--batch-size must be at least 1, got 0"),
    row("ctc demo lr nan", _flags("ctc_recognition", "--lr", "nan"), Exception, "--lr must be positive and finite, got nan"),
    row("ctc demo lr inf", _flags("ctc_recognition", "--lr", "inf"), Exception, "--lr must be positive and finite, got inf"),
    row("ctc demo lr negative", _flags("ctc_recognition", "--lr", "-1"), Exception, "--lr must be positive and finite, got -1.0"),
    row("ctc demo clip nan", _flags("ctc_recognition", "--clip", "nan"), Exception, "--clip must be non-negative, got nan"),
    row("ctc demo clip negative", _flags("ctc_recognition", "--clip", "-1"), Exception, "--clip must be non-negative, got -1.0"),
    row("ctc demo columns 0", _flags("ctc_recognition", "--columns-per-frame", "0"), Exception, "--columns-per-frame must be at least 1, got 0"),
    row("ctc demo columns 4", _flags("ctc_recognition", "--columns-per-frame", "4"), Exception, "--columns-per-frame must be at most 3, got 4"),
    row("ctc demo train-size 0", _flags("ctc_recognition", "--train-size", "0"), Exception, "--train-size must be at least 1, got 0"),
    row("ctc demo seed negative", _flags("ctc_recognition", "--seed", "-1"), Exception, "--seed must be non-negative, got -1"),
    row("ctc demo beam-width 0", _flags("ctc_recognition", "--beam-width", "0"), Exception, "--beam-width must be at least 1, got 0"),
    row("ctc demo cell", _flags("ctc_recognition", "--cell", "rnn"), Exception, "argument --cell: invalid choice: 'rnn'"),
    row("ctc demo unknown flag", _flags("ctc_recognition", "--hiden", "3"), Exception, "unrecognized arguments: --hiden 3"),
    row("long_memory seed negative", _flags("long_memory", "--seed", "-1"), Exception, "--seed must be non-negative, got -1"),
    row("long_memory seed float", _flags("long_memory", "--seed", "1.5"), Exception, "argument --seed: invalid int value: '1.5'"),
    row("long_memory unknown flag", _flags("long_memory", "--lr", "1"), Exception, "unrecognized arguments: --lr 1"),
]


@pytest.mark.parametrize("call, error, fragment", BAD_CALLS)
def test_each_bad_call_raises_one_line_naming_what_was_wrong(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)) as raised:
        call()
    assert "\n" not in str(raised.value)
    if error is Exception:  # the demos' own usage error, printed as one line with exit status 2
        assert type(raised.value).__name__ == "UsageError"


def test_non_utf8_slot_files_name_the_path_and_the_line(tmp_path):
    root = _slot_folder(tmp_path, seq_in=b"hi there\nfly to caf\xe9\n", seq_out=b"O O\nO O O\n")
    with pytest.raises(ValueError, match=re.escape(f"{root / 'train' / 'seq.in'}, line 2: not UTF-8 text (byte 0xe9)")):
        atis_format.read_slot_folder(root)


def test_non_utf8_label_file_names_the_path_and_the_line(tmp_path):
    root = _slot_folder(tmp_path)
    (root / "valid" / "label").write_bytes(b"\xff\n")
    with pytest.raises(ValueError, match=re.escape(f"{root / 'valid' / 'label'}, line 1: not UTF-8 text (byte 0xff)")):
        atis_format.read_slot_folder(root)


@pytest.mark.parametrize("content, fragment", [
    (b"hello", "is not JSON (line 1, column 1: Expecting value): not a saved vocabulary"),
    (b"\xff\xfe\x00", "is not UTF-8 text (byte 0): not a saved vocabulary"),
    (b'{"tokens": []}', "is not a saved vocabulary: a Vocab description needs the keys"),
    (b"[1, 2]", "is not a saved vocabulary: a Vocab description must be a dict, got list"),
])
def test_vocab_load_of_a_file_that_is_not_a_vocabulary_names_the_path(tmp_path, content, fragment):
    path = _file(tmp_path, "vocab.json", content)
    with pytest.raises(ValueError, match=re.escape(f"Vocab.load: {path} {fragment}")):
        data.Vocab.load(path)


def test_checkpoint_paths_that_are_folders_or_missing_are_named(tmp_path):
    with pytest.raises(IsADirectoryError, match=re.escape(f"save: {tmp_path} is a folder")):
        io.save({"a": np.ones(1)}, tmp_path)
    with pytest.raises(IsADirectoryError, match=re.escape(f"load: {tmp_path} is a folder, not a checkpoint file")):
        io.load(tmp_path)
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "missing.npz"))):
        io.load(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match=re.escape(f"load: {tmp_path / 'v.json'} is not a tinyseq checkpoint")):
        io.load(_file(tmp_path, "v.json", b"{}"))


def test_demo_out_pointing_at_a_file_is_a_usage_error(tmp_path):
    blocker = _file(tmp_path, "file", b"not a folder")
    with pytest.raises(_demo("long_memory").UsageError, match="cannot create --out"):
        _demo("long_memory").main(["--smoke", "--out", str(blocker / "run")])


# Where PyTorch gives a result, tinyseq gives the same one instead of an error.
EDGE_CASES_WITH_A_RESULT = [
    pytest.param(lambda: ts.tensor(2.0).sum(0), 2.0, id="sum of 0-d over dim 0"),
    pytest.param(lambda: ts.tensor(2.0).sum(-1, keepdim=True), 2.0, id="sum of 0-d over dim -1"),
    pytest.param(lambda: ts.tensor(2.0).mean(0), 2.0, id="mean of 0-d"),
    pytest.param(lambda: ts.tensor(2.0).max(-1).values, 2.0, id="max of 0-d"),
    pytest.param(lambda: ts.tensor(2.0).max(-1).indices, 0, id="max index of 0-d"),
    pytest.param(lambda: ts.tensor(2.0).min(0).values, 2.0, id="min of 0-d"),
    pytest.param(lambda: ts.tensor(2.0).amax(0), 2.0, id="amax of 0-d"),
    pytest.param(lambda: ts.tensor(2.0).logsumexp(0), 2.0, id="logsumexp of 0-d"),
    pytest.param(lambda: ts.tensor(2.0).argmax(0), 0, id="argmax of 0-d"),
    pytest.param(lambda: ts.tensor(2.0).argmax(-1), 0, id="argmax of 0-d dim -1"),
    pytest.param(lambda: ts.ones(0).logsumexp(0), -np.inf, id="logsumexp of nothing is log 0"),
    pytest.param(lambda: ts.ones(0).sum(), 0.0, id="sum of nothing"),
    pytest.param(lambda: int(ts.tensor([3])), 3, id="int of a one-element tensor"),
]


@pytest.mark.parametrize("call, expected", EDGE_CASES_WITH_A_RESULT)
def test_edge_cases_give_pytorchs_result(call, expected):
    result = call()
    assert float(result) == expected
    if isinstance(result, ts.Tensor):
        assert result.shape == ()


@pytest.mark.parametrize("call, shape", [
    pytest.param(lambda: ts.ones(3, 2)[[]], (0, 2), id="x[[]]"),
    pytest.param(lambda: ts.ones(3)[[]], (0,), id="x[[]] 1-d"),
    pytest.param(lambda: ts.softmax(ts.ones(2, 0), dim=1), (2, 0), id="softmax over an empty dim"),
    pytest.param(lambda: ts.log_softmax(ts.ones(2, 0), dim=-1), (2, 0), id="log_softmax over an empty dim"),
    pytest.param(lambda: ts.ones(0, 3).max(1).values, (0,), id="max over a non-empty dim of an empty tensor"),
    pytest.param(lambda: ts.ones(0, 3).max(1).indices, (0,), id="max indices over a non-empty dim of an empty tensor"),
    pytest.param(lambda: ts.ones(0, 3).argmax(1), (0,), id="argmax over a non-empty dim of an empty tensor"),
])
def test_empty_selections_give_empty_results_as_in_pytorch(call, shape):
    assert call().shape == shape


def test_gradients_flow_through_reductions_of_a_0d_tensor():
    x = ts.tensor(3.0, requires_grad=True)
    (x.sum(0) + x.max(-1).values + x.amax(0) + x.mean(0) + x.logsumexp(0)).backward()
    assert x.grad == 5.0


@pytest.mark.parametrize("name, reference", [
    ("sigmoid", lambda v: 1 / (1 + np.exp(-v))), ("softplus", lambda v: np.log1p(np.exp(v))),
    ("exp", np.exp), ("tanh", np.tanh), ("relu", lambda v: max(v, 0.0)), ("abs", abs),
])
def test_one_argument_ops_take_a_python_number_as_a_default_dtype_tensor(name, reference):
    """ts.sigmoid(-3.0) was an AttributeError and ts.exp(2.0) a float64 tensor: a number now becomes
    a 0-d tensor of the default dtype, as ts.tensor(-3.0) does. Values against numpy in float64."""
    for value in (-3.0, 0.5, 2):
        out = getattr(ts, name)(value)
        assert isinstance(out, ts.Tensor) and out.shape == ()
        assert out.dtype == (ts.get_default_dtype() if isinstance(value, float) or name not in ("relu", "abs")
                             else np.int64)
        np.testing.assert_allclose(float(out.data), reference(float(value)), rtol=1e-6)


@pytest.mark.parametrize("mode", ["x", "eval", 1, None])
def test_module_train_refuses_a_mode_that_is_not_a_bool(mode):
    module = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"train: mode must be True or False, got"):
        module.train(mode)
    assert module.training  # unchanged
