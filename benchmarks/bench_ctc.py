"""Benchmark: CTC loss forward + backward, tinyseq vs PyTorch CPU vs the same recursion in plain numpy.

    python benchmarks/bench_ctc.py                      # the three sizes, 2 threads, each library alone
    python benchmarks/bench_ctc.py --threads 1 --turns 40
    python benchmarks/bench_ctc.py --size 100,16,29,20 --contenders tinyseq,torch
    python benchmarks/bench_ctc.py --first-call          # also: first call in a fresh process (compile, cache)

Each timed call is one training step's worth of CTC: loss = ctc_loss(log_probs, ...) (reduction
"mean", float32 log_probs from a log_softmax, every sequence using all T frames and S labels) and
loss.backward(), through the public API with all of its argument checking, from a fresh leaf
tensor each call. PyTorch runs torch.nn.functional.ctc_loss the same way. The numpy baseline runs
the log-space recursion vectorised over the batch and the extended target and looping over time, so
the ratio against it is what compiling the loop buys. Each contender runs in its own process with
the same thread count (benchmarks/harness.py says why and how).
"""

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

import harness

CONTENDERS = ("tinyseq", "torch", "numpy")
CASES = [  # (T, N, C, S)
    (200, 32, 32, 40),
    (100, 16, 29, 20),
    (500, 8, 80, 100),
]


