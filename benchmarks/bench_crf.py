"""Benchmark: CRF log-likelihood + gradient, and Viterbi decoding, tinyseq vs pytorch-crf 0.7.2.

    python benchmarks/bench_crf.py                  # both sizes, 2 threads each
    python benchmarks/bench_crf.py --threads 1 --repeats 50

Each contender runs in its own process (so numpy's OpenBLAS threads, Numba's threads and torch's
OpenMP threads never compete inside one process) with the same thread count: NUMBA_NUM_THREADS and
the BLAS variables for tinyseq, torch.set_num_threads and the same variables for pytorch-crf. The
benchmark unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the workers' environment only, and each
worker reports which OpenBLAS kernel numpy picked.

Timed calls, through the public APIs with their argument checks, float32 emissions, every step real:
  likelihood: ll = crf(emissions, tags) (reduction "sum"), then (-ll).backward(), which gives the
              gradient for the emissions and the three score tables;
  viterbi:    crf.decode(emissions), lists of tag ids.
Times are the minimum over --repeats calls after a warm-up (the minimum is the statistic least
moved by other processes on a shared machine); the load average is printed before and after.
"""

import argparse
import ctypes
import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SIZES = [(32, 30, 120), (64, 50, 20)]  # (batch, steps, tags)
CONTENDERS = ("tinyseq", "pytorch-crf")
REPO_ROOT = Path(__file__).resolve().parents[1]


def openblas_kernel():
    """The OpenBLAS core numpy's bundled library runs on (e.g. 'Haswell'), or 'unknown'."""
    import numpy as np

    for library in glob.glob(os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs", "*openblas*")):
        handle = ctypes.CDLL(library)
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            function = getattr(handle, name, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return "unknown"


def worker(contender, batch, steps, tags, threads, repeats):
    """Time one contender at one size in this process; print one JSON line."""
    import numpy as np

    rng = np.random.default_rng(0)
    emissions = rng.normal(size=(steps, batch, tags)).astype(np.float32)
    gold = rng.integers(0, tags, size=(steps, batch))
    if contender == "tinyseq":
        import numba

        sys.path.insert(0, str(REPO_ROOT))
        import tinyseq as ts
        import tinyseq.nn as nn

        numba.set_num_threads(threads)
        crf = nn.CRF(tags)

        def likelihood():
            x = ts.tensor(emissions, requires_grad=True)
            (-crf(x, gold)).backward()

        def viterbi():
            crf.decode(emissions)
    else:
        import warnings

        import torch
        from torchcrf import CRF

        warnings.filterwarnings("ignore", category=UserWarning)  # pytorch-crf's uint8 mask warning
        torch.set_num_threads(threads)
        crf = CRF(tags)
        emissions_t, gold_t = torch.tensor(emissions), torch.tensor(gold)

        def likelihood():
            x = emissions_t.clone().requires_grad_()
            crf.zero_grad()
            (-crf(x, gold_t)).backward()

        def viterbi():
            crf.decode(emissions_t)

    result = {"contender": contender, "size": [batch, steps, tags], "blas_kernel": openblas_kernel()}
    for name, call in (("likelihood", likelihood), ("viterbi", viterbi)):
        for _ in range(3):
            call()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        result[name] = min(times)
    print(json.dumps(result))


def run_worker(contender, size, threads, repeats):
    environment = dict(os.environ)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        environment.pop(name, None)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        environment[name] = str(threads)
    command = [sys.executable, __file__, "--worker", contender, "--size", *map(str, size),
               "--threads", str(threads), "--repeats", str(repeats)]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--worker", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads < 1 or args.repeats < 1:
        parser.error(f"--threads and --repeats must be at least 1, got {args.threads} and {args.repeats}")
    if args.worker:
        worker(args.worker, *args.size, args.threads, args.repeats)
        return
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"{args.threads} thread(s) per process, best of {args.repeats}")
    print(f"{'batch':>5} {'steps':>5} {'tags':>4}  {'call':<10} {'tinyseq ms':>10} {'pytorch-crf ms':>14} {'speed-up':>8}")
    kernels = set()
    for size in SIZES:
        results = {contender: run_worker(contender, size, args.threads, args.repeats) for contender in CONTENDERS}
        kernels |= {result["blas_kernel"] for result in results.values()}
        for call in ("likelihood", "viterbi"):
            ours, theirs = results["tinyseq"][call], results["pytorch-crf"][call]
            print(f"{size[0]:>5} {size[1]:>5} {size[2]:>4}  {call:<10} {1e3 * ours:>10.2f} {1e3 * theirs:>14.2f} "
                  f"{theirs / ours:>7.1f}x")
    print(f"numpy's OpenBLAS kernel in the workers: {', '.join(sorted(kernels))}")
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
