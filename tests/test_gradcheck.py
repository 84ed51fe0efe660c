"""gradcheck itself: it passes right gradients, catches wrong ones with a message that says where,
and refuses precisions in which finite differences cannot be trusted."""

import re

import numpy as np
import pytest

import tinyseq as ts


def leaf(values, dtype=np.float64):
    return ts.tensor(values, dtype=dtype, requires_grad=True)


class CubeWithWrongGradient(ts.Function):
    """y = x^3 with backward 3x (the correct one is 3x^2): wrong wherever x is not 0 or 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * grad


class ProductWithWrongSecondGradient(ts.Function):
    """y = a * b, with d/db returned as 2a (the correct one is a)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, 2 * grad * a


def test_gradcheck_passes_on_correct_gradients():
    x, y = leaf([[0.3, -1.2], [2.0, 0.7]]), leaf([1.5, -0.5])
    assert ts.gradcheck(lambda x, y: ts.tanh(x * y) @ y + ts.exp(x).sum(), [x, y]) is True


def test_gradcheck_names_input_index_and_both_values():
    """x = (1, 2) and cotangent v: the first mismatch is at index (1,), where the analytic value is
    3 * 2 * v and the numerical one 3 * 2^2 * v; both appear in the message."""
    x = leaf([1.0, 2.0])
    cotangent = np.random.default_rng(0).standard_normal(2)
    with pytest.raises(ts.GradcheckError) as caught:
        ts.gradcheck(CubeWithWrongGradient.apply, [x], seed=0)
    message = str(caught.value)
    assert "input 0" in message and "index (1,)" in message
    analytic = float(re.search(r"analytic (\S+),", message).group(1))
    numerical = float(re.search(r"numerical (\S+)$", message).group(1))
    np.testing.assert_allclose(analytic, 6 * cotangent[1], rtol=1e-8)
    np.testing.assert_allclose(numerical, 12 * cotangent[1], rtol=1e-6)


def test_gradcheck_names_the_second_input_when_only_it_is_wrong():
    a, b = leaf([[1.0, 2.0]]), leaf([[3.0, 4.0]])
    with pytest.raises(ts.GradcheckError, match=r"input 1 at index \(0, 0\)"):
        ts.gradcheck(ProductWithWrongSecondGradient.apply, [a, b])


def test_gradcheck_is_an_assertion_error_so_plain_asserts_and_pytest_report_it():
    assert issubclass(ts.GradcheckError, AssertionError)


def test_gradcheck_skips_inputs_that_do_not_require_grad():
    """b does not require grad, so its wrong gradient is never looked at."""
    a, b = leaf([1.0, 2.0]), ts.tensor([3.0, 4.0], dtype=np.float64)
    assert ts.gradcheck(ProductWithWrongSecondGradient.apply, [a, b])


def test_gradcheck_refuses_float32_with_a_clear_message():
    with pytest.raises(TypeError, match=r"input 0 has dtype float32, expected float64"):
        ts.gradcheck(ts.exp, [leaf([1.0], dtype=np.float32)])


def test_gradcheck_refuses_when_nothing_requires_grad():
    with pytest.raises(ValueError, match="no tensor with requires_grad=True"):
        ts.gradcheck(ts.exp, [ts.tensor([1.0], dtype=np.float64)])


def test_gradcheck_uses_a_random_cotangent_that_reveals_swapped_gradients():
    """A backward that swaps the gradients of y's two elements is right under an all-ones
    cotangent (each x_i gets the sum) but wrong under a random one."""

    class SwappedCumulative(ts.Function):
        # y = (x0, x0 + x1): the true gradient is (v0 + v1, v1); this returns (v0 + v1, v0).
        @staticmethod
        def forward(ctx, x):
            return np.array([x[0], x[0] + x[1]])

        @staticmethod
        def backward(ctx, grad):
            return np.array([grad[0] + grad[1], grad[0]])

    x = leaf([0.5, 1.5])
    SwappedCumulative.apply(x).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad, [2.0, 1.0])  # the all-ones answer is right by accident
    with pytest.raises(ts.GradcheckError, match=r"input 0 at index \(1,\)"):
        ts.gradcheck(SwappedCumulative.apply, [x])


def test_gradcheck_leaves_the_input_values_unchanged():
    x = leaf([0.1, 0.2, 0.3])
    before = x.numpy().copy()
    ts.gradcheck(ts.tanh, [x])
    np.testing.assert_array_equal(x.numpy(), before)
