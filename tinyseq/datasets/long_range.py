"""Synthetic long-range memory tasks with known answers: the adding problem and copy memory.

Both come from Hochreiter & Schmidhuber (1997), "Long Short-Term Memory", where they were built to
show what a plain RNN cannot learn: the answer depends on inputs seen many steps before the model
must give it, and everything in between is noise. Here they are in the form most papers since use
(Arjovsky, Shah & Bengio 2016, "Unitary Evolution Recurrent Neural Networks"). Each generator also
states the error of the best model that remembers nothing, so a learner can tell "learned the task"
from "learned the average".

The arrays are numpy, batch first: (num_sequences, seq_len, ...). Wrap them with ts.tensor and use
a layer built with batch_first=True (or transpose to time-major).

rng follows numpy's convention (SPEC 7): an int seed, a np.random.Generator (to draw batch after
batch from one stream), or None for fresh entropy. The same seed always gives the same arrays.
"""

import numbers

import numpy as np

ADDING_PROBLEM_BASELINE_MSE = 1.0 / 6.0
"""Mean squared error of always predicting 1.0, the mean of the target.

The target is the sum of two independent U(0, 1) values, so it has mean 1 and variance
2 * (1 / 12) = 1 / 6 ~ 0.1667; no prediction that ignores the inputs does better (the mean
minimises the expected squared error)."""

# Copy-memory tokens: 0 is the blank, 1..8 are the symbols to remember, 9 is the delimiter.
COPY_MEMORY_NUM_SYMBOLS = 8
COPY_MEMORY_BLANK = 0
COPY_MEMORY_DELIMITER = COPY_MEMORY_NUM_SYMBOLS + 1
COPY_MEMORY_VOCAB_SIZE = COPY_MEMORY_NUM_SYMBOLS + 2


def adding_problem(num_sequences, seq_len, rng=None):
    """The adding problem: remember two marked numbers and output their sum at the end.

    Each time step carries two features: a value drawn from U(0, 1) and a marker, 0 or 1. Exactly
    two steps are marked, one uniformly in the first half (t < seq_len // 2) and one uniformly in
    the second half; the target is the sum of the two marked values. Because the first marker can
    be anywhere in the first half, a model must carry a value across at least seq_len - seq_len // 2
    steps. (Hochreiter & Schmidhuber's original put values in [-1, 1] and scaled the target to
    0.5 + (a + b) / 4; this is the variant Arjovsky, Shah & Bengio 2016 use.)

    num_sequences: N >= 1.   seq_len: T >= 2 (one step per half at least).
    Returns inputs: (N, T, 2) float32, [..., 0] the values and [..., 1] the markers, and
    targets: (N,) float32, the sum of the two marked values (computed in float32 from the returned
    values, so it is exactly reproducible from `inputs`).
    The trivial baseline, always predicting 1.0, has expected MSE ADDING_PROBLEM_BASELINE_MSE = 1/6.
    """
    _check_count("num_sequences", num_sequences, minimum=1)
    _check_count("seq_len", seq_len, minimum=2)
    rng = _as_generator(rng)
    values = rng.uniform(0.0, 1.0, size=(num_sequences, seq_len)).astype(np.float32)
    half = seq_len // 2
    rows = np.arange(num_sequences)
    first_marked = rng.integers(0, half, size=num_sequences)
    second_marked = rng.integers(half, seq_len, size=num_sequences)
    markers = np.zeros((num_sequences, seq_len), dtype=np.float32)
    markers[rows, first_marked] = 1.0
    markers[rows, second_marked] = 1.0
    inputs = np.stack([values, markers], axis=-1)
    targets = values[rows, first_marked] + values[rows, second_marked]
    return inputs, targets


def copy_memory(num_sequences, delay, num_to_copy=10, rng=None):
    """The copy-memory task: read a few symbols, wait `delay` steps, then write them back.

    Input tokens, length L = num_to_copy + delay + num_to_copy:
        num_to_copy symbols drawn uniformly from 1..8, then delay - 1 blanks (0), then the
        delimiter (9) that says "start writing", then num_to_copy blanks.
    Target tokens, same length: num_to_copy + delay blanks, then the num_to_copy symbols.
    Each symbol must be carried for exactly num_to_copy + delay steps.

    num_sequences: N >= 1.   delay: >= 1.   num_to_copy: >= 1.
    Returns inputs: (N, L) int64 and targets: (N, L) int64, token ids in 0..9
    (COPY_MEMORY_VOCAB_SIZE = 10); feed the inputs through an embedding or one-hot encode them.
    The trivial baseline (blanks, then a uniform guess over the 8 symbols for the copied steps)
    has the cross-entropy given by copy_memory_baseline_cross_entropy(delay, num_to_copy).
    """
    _check_count("num_sequences", num_sequences, minimum=1)
    _check_count("delay", delay, minimum=1)
    _check_count("num_to_copy", num_to_copy, minimum=1)
    rng = _as_generator(rng)
    length = 2 * num_to_copy + delay
    symbols = rng.integers(1, COPY_MEMORY_NUM_SYMBOLS + 1, size=(num_sequences, num_to_copy))
    inputs = np.full((num_sequences, length), COPY_MEMORY_BLANK, dtype=np.int64)
    inputs[:, :num_to_copy] = symbols
    inputs[:, num_to_copy + delay - 1] = COPY_MEMORY_DELIMITER
    targets = np.full((num_sequences, length), COPY_MEMORY_BLANK, dtype=np.int64)
    targets[:, num_to_copy + delay:] = symbols
    return inputs, targets


def copy_memory_baseline_cross_entropy(delay, num_to_copy=10):
    """Mean cross-entropy per step (nats) of the best model that remembers no symbol.

    It predicts the blank with certainty for the first num_to_copy + delay steps (loss 0) and a
    uniform guess over the 8 symbols for the last num_to_copy steps (loss log 8 each), so the mean
    over all L = 2 * num_to_copy + delay steps is num_to_copy * log(8) / L.
    """
    _check_count("delay", delay, minimum=1)
    _check_count("num_to_copy", num_to_copy, minimum=1)
    return num_to_copy * np.log(COPY_MEMORY_NUM_SYMBOLS) / (2 * num_to_copy + delay)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")


def _as_generator(rng):
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError) as error:
        raise type(error)(
            f"rng: expected None, a non-negative int seed or a np.random.Generator, got {rng!r} ({error})"
        ) from None
