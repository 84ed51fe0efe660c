"""Tests for the long-range memory tasks (tinyseq/datasets/long_range.py).

The known answers are checked against independent computations: the adding problem's target
against a masked sum of the inputs (the generator indexes instead), its baseline error against
the hand derivation Var(U + U') = 2/12 by Monte Carlo, and the copy-memory baseline against a
brute-force cross-entropy of the blank-then-uniform predictor.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyseq.datasets.long_range import (
    ADDING_PROBLEM_BASELINE_MSE,
    COPY_MEMORY_BLANK,
    COPY_MEMORY_DELIMITER,
    COPY_MEMORY_NUM_SYMBOLS,
    adding_problem,
    copy_memory,
    copy_memory_baseline_cross_entropy,
)

# ------------------------------------------------------------------------------------------
# Adding problem
# ------------------------------------------------------------------------------------------


def test_adding_problem_same_seed_gives_same_arrays():
    first_inputs, first_targets = adding_problem(16, 12, rng=3)
    second_inputs, second_targets = adding_problem(16, 12, rng=3)
    np.testing.assert_array_equal(first_inputs, second_inputs)
    np.testing.assert_array_equal(first_targets, second_targets)


def test_adding_problem_different_seeds_give_different_arrays():
    first_inputs, _ = adding_problem(16, 12, rng=3)
    second_inputs, _ = adding_problem(16, 12, rng=4)
    assert not np.array_equal(first_inputs, second_inputs)


def test_adding_problem_generator_draws_fresh_batches_reproducibly():
    stream = np.random.default_rng(7)
    first_batch, _ = adding_problem(8, 10, rng=stream)
    second_batch, _ = adding_problem(8, 10, rng=stream)
    assert not np.array_equal(first_batch, second_batch)
    replay = np.random.default_rng(7)
    np.testing.assert_array_equal(adding_problem(8, 10, rng=replay)[0], first_batch)
    np.testing.assert_array_equal(adding_problem(8, 10, rng=replay)[0], second_batch)


@given(num_sequences=st.integers(1, 20), seq_len=st.integers(2, 40), seed=st.integers(0, 2**32 - 1))
def test_adding_problem_target_is_sum_of_the_two_marked_values(num_sequences, seq_len, seed):
    inputs, targets = adding_problem(num_sequences, seq_len, rng=seed)
    assert inputs.shape == (num_sequences, seq_len, 2) and inputs.dtype == np.float32
    assert targets.shape == (num_sequences,) and targets.dtype == np.float32
    values, markers = inputs[..., 0], inputs[..., 1]
    assert set(np.unique(markers)) <= {0.0, 1.0}
    assert np.all((values >= 0.0) & (values < 1.0))
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    np.testing.assert_allclose(targets, (values * markers).sum(axis=1), rtol=1e-6)


@given(num_sequences=st.integers(1, 20), seq_len=st.integers(2, 40), seed=st.integers(0, 2**32 - 1))
def test_adding_problem_marks_one_step_in_each_half(num_sequences, seq_len, seed):
    inputs, _ = adding_problem(num_sequences, seq_len, rng=seed)
    half = seq_len // 2
    np.testing.assert_array_equal(inputs[:, :half, 1].sum(axis=1), 1.0)
    np.testing.assert_array_equal(inputs[:, half:, 1].sum(axis=1), 1.0)


def test_adding_problem_baseline_constant_is_the_variance_of_a_sum_of_two_uniforms():
    # Hand derivation: Var(U(0, 1)) = 1/12, and the two values are independent.
    assert ADDING_PROBLEM_BASELINE_MSE == pytest.approx(2.0 / 12.0)


def test_adding_problem_predicting_one_has_the_baseline_error():
    # Monte Carlo with 200k targets: (S - 1)^2 has standard deviation ~0.197 (E[(S-1)^4] = 1/15),
    # so the mean's standard error is ~0.00044 and 0.003 is about 7 standard errors.
    _, targets = adding_problem(200_000, 5, rng=0)
    targets = targets.astype(np.float64)
    assert targets.mean() == pytest.approx(1.0, abs=0.003)
    assert np.mean((targets - 1.0) ** 2) == pytest.approx(ADDING_PROBLEM_BASELINE_MSE, abs=0.003)
    # Any other constant c is worse by (1 - c)^2: the mean is the best input-blind prediction.
    assert np.mean((targets - 0.8) ** 2) == pytest.approx(ADDING_PROBLEM_BASELINE_MSE + 0.04, abs=0.003)


@pytest.mark.parametrize(
    "kwargs, error, names",
    [
        (dict(num_sequences=0, seq_len=10), ValueError, "num_sequences"),
        (dict(num_sequences=4, seq_len=1), ValueError, "seq_len"),
        (dict(num_sequences=4.0, seq_len=10), TypeError, "num_sequences"),
        (dict(num_sequences=4, seq_len=True), TypeError, "seq_len"),
        (dict(num_sequences=4, seq_len=10, rng=-1), ValueError, "rng"),
        (dict(num_sequences=4, seq_len=10, rng="seed"), TypeError, "rng"),
    ],
)
def test_adding_problem_rejects_bad_arguments_by_name(kwargs, error, names):
    with pytest.raises(error, match=names):
        adding_problem(**kwargs)


# ------------------------------------------------------------------------------------------
# Copy memory
# ------------------------------------------------------------------------------------------


def test_copy_memory_hand_worked_layout():
    inputs, targets = copy_memory(1, delay=4, num_to_copy=2, rng=0)
    first, second = inputs[0, :2]
    # By hand: 2 symbols, delay - 1 = 3 blanks, the delimiter, 2 blanks; targets are 2 + 4 blanks,
    # then the 2 symbols.
    np.testing.assert_array_equal(inputs[0], [first, second, 0, 0, 0, 9, 0, 0])
    np.testing.assert_array_equal(targets[0], [0, 0, 0, 0, 0, 0, first, second])


@given(
    num_sequences=st.integers(1, 10),
    delay=st.integers(1, 30),
    num_to_copy=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
)
def test_copy_memory_targets_repeat_the_symbols_after_num_to_copy_plus_delay_steps(
    num_sequences, delay, num_to_copy, seed
):
    inputs, targets = copy_memory(num_sequences, delay, num_to_copy, rng=seed)
    length = 2 * num_to_copy + delay
    assert inputs.shape == targets.shape == (num_sequences, length)
    symbols = inputs[:, :num_to_copy]
    assert np.all((symbols >= 1) & (symbols <= COPY_MEMORY_NUM_SYMBOLS))
    lag = num_to_copy + delay
    np.testing.assert_array_equal(targets[:, lag:], symbols)
    assert np.all(targets[:, :lag] == COPY_MEMORY_BLANK)
    after_symbols = inputs[:, num_to_copy:]
    delimiter_positions = np.argwhere(after_symbols == COPY_MEMORY_DELIMITER)
    np.testing.assert_array_equal(delimiter_positions[:, 1], delay - 1)
    assert np.count_nonzero(after_symbols) == num_sequences


def test_copy_memory_same_seed_gives_same_arrays():
    np.testing.assert_array_equal(copy_memory(5, 7, rng=11)[0], copy_memory(5, 7, rng=11)[0])
    assert not np.array_equal(copy_memory(5, 7, rng=11)[0], copy_memory(5, 7, rng=12)[0])


@pytest.mark.parametrize("delay, num_to_copy", [(1, 1), (10, 10), (100, 10), (37, 3)])
def test_copy_memory_baseline_matches_brute_force_cross_entropy(delay, num_to_copy):
    inputs, targets = copy_memory(50, delay, num_to_copy, rng=1)
    length = inputs.shape[1]
    vocab = COPY_MEMORY_DELIMITER + 1
    probabilities = np.zeros((length, vocab))
    probabilities[: num_to_copy + delay, COPY_MEMORY_BLANK] = 1.0
    probabilities[num_to_copy + delay :, 1 : COPY_MEMORY_NUM_SYMBOLS + 1] = 1.0 / COPY_MEMORY_NUM_SYMBOLS
    step_probability = probabilities[np.arange(length)[None, :], targets]  # (N, L)
    brute_force = np.mean(-np.log(step_probability))
    assert copy_memory_baseline_cross_entropy(delay, num_to_copy) == pytest.approx(brute_force, rel=1e-12)


def test_copy_memory_baseline_for_arjovskys_setting():
    # Arjovsky et al. (2016) quote 10 log 8 / (T + 20) for T blanks; with T = 100: 0.1733 nats.
    assert copy_memory_baseline_cross_entropy(100, 10) == pytest.approx(10 * np.log(8) / 120)
    assert copy_memory_baseline_cross_entropy(100, 10) == pytest.approx(0.17329, abs=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        (dict(num_sequences=0, delay=5), ValueError, "num_sequences"),
        (dict(num_sequences=2, delay=0), ValueError, "delay"),
        (dict(num_sequences=2, delay=5, num_to_copy=0), ValueError, "num_to_copy"),
        (dict(num_sequences=2, delay=5.5), TypeError, "delay"),
    ],
)
def test_copy_memory_rejects_bad_arguments_by_name(kwargs, error, name):
    with pytest.raises(error, match=name):
        copy_memory(**kwargs)
