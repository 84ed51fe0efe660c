"""Gradient clipping (tinyseq/nn/utils.py) against a direct numpy computation and PyTorch.

The direct computation concatenates every gradient into one vector and takes np.linalg.norm of it,
which is the definition clip_grad_norm_ documents (it computes a norm of per-tensor norms instead).
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinyseq as ts
from tinyseq.nn.utils import _p_norm, clip_grad_norm_, clip_grad_value_

TORCH_REASON = "PyTorch parity tests: pip install -e '.[parity]' to enable"


def parameters_with_gradients(gradients):
    params = []
    for g in gradients:
        param = ts.tensor(np.zeros_like(g), dtype=g.dtype, requires_grad=True)
        param.grad = g.copy()
        params.append(param)
    return params


def direct_norm(gradients, norm_type):
    return np.linalg.norm(np.concatenate([np.ravel(g) for g in gradients]).astype(np.float64), ord=norm_type)


def random_gradients(seed, dtype=np.float64, scale=1.0):
    rng = np.random.default_rng(seed)
    return [np.asarray(scale * rng.standard_normal(shape), dtype=dtype) for shape in [(3, 4), (7,), (), (2, 1, 5)]]


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_direct_computation(norm_type, max_norm):
    gradients = random_gradients(0)
    params = parameters_with_gradients(gradients)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    expected_total = direct_norm(gradients, norm_type)
    assert total.shape == () and total.dtype == np.float64
    assert total.item() == pytest.approx(expected_total, rel=1e-12)
    coefficient = min(1.0, max_norm / (expected_total + 1e-6))
    for param, g in zip(params, gradients):
        np.testing.assert_allclose(param.grad, g * coefficient, rtol=1e-12)
    if max_norm < expected_total:
        assert direct_norm([p.grad for p in params], norm_type) == pytest.approx(max_norm, rel=1e-5)


def test_gradients_below_the_limit_are_left_exactly_as_they_were():
    gradients = random_gradients(1, dtype=np.float32)
    params = parameters_with_gradients(gradients)
    clip_grad_norm_(params, max_norm=1e3)
    for param, g in zip(params, gradients):
        np.testing.assert_array_equal(param.grad, g)


def test_returns_the_norm_in_the_gradients_dtype_and_scales_in_place():
    param = ts.tensor([0.0, 0.0], requires_grad=True)
    param.grad = np.array([3.0, 4.0], dtype=np.float32)
    array = param.grad
    total = clip_grad_norm_(param, max_norm=1.0)
    assert isinstance(total, ts.Tensor) and total.dtype == np.float32 and total.item() == pytest.approx(5.0)
    assert param.grad is array
    # Hand computation: coefficient 1 / (5 + 1e-6), so (3, 4) becomes (0.6, 0.8) to 1e-6.
    np.testing.assert_allclose(array, [0.6, 0.8], rtol=1e-6)


def test_accepts_a_single_tensor_a_generator_and_the_string_inf():
    param = ts.tensor([0.0, 0.0, 0.0], requires_grad=True)
    param.grad = np.array([1.0, -7.0, 2.0], dtype=np.float32)
    assert clip_grad_norm_((p for p in [param]), 100.0, norm_type="inf").item() == 7.0
    assert clip_grad_norm_(param, 100.0, norm_type=1).item() == 10.0


def test_parameters_without_gradient_are_ignored_and_none_gives_zero():
    with_grad, without_grad = ts.tensor([0.0, 0.0], requires_grad=True), ts.tensor([0.0], requires_grad=True)
    with_grad.grad = np.array([6.0, 8.0], dtype=np.float32)
    assert clip_grad_norm_([with_grad, without_grad], 1.0).item() == pytest.approx(10.0)
    assert without_grad.grad is None
    empty = clip_grad_norm_([without_grad], 1.0)
    assert empty.item() == 0.0 and empty.shape == ()


def test_a_parameter_listed_twice_is_counted_and_scaled_once():
    param = ts.tensor([0.0, 0.0], requires_grad=True)
    param.grad = np.array([3.0, 4.0])
    assert clip_grad_norm_([param, param], 2.5).item() == pytest.approx(5.0)
    np.testing.assert_allclose(param.grad, [1.5, 2.0], rtol=1e-6)


@given(
    values=hnp.arrays(np.float64, st.integers(0, 40), elements=st.floats(-1e3, 1e3, allow_nan=False)),
    exponent=st.sampled_from([-310, -200, -150, -20, 0, 20, 150, 160, 300]),
)
def test_two_norm_fast_path_equals_the_scaled_reference(values, exponent):
    # _p_norm's dot-product shortcut for p = 2 against the scaled sum it replaces, written out here:
    # max |x| * sqrt(sum((|x| / max |x|)^2)), over magnitudes from subnormal to near overflow.
    scaled = values * 10.0**exponent
    largest = np.abs(scaled).max(initial=0.0)
    reference = 0.0 if largest == 0 else largest * math.sqrt(np.sum((np.abs(scaled) / largest) ** 2))
    assert _p_norm(scaled, 2.0) == pytest.approx(reference, rel=1e-13, abs=0.0)


def test_huge_gradients_do_not_overflow_the_norm():
    param = ts.tensor([0.0, 0.0], dtype=np.float64, requires_grad=True)
    param.grad = np.array([3e200, 4e200])
    assert clip_grad_norm_(param, 1.0).item() == pytest.approx(5e200, rel=1e-12)
    np.testing.assert_allclose(param.grad, [0.6, 0.8], rtol=1e-12)
    param.grad = np.array([1e10, 1e10])
    # |x|^p would overflow for p = 40 without rescaling; the answer is 1e10 * 2^(1/40).
    assert clip_grad_norm_(param, math.inf, norm_type=40).item() == pytest.approx(1e10 * 2 ** (1 / 40), rel=1e-12)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_error_if_nonfinite_raises_for_nan_or_inf_total(bad):
    param = ts.tensor([0.0, 0.0], requires_grad=True)
    param.grad = np.array([1.0, bad], dtype=np.float32)
    with pytest.raises(RuntimeError, match="error_if_nonfinite=False"):
        clip_grad_norm_(param, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(param.grad, [1.0, bad])


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(max_norm=-1.0), ValueError, r"max_norm: .*-1\.0"),
    (dict(max_norm=math.nan), ValueError, r"max_norm: .*nan"),
    (dict(max_norm="1"), TypeError, r"max_norm: .*'1'"),
    (dict(max_norm=1.0, norm_type=0), ValueError, r"norm_type: .*0"),
    (dict(max_norm=1.0, norm_type=-2), ValueError, r"norm_type: .*-2"),
    (dict(max_norm=1.0, norm_type="two"), TypeError, r"norm_type: .*'two'"),
])
def test_invalid_arguments_raise_naming_them(kwargs, error, message):
    param = ts.tensor([1.0], requires_grad=True)
    param.grad = np.array([1.0], dtype=np.float32)
    with pytest.raises(error, match=message):
        clip_grad_norm_([param], **kwargs)


def test_non_tensor_parameters_raise_type_error():
    with pytest.raises(TypeError, match="got ndarray at position 0"):
        clip_grad_norm_([np.ones(3)], 1.0)
    with pytest.raises(TypeError, match="got list at position 0"):
        clip_grad_value_([[1.0]], 1.0)


gradient_lists = st.lists(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=st.floats(-1e3, 1e3)),
    min_size=1,
    max_size=4,
)


@given(gradients=gradient_lists, max_norm=st.floats(0.0, 1e3), norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_clipped_gradients_keep_direction_and_respect_the_limit(gradients, max_norm, norm_type):
    params = parameters_with_gradients(gradients)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type).item()
    expected_total = direct_norm(gradients, norm_type)
    assert total == pytest.approx(expected_total, rel=1e-9, abs=1e-12)
    coefficient = min(1.0, max_norm / (expected_total + 1e-6))
    for param, g in zip(params, gradients):
        np.testing.assert_allclose(param.grad, coefficient * g, rtol=1e-9, atol=1e-12)
    assert direct_norm([p.grad for p in params], norm_type) <= max_norm * (1 + 1e-9) or coefficient == 1.0


# ---------------------------------------------------------------- clip_grad_value_


def test_clip_grad_value_clamps_each_entry_in_place():
    param = ts.tensor([0.0] * 5, requires_grad=True)
    param.grad = np.array([-3.0, -0.5, 0.25, 1.0, 4.0], dtype=np.float32)
    array = param.grad
    assert clip_grad_value_(param, 1.0) is None
    assert param.grad is array
    np.testing.assert_array_equal(array, [-1.0, -0.5, 0.25, 1.0, 1.0])
    clip_grad_value_([param], 0)
    np.testing.assert_array_equal(array, 0.0)


def test_clip_grad_value_rejects_a_negative_or_nan_limit():
    param = ts.tensor([1.0], requires_grad=True)
    param.grad = np.array([1.0], dtype=np.float32)
    with pytest.raises(ValueError, match=r"clip_value: .*-1"):
        clip_grad_value_(param, -1)
    with pytest.raises(ValueError, match=r"clip_value: .*nan"):
        clip_grad_value_(param, math.nan)


# ---------------------------------------------------------------- PyTorch parity


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-6), (np.float64, 1e-12)])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype, tolerance):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    gradients = random_gradients(2, dtype=dtype, scale=3.0)
    params = parameters_with_gradients(gradients)
    torch_dtype = getattr(torch, np.dtype(dtype).name)
    torch_params = [torch.zeros(g.shape, dtype=torch_dtype, requires_grad=True) for g in gradients]
    for torch_param, g in zip(torch_params, gradients):
        torch_param.grad = torch.tensor(g)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_params, max_norm, norm_type=norm_type)
    assert total.dtype == dtype
    np.testing.assert_allclose(total.item(), torch_total.item(), rtol=tolerance)
    for param, torch_param in zip(params, torch_params):
        np.testing.assert_allclose(param.grad, torch_param.grad.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nonfinite_gradients_are_scaled_as_torch_does(bad):
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    gradient = np.array([1.0, bad, -2.0], dtype=np.float32)
    param = ts.tensor(np.zeros(3), requires_grad=True)
    param.grad = gradient.copy()
    torch_param = torch.zeros(3, requires_grad=True)
    torch_param.grad = torch.tensor(gradient)
    total = clip_grad_norm_(param, 1.0)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_param, 1.0)
    np.testing.assert_array_equal(total.item(), torch_total.item())
    np.testing.assert_array_equal(param.grad, torch_param.grad.numpy())


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    gradients = random_gradients(3, dtype=np.float32, scale=2.0)
    params = parameters_with_gradients(gradients)
    torch_params = [torch.zeros(g.shape, requires_grad=True) for g in gradients]
    for torch_param, g in zip(torch_params, gradients):
        torch_param.grad = torch.tensor(g)
    clip_grad_value_(params, 0.7)
    torch.nn.utils.clip_grad_value_(torch_params, 0.7)
    for param, torch_param in zip(params, torch_params):
        np.testing.assert_array_equal(param.grad, torch_param.grad.numpy())
