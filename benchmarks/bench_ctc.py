"""Benchmark: CTC loss forward + backward, tinyseq vs PyTorch CPU vs the same recursion in plain numpy.

    python benchmarks/bench_ctc.py                 # all sizes, numba's default thread count
    python benchmarks/bench_ctc.py --threads 1     # single-threaded, both libraries
    python benchmarks/bench_ctc.py --repeats 50

Each timed call is one training step's worth of CTC: loss = ctc_loss(log_probs, ...) (reduction
"mean", float32 log_probs from a log_softmax) and loss.backward(), through the public API with all
of its argument checking. PyTorch gets the same thread count (torch.set_num_threads). The numpy
baseline runs the log-space recursion, vectorised over the batch and the extended target and
looping over time, so the ratio against it is what compiling the loop buys. Times are the best of
--repeats calls; the load average is printed because on a shared machine it moves the numbers.

Then, in fresh processes with an empty and with a warm Numba on-disk cache, the time of the first
ctc_loss call (compile or cache load) is measured.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinyseq as ts  # noqa: E402
from tinyseq.ctc import ctc_loss  # noqa: E402

SIZES = [  # (T, N, C, S)
    (200, 32, 32, 40),
    (100, 16, 29, 20),
    (500, 8, 80, 100),
]


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


def best_time(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def make_inputs(frames, batch, classes, target_length, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(frames, batch, classes))
    log_probs = (logits - np.log(np.exp(logits).sum(axis=2, keepdims=True))).astype(np.float32)
    targets = rng.integers(1, classes, size=(batch, target_length))
    return log_probs, targets, np.full(batch, frames), np.full(batch, target_length)


def tinyseq_step(log_probs, targets, input_lengths, target_lengths):
    x = ts.tensor(log_probs, requires_grad=True)
    ctc_loss(x, targets, input_lengths, target_lengths).backward()
    return x.grad


def compare_speed(repeats, torch):
    rows = []
    for frames, batch, classes, target_length in SIZES:
        log_probs, targets, input_lengths, target_lengths = make_inputs(frames, batch, classes, target_length)
        tinyseq_step(log_probs, targets, input_lengths, target_lengths)  # compile or load from cache
        contenders = {"tinyseq": lambda: tinyseq_step(log_probs, targets, input_lengths, target_lengths)}
        if torch is not None:
            torch_inputs = [torch.from_numpy(a) for a in (targets, input_lengths, target_lengths)]

            def torch_step():
                x = torch.tensor(log_probs, requires_grad=True)
                torch.nn.functional.ctc_loss(x, *torch_inputs).backward()
                return x.grad

            torch_step()
            contenders["torch"] = torch_step
        contenders["numpy"] = lambda: numpy_ctc_loss_and_grad(log_probs, targets)
        # Sanity: the numpy baseline computes the same numbers.
        nll, _ = numpy_ctc_loss_and_grad(log_probs, targets)
        with ts.no_grad():
            ours = ctc_loss(ts.tensor(log_probs), targets, input_lengths, target_lengths, reduction="none")
        np.testing.assert_allclose(ours.data, nll, rtol=1e-5)
        best = {}
        for name, step in contenders.items():
            # One contender at a time: OpenMP worker threads keep spinning for a while after a
            # parallel call, and would slow down whichever library ran next.
            calls = repeats if name != "numpy" else max(1, repeats // 5)  # the slow baseline needs fewer
            best[name] = min(best_time(step) for _ in range(calls))
        rows.append(((frames, batch, classes, target_length), best))
    print(f"numba threads: {numba.get_num_threads()} ({numba.threading_layer()} layer), "
          f"torch threads: {torch.get_num_threads() if torch else '-'}; best of {repeats} calls; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    header = f"{'T, N, C, S':>20} {'tinyseq ms':>11} {'torch ms':>9} {'numpy ms':>9} {'torch/tinyseq':>14} {'numpy/tinyseq':>14}"
    print(header)
    for size, best in rows:
        torch_ms = best.get("torch", float("nan")) * 1e3
        print(f"{str(size):>20} {best['tinyseq'] * 1e3:11.2f} {torch_ms:9.2f} {best['numpy'] * 1e3:9.1f} "
              f"{torch_ms / (best['tinyseq'] * 1e3):14.2f} {best['numpy'] / best['tinyseq']:14.1f}")


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


def compare_first_calls():
    """First ctc_loss + backward in a fresh process: with an empty cache (compiles), then a warm one."""
    repository = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as cache:
        environment = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(repository))
        for label in ("empty on-disk cache (compiles)", "warm on-disk cache"):
            output = subprocess.run([sys.executable, "-c", FIRST_CALL], env=environment, capture_output=True,
                                    text=True, check=True).stdout.split()
            imported, first, second = (float(v) for v in output)
            print(f"fresh process, {label}: import {imported:.2f} s, first call {first:.2f} s, "
                  f"second call {second:.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per contender and size (best is kept)")
    parser.add_argument("--threads", type=int, default=None, help="threads for numba and torch (default: numba's)")
    args = parser.parse_args()
    if args.threads is not None:
        numba.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(numba.get_num_threads())
    except ImportError:
        torch = None
        print("torch is not installed: pip install -e '.[parity]' to compare against it")
    compare_speed(args.repeats, torch)
    compare_first_calls()


if __name__ == "__main__":
    main()
