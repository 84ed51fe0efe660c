"""ctc_loss() and CTCLoss: gradcheck, PyTorch's semantics, the gradient's meaning, and bad input.

Expected values come from gradcheck's finite differences, from hand derivations (an empty target's
loss is -sum_t log p_t(blank); the mean reduction divides by max(target length, 1) and averages)
and from brute-force enumeration of alignments (tests/test_ctc_kernels.py's helper). Parity with
PyTorch itself is in tests/test_ctc_torch_parity.py.
"""

import numpy as np
import pytest

import tinyseq as ts
import tinyseq.nn.functional as F
from tinyseq.ctc import ctc_loss
from tinyseq.nn import CTCLoss

from test_ctc_kernels import brute_force_nll_and_grad, log_softmax

REDUCTIONS = ["none", "mean", "sum"]


def random_log_probs(shape, seed=0, dtype=np.float64, requires_grad=True):
    logits = np.random.default_rng(seed).normal(size=shape)
    return ts.tensor(log_softmax(logits), dtype=dtype, requires_grad=requires_grad)


# A batch with mixed input and target lengths, a repeated label and an empty target.
PADDED_TARGETS = np.array([[1, 2, 2], [3, 0, 0], [0, 0, 0], [2, 2, 0]])
CONCATENATED_TARGETS = np.array([1, 2, 2, 3, 2, 2])
INPUT_LENGTHS = [6, 4, 3, 5]
TARGET_LENGTHS = [3, 1, 0, 2]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_gradcheck_on_log_probs(reduction, zero_infinity, layout):
    targets = PADDED_TARGETS if layout == "padded" else CONCATENATED_TARGETS
    log_probs = random_log_probs((6, 4, 4), seed=1)
    assert ts.gradcheck(
        lambda x: ctc_loss(x, targets, INPUT_LENGTHS, TARGET_LENGTHS, reduction=reduction,
                           zero_infinity=zero_infinity),
        [log_probs],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_with_an_impossible_sequence_under_zero_infinity(reduction):
    # Sequence 1's target "3 3" needs 3 frames but has 2: its loss is replaced by 0, a constant.
    log_probs = random_log_probs((5, 3, 4), seed=2)
    targets, input_lengths, target_lengths = [[1, 2], [3, 3], [2, 0]], [5, 2, 4], [2, 2, 1]
    loss = ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none", zero_infinity=True)
    assert loss.data[1] == 0.0
    assert ts.gradcheck(
        lambda x: ctc_loss(x, targets, input_lengths, target_lengths, reduction=reduction, zero_infinity=True),
        [log_probs],
    )


def test_gradcheck_through_log_softmax_with_a_nonzero_blank():
    logits = ts.tensor(np.random.default_rng(3).normal(size=(5, 2, 4)), dtype=np.float64, requires_grad=True)
    assert ts.gradcheck(lambda x: ctc_loss(F.log_softmax(x, dim=2), [[0, 1], [3, 0]], [5, 4], [2, 1], blank=2), [logits])


def test_unbatched_gradcheck():
    log_probs = random_log_probs((5, 3), seed=4)
    assert ts.gradcheck(lambda x: ctc_loss(x, [1, 2], 5, 2, reduction="none"), [log_probs])


def test_losses_equal_brute_force_and_padding_values_are_ignored():
    log_probs = random_log_probs((6, 4, 4), seed=5)
    # Anything may sit past a target's length: the blank, -1, or a class out of range.
    padded_with_junk = np.array([[1, 2, 2], [3, -1, 99], [7, 0, -5], [2, 2, 0]])
    losses = ctc_loss(log_probs, padded_with_junk, INPUT_LENGTHS, TARGET_LENGTHS, reduction="none")
    for n, (length, target_length) in enumerate(zip(INPUT_LENGTHS, TARGET_LENGTHS)):
        expected, _ = brute_force_nll_and_grad(log_probs.data[:length, n], PADDED_TARGETS[n, :target_length], 0)
        assert losses.data[n] == pytest.approx(expected, rel=1e-12)


def test_padded_and_concatenated_targets_give_identical_losses_and_gradients():
    results = []
    for targets in (PADDED_TARGETS, CONCATENATED_TARGETS, ts.tensor(CONCATENATED_TARGETS)):
        log_probs = random_log_probs((6, 4, 4), seed=6)
        loss = ctc_loss(log_probs, targets, np.array(INPUT_LENGTHS), ts.tensor(TARGET_LENGTHS))
        loss.backward()
        results.append((loss.data, log_probs.grad))
    for loss, grad in results[1:]:
        assert loss == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


def test_mean_divides_by_clamped_target_length_then_averages():
    # Only empty targets, whose losses are known by hand: -sum_t log p_t(blank).
    log_probs = random_log_probs((4, 3, 3), seed=7)
    input_lengths = [4, 2, 0]
    by_hand = np.array([-log_probs.data[:length, n, 0].sum() for n, length in enumerate(input_lengths)])
    loss = ctc_loss(log_probs, np.zeros((3, 0), dtype=np.int64), input_lengths, [0, 0, 0], reduction="mean")
    assert loss.item() == pytest.approx(by_hand.mean(), rel=1e-13)  # each divided by max(0, 1) = 1
    # With targets of lengths 2 and 1 the mean is (loss_0 / 2 + loss_1 / 1) / 2.
    targets, target_lengths = [[1, 2], [2, 0]], [2, 1]
    per_sequence = [brute_force_nll_and_grad(log_probs.data[:4, n], targets[n][:target_lengths[n]], 0)[0]
                    for n in range(2)]
    mean = ctc_loss(log_probs[:, :2], targets, [4, 4], target_lengths, reduction="mean")
    assert mean.item() == pytest.approx((per_sequence[0] / 2 + per_sequence[1] / 1) / 2, rel=1e-12)


def test_zero_input_length_matches_pytorch_semantics():
    log_probs = random_log_probs((3, 2, 4), seed=8)
    loss = ctc_loss(log_probs, [[1], [0]], [0, 0], [1, 0], reduction="none")
    assert loss.data[0] == np.inf and loss.data[1] == 0.0
    loss.backward(np.ones(2))
    assert np.all(log_probs.grad == 0)
    zeroed = ctc_loss(log_probs, [[1], [0]], [0, 0], [1, 0], reduction="none", zero_infinity=True)
    assert np.all(zeroed.data == 0.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_impossible_alignment_is_inf_or_zero_and_its_gradient_is_zero_never_nan(reduction):
    log_probs = random_log_probs((3, 2, 4), seed=9)
    targets, input_lengths, target_lengths = [[1, 1, 2], [1, 2, 0]], [3, 3], [3, 2]  # "1 1 2" needs 4 frames
    loss = ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction=reduction)
    assert np.all(np.isinf(loss.data)) if reduction != "none" else np.isinf(loss.data[0])
    loss.backward(np.ones(loss.shape))
    assert not np.isnan(log_probs.grad).any()
    assert np.all(log_probs.grad[:, 0] == 0) and np.any(log_probs.grad[:, 1] != 0)
    log_probs.grad = None
    zeroed = ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction=reduction, zero_infinity=True)
    assert np.isfinite(zeroed.data).all()
    zeroed.backward(np.ones(zeroed.shape))
    assert np.all(log_probs.grad[:, 0] == 0) and np.isfinite(log_probs.grad).all()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_scalar_upstream_gradient_scales_the_gradient(reduction):
    grads = []
    for upstream in (1.0, -2.5):
        log_probs = random_log_probs((6, 4, 4), seed=10)
        ctc_loss(log_probs, PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction=reduction).backward(
            np.array(upstream))
        grads.append(log_probs.grad)
    np.testing.assert_allclose(grads[1], -2.5 * grads[0], rtol=1e-14)


