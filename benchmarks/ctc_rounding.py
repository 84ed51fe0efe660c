"""How exact is CTC's log p? The measurement behind UNDERFLOW_TOLERANCE in tinyseq/ctc/kernels.py.

For random inputs, compares -log p from the two float64 paths of tinyseq/ctc/kernels.py (the scaled
probability-space path that ctc_loss takes on ordinary input, and the log-space recursion it falls
back to) with the same log-space recursion run in numpy's extended precision (np.longdouble, 64-bit
mantissa on x86, eps 1.1e-19) as the reference. An absolute error d in log p is a relative error of
about d in p, the quantity UNDERFLOW_TOLERANCE bounds.

    python benchmarks/ctc_rounding.py            # a few seconds after Numba's compile
"""

import argparse
import datetime
import platform
import subprocess

import numpy as np

from tinyseq.ctc import kernels


def extended_precision_log_likelihood(emissions, can_skip):
    """log p by the log-space alpha recursion in np.longdouble. emissions: (T, L), can_skip: (L,)."""
    emissions = emissions.astype(np.longdouble)
    frames, length = emissions.shape
    log_alpha = np.full(length, -np.inf, dtype=np.longdouble)
    log_alpha[0] = emissions[0, 0]
    if length > 1:
        log_alpha[1] = emissions[0, 1]
    for t in range(1, frames):
        step = np.concatenate(([-np.inf], log_alpha[:-1])).astype(np.longdouble)
        skip = np.where(can_skip, np.concatenate(([-np.inf, -np.inf], log_alpha[:-2])), -np.inf).astype(np.longdouble)
        terms = np.stack([log_alpha, step, skip])
        largest = terms.max(axis=0)
        finite = np.isfinite(largest)
        summed = np.full(length, -np.inf, dtype=np.longdouble)
        summed[finite] = largest[finite] + np.log(np.exp(terms[:, finite] - largest[finite]).sum(axis=0))
        log_alpha = emissions[t] + summed
    ends = log_alpha[-2:] if length > 1 else log_alpha[-1:]
    largest = ends.max()
    return largest + np.log(np.exp(ends - largest).sum())


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="random sequences per length")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit or 'unknown'}, "
          f"{cpu_model()}, numpy {np.__version__}; single-threaded (one sequence at a time)")
    rng = np.random.default_rng(args.seed)
    classes = 20
    print("| T | S | largest error, scaled path | largest error, log-space path | -log p |")
    print("|---|---|---|---|---|")
    for frames in (4, 20, 100, 500, 2000):
        labels = max(1, frames // 4)
        worst_scaled = worst_log = 0.0
        for _ in range(args.trials):
            logits = 3.0 * rng.standard_normal((frames, classes))
            log_probs = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
            target = rng.integers(1, classes, size=labels)
            extended, can_skip = kernels.extended_targets_and_skips(target, 0)
            emissions = log_probs[:, extended]
            reference = extended_precision_log_likelihood(emissions, can_skip)
            log_space = kernels.log_likelihood_from_alpha(kernels.forward_log_alpha(emissions, can_skip))
            grad = np.zeros_like(log_probs)
            scaled = -kernels.sequence_loss_and_grad(log_probs, target, 0, grad, False)
            worst_log = max(worst_log, float(abs(np.longdouble(log_space) - reference)))
            worst_scaled = max(worst_scaled, float(abs(np.longdouble(scaled) - reference)))
        print(f"| {frames} | {labels} | {worst_scaled:.1e} | {worst_log:.1e} | {float(-reference):.4g} |")


if __name__ == "__main__":
    main()
