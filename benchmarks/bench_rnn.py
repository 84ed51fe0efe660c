"""Benchmark: LSTM and GRU forward + backward, tinyseq vs PyTorch CPU vs the numpy matmul bound.

    python benchmarks/bench_rnn.py                  # every size, both layers
    python benchmarks/bench_rnn.py --repeats 20 --composed
    python benchmarks/bench_rnn.py --threads 1 --statistic min

One timed call is one training step's worth of the layer: output, state = layer(x) on a float32
(T, B, I) input that requires a gradient, then output.backward(cotangent) with a fixed random
cotangent, gradients reset before each call. PyTorch runs the same thing on its CPU kernels with the
same number of threads as numpy's BLAS (read with threadpoolctl when it is installed, else 2), or
--threads for both (numpy's BLAS is limited with threadpoolctl, or else by restarting the script
with OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS set).

The "matmul bound" is the time of only the matrix products that any implementation of
forward + backward has to do, run back to back in numpy on arrays of the right shapes:
    forward   X W_ih^T over all steps at once              (T*B, I) x (I, G*H)
              h_{t-1} W_hh^T at every step                  T times (B, H) x (H, G*H)
    backward  dX = dA W_ih and dW_ih = dA^T X               (T*B, G*H) x (G*H, I), (G*H, T*B) x (T*B, I)
              dh_{t-1} = dA_t W_hh at every step            T times (B, G*H) x (G*H, H)
              dW_hh = dA^T H_prev over all steps at once    (G*H, T*B) x (T*B, H)
(G = 4 gates for the LSTM, 3 for the GRU; dA is the gradient of the gates' pre-activations.)
The elementwise gate arithmetic is not in the bound, so no implementation reaches it; the column
tinyseq / bound shows how much of tinyseq's time is spent outside BLAS.

Times are medians (or, with --statistic min, minima) over --repeats calls after --warmup calls,
with the contenders interleaved call by call so that they see the same machine load. Other work on
the machine only ever adds time, so on a shared machine the minimum is the steadier estimate of
what a step costs; either way, compare ratios and rerun before trusting a small difference.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinyseq as ts  # noqa: E402
import tinyseq.nn as nn  # noqa: E402

SIZES = [  # (T, B, I, H)
    (50, 32, 64, 128),
    (100, 16, 32, 64),
    (20, 64, 256, 512),
]
GATES = {"LSTM": 4, "GRU": 3}


def blas_threads():
    """numpy's BLAS thread count, via threadpoolctl when it is installed; else None."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts) if counts else None


def limit_blas_threads(threads):
    """Keep numpy's BLAS to `threads` for the whole run: with threadpoolctl when it is installed,
    else by running this script again with the BLAS libraries' environment variables set (they are
    only read when numpy is first imported)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        variables = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if any(os.environ.get(name) != str(threads) for name in variables):
            environment = dict(os.environ, **{name: str(threads) for name in variables})
            os.execve(sys.executable, [sys.executable, *sys.argv], environment)
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def tinyseq_step(mode, size, fused=True):
    """A callable running one forward + backward of a tinyseq layer."""
    seq_len, batch, input_size, hidden = size
    rng = np.random.default_rng(0)
    ts.manual_seed(0)
    layer = getattr(nn, mode)(input_size, hidden)
    layer.fused = fused
    x = ts.tensor(rng.standard_normal((seq_len, batch, input_size)).astype(np.float32), requires_grad=True)
    cotangent = rng.standard_normal((seq_len, batch, hidden)).astype(np.float32)

    def step():
        layer.zero_grad()
        x.grad = None
        output, _ = layer(x)
        output.backward(cotangent)

    return step


def torch_step(torch, mode, size):
    """A callable running one forward + backward of the PyTorch layer of the same size."""
    seq_len, batch, input_size, hidden = size
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    layer = getattr(torch.nn, mode)(input_size, hidden)
    x = torch.tensor(rng.standard_normal((seq_len, batch, input_size)).astype(np.float32), requires_grad=True)
    cotangent = torch.tensor(rng.standard_normal((seq_len, batch, hidden)).astype(np.float32))

    def step():
        layer.zero_grad(set_to_none=True)
        x.grad = None
        output, _ = layer(x)
        output.backward(cotangent)

    return step


def matmul_bound_step(mode, size):
    """A callable doing only the matmuls of forward + backward (see the module docstring)."""
    seq_len, batch, input_size, hidden = size
    gates = GATES[mode] * hidden
    rng = np.random.default_rng(0)
    make = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    x, weight_ih, weight_hh = make(seq_len * batch, input_size), make(gates, input_size), make(gates, hidden)
    hidden_states, grad_pre = make(seq_len, batch, hidden), make(seq_len, batch, gates)

    def step():
        x @ weight_ih.T
        for t in range(seq_len):
            hidden_states[t] @ weight_hh.T
        flat_grad = grad_pre.reshape(-1, gates)
        flat_grad @ weight_ih
        flat_grad.T @ x
        for t in range(seq_len):
            grad_pre[t] @ weight_hh
        flat_grad.T @ hidden_states.reshape(-1, hidden)

    return step


def summary_times(steps, repeats, warmup, statistic):
    """Median or minimum wall time (ms) of each callable, calls interleaved so all see the same load."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(1000 * (time.perf_counter() - start))
    summarise = statistics.median if statistic == "median" else min
    return {name: summarise(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per contender")
    parser.add_argument("--statistic", choices=["median", "min"], default="median", help="how the calls are summarised")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    parser.add_argument("--threads", type=int, default=None, help="threads for PyTorch (and numpy's BLAS, if possible)")
    parser.add_argument("--composed", action="store_true", help="also time tinyseq's composed reference path")
    args = parser.parse_args()

    threads = args.threads or blas_threads() or 2
    limiter = limit_blas_threads(threads) if args.threads else None  # keeps the limit in force while referenced
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(threads)

    print(f"float32, forward + backward, {args.statistic} of {args.repeats} after {args.warmup} warm-up calls, "
          f"{threads} thread(s){'' if torch else '; PyTorch not installed'}")
    columns = ["layer", "T", "B", "I", "H", "tinyseq ms"]
    columns += ["composed ms"] if args.composed else []
    columns += ["torch ms", "tinyseq/torch"] if torch else []
    columns += ["bound ms", "tinyseq/bound"]
    widths = [max(len(c), 6) for c in columns]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for mode in GATES:
        for size in SIZES:
            steps = {"tinyseq": tinyseq_step(mode, size)}
            if args.composed:
                steps["composed"] = tinyseq_step(mode, size, fused=False)
            if torch:
                steps["torch"] = torch_step(torch, mode, size)
            steps["bound"] = matmul_bound_step(mode, size)
            ms = summary_times(steps, args.repeats, args.warmup, args.statistic)
            row = [mode, *map(str, size), f"{ms['tinyseq']:.1f}"]
            row += [f"{ms['composed']:.1f}"] if args.composed else []
            row += [f"{ms['torch']:.1f}", f"{ms['tinyseq'] / ms['torch']:.2f}x"] if torch else []
            row += [f"{ms['bound']:.1f}", f"{ms['tinyseq'] / ms['bound']:.2f}x"]
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)), flush=True)


if __name__ == "__main__":
    main()