def test_per_sequence_upstream_gradient_weights_each_sequence():
    upstream = np.array([0.5, -1.0, 2.0, 3.0])
    log_probs = random_log_probs((6, 4, 4), seed=11)
    ctc_loss(log_probs, PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="none").backward(upstream)
    for n, (length, target_length) in enumerate(zip(INPUT_LENGTHS, TARGET_LENGTHS)):
        _, expected = brute_force_nll_and_grad(log_probs.data[:length, n], PADDED_TARGETS[n, :target_length], 0)
        np.testing.assert_allclose(log_probs.grad[:length, n], upstream[n] * expected, atol=1e-12)
        assert np.all(log_probs.grad[length:, n] == 0)


def test_gradient_through_log_softmax_is_softmax_minus_occupancy():
    # Hand derivation: d(-log p)/d logits = sum_j (d/d lp_j)(-log p) * (delta_jk - softmax_k)
    # = softmax_k * (sum of occupancies = 1) - occupancy_k, PyTorch's formula for its gradient.
    logits = ts.tensor(np.random.default_rng(12).normal(size=(5, 1, 4)), dtype=np.float64, requires_grad=True)
    ctc_loss(F.log_softmax(logits, dim=2), [[1, 3]], [5], [2], reduction="sum").backward()
    log_probs = log_softmax(logits.data[:, 0])
    _, grad_log_probs = brute_force_nll_and_grad(log_probs, [1, 3], 0)
    occupancy = -grad_log_probs
    np.testing.assert_allclose(logits.grad[:, 0], np.exp(log_probs) - occupancy, atol=1e-12)


def test_unbatched_equals_a_batch_of_one():
    batched = random_log_probs((5, 1, 4), seed=13)
    unbatched = ts.tensor(batched.data[:, 0], dtype=np.float64, requires_grad=True)
    for reduction in REDUCTIONS:
        batched.grad = unbatched.grad = None
        loss_batched = ctc_loss(batched, [[1, 1]], [5], [2], reduction=reduction)
        loss_unbatched = ctc_loss(unbatched, [1, 1, 0], [5], 2, reduction=reduction)
        assert loss_unbatched.shape == ()
        assert loss_unbatched.item() == pytest.approx(float(np.sum(loss_batched.data)), rel=1e-14)
        loss_batched.sum().backward()
        loss_unbatched.backward()
        np.testing.assert_array_equal(unbatched.grad, batched.grad[:, 0])


