"""Parity with torch.nn.functional.ctc_loss (runs when torch is installed, as in CI).

Losses must match for every reduction, and gradients must match once both have flowed back through
log_softmax: PyTorch's CPU kernel returns exp(log_probs) - occupancy rather than the true
d loss / d log_probs = -occupancy, and the two agree only with respect to the logits.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyseq as ts
import tinyseq.nn.functional as F
from tinyseq.ctc import ctc_loss

torch = pytest.importorskip("torch", reason="PyTorch parity tests need torch: pip install -e '.[parity]' to enable")

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}


def both_losses(logits, targets, input_lengths, target_lengths, blank, reduction, zero_infinity, upstream,
                torch_dtype=None):
    """(tinyseq loss, grad wrt logits), (torch loss, grad wrt logits), both through log_softmax.
    torch_dtype: run PyTorch in this dtype (same input values) instead of the logits' own."""
    ours_logits = ts.tensor(logits, dtype=logits.dtype, requires_grad=True)
    ours = ctc_loss(F.log_softmax(ours_logits, dim=-1), targets, input_lengths, target_lengths, blank=blank,
                    reduction=reduction, zero_infinity=zero_infinity)
    ours.backward(upstream.astype(logits.dtype).reshape(ours.shape))
    torch_logits = torch.tensor(logits.astype(torch_dtype or logits.dtype), requires_grad=True)
    theirs = torch.nn.functional.ctc_loss(
        torch.log_softmax(torch_logits, dim=-1), torch.tensor(targets), torch.tensor(input_lengths),
        torch.tensor(target_lengths), blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    theirs.backward(torch.tensor(upstream.astype(torch_dtype or logits.dtype)).reshape(theirs.shape))
    return (ours.data, ours_logits.grad), (theirs.detach().numpy(), torch_logits.grad.numpy())


@st.composite
def possible_batches(draw):
    """A random batch in which every target fits its input (so no loss is inf in either library)."""
    batch = draw(st.integers(1, 4))
    classes = draw(st.integers(2, 8))
    blank = draw(st.integers(0, classes - 1))
    labels = [k for k in range(classes) if k != blank]
    targets, input_lengths = [], []
    for _ in range(batch):
        target = draw(st.lists(st.sampled_from(labels), max_size=6))
        repeats = sum(a == b for a, b in zip(target, target[1:]))
        input_lengths.append(draw(st.integers(len(target) + repeats, 12)))
        targets.append(target)
    frames = max(1, max(input_lengths)) + draw(st.integers(0, 2))  # PyTorch refuses T = 0
    width = max(1, max(len(t) for t in targets))
    padded = np.array([t + [blank] * (width - len(t)) for t in targets], dtype=np.int64)
    seed = draw(st.integers(0, 2**32 - 1))
    return padded, input_lengths, [len(t) for t in targets], blank, frames, classes, seed


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@given(case=possible_batches())
def test_losses_and_logit_gradients_match_pytorch(dtype, reduction, case):
    targets, input_lengths, target_lengths, blank, frames, classes, seed = case
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(frames, len(targets), classes)) * 3).astype(dtype)
    upstream = rng.normal(size=len(targets) if reduction == "none" else ())
    (loss, grad), (torch_loss, torch_grad) = both_losses(
        logits, targets, input_lengths, target_lengths, blank, reduction, False, upstream)
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(loss, torch_loss, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(grad, torch_grad, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_sequences_match_pytorch_in_float64(dtype):
    # PyTorch accumulates float32 inputs in float32: on this case its gradient is ~6e-4 away from
    # its own float64 result, tinyseq's (float64 accumulation) ~4e-7. So float32 inputs are
    # compared with PyTorch run in float64 on the same values.
    rng = np.random.default_rng(0)
    frames, batch, classes = 300, 3, 20
    logits = (rng.normal(size=(frames, batch, classes)) * 2).astype(dtype)
    targets = rng.integers(1, classes, size=(batch, 60))
    (loss, grad), (torch_loss, torch_grad) = both_losses(
        logits, targets, [300, 250, 200], [60, 40, 55], 0, "none", False, rng.normal(size=batch),
        torch_dtype=np.float64)
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(loss, torch_loss, rtol=tolerance)
    np.testing.assert_allclose(grad, torch_grad, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_edge_cases_match_pytorch_under_zero_infinity(reduction):
    # Zero input length (empty and non-empty target), an empty target, an impossible target.
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 5, 4))
    targets = np.array([[1, 2, 0], [0, 0, 0], [0, 0, 0], [3, 3, 3], [1, 2, 3]])
    input_lengths, target_lengths = [0, 0, 4, 4, 3], [2, 0, 0, 3, 3]
    upstream = rng.normal(size=5 if reduction == "none" else ())
    (loss, grad), (torch_loss, torch_grad) = both_losses(
        logits, targets, input_lengths, target_lengths, 0, reduction, True, upstream)
    np.testing.assert_allclose(loss, torch_loss, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-10, atol=1e-10)


def test_infinite_losses_match_pytorch_without_zero_infinity():
    logits = np.random.default_rng(2).normal(size=(4, 3, 4))
    targets = np.array([[3, 3, 3], [1, 0, 0], [1, 2, 0]])
    (loss, grad), (torch_loss, _) = both_losses(
        logits, targets, [4, 0, 4], [3, 1, 2], 0, "none", False, np.ones(3))
    np.testing.assert_array_equal(np.isinf(loss), np.isinf(torch_loss))
    np.testing.assert_allclose(loss[2], torch_loss[2], rtol=1e-10)
    # PyTorch's gradient is NaN for the impossible sequence; tinyseq's is zero (documented).
    assert np.all(grad[:, :2] == 0)
