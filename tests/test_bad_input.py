"""Bad input gives a ValueError or TypeError that names the argument, what was expected and what
was given, raised at the op's front door rather than from deep inside numpy."""

import numpy as np
import pytest

import tinyseq as ts


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
