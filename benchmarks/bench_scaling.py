"""Benchmark: how the LSTM's and the CTC loss's cost grows with sequence length T and batch size B.

    python benchmarks/bench_scaling.py                      # 5 points per sweep, 2 threads: 199 s on
                                                            # the idle 2-core machine (2026-11-30, 460714a)
    python benchmarks/bench_scaling.py --points 3 --max-t 300 --max-batch 64    # quicker
    python benchmarks/bench_scaling.py --models CTC --points 7 --plot /tmp/ctc_scaling.png

Four sweeps, forward + backward, float32, tinyseq and PyTorch each in its own process with the same
thread count (benchmarks/harness.py):
    LSTM over T   (T, B=32, I=64, H=128), T from 10 to --max-t (1,000)
    LSTM over B   (T=50, B, I=64, H=128), B from 1 to --max-batch (256)
    CTC  over T   (T, N=16, C=32, S=4): S is fixed so the work per frame is fixed
    CTC  over N   (T=200, N, C=32, S=40)
with --points sizes per sweep, evenly spaced on a log scale.

The PNG (benchmarks/scaling.png by default) plots minimum wall time against the swept size on
log-log axes, a dashed line of slope 1 beside each contender for linear growth. Under the table,
each sweep is fitted by time = fixed + per_unit * size (least squares on relative error): `fixed`
is the per-call cost that does not grow with the work (argument checks, allocation, dispatch,
waking threads), and size = fixed / per_unit is where the work starts to cost more than the call;
by ten times that size the fixed part is under a tenth of the time.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

import harness

CONTENDERS = ("tinyseq", "torch")
CASE_NAMES = ("model", "T", "B", "I or C", "H or S")
DIMENSIONS = {"LSTM": ("T", "B", "I", "H"), "CTC": ("T", "N", "C", "S")}  # what a case's sizes mean
SWEEPS = {  # (model, swept) -> a function of the swept size giving the case
    ("LSTM", "T"): lambda size: ("LSTM", size, 32, 64, 128),
    ("LSTM", "B"): lambda size: ("LSTM", 50, size, 64, 128),
    ("CTC", "T"): lambda size: ("CTC", size, 16, 32, 4),
    ("CTC", "B"): lambda size: ("CTC", 200, size, 32, 40),
}


def sweep_sizes(lowest, highest, points):
    return sorted({int(round(v)) for v in np.geomspace(lowest, highest, points)})


def lstm_step(contender, seq_len, batch, input_size, hidden):
    rng = np.random.default_rng(0)
    x_data = rng.standard_normal((seq_len, batch, input_size)).astype(np.float32)
    cotangent_data = rng.standard_normal((seq_len, batch, hidden)).astype(np.float32)
    if contender == "torch":
        torch = harness.import_torch()
        layer, x = torch.nn.LSTM(input_size, hidden), torch.tensor(x_data, requires_grad=True)
        cotangent = torch.tensor(cotangent_data)

        def step():
            layer.zero_grad(set_to_none=True)
            x.grad = None
            layer(x)[0].backward(cotangent)

        return step
    import tinyseq as ts

    layer, x = ts.nn.LSTM(input_size, hidden), ts.tensor(x_data, requires_grad=True)

    def step():
        layer.zero_grad()
        x.grad = None
        layer(x)[0].backward(cotangent_data)

    return step


def ctc_step(contender, frames, batch, classes, target_length):
    from bench_ctc import make_inputs

    log_probs, targets, input_lengths, target_lengths = make_inputs(frames, batch, classes, target_length)
    if contender == "torch":
        torch = harness.import_torch()
        arguments = [torch.from_numpy(a) for a in (targets, input_lengths, target_lengths)]

        def step():
            x = torch.tensor(log_probs, requires_grad=True)
            torch.nn.functional.ctc_loss(x, *arguments).backward()

        return step
    import tinyseq as ts
    from tinyseq.ctc import ctc_loss

    def step():
        x = ts.tensor(log_probs, requires_grad=True)
        ctc_loss(x, targets, input_lengths, target_lengths).backward()

    return step


def make_step(contender, case):
    model, *size = case
    return (lstm_step if model == "LSTM" else ctc_step)(contender, *size)


def fit_fixed_and_per_unit(sizes, times):
    """fixed, per_unit minimising sum(((fixed + per_unit * size) / time - 1)^2), both clipped at 0."""
    sizes, times = np.asarray(sizes, dtype=float), np.asarray(times, dtype=float)
    design = np.stack([1 / times, sizes / times], axis=1)
    (fixed, per_unit), *_ = np.linalg.lstsq(design, np.ones_like(times), rcond=None)
    return max(fixed, 0.0), max(per_unit, 0.0)


def sweep_points(sweeps, measured, contender):
    """{(model, swept): (sizes, minimum times)} for the cases `contender` was measured at."""
    points = {}
    for key, cases in sweeps.items():
        position = 1 if key[1] == "T" else 2
        pairs = [(case[position], min(measured[contender][case]["times_ms"])) for case in cases
                 if "times_ms" in measured[contender].get(case, {})]
        if pairs:
            points[key] = tuple(zip(*pairs))
    return points


def describe_fits(sweeps, measured):
    lines = ["", "fits, time = fixed + per_unit * size (ms):"]
    for contender in measured:
        for (model, swept), (sizes, times) in sweep_points(sweeps, measured, contender).items():
            if len(sizes) < 2:
                continue
            fixed, per_unit = fit_fixed_and_per_unit(sizes, times)
            crossover = f"{fixed / per_unit:.1f}" if per_unit > 0 else "never"
            lines.append(f"- {model} over {swept}, {contender}: fixed {fixed:.3g} ms + {per_unit:.3g} ms per unit of "
                         f"{swept}; the work outweighs the fixed cost from {swept} = {crossover}")
    return lines


def plot(sweeps, measured, path, timer):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(sweeps)
    figure, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.8), squeeze=False)
    colours = {"tinyseq": "tab:blue", "torch": "tab:orange"}
    for axis, key in zip(axes[0], keys):
        model, swept = key
        names = DIMENSIONS[model]
        swept_name = names[CASE_NAMES.index(swept) - 1]
        fixed_dims = ", ".join(f"{name}={value}" for name, value in zip(names, sweeps[key][0][1:]) if name != swept_name)
        for contender in measured:
            points = sweep_points({key: sweeps[key]}, measured, contender).get(key)
            if not points:
                continue
            sizes, times = np.asarray(points[0], float), np.asarray(points[1], float)
            axis.loglog(sizes, times, "o-", color=colours.get(contender), label=contender)
            axis.loglog(sizes, times[-1] * sizes / sizes[-1], "--", color=colours.get(contender), alpha=0.5,
                        linewidth=1)
        axis.set_xlabel(swept_name)
        axis.set_ylabel(f"{timer} ms per call (min)")
        axis.set_title(f"{model} forward + backward over {swept_name}\n({fixed_dims})", fontsize=9)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8, title="dashed: slope 1", title_fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["--child"], ["--worker"]):
        return harness.main(__file__, title="", case_names=CASE_NAMES, cases=[], contenders=CONTENDERS,
                            ratios=[], make_step=make_step, argv=argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--points", type=int, default=5, help="sizes per sweep")
    parser.add_argument("--max-t", type=int, default=1000, help="longest T in the T sweeps")
    parser.add_argument("--max-batch", type=int, default=256, help="largest batch in the batch sweeps")
    parser.add_argument("--models", default="LSTM,CTC", help="comma-separated: LSTM, CTC")
    parser.add_argument("--turns", type=int, default=8,
                        help="turns per contender and case (benchmarks/harness.py; fewer than a ratio needs: "
                             "there are many cases); 0: --repeats calls in one block")
    parser.add_argument("--plot", default=str(Path(__file__).resolve().parent / "scaling.png"), help="the PNG")
    own, rest = parser.parse_known_args(argv)
    models = own.models.split(",")
    sweeps = {}
    for (model, swept), case_of in SWEEPS.items():
        if model in models:
            sizes = sweep_sizes(10, own.max_t, own.points) if swept == "T" else sweep_sizes(1, own.max_batch, own.points)
            sweeps[(model, swept)] = [case_of(size) for size in sizes]
    cases = list(dict.fromkeys(case for cases in sweeps.values() for case in cases))
    rest += ["--turns", str(own.turns)]
    if own.turns == 0:  # the older method: a short block of calls per contender
        rest += [] if "--budget" in rest else ["--budget", "2"]
        rest += [] if "--repeats" in rest else ["--repeats", "7"]
    measured = {}

    def epilogue(cases, results):
        measured.update(results)
        return describe_fits(sweeps, results)

    report = harness.main(__file__, title="Cost against sequence length and batch size, forward + backward, float32",
                          case_names=CASE_NAMES, cases=cases, contenders=CONTENDERS, ratios=[("tinyseq", "torch")],
                          make_step=make_step, argv=rest, epilogue=epilogue)
    if report is not None and measured:
        print(f"wrote {plot(sweeps, measured, own.plot, 'CPU' if report['timer'] == 'cpu' else 'wall')}")
    return report


if __name__ == "__main__":
    main()