def test_float32_in_float32_out():
    log_probs = random_log_probs((6, 4, 4), seed=14, dtype=np.float32)
    loss = ctc_loss(log_probs, PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    loss.backward()
    assert loss.dtype == np.float32 and log_probs.grad.dtype == np.float32
    reference = ctc_loss(ts.tensor(log_probs.data.astype(np.float64)), PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    assert loss.item() == pytest.approx(reference.item(), rel=1e-6)


def test_no_grad_records_nothing():
    log_probs = random_log_probs((6, 4, 4), seed=15)
    with ts.no_grad():
        loss = ctc_loss(log_probs, PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS)
    assert not loss.requires_grad
    assert loss.item() == pytest.approx(ctc_loss(log_probs, PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS).item())


def test_ctc_loss_module_equals_functional_and_has_no_parameters():
    module = CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    log_probs = random_log_probs((6, 4, 4), seed=16)
    expected = ctc_loss(log_probs, PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS, reduction="sum", zero_infinity=True)
    assert module(log_probs, PADDED_TARGETS, INPUT_LENGTHS, TARGET_LENGTHS).item() == expected.item()
    assert list(module.parameters()) == []
    assert "reduction='sum'" in repr(module)


# --- bad input: each error names the argument ------------------------------------------------------

GOOD = dict(targets=[[1, 2], [3, 0]], input_lengths=[4, 3], target_lengths=[2, 1])


def call_with(**changes):
    arguments = dict(log_probs=random_log_probs((4, 2, 5), seed=17), **GOOD)
    arguments.update(changes)
    return ctc_loss(**arguments)


@pytest.mark.parametrize(
    "changes, error, pattern",
    [
        (dict(targets=[[1, 0], [3, 0]]), ValueError, r"targets.*got 0 \(the blank\) in sequence 0 at position 1"),
        (dict(targets=[[1, 5], [3, 0]]), ValueError, r"targets.*got 5 \(outside \[0, C\) = \[0, 5\)\)"),
        (dict(targets=[[1, -2], [3, 0]]), ValueError, r"targets.*got -2"),
        (dict(targets=[[1.0, 2.0], [3.0, 0.0]]), TypeError, r"targets must hold integers, got dtype float64"),
        (dict(targets=[[1, 2]]), ValueError, r"padded targets must have shape \(N, S\) with N = 2, got shape \(1, 2\)"),
        (dict(targets=[1, 2]), ValueError, r"concatenated targets must have sum\(target_lengths\) = 3"),
        (dict(targets=np.zeros((2, 1, 1), dtype=int)), ValueError, r"targets must be padded"),
        (dict(blank=5), ValueError, r"blank must be in \[0, C\) = \[0, 5\), got 5"),
        (dict(blank=-1), ValueError, r"blank must be in \[0, C\)"),
        (dict(blank=1.0), TypeError, r"blank must be an int"),
        (dict(input_lengths=[4, 3, 2]), ValueError, r"input_lengths must have shape \(2,\).*got shape \(3,\)"),
        (dict(input_lengths=[5, 3]), ValueError, r"input_lengths must be at most T = 4.*got 5 for sequence 0"),
        (dict(input_lengths=[4, -1]), ValueError, r"input_lengths must be >= 0, got -1 for sequence 1"),
        (dict(input_lengths=[4.0, 3.0]), TypeError, r"input_lengths must hold integers"),
        (dict(target_lengths=[2]), ValueError, r"target_lengths must have shape \(2,\)"),
        (dict(target_lengths=[3, 1]), ValueError, r"target_lengths must be at most S = 2.*got 3 for sequence 0"),
        (dict(target_lengths=[2, -1]), ValueError, r"target_lengths must be >= 0"),
        (dict(reduction="avg"), ValueError, r"reduction must be one of .*got 'avg'"),
        (dict(zero_infinity="yes"), TypeError, r"zero_infinity must be a bool"),
        (dict(log_probs=random_log_probs((4, 2, 5, 1))), ValueError, r"log_probs must have shape \(T, N, C\)"),
        (dict(log_probs=random_log_probs((4,))), ValueError, r"log_probs must have shape \(T, N, C\)"),
        (dict(log_probs=ts.tensor(np.zeros((4, 2, 5), dtype=np.int64))), TypeError,
         r"log_probs must be float32 or float64, got dtype int64"),
        (dict(log_probs=ts.tensor(np.zeros((4, 0, 5)))), ValueError, r"log_probs needs a batch"),
    ],
)
def test_bad_input_raises_an_error_naming_the_argument(changes, error, pattern):
    with pytest.raises(error, match=pattern):
        call_with(**changes)


def test_ctc_loss_module_rejects_bad_settings_at_construction():
    with pytest.raises(ValueError, match="reduction"):
        CTCLoss(reduction="max")
    with pytest.raises(ValueError, match="blank"):
        CTCLoss(blank=-1)
