"""gradcheck itself: it passes right gradients, catches wrong ones with a message that says where,
refuses precisions in which finite differences cannot be trusted, and leaves its inputs alone."""

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


def test_gradcheck_message_names_the_op_the_value_the_cotangent_and_the_tolerance_used():
    """x = (1, 2) and cotangent v: at index (1,) the input value is 2, v[1] is printed, and the
    tolerance is gradcheck's own (atol 1e-05, rtol 0.001), whatever a test registry says."""
    x = leaf([1.0, 2.0])
    cotangent = np.random.default_rng(0).standard_normal(2)
    with pytest.raises(ts.GradcheckError) as caught:
        ts.gradcheck(CubeWithWrongGradient.apply, [x], seed=0)
    message = str(caught.value)
    assert message.startswith("gradcheck of CubeWithWrongGradient.apply (its output made by CubeWithWrongGradient)")
    assert "(value 2; " in message and f"cotangent there {cotangent[1]:.6g})" in message
    assert "atol 1e-05 + rtol 0.001 * |numerical|" in message
    with pytest.raises(ts.GradcheckError, match=r"atol 0\.25 \+ rtol 0\.125 \* \|numerical\|"):
        ts.gradcheck(CubeWithWrongGradient.apply, [x], atol=0.25, rtol=0.125)


def test_gradcheck_of_a_reduced_output_names_the_last_op_and_the_scalar_cotangent():
    x = leaf([1.0, 2.0])
    cotangent = np.random.default_rng(3).standard_normal(())
    with pytest.raises(ts.GradcheckError, match=rf"gradcheck of <lambda> \(its output made by Sum\).*"
                       rf"cotangent {cotangent.item():.6g}\)"):
        ts.gradcheck(lambda x: CubeWithWrongGradient.apply(x).sum(), [x], seed=3)


def test_gradcheck_accepts_an_input_that_is_not_a_leaf():
    """h = 2 w is the result of an op, so backward leaves h.grad empty; gradcheck must still check
    the gradient with respect to h (it used to report a mismatch against zeros), and still catch a
    wrong one."""
    w = leaf([[0.3, -1.2], [2.0, 0.7]])
    h = w * 2.0
    assert not h.is_leaf
    assert ts.gradcheck(lambda a: ts.tanh(a) * a, [h])
    with pytest.raises(ts.GradcheckError, match="input 0"):
        ts.gradcheck(CubeWithWrongGradient.apply, [h])


def test_gradcheck_leaves_the_inputs_grad_and_their_graph_alone():
    """A .grad accumulated before the check survives it, on a leaf input and on the leaf behind a
    non-leaf input, and the non-leaf's graph still backpropagates afterwards."""
    x = leaf([0.1, 0.2, 0.3])
    x.grad = np.array([7.0, 8.0, 9.0])
    w = leaf([1.0, -1.0])
    h = w * 3.0
    w.grad = np.array([5.0, 5.0])
    assert ts.gradcheck(lambda a, b: (ts.tanh(a) * a).sum() + (b * b).sum(), [x, h])
    np.testing.assert_array_equal(x.grad, [7.0, 8.0, 9.0])
    np.testing.assert_array_equal(w.grad, [5.0, 5.0])
    assert h.grad is None
    h.sum().backward()
    np.testing.assert_array_equal(w.grad, [8.0, 8.0])


@pytest.mark.parametrize(
    "call, error, fragment",
    [
        (lambda x: ts.gradcheck(ts.tanh, x), TypeError, "inputs must be a list or tuple of tensors, got Tensor"),
        (lambda x: ts.gradcheck(ts.tanh, [x], eps=0), ValueError, "eps must be a finite number > 0, got 0"),
        (lambda x: ts.gradcheck(ts.tanh, [x], eps=float("nan")), ValueError, "eps must be a finite number > 0, got nan"),
        (lambda x: ts.gradcheck(ts.tanh, [x], rtol=-1), ValueError, "rtol must be a finite number >= 0, got -1"),
        (lambda x: ts.gradcheck(lambda a: a.numpy(), [x]), TypeError, "fn must return a Tensor, got ndarray"),
    ],
)
def test_gradcheck_bad_arguments_are_named(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call(leaf([0.5, 1.5]))
