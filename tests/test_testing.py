"""tinyseq.testing.check_op: it passes a correct op, and a wrong forward or backward fails with a
message that shows the smallest failing input, the element and both values or gradients."""

import sys

import numpy as np
import pytest
from hypothesis import strategies as st

import tinyseq as ts
from tinyseq import testing
from tinyseq.testing import OpCheckError, check_op


class Swish(ts.Function):
    """x * s, s = sigmoid(x); d/dx = s + x s (1 - s) (product rule)."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s + x * s * (1 - s))


class SwishWithoutProductRule(Swish):
    @staticmethod
    def backward(ctx, grad):
        _, s = ctx.saved_tensors
        return grad * s


def swish_reference(x):
    return x / (1 + np.exp(-x))


def test_a_correct_op_passes():
    check_op(Swish.apply, reference=swish_reference, max_examples=15)


def test_a_binary_op_is_checked_on_broadcasting_inputs():
    seen = []

    def scaled_sum(a, b):
        seen.append((a.shape, b.shape))
        return a * b + b

    check_op(scaled_sum, reference=lambda a, b: a * b + b, shapes=2, max_examples=25)
    assert any(a != b for a, b in seen), "no pair of different (broadcast) shapes was drawn"


def test_strided_inputs_are_non_contiguous_views_with_the_same_values():
    values = np.arange(6.0).reshape(2, 3)
    view = testing.strided_view(values)
    assert not view.flags.c_contiguous and view.strides[-1] < 0
    np.testing.assert_array_equal(view, values)
    testing.check_example(Swish.apply, (view,), reference=swish_reference)


def test_a_wrong_backward_fails_with_the_element_and_both_gradients():
    """At x = 0 both formulas give 1/2, so the smallest failing input is a nonzero number."""
    with pytest.raises(OpCheckError) as failure:
        check_op(SwishWithoutProductRule.apply, reference=swish_reference, max_examples=25)
    message = str(failure.value)
    assert message.startswith("SwishWithoutProductRule.apply: the gradient of input 0 differs from finite differences")
    assert "at element" in message and "backward gives" in message
    assert "gradient of input 0 from backward:" in message and "gradient of input 0 from finite differences:" in message
    assert "input 0: shape" in message


def test_a_wrong_forward_fails_with_the_element_and_both_values():
    with pytest.raises(OpCheckError, match=r"Swish\.apply: output 0 differs from the reference at element"):
        check_op(Swish.apply, reference=lambda x: swish_reference(x) + 0.5, max_examples=10)


def test_per_input_domains_and_params():
    """log on positive numbers only, with a keyword argument passed to fn and reference alike."""
    check_op(lambda x, y, scale: ts.log(x) * y * scale, reference=lambda x, y, scale: np.log(x) * y * scale,
             shapes=2, domain=[(0.1, 10), st.floats(-3, 3)], params={"scale": 2.0}, max_examples=10)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="shapes must be the number of tensor inputs"):
        check_op(Swish.apply, shapes=0)
    with pytest.raises(TypeError, match=r"domain must be a \(low, high\) pair"):
        check_op(Swish.apply, domain="wide", max_examples=1)
    with pytest.raises(ValueError, match="domain lists 1 entries, but fn takes 2"):
        check_op(lambda a, b: a * b, shapes=2, domain=[(0, 1)], max_examples=1)


def test_without_hypothesis_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match="pip install hypothesis"):
        testing.check_op(Swish.apply)
