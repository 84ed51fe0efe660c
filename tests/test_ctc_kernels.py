"""The compiled CTC recursions (tinyseq/ctc/kernels.py) against independent references.

References used here:
  * brute force: every alignment of T frames over C classes is enumerated, collapsed (merge
    repeats, drop blanks) and its log-probability summed in log space; the gradient is minus the
    posterior-weighted count of each (frame, class) over the alignments that collapse to the target;
  * Baidu warp-ctc's published small test (tests/test_cpu.cpp, "small_test"): likelihood 0.0851911,
    loss 2.462858;
  * hand-derived identities: an empty target's loss is -sum_t log p_t(blank); the posterior
    occupancy of each frame sums to 1, so the gradient of each frame sums to -1;
  * the textbook log-space recursion, which the fast scaled probability-space path must match
    wherever it vouches for its result, and which must take over where it does not;
  * the kernels' own plain-Python versions (.py_func, and a NUMBA_DISABLE_JIT=1 subprocess), which
    must agree with the compiled code.
"""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyseq.ctc import kernels

REPO_ROOT = Path(__file__).resolve().parents[1]


def log_softmax(logits):
    """Row-wise log_softmax in numpy, stable for logits of any size."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def collapse(path, blank):
    """The labelling an alignment stands for: merge repeated classes, then drop blanks."""
    return tuple(k for i, k in enumerate(path) if k != blank and (i == 0 or k != path[i - 1]))


def brute_force_nll_and_grad(log_probs, target, blank):
    """-log p(target) and its gradient w.r.t. log_probs (T, C), by enumerating all C**T alignments."""
    frames, classes = log_probs.shape
    paths = np.array(list(itertools.product(range(classes), repeat=frames)), dtype=np.int64).reshape(-1, frames)
    path_log_probs = log_probs[np.arange(frames), paths].sum(axis=1)
    matches = np.array([collapse(tuple(path), blank) == tuple(target) for path in paths.tolist()], dtype=bool)
    grad = np.zeros_like(log_probs)
    if not matches.any():
        return np.inf, grad
    matching = path_log_probs[matches]
    log_likelihood = matching.max() + np.log(np.exp(matching - matching.max()).sum())
    posterior = np.exp(matching - log_likelihood)
    for path, weight in zip(paths[matches], posterior):
        grad[np.arange(frames), path] -= weight
    return -log_likelihood, grad


def run_kernel(log_probs, targets, input_lengths, target_lengths, blank, compute_grad=True, kernel=None,
               grad_scale=None):
    """Call ctc_loss_and_grad with the argument types ctc_loss() would give it (grad_scale: ones)."""
    kernel = kernel or kernels.ctc_loss_and_grad
    padded = np.zeros((len(targets), max([len(t) for t in targets] + [0])), dtype=np.int64)
    for n, target in enumerate(targets):
        padded[n, : len(target)] = target
    grad_scale = np.ones(len(targets)) if grad_scale is None else np.asarray(grad_scale, dtype=np.float64)
    return kernel(
        np.ascontiguousarray(log_probs), padded, np.asarray(input_lengths, dtype=np.int64),
        np.asarray(target_lengths, dtype=np.int64), blank, compute_grad, grad_scale,
    )


@st.composite
def small_ctc_cases(draw, max_frames=6, max_classes=4, max_target=3, logit_scale=4.0):
    """(log_probs (T, C), target, blank): small enough to enumerate, with repeats and any blank."""
    frames = draw(st.integers(1, max_frames))
    classes = draw(st.integers(2, max_classes))
    blank = draw(st.integers(0, classes - 1))
    labels = [k for k in range(classes) if k != blank]
    target = draw(st.lists(st.sampled_from(labels), max_size=max_target))
    logits = draw(st.lists(st.floats(-logit_scale, logit_scale), min_size=frames * classes, max_size=frames * classes))
    return log_softmax(np.array(logits).reshape(frames, classes)), target, blank


@given(small_ctc_cases())
def test_loss_and_gradient_equal_brute_force_enumeration(case):
    log_probs, target, blank = case
    expected_nll, expected_grad = brute_force_nll_and_grad(log_probs, target, blank)
    nll, grad = run_kernel(log_probs[:, None, :], [target], [len(log_probs)], [len(target)], blank)
    if np.isinf(expected_nll):
        assert nll[0] == np.inf
    else:
        # rtol 1e-10, not 1e-12: for a loss near 1e-4 the kernel's recursion and the brute force's sum
        # over paths round differently; log_probs [[-3.0486, -0.0486], [-6.0025, -0.0025]], target [1]
        # gives 1.5423647700150978e-4 by brute force and ...170146e-4 from the kernel (1.2e-12 relative).
        np.testing.assert_allclose(nll[0], expected_nll, rtol=1e-10)
    np.testing.assert_allclose(grad[:, 0, :], expected_grad, atol=1e-12)


@given(small_ctc_cases(logit_scale=1e4))
def test_huge_logits_match_log_space_brute_force(case):
    # Logits of +-1e4 put terms 1e4 apart inside one frame, far beyond exp's range: this is where
    # the shared-shift fast path underflows and the per-cell exact log-sum-exp must take over.
    log_probs, target, blank = case
    expected_nll, expected_grad = brute_force_nll_and_grad(log_probs, target, blank)
    nll, grad = run_kernel(log_probs[:, None, :], [target], [len(log_probs)], [len(target)], blank)
    assert not np.isnan(nll).any() and not np.isnan(grad).any()
    if np.isinf(expected_nll):
        assert nll[0] == np.inf
    else:
        np.testing.assert_allclose(nll[0], expected_nll, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(grad[:, 0, :], expected_grad, atol=1e-9)


@given(small_ctc_cases(max_frames=5), st.integers(0, 5))
def test_frames_past_input_length_are_ignored_and_get_zero_gradient(case, extra_frames):
    log_probs, target, blank = case
    padding = np.random.default_rng(extra_frames).normal(size=(extra_frames, log_probs.shape[1]))
    padded = np.concatenate([log_probs, padding])[:, None, :]
    nll, grad = run_kernel(padded, [target], [len(log_probs)], [len(target)], blank)
    expected_nll, expected_grad = brute_force_nll_and_grad(log_probs, target, blank)
    assert nll[0] == pytest.approx(expected_nll, rel=1e-12)
    np.testing.assert_allclose(grad[: len(log_probs), 0], expected_grad, atol=1e-12)
    assert np.all(grad[len(log_probs):] == 0)


def test_batch_of_mixed_lengths_equals_each_sequence_alone():
    rng = np.random.default_rng(3)
    frames, classes = 7, 5
    log_probs = log_softmax(rng.normal(size=(frames, 4, classes)))
    targets = [[1, 2, 2], [4], [], [3, 3, 1]]
    input_lengths = [7, 3, 5, 6]
    nll, grad = run_kernel(log_probs, targets, input_lengths, [len(t) for t in targets], 0)
    for n, (target, length) in enumerate(zip(targets, input_lengths)):
        expected_nll, expected_grad = brute_force_nll_and_grad(log_probs[:length, n], target, 0)
        assert nll[n] == pytest.approx(expected_nll, rel=1e-12)
        np.testing.assert_allclose(grad[:length, n], expected_grad, atol=1e-12)
        assert np.all(grad[length:, n] == 0)


def test_warp_ctc_small_golden_case():
    # warp-ctc tests/test_cpu.cpp small_test: the only alignment of "1 2" in two frames is (1, 2).
    activations = np.array([[0.1, 0.6, 0.1, 0.1, 0.1], [0.1, 0.1, 0.6, 0.1, 0.1]])
    nll, _ = run_kernel(log_softmax(activations)[:, None, :], [[1, 2]], [2], [2], 0)
    assert np.exp(-nll[0]) == pytest.approx(0.0851911, abs=1e-6)
    assert nll[0] == pytest.approx(2.462858, abs=1e-6)


def test_empty_target_costs_minus_the_sum_of_blank_log_probs():
    log_probs = log_softmax(np.random.default_rng(1).normal(size=(9, 1, 4)))
    nll, grad = run_kernel(log_probs, [[]], [9], [0], 2)
    assert nll[0] == pytest.approx(-log_probs[:, 0, 2].sum(), rel=1e-13)
    expected_grad = np.zeros((9, 4))
    expected_grad[:, 2] = -1.0  # the all-blank path is the only one: it occupies the blank always
    np.testing.assert_array_equal(grad[:, 0], expected_grad)


def test_zero_input_length_gives_zero_for_empty_target_and_inf_otherwise():
    log_probs = log_softmax(np.random.default_rng(2).normal(size=(3, 2, 4)))
    nll, grad = run_kernel(log_probs, [[], [1]], [0, 0], [0, 1], 0)
    assert nll[0] == 0.0 and nll[1] == np.inf
    assert np.all(grad == 0)


def test_target_too_long_for_its_input_is_inf_with_zero_gradient():
    # "1 1" needs three frames (1, blank, 1); "1 2" fits in two.
    log_probs = log_softmax(np.random.default_rng(4).normal(size=(2, 2, 3)))
    nll, grad = run_kernel(log_probs, [[1, 1], [1, 2]], [2, 2], [2, 2], 0)
    assert nll[0] == np.inf and np.isfinite(nll[1])
    assert np.all(grad[:, 0] == 0)
    assert not np.isnan(grad).any()


def test_label_with_minus_1e30_log_prob_everywhere_stays_finite():
    rng = np.random.default_rng(5)
    log_probs = log_softmax(rng.normal(size=(12, 1, 4)))
    log_probs[:, 0, 3] = -1e30
    nll, grad = run_kernel(log_probs, [[1, 3, 2]], [12], [3], 0)
    # Every alignment emits class 3 at least once, so -log p is about 1e30: huge but finite.
    assert np.isfinite(nll[0]) and nll[0] >= 1e30
    assert np.isfinite(grad).all()


def test_label_with_minus_inf_log_prob_everywhere_is_inf_with_zero_gradient():
    rng = np.random.default_rng(6)
    log_probs = log_softmax(rng.normal(size=(12, 2, 4)))
    log_probs[:, :, 3] = -np.inf
    nll, grad = run_kernel(log_probs, [[1, 3, 2], [1, 2]], [12, 12], [3, 2], 0)
    assert nll[0] == np.inf
    assert np.isfinite(nll[1])
    assert np.all(grad[:, 0] == 0) and np.isfinite(grad).all()


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_nan_or_plus_inf_in_a_target_class_gives_nan_and_zero_gradient_as_in_log_space(bad_value):
    # The scaled path leaves such frames to the log-space path; the maths has no finite answer.
    log_probs = log_softmax(np.random.default_rng(8).normal(size=(6, 2, 4)))
    log_probs[2, 0, 1] = bad_value
    log_probs[3, 1, 3] = bad_value  # class 3 is in no target of sequence 1: ignored
    nll, grad = run_kernel(log_probs, [[1, 2], [1, 2]], [6, 6], [2, 2], 0)
    expected_nll, _ = log_space_loss_and_grad(log_probs[:, 0], [1, 2], 0)
    assert np.isnan(nll[0]) and np.isnan(expected_nll) and np.all(grad[:, 0] == 0)
    assert nll[1] == pytest.approx(log_space_loss_and_grad(log_probs[:, 1], [1, 2], 0)[0], rel=1e-12)


SMALLEST_NORMAL = np.finfo(np.float64).tiny  # 2^-1022


@given(st.lists(st.one_of(st.floats(-800.0, 0.0), st.floats(-1.0, 0.0), st.floats(-746.0, -700.0),
                          st.sampled_from([0.0, -0.0, -np.inf, -5e-324, -708.4, -745.1, -745.2])),
                min_size=1, max_size=40))
def test_exp_of_nonpositive_matches_numpys_exp(values):
    # Reference: numpy's exp (a separately written, correctly rounded to within 1 ulp, libm-style routine).
    values = np.array(values)
    ours = values.copy()
    kernels.exp_of_nonpositive(ours)
    expected = np.exp(values)
    normal = expected >= SMALLEST_NORMAL
    np.testing.assert_allclose(ours[normal], expected[normal], rtol=5e-16, atol=0)
    # Below the normal range the result is flushed to 0 or kept: off by at most 2^-1022.5.
    assert np.all(np.abs(ours[~normal] - expected[~normal]) <= SMALLEST_NORMAL / np.sqrt(2))
    assert np.all(ours[values == -np.inf] == 0.0) and np.all(ours[values == 0.0] == 1.0)
    plain = values.copy()
    kernels.exp_of_nonpositive.py_func(plain)
    np.testing.assert_array_equal(ours, plain)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_input_is_finite_and_each_frame_gradient_sums_to_minus_one(dtype):
    rng = np.random.default_rng(7)
    frames, batch, classes, target_length = 2000, 2, 30, 100
    log_probs = log_softmax(rng.normal(size=(frames, batch, classes)) * 3).astype(dtype)
    targets = rng.integers(1, classes, size=(batch, target_length)).tolist()
    nll, grad = run_kernel(log_probs, targets, [frames, 1500], [target_length, target_length], 0)
    assert np.isfinite(nll).all() and np.isfinite(grad).all()
    assert grad.dtype == dtype
    # The posterior occupancy of every frame inside the input sums to 1.
    np.testing.assert_allclose(grad[:, 0].sum(axis=1), -1.0, atol=1e-5 if dtype == np.float32 else 1e-10)
    np.testing.assert_allclose(grad[:1500, 1].sum(axis=1), -1.0, atol=1e-5 if dtype == np.float32 else 1e-10)


def test_float32_input_is_accumulated_in_float64():
    rng = np.random.default_rng(8)
    log_probs = log_softmax(rng.normal(size=(400, 1, 6))).astype(np.float32)
    target = rng.integers(1, 6, size=60).tolist()
    nll32, _ = run_kernel(log_probs, [target], [400], [60], 0)
    nll64, _ = run_kernel(log_probs.astype(np.float64), [target], [400], [60], 0)
    # Same float32 inputs, so only accumulation could make these differ.
    assert nll32.dtype == np.float64
    assert nll32[0] == pytest.approx(nll64[0], rel=1e-13)


def test_compute_grad_false_skips_the_gradient_but_not_the_loss():
    log_probs = log_softmax(np.random.default_rng(9).normal(size=(5, 2, 3)))
    nll_with, _ = run_kernel(log_probs, [[1], [2, 1]], [5, 4], [1, 2], 0)
    nll_without, grad = run_kernel(log_probs, [[1], [2, 1]], [5, 4], [1, 2], 0, compute_grad=False)
    np.testing.assert_array_equal(nll_with, nll_without)
    assert grad.shape == (0, 2, 3)


@st.composite
def batched_ctc_cases(draw, logit_scale=5.0):
    """A batch with mixed input and target lengths, for comparing compiled and plain Python."""
    batch = draw(st.integers(1, 3))
    frames = draw(st.integers(0, 8))
    classes = draw(st.integers(2, 5))
    blank = draw(st.integers(0, classes - 1))
    labels = [k for k in range(classes) if k != blank]
    targets = [draw(st.lists(st.sampled_from(labels), max_size=4)) for _ in range(batch)]
    input_lengths = [draw(st.integers(0, frames)) for _ in range(batch)]
    logits = draw(st.lists(st.floats(-logit_scale, logit_scale), min_size=frames * batch * classes,
                           max_size=frames * batch * classes))
    log_probs = log_softmax(np.array(logits).reshape(frames, batch, classes))
    return log_probs, targets, input_lengths, blank


def log_space_loss_and_grad(log_probs, target, blank):
    """One sequence through the log-space functions only (no scaled path): (nll, grad (T, C))."""
    extended, can_skip = kernels.extended_targets_and_skips(np.array(target, dtype=np.int64), blank)
    emissions = log_probs[:, extended].astype(np.float64)
    log_alpha = kernels.forward_log_alpha(emissions, can_skip)
    log_likelihood = kernels.log_likelihood_from_alpha(log_alpha)
    grad = np.zeros(log_probs.shape)
    if log_likelihood > -np.inf:
        log_beta = kernels.backward_log_beta(emissions, can_skip)
        kernels.occupancy_gradient(log_alpha, log_beta, log_likelihood, extended, grad)
    return -log_likelihood, grad


def scaled_path_result(log_probs, target, blank):
    """(nll, error_bound) of the scaled probability-space path alone."""
    extended, can_skip = kernels.extended_targets_and_skips(np.array(target, dtype=np.int64), blank)
    used, slot = kernels.distinct_classes(extended)
    alpha, emission, log_likelihood, underflow_error = kernels.scaled_forward(log_probs, used, slot, can_skip)
    if log_likelihood == -np.inf:
        return np.inf, np.inf
    error_bound, _ = kernels.scaled_backward(alpha, emission, slot, can_skip, underflow_error)
    return -log_likelihood, error_bound


@st.composite
def ordinary_sequences(draw):
    """Longer sequences of everyday scale: log_softmax of logits in [-8, 8], targets that fit."""
    classes = draw(st.integers(2, 12))
    blank = draw(st.integers(0, classes - 1))
    labels = [k for k in range(classes) if k != blank]
    target = draw(st.lists(st.sampled_from(labels), max_size=15))
    shortest = len(target) + sum(a == b for a, b in zip(target, target[1:]))
    frames = draw(st.integers(max(1, shortest), 80))
    seed = draw(st.integers(0, 2**32 - 1))
    logits = np.random.default_rng(seed).uniform(-8, 8, size=(frames, classes))
    return log_softmax(logits), target, blank


@given(ordinary_sequences())
def test_scaled_path_is_taken_on_ordinary_inputs_and_equals_log_space(case):
    log_probs, target, blank = case
    scaled_nll, error_bound = scaled_path_result(log_probs, target, blank)
    assert error_bound <= kernels.UNDERFLOW_TOLERANCE
    expected_nll, expected_grad = log_space_loss_and_grad(log_probs, target, blank)
    assert scaled_nll == pytest.approx(expected_nll, rel=1e-12)
    nll, grad = run_kernel(log_probs[:, None, :], [target], [len(log_probs)], [len(target)], blank)
    assert nll[0] == scaled_nll
    np.testing.assert_allclose(grad[:, 0], expected_grad, atol=1e-12)


def test_scaled_path_refuses_when_a_flushed_branch_would_have_dominated():
    # Classes (blank, 1, 2), target "1 2", three frames. Starting in "1" costs e^-750 at frame 0,
    # which underflows next to the blank's 1, yet every other alignment must pay e^-400 twice:
    # the true -log p is 750 (brute force), while the scaled recursion alone would say 800.
    log_probs = np.array([[0.0, -750.0, -750.0], [-400.0, -400.0, 0.0], [0.0, -400.0, -400.0]])
    scaled_nll, error_bound = scaled_path_result(log_probs, [1, 2], 0)
    assert scaled_nll == pytest.approx(800.0) and error_bound > kernels.UNDERFLOW_TOLERANCE
    expected_nll, expected_grad = brute_force_nll_and_grad(log_probs, [1, 2], 0)
    nll, grad = run_kernel(log_probs[:, None, :], [[1, 2]], [3], [2], 0)
    assert expected_nll == pytest.approx(750.0) and nll[0] == pytest.approx(expected_nll, rel=1e-14)
    np.testing.assert_allclose(grad[:, 0], expected_grad, atol=1e-14)


def test_scaled_path_gives_up_when_a_label_underflows_at_every_frame():
    log_probs = log_softmax(np.random.default_rng(11).normal(size=(8, 4)))
    log_probs[:, 2] -= 1e4  # e^-10000: zero in probability space, finite in log space
    scaled_nll, _ = scaled_path_result(log_probs, [1, 2], 0)
    assert scaled_nll == np.inf
    nll, _ = run_kernel(log_probs[:, None, :], [[1, 2]], [8], [2], 0)
    expected_nll, _ = log_space_loss_and_grad(log_probs, [1, 2], 0)
    assert np.isfinite(nll[0]) and nll[0] == pytest.approx(expected_nll, rel=1e-14)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="with NUMBA_DISABLE_JIT=1 there is no compiled code to compare")
@given(batched_ctc_cases(), st.sampled_from([np.float32, np.float64]))
def test_compiled_kernel_equals_its_plain_python_function(case, dtype):
    log_probs, targets, input_lengths, blank = case
    log_probs = log_probs.astype(dtype)
    target_lengths = [len(t) for t in targets]
    compiled = run_kernel(log_probs, targets, input_lengths, target_lengths, blank)
    plain = run_kernel(log_probs, targets, input_lengths, target_lengths, blank,
                       kernel=kernels.ctc_loss_and_grad.py_func)
    np.testing.assert_allclose(compiled[0], plain[0], rtol=1e-13)
    np.testing.assert_allclose(compiled[1], plain[1], rtol=1e-12, atol=1e-12)
    # Every function the batch kernel calls, each against its own .py_func.
    for n, target in enumerate(targets):
        target = np.array(target, dtype=np.int64)
        sequence = log_probs[: input_lengths[n], n]
        grad, plain_grad = np.empty(sequence.shape), np.empty(sequence.shape)
        nll = kernels.sequence_loss_and_grad(sequence, target, blank, grad, True)
        plain_nll = kernels.sequence_loss_and_grad.py_func(sequence, target, blank, plain_grad, True)
        assert nll == pytest.approx(plain_nll, rel=1e-13)
        np.testing.assert_allclose(grad, plain_grad, rtol=1e-12, atol=1e-15)
        extended, can_skip = kernels.extended_targets_and_skips(target, blank)
        plain_extended, plain_can_skip = kernels.extended_targets_and_skips.py_func(target, blank)
        np.testing.assert_array_equal(extended, plain_extended)
        np.testing.assert_array_equal(can_skip, plain_can_skip)
        used, slot = kernels.distinct_classes(extended)
        for compiled_part, plain_part in zip((used, slot), kernels.distinct_classes.py_func(extended)):
            np.testing.assert_array_equal(compiled_part, plain_part)
        if len(sequence) == 0:
            continue
        forward = kernels.scaled_forward(sequence, used, slot, can_skip)
        plain_forward = kernels.scaled_forward.py_func(sequence, used, slot, can_skip)
        for compiled_part, plain_part in zip(forward, plain_forward):
            np.testing.assert_allclose(compiled_part, plain_part, rtol=1e-13)
        if forward[2] > -np.inf:
            backward = kernels.scaled_backward(forward[0], forward[1], slot, can_skip, forward[3])
            plain_backward = kernels.scaled_backward.py_func(forward[0], forward[1], slot, can_skip, forward[3])
            for compiled_part, plain_part in zip(backward, plain_backward):
                np.testing.assert_allclose(compiled_part, plain_part, rtol=1e-12, atol=1e-15)
        emissions = sequence[:, extended].astype(np.float64)
        log_alpha = kernels.forward_log_alpha(emissions, can_skip)
        log_beta = kernels.backward_log_beta(emissions, can_skip)
        np.testing.assert_allclose(log_alpha, kernels.forward_log_alpha.py_func(emissions, can_skip), rtol=1e-13)
        np.testing.assert_allclose(log_beta, kernels.backward_log_beta.py_func(emissions, can_skip), rtol=1e-13)
        log_likelihood = kernels.log_likelihood_from_alpha(log_alpha)
        assert log_likelihood == pytest.approx(kernels.log_likelihood_from_alpha.py_func(log_alpha), rel=1e-13)
        if np.isfinite(log_likelihood):
            kernels.occupancy_gradient(log_alpha, log_beta, log_likelihood, extended, grad)
            kernels.occupancy_gradient.py_func(log_alpha, log_beta, log_likelihood, extended, plain_grad)
            np.testing.assert_allclose(grad, plain_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs at least two Numba threads")
@given(batched_ctc_cases(), st.sampled_from([np.float32, np.float64]))
def test_one_thread_and_all_threads_give_identical_results(case, dtype):
    # ctc_loss() runs small batches on one thread (loss.PARALLEL_MIN_CELLS); sequences are
    # independent, so the thread count must not change a single bit.
    log_probs, targets, input_lengths, blank = case
    arguments = (log_probs.astype(dtype), targets, input_lengths, [len(t) for t in targets], blank)
    parallel = run_kernel(*arguments)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        serial = run_kernel(*arguments)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(parallel[0], serial[0])
    np.testing.assert_array_equal(parallel[1], serial[1])


def test_kernels_run_as_plain_python_under_numba_disable_jit():
    # A fresh interpreter with the JIT off runs kernels.py as ordinary Python end to end.
    rng = np.random.default_rng(10)
    log_probs = log_softmax(rng.normal(size=(6, 3, 4)))
    targets, input_lengths, target_lengths = [[1, 1, 2], [3], []], [6, 4, 2], [3, 1, 0]
    script = (
        "import json, sys, numpy as np\n"
        "from tinyseq.ctc import kernels\n"
        "args = json.loads(sys.stdin.read())\n"
        "padded = np.zeros((3, 3), dtype=np.int64)\n"
        "for n, t in enumerate(args['targets']): padded[n, :len(t)] = t\n"
        "nll, grad = kernels.ctc_loss_and_grad(np.array(args['log_probs']), padded,"
        " np.array(args['input_lengths']), np.array(args['target_lengths']), 0, True, np.ones(3))\n"
        "print(json.dumps({'jit_off': hasattr(kernels.ctc_loss_and_grad, 'py_func') is False,"
        " 'nll': nll.tolist(), 'grad': grad.tolist()}))\n"
    )
    payload = json.dumps(dict(log_probs=log_probs.tolist(), targets=targets, input_lengths=input_lengths,
                              target_lengths=target_lengths))
    environment = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=str(REPO_ROOT))
    completed = subprocess.run([sys.executable, "-c", script], input=payload, capture_output=True, text=True,
                               env=environment, cwd=REPO_ROOT, timeout=120, check=True)
    result = json.loads(completed.stdout)
    assert result["jit_off"], "NUMBA_DISABLE_JIT=1 should leave plain Python functions"
    nll, grad = run_kernel(log_probs, targets, input_lengths, target_lengths, 0)
    np.testing.assert_allclose(result["nll"], nll, rtol=1e-13)
    np.testing.assert_allclose(result["grad"], grad, rtol=1e-12, atol=1e-15)


@given(batched_ctc_cases(), st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_grad_scale_multiplies_each_sequence_gradient_and_leaves_the_loss_alone(case, factors):
    # The reduction's weights are applied inside the kernel; that must equal scaling afterwards.
    log_probs, targets, input_lengths, blank = case
    target_lengths = [len(t) for t in targets]
    grad_scale = np.array(factors[: len(targets)])
    nll, grad = run_kernel(log_probs, targets, input_lengths, target_lengths, blank)
    scaled_nll, scaled_grad = run_kernel(log_probs, targets, input_lengths, target_lengths, blank,
                                         grad_scale=grad_scale)
    np.testing.assert_array_equal(scaled_nll, nll)
    np.testing.assert_allclose(scaled_grad, grad * grad_scale[None, :, None], rtol=1e-15, atol=0)


@given(st.integers(1, 4), st.integers(0, 5), st.integers(1, 6), st.data())
def test_first_invalid_label_finds_the_first_bad_label_in_row_major_order(batch, width, classes, data):
    blank = data.draw(st.integers(0, classes - 1))
    targets = np.array(data.draw(st.lists(st.lists(st.integers(-2, classes + 1), min_size=width, max_size=width),
                                          min_size=batch, max_size=batch)), dtype=np.int64).reshape(batch, width)
    target_lengths = np.array(data.draw(st.lists(st.integers(0, width), min_size=batch, max_size=batch)),
                              dtype=np.int64)
    # Reference: a mask over the padded targets, bad labels inside each target's length.
    inside = np.arange(width)[None, :] < target_lengths[:, None]
    bad = inside & ((targets < 0) | (targets >= classes) | (targets == blank))
    expected = tuple(int(i[0]) for i in np.nonzero(bad)) if bad.any() else (-1, -1)
    assert tuple(kernels.first_invalid_label(targets, target_lengths, classes, blank)) == expected