def make_inputs(frames, batch, classes, target_length, seed=0):
    """float32 log_probs (T, N, C) from a log_softmax, random targets (N, S) in [1, C), full lengths."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(frames, batch, classes))
    log_probs = (logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))).astype(np.float32)
    targets = rng.integers(1, classes, size=(batch, target_length))
    return log_probs, targets, np.full(batch, frames), np.full(batch, target_length)


def numpy_ctc_loss_and_grad(log_probs, targets, blank=0):
    """The CTC recursion in plain numpy: all sequences use every frame and their full target.

    log_probs: (T, N, C) float; targets: (N, S) int. Returns (nll (N,), grad (T, N, C)), the
    gradient being d nll / d log_probs (minus the posterior occupancy), as in tinyseq's kernel.
    """
    frames, batch, classes = log_probs.shape
    length = 2 * targets.shape[1] + 1
    extended = np.full((batch, length), blank)
    extended[:, 1::2] = targets
    can_skip = np.zeros((batch, length), dtype=bool)
    can_skip[:, 2:] = extended[:, 2:] != extended[:, :-2]
    rows = np.arange(batch)[:, None]
    emissions = log_probs.astype(np.float64)[:, rows, extended]  # (T, N, L)

    def shifted(values, by, mask=None):
        out = np.full_like(values, -np.inf)
        out[:, by:] = values[:, :-by]
        return out if mask is None else np.where(mask, out, -np.inf)

    def shifted_back(values, by, mask=None):
        out = np.full_like(values, -np.inf)
        out[:, :-by] = values[:, by:]
        return out if mask is None else np.where(mask, out, -np.inf)

    log_alpha = np.full((frames, batch, length), -np.inf)
    log_alpha[0, :, :2] = emissions[0, :, :2]
    with np.errstate(invalid="ignore"):
        for t in range(1, frames):
            previous = log_alpha[t - 1]
            incoming = np.logaddexp(np.logaddexp(previous, shifted(previous, 1)), shifted(previous, 2, can_skip))
            log_alpha[t] = incoming + emissions[t]
        log_beta = np.full((frames, batch, length), -np.inf)
        log_beta[-1, :, -2:] = 0.0
        skip_from = shifted_back(can_skip, 2)  # the skip s -> s + 2 is allowed where can_skip[s + 2]
        skip_from[:, -2:] = False
        for t in range(frames - 2, -1, -1):
            arriving = log_beta[t + 1] + emissions[t + 1]
            log_beta[t] = np.logaddexp(np.logaddexp(arriving, shifted_back(arriving, 1)),
                                       shifted_back(arriving, 2, skip_from))
        log_likelihood = np.logaddexp(log_alpha[-1, :, -1], log_alpha[-1, :, -2])
        occupancy = np.exp(log_alpha + log_beta - log_likelihood[None, :, None])
    grad = np.zeros((frames, batch, classes))
    for n in range(batch):
        np.add.at(grad[:, n, :], (slice(None), extended[n]), -occupancy[:, n, :])
    return -log_likelihood, grad


def make_step(contender, case):
    """One ctc_loss forward + backward of `contender` at case (T, N, C, S), as a callable."""
    log_probs, targets, input_lengths, target_lengths = make_inputs(*case)
    if contender == "tinyseq":
        import tinyseq as ts
        from tinyseq.ctc import ctc_loss

        def step():
            x = ts.tensor(log_probs, requires_grad=True)
            ctc_loss(x, targets, input_lengths, target_lengths).backward()
            return x.grad

        with ts.no_grad():  # the comparison is only fair if both compute the same thing
            ours = ctc_loss(ts.tensor(log_probs), targets, input_lengths, target_lengths, reduction="none")
        np.testing.assert_allclose(ours.data, numpy_ctc_loss_and_grad(log_probs, targets)[0], rtol=1e-5)
        return step
    if contender == "torch":
        torch = harness.import_torch()
        torch_arguments = [torch.from_numpy(a) for a in (targets, input_lengths, target_lengths)]

        def step():
            x = torch.tensor(log_probs, requires_grad=True)
            torch.nn.functional.ctc_loss(x, *torch_arguments).backward()
            return x.grad

        return step
    return lambda: numpy_ctc_loss_and_grad(log_probs, targets)


def memory_bytes(case):
    """Rough peak of the most demanding contender (the numpy baseline's float64 (T, N, L) tables)."""
    frames, batch, classes, target_length = case
    return 8 * frames * batch * (6 * (2 * target_length + 1) + 3 * classes)


FIRST_CALL = textwrap.dedent("""
    import time
    start = time.perf_counter()
    import numpy as np
    import tinyseq as ts
    from tinyseq.ctc import ctc_loss
    imported = time.perf_counter()
    x = ts.tensor(np.log(np.full((50, 4, 10), 0.1, dtype=np.float32)), requires_grad=True)
    ctc_loss(x, np.ones((4, 5), dtype=np.int64), [50] * 4, [5] * 4).backward()
    first = time.perf_counter()
    ctc_loss(x, np.ones((4, 5), dtype=np.int64), [50] * 4, [5] * 4).backward()
    second = time.perf_counter()
    print(f"{imported - start:.3f} {first - imported:.3f} {(second - first) * 1e3:.3f}")
""")


def first_calls(threads):
    """First ctc_loss + backward in a fresh process: with an empty Numba cache (compiles), then warm."""
    lines = []
    with tempfile.TemporaryDirectory() as cache:
        environment = dict(harness.child_environment(threads), NUMBA_CACHE_DIR=cache)
        for label in ("empty on-disk cache (compiles)", "warm on-disk cache"):
            output = subprocess.run([sys.executable, "-c", FIRST_CALL], env=environment, capture_output=True,
                                    text=True, check=True).stdout.split()
            imported, first, second = (float(v) for v in output)
            lines.append(f"fresh process, {label}: import {imported:.2f} s, first call {first:.2f} s, "
                         f"second call {second:.2f} ms")
    return lines


def check_case(case):
    """Targets are drawn from [1, C) (0 is the blank), so C must be at least 2."""
    problem = harness.case_error(case, ("T", "N", "C", "S"), {})
    if problem is None and case[2] < 2:
        problem = f"C must be at least 2 (the blank and one label), got {case[2]}"
    return problem


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    first_call = "--first-call" in argv
    argv = [a for a in argv if a != "--first-call"]
    report = harness.main(__file__, title="CTC loss, forward + backward, float32", case_names=("T", "N", "C", "S"),
                          cases=CASES, contenders=CONTENDERS, ratios=[("tinyseq", "torch"), ("tinyseq", "numpy")],
                          make_step=make_step, memory_bytes=memory_bytes, argv=argv,
                          check_case=check_case)
    if first_call and report is not None:
        print("\n".join(first_calls(report["threads"])))


if __name__ == "__main__":
    main()
