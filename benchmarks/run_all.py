"""Run every benchmark in this folder and write one markdown table and a PNG of the ratios.

    python benchmarks/run_all.py                          # writes benchmarks/results.md and results.png
    python benchmarks/run_all.py --turns 30 --threads 2
    python benchmarks/run_all.py --only bench_ctc,bench_overhead --out /tmp/results.md

Each bench_*.py runs as its own process with the options given here (--threads, --turns, ...),
and each of its contenders in a process of its own (benchmarks/harness.py), the contenders taking
many short turns, one at a time: on these VMs the speed drifts in phases, and short turns put rivals
in the same phase. --turns 0 --rounds 3 is the older method (three long turns, a fresh process
each), kept for comparison. The results file records the date, the machine, the commit measured,
the command, and the load average before and after: on a shared machine other work only ever
adds time, so figures measured under load are upper bounds. README and docs quote figures from
this file only.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import harness

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_overhead", "bench_rnn", "bench_ctc", "bench_crf")


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        load = os.getloadavg()
        return f"load average: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"


def commit():
    """The commit measured, with '+ uncommitted changes' when the work tree differs from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=harness.REPOSITORY, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_benchmark(name, options):
    """Run benchmarks/NAME.py with `options`; its JSON report, or None (with the reason printed)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "report.json"
        command = [sys.executable, str(HERE / f"{name}.py"), *options, "--json", str(out)]
        print(f"$ python benchmarks/{name}.py {' '.join(options)}", flush=True)
        completed = subprocess.run(command, text=True)
        if completed.returncode != 0 or not out.exists():
            print(f"{name}: failed (exit {completed.returncode}); left out of the results")
            return None
        report = json.loads(out.read_text())
        report["command"] = f"python benchmarks/{name}.py {' '.join(options)}".strip()
        return report


def ratio_rows(report):
    """(label, ratio of minima) for every ratio of every case both contenders were measured at."""
    rows = []
    results = report["results"]
    for a, b in report["ratios"]:
        for index, case in enumerate(report["cases"]):
            times_a, times_b = results[a][index].get("times_ms"), results[b][index].get("times_ms")
            if times_a and times_b:
                rows.append((f"{a}/{b} ({', '.join(map(str, case))})", min(times_a) / min(times_b)))
    return rows


def plot_ratios(reports, path):
    """One panel per benchmark, a bar per ratio and case, log scale, a line at 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    panels = [(report["title"], ratio_rows(report)) for report in reports]
    panels = [(title, rows) for title, rows in panels if rows]
    if not panels:
        return None
    heights = [0.8 + 0.28 * len(rows) for _, rows in panels]
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, sum(heights)), squeeze=False,
                                gridspec_kw={"height_ratios": heights})
    for axis, (title, rows) in zip(axes[:, 0], panels):
        labels, values = zip(*rows)
        colours = ["tab:green" if v <= 1 else "tab:red" for v in values]
        axis.barh(range(len(values)), values, color=colours)
        axis.set_yticks(range(len(values)), labels, fontsize=7)
        axis.invert_yaxis()
        axis.set_xscale("log")
        axis.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}x"))
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.axvline(1.0, color="black", linewidth=0.8)
        for y, v in enumerate(values):
            axis.text(v, y, f" {v:.2f}x", va="center", fontsize=7)
        axis.set_title(title, fontsize=9)
    axes[-1, 0].set_xlabel("ratio of minimum wall times (below 1: the first contender is faster)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, help="with --turns 0: calls per contender and case (15)")
    parser.add_argument("--budget", type=float,
                        help="with --turns 0: seconds per contender and case before fewer repeats (10)")
    parser.add_argument("--timer", choices=["wall", "cpu"], default="wall", help="see benchmarks/harness.py")
    parser.add_argument("--turns", type=int, default=harness.DEFAULT_TURNS,
                        help="short turns per contender and case (see benchmarks/harness.py); 0: the older "
                             "method, --repeats calls in a fresh process, --rounds times")
    parser.add_argument("--turn-time", type=float, default=harness.DEFAULT_TURN_SECONDS, help="seconds of calls a turn")
    parser.add_argument("--gap", type=float, default=harness.IDLE_GAP_SECONDS, help="seconds idle after every turn")
    parser.add_argument("--rounds", type=int,
                        help="with --turns 0: every contender measured this many times, taking turns (1)")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--out", default=str(HERE / "results.md"), help="the markdown file (the PNG goes beside it)")
    args = parser.parse_args(argv)
    older = [f"--{name}" for name in ("repeats", "budget", "rounds") if getattr(args, name) is not None]
    if args.turns and older:  # refused before anything runs, as each benchmark would refuse them
        parser.error(f"{' '.join(older)}: only with --turns 0; with --turns {args.turns} set --turn-time and --gap")
    args.repeats = 15 if args.repeats is None else args.repeats
    args.budget = 10.0 if args.budget is None else args.budget
    args.rounds = 1 if args.rounds is None else args.rounds
    names = args.only.split(",") if args.only else BENCHMARKS
    options = ["--threads", str(args.threads), "--timer", args.timer, "--turns", str(args.turns)]
    if args.turns:
        options += ["--turn-time", str(args.turn_time), "--gap", str(args.gap)]
    else:
        options += ["--repeats", str(args.repeats), "--budget", str(args.budget), "--rounds", str(args.rounds)]

    out = Path(args.out)
    if not out.parent.is_dir():  # say so before the benchmarks run, not after
        parser.error(f"--out {args.out}: the folder {out.parent} does not exist")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = uptime()
    reports = []
    for name in names:
        if not (HERE / f"{name}.py").exists():
            print(f"{name}.py does not exist yet: skipped")
            continue
        report = run_benchmark(name, options)
        if report is not None:
            reports.append(report)
    load_after = uptime()
    png = plot_ratios(reports, out.with_suffix(".png"))
    machine = harness.machine_info()
    lines = [
        "# Benchmark results",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine['cpu']} ({machine['cores']} cores, shared with other jobs), "
        f"commit {commit()}, with `python benchmarks/run_all.py {' '.join(argv if argv is not None else sys.argv[1:])}`"
        .rstrip() + ".",
        f"Each contender ran in its own process with {args.threads} thread(s), " + (
            f"the contenders taking {args.turns} turns of about {args.turn_time:g} s of calls each, one at a time, "
            f"{args.gap:g} s idle after every turn (calls pooled over the turns)" if args.turns else
            f"{args.rounds} round(s) taking turns with its rivals, a fresh process a round (calls pooled over the "
            "rounds)") + f"; times are {'wall-clock' if args.timer == 'wall' else 'CPU-time (process_time)'} "
        "milliseconds, min / median over the calls; ratios are of minima (of medians in brackets)"
        + ("; paired: the median over turns of the ratio of the two contenders' median calls in the same turn."
           if args.turns else "."),
        "",
        f"- load before: `{load_before}`",
        f"- load after: `{load_after}`",
        "",
    ]
    for report in reports:
        lines += [f"## {report['title']}", "", f"`{report['command']}`", ""]
        lines += [f"{line}  " if line and not line.startswith("|") else line for line in report["lines"]]
        lines.append("")
    if png:
        lines += [f"![ratios]({png.name})", ""]
    out.write_text("\n".join(lines))
    print(f"wrote {out}" + (f" and {png}" if png else ""))


if __name__ == "__main__":
    main()
