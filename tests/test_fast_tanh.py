"""nn/fast_tanh.py: the float32 rational tanh is within 8 units in the last place of the true tanh
everywhere (the reference is float64 np.tanh, computed independently of the fit), keeps NaN and
the limits at +-inf, is odd, and its coefficients are what docs/fit_tanh.py fits. float64 and
plain Python keep the exact math.tanh."""

import importlib.util
import math
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyseq.nn import fast_tanh

ROOT = Path(__file__).resolve().parents[1]


@numba.njit(error_model="numpy")
def tanh_of_each(x, out):
    for i in range(x.size):
        out[i] = fast_tanh.tanh(x[i])


@numba.njit(error_model="numpy")
def sigmoid_of_each(x, out):
    for i in range(x.size):
        out[i] = fast_tanh.sigmoid(x[i])


def compiled(function, x):
    out = np.empty_like(x)
    function(x, out)
    return out


def ulps_from_truth(approx32, x32, truth):
    """|approx - truth| in units of the float32 spacing at truth."""
    return np.abs(approx32.astype(np.float64) - truth) / np.spacing(np.abs(truth).astype(np.float32))


def test_float32_tanh_is_within_8_ulp_on_a_dense_grid():
    x = np.concatenate([np.linspace(-12, 12, 2_000_001), np.geomspace(1e-30, 1e-2, 100_001)]).astype(np.float32)
    truth = np.tanh(x.astype(np.float64))
    approx = compiled(tanh_of_each, x)
    assert approx.dtype == np.float32
    worst = ulps_from_truth(approx, x, truth).max()
    assert worst <= 8, f"float32 tanh off by {worst:.1f} ulp"


@given(st.floats(-50, 50, width=32))
def test_float32_tanh_is_within_8_ulp_anywhere(value):
    x = np.array([value], dtype=np.float32)
    truth = np.tanh(x.astype(np.float64))
    assert ulps_from_truth(compiled(tanh_of_each, x), x, truth)[0] <= 8


def test_float32_tanh_is_odd_bounded_and_keeps_nan():
    x = np.linspace(0, 20, 100_001, dtype=np.float32)
    positive, negative = compiled(tanh_of_each, x), compiled(tanh_of_each, -x)
    np.testing.assert_array_equal(negative, -positive)
    assert np.all(np.abs(positive) <= 1)
    special = compiled(tanh_of_each, np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=np.float32))
    assert np.isnan(special[0])
    assert special[1:3].tolist() == [1.0, -1.0]
    assert special[3] == 0 and not np.signbit(special[3]) and np.signbit(special[4])


def test_float32_sigmoid_matches_the_logistic_function():
    x = np.linspace(-30, 30, 200_001, dtype=np.float32)
    truth = 1 / (1 + np.exp(-x.astype(np.float64)))
    approx = compiled(sigmoid_of_each, x)
    assert approx.dtype == np.float32
    np.testing.assert_allclose(approx, truth, rtol=0, atol=6e-7)


def test_float64_and_python_use_the_exact_tanh():
    x = np.linspace(-10, 10, 10_001)
    np.testing.assert_allclose(compiled(tanh_of_each, x), np.tanh(x), rtol=5e-16, atol=0)  # libm vs numpy: 1 ulp
    assert fast_tanh.tanh(0.3) == math.tanh(0.3)
    assert fast_tanh.sigmoid.py_func(0.0) == 0.5


def test_coefficients_are_what_the_fit_gives():
    spec = importlib.util.spec_from_file_location("fit_tanh", ROOT / "docs" / "fit_tanh.py")
    fit_tanh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit_tanh)
    p, q, max_error = fit_tanh.fit()
    assert max_error < 1e-7
    assert q[1:].min() > 0  # Q has no root on [0, 81]
    np.testing.assert_allclose(np.float32(p), fast_tanh.P, rtol=1e-6)
    np.testing.assert_allclose(np.float32(q[1:]), fast_tanh.Q, rtol=1e-6)
    assert fast_tanh.CLAMP == fit_tanh.CLAMP


@pytest.mark.parametrize("value", [9.0, 9.5, 1e4])
def test_float32_tanh_saturates_exactly_beyond_the_clamp(value):
    x = np.array([value, -value], dtype=np.float32)
    out = compiled(tanh_of_each, x)
    assert abs(out[0] - 1) <= 6e-8 and abs(out[1] + 1) <= 6e-8
