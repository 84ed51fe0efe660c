"""What every benchmark in this folder shares: each contender in its own process, the same threads.

A benchmark script (bench_ctc.py, bench_rnn.py, ...) names its contenders ("tinyseq", "torch",
"bound", ...) and its cases (sizes), and gives one function, make_step(contender, case), that
builds a zero-argument callable doing one timed unit of work. harness.main() does the rest:

  * Every contender runs in a Python process of its own (this script run again with --worker),
    which builds each case's step, warms it up and then makes timed calls when the parent tells it
    to. In one process, OpenBLAS's worker threads keep spinning for a while after each numpy call
    and take the cores from PyTorch's OpenMP threads, and vice versa, so whichever library runs
    second looks several times slower than it is.
  * The contenders take turns (--turns, 20 by default): one at a time, each runs about --turn-time
    (0.3) s of calls, then idles --gap (0.2) s before the next one starts, the others blocking on a
    pipe meanwhile, and each contender's calls are pooled over its turns. These VMs run in phases:
    for seconds to minutes everything (numpy included) runs up to twice as slow, so one block per
    contender can put one contender in a slow phase and its rival in a fast one (measured
    2026-11-30: PyTorch's LSTM at (50, 32, 64, 128) took 11.1 ms in one run_all.py run and 18.9 ms
    in another ten minutes earlier, tinyseq's engine chain 16.3 and 24.2 us a node). Short turns put
    the rivals in the same phase many times over. Beside the ratio of minima (and of medians) the
    table prints the paired ratio: the median over turns of the ratio of the two contenders' median
    calls in the same turn, which cancels a drift slower than a turn. take_turns says why each
    choice, and IDLE_GAP_SECONDS what the gap was measured from.
  * --turns 0 is the older method: a fresh process per contender (--isolate: per case too) makes
    --repeats calls in one block, and --rounds R repeats that R times, taking turns, pooling the
    calls. Three rounds only partly even out the phases: each block is long (start, import,
    warm-up, repeats) and there are few of them.
  * Every child gets the same thread count, through OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
    MKL_NUM_THREADS, NUMBA_NUM_THREADS (read when the libraries load) and torch.set_num_threads.
    The child reports the counts actually in force, and the table says if they differ.
  * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the children's environment: some
    machines set them to pin an old OpenBLAS to a safe kernel, which makes numpy slower than a
    user's numpy would be. Only benchmarks do this, never tests or CI; the header prints the kernel
    numpy's OpenBLAS actually chose (read from the loaded library with ctypes, so threadpoolctl is
    not needed).
  * Every child gets the same glibc malloc setting, MALLOC_MMAP_THRESHOLD_=32 MiB and
    MALLOC_TRIM_THRESHOLD_=256 MiB (read when the process starts): what `import tinyseq` sets with
    mallopt (tinyseq/memory.py). Without it the bound and PyTorch processes would keep returning
    freed memory to the system and fault it in again, page by page, on every call (4.5 us a page
    here), and tinyseq would be measured against handicapped contenders.
  * Each case is called --warmup times untimed, then --repeats times (fewer if the calls exceed
    --budget seconds, never fewer than 3), and min and median wall times are reported. On a shared
    machine other work only ever adds time, so ratios are taken between minima; the medians show
    the spread. The load average is printed before and after. When the load average exceeds the
    core count, a call longer than a scheduler time slice (a few ms) waits for a core whatever
    the repeats; then --timer cpu --threads 1 (CPU time of a single-threaded process) is the
    measure that load barely moves.
  * A contender that cannot run says so in one line and its column stays empty: torch not
    installed, a case whose estimated memory exceeds what the machine has available, a MemoryError,
    or a child killed (for instance by the out-of-memory killer). No ratio is ever printed for a
    contender that was not measured.

A benchmark script looks like this (see bench_ctc.py):

    CONTENDERS = ("tinyseq", "torch")
    CASES = [(200, 32, 32, 40), ...]
    def make_step(contender, case): ...           # raises harness.Unavailable("why") if it cannot
    def memory_bytes(case): ...                   # optional: rough peak bytes of one contender
    if __name__ == "__main__":
        harness.main(__file__, title=..., case_names=("T", "N", "C", "S"), cases=CASES,
                     contenders=CONTENDERS, ratios=[("tinyseq", "torch")], make_step=make_step)

--json FILE writes the results for benchmarks/run_all.py, which runs every benchmark and writes
benchmarks/results.md and a PNG of the ratios.
"""

import argparse
import ctypes
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")
PINNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# The same numbers as tinyseq/memory.py's mallopt (tests/test_benchmark_harness.py checks), as glibc's
# environment tunables, so that every contender's process starts with them.
MALLOC_VARIABLES = {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(256 * 1024 * 1024)}
MIN_REPEATS = 3
DEFAULT_TURNS = 20
DEFAULT_TURN_SECONDS = 0.3
# How long a worker idles after its turn before the next one starts (take_turns). Measured on this
# machine on 2026-11-30 (load average 2.9, other jobs running): a bench_rnn.py worker, 2 threads, ran
# a 0.3 s turn of LSTM (50, 32, 64, 128) calls and then waited on its pipe, while the parent read the
# CPU time of all its threads (/proc/PID/task/*/schedstat) every 10 ms; median of 8 turns. numpy's
# OpenBLAS threads (the bound, tinyseq) kept burning CPU for 0.10-0.15 s (24 ms of CPU between 0.05
# and 0.10 s, at most 7 ms between 0.10 and 0.15 s, none after 0.15 s); PyTorch's libgomp threads
# for under 0.05 s. Timing PyTorch's first call after a numpy turn against the gap did not settle
# it: at that load single calls varied tenfold whatever the gap.
IDLE_GAP_SECONDS = 0.2
# The first call after idling pays for waking the threads and refilling the caches the other
# contender used (in the same experiment PyTorch's first call after 0.5 s and 1 s idle took a median
# 187 and 350 ms, its next calls 118 and 180 ms); a turn starts with this many untimed calls, so
# turns measure back-to-back calls as --turns 0 does.
TURN_WARMUP_CALLS = 1


class Unavailable(Exception):
    """Raised by make_step when a contender cannot run here; the message is the one line printed."""


# ---------------------------------------------------------------------------------------------
# The child side: build the step, time it, report.
# ---------------------------------------------------------------------------------------------


def import_torch():
    """torch with the benchmark's thread count, or Unavailable when it is not installed."""
    try:
        import torch
    except ImportError:
        raise Unavailable("torch is not installed (pip install -e '.[parity]'): its column is skipped") from None
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    return torch


def time_step(step, repeats, warmup, budget, timer="wall"):
    """Times (ms) of `repeats` calls after `warmup` calls; fewer (>= MIN_REPEATS) past `budget` s.

    timer "wall" is elapsed time; "cpu" is this process's CPU time (all of its threads).
    """
    clock = time.perf_counter if timer == "wall" else time.process_time
    for _ in range(warmup):
        step()
    times = []
    started = time.perf_counter()
    while len(times) < repeats:
        start = clock()
        step()
        times.append(1000 * (clock() - start))
        if len(times) >= MIN_REPEATS and time.perf_counter() - started > budget:
            break
    return times


def run_child(spec, make_step):
    """Measure spec["cases"] for spec["contender"]; print one JSON line with a result per case."""
    results = []
    for case in spec["cases"]:
        step = None
        try:
            step = make_step(spec["contender"], tuple(case))
            times = time_step(step, spec["repeats"], spec["warmup"], spec["budget"], spec["timer"])
            results.append({"times_ms": times})
        except Unavailable as reason:
            results.append({"skipped": str(reason)})
        except MemoryError:
            results.append({"skipped": "ran out of memory (MemoryError)"})
        del step  # free this case's arrays before the next one is built
    print("RESULT " + json.dumps({"results": results, "runtime": runtime_info()}), flush=True)


def run_worker(spec, make_step):
    """The worker side of --turns: one contender's process, measuring whatever case it is told to.

    Reads one JSON command a line on stdin and answers each with one "TURN {...}" line on stdout:
        {"build": case, "warmup": w}  build the case's step (dropping the previous one), call it w
                                      times -> {"warmup_ms": [...], "runtime": {...}}
        {"run": n, "warmup": w}       w untimed calls, then n timed ones -> {"times_ms": [...]}
    or {"skipped": why} when the contender cannot run the case. Between commands it blocks on the
    pipe, so its threads go idle while another contender's turn runs.
    """
    step = None

    def timed_calls(count):  # every call timed: no budget cuts a turn short
        return time_step(step, count, 0, math.inf, spec["timer"])

    for line in iter(sys.stdin.readline, ""):
        command = json.loads(line)
        try:
            if "build" in command:
                step = None  # free the previous case's arrays before the next one is built
                step = make_step(spec["contender"], tuple(command["build"]))
                reply = {"warmup_ms": timed_calls(command["warmup"]), "runtime": runtime_info()}
            else:
                timed_calls(command["warmup"])
                reply = {"times_ms": timed_calls(command["run"])}
        except Unavailable as reason:
            step, reply = None, {"skipped": str(reason)}
        except MemoryError:
            step, reply = None, {"skipped": "ran out of memory (MemoryError)"}
        print("TURN " + json.dumps(reply), flush=True)


def openblas_library():
    """ctypes handle and symbol suffix of the OpenBLAS numpy loaded, or (None, None)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None, None
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        # numpy's wheels ship scipy-openblas with prefixed, 64-bit-int symbols; others are plain.
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "")):
            if hasattr(library, f"{prefix}get_corename{suffix}"):
                return library, (prefix, suffix)
    return None, None


def runtime_info():
    """What this process runs on: numpy's BLAS and its kernel, and each library's thread count."""
    info = {"python": platform.python_version(),
            "pinning": {name: os.environ.get(name) for name in PINNING_VARIABLES}}
    if "numpy" in sys.modules:
        import numpy as np

        info["numpy"] = np.__version__
        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            info["blas"] = f"{blas.get('name')} {blas.get('version')}"
        except (TypeError, KeyError):  # numpy < 1.26 has no mode="dicts"
            info["blas"] = "unknown"
        library, (prefix, suffix) = openblas_library()
        if library is not None:
            corename = getattr(library, f"{prefix}get_corename{suffix}")
            corename.restype = ctypes.c_char_p
            info["blas_core"] = corename().decode()
            info["blas_threads"] = getattr(library, f"{prefix}get_num_threads{suffix}")()
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_cpu"] = torch.backends.cpu.get_cpu_capability()
    if "numba" in sys.modules:
        numba = sys.modules["numba"]
        info["numba"] = numba.__version__
        info["numba_threads"] = numba.get_num_threads()
    return info


# ---------------------------------------------------------------------------------------------
# The parent side: one child per contender and case, then the table.
# ---------------------------------------------------------------------------------------------


def child_environment(threads):
    """The parent's environment with the thread counts and malloc thresholds set and the OpenBLAS
    pinning removed."""
    environment = {name: value for name, value in os.environ.items() if name not in PINNING_VARIABLES}
    environment.update({name: str(threads) for name in THREAD_VARIABLES})
    environment.update(MALLOC_VARIABLES)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    return environment


def available_memory_bytes():
    """MemAvailable from /proc/meminfo, or None where there is no such file."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def measure(script, contender, cases, threads, repeats, warmup, budget, timer):
    """Run `script --child` for one contender over `cases`; a list of result dicts, one per case."""
    spec = {"contender": contender, "cases": [list(case) for case in cases], "repeats": repeats,
            "warmup": warmup, "budget": budget, "timer": timer}
    completed = subprocess.run([sys.executable, str(script), "--child", json.dumps(spec)],
                               env=child_environment(threads), capture_output=True, text=True)
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            report = json.loads(line[len("RESULT "):])
            return [dict(result, runtime=report["runtime"]) for result in report["results"]]
    return [{"skipped": _failure(completed.returncode, completed.stderr)} for _ in cases]


def _failure(returncode, stderr_text):
    """The one line saying why a child process produced no result."""
    if returncode < 0:
        return f"the process was killed by signal {-returncode} (out of memory?)"
    last = (stderr_text.strip().splitlines() or ["no output"])[-1]
    return f"the process failed (exit {returncode}): {last}"


class Worker:
    """One contender's persistent process (`script --worker`), driven one command at a time."""

    def __init__(self, script, contender, threads, timer):
        self.stderr = tempfile.TemporaryFile(mode="w+")  # a file, not a pipe: a chatty child never blocks
        self.process = subprocess.Popen([sys.executable, str(script), "--worker",
                                         json.dumps({"contender": contender, "timer": timer})],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        text=True, env=child_environment(threads))

    def alive(self):
        return self.process.poll() is None

    def ask(self, command):
        """Send one command and wait for its answer; {"skipped": why} if the process has died."""
        try:
            self.process.stdin.write(json.dumps(command) + "\n")
            self.process.stdin.flush()
            for line in iter(self.process.stdout.readline, ""):
                if line.startswith("TURN "):
                    return json.loads(line[len("TURN "):])
        except BrokenPipeError:
            pass
        self.stderr.seek(0)
        return {"skipped": _failure(self.process.wait(), self.stderr.read())}

    def close(self):
        if self.alive():
            self.process.stdin.close()
            self.process.wait()
        self.stderr.close()


def take_turns(workers, calls, turns, gap):
    """Run `turns` rounds in which every worker makes `calls[name]` timed calls, one worker at a time.

    Returns {name: [the call times (ms) of each turn]}, or {name: {"skipped": why}} for a worker
    that failed in some turn (no figure from part of the turns).

    Why turns: this VM's speed drifts in phases of seconds to minutes at about half speed. A
    contender measured in one block, or in three long blocks, can land in a slow phase while its
    rival lands in a fast one. Short turns (a fraction of a second each) put both contenders in
    the same phase many times over. The order flips every round (A B C, then C B A) so neither
    always goes first.
    Why the gap: after a call, OpenBLAS's worker threads and libgomp's (PyTorch's OpenMP) keep
    spinning on the cores before they sleep, and would slow the next contender. While one worker
    runs, the others block on a pipe read, and `gap` seconds of idling after every turn let the
    finished worker's threads go to sleep first (IDLE_GAP_SECONDS says how long that takes here).
    Why pairing: turn k of A and turn k of B ran seconds apart, in the same phase, so the ratio
    of their medians cancels the drift; paired_ratio takes the median of those ratios over turns.
    """
    per_turn = {name: [] for name in workers}
    order = list(workers)
    for turn in range(turns):
        for name in order if turn % 2 == 0 else order[::-1]:
            if isinstance(per_turn[name], dict):
                continue  # failed in an earlier turn
            reply = workers[name].ask({"run": calls[name], "warmup": TURN_WARMUP_CALLS})
            per_turn[name] = reply if "skipped" in reply else per_turn[name] + [reply["times_ms"]]
            time.sleep(gap)
    return per_turn


def measure_in_turns(script, cases, runnable, threads, warmup, turns, turn_seconds, gap, timer):
    """--turns: a persistent worker per contender; for each case every worker builds it and warms up
    (one at a time), then take_turns. runnable: {name: [the cases it can run]}; returns
    {name: {case: result dict}}."""
    measured = {name: {} for name in runnable}
    workers = {}
    try:
        for case in cases:
            ready = {}
            for name in [name for name, its_cases in runnable.items() if case in its_cases]:
                if name not in workers or not workers[name].alive():  # the first case, or a child killed
                    workers[name] = Worker(script, name, threads, timer)
                reply = workers[name].ask({"build": list(case), "warmup": max(warmup, 1)})
                if "skipped" in reply:
                    measured[name][case] = reply
                else:
                    ready[name] = reply
                time.sleep(gap)
            # calls per turn: about turn_seconds of work, from the fastest warm-up call (one call slowed
            # by other work on the machine would otherwise leave a contender one call a turn)
            calls = {name: max(1, round(turn_seconds * 1000 / min(reply["warmup_ms"]))) for name, reply in ready.items()}
            for name, result in take_turns({name: workers[name] for name in ready}, calls, turns, gap).items():
                if isinstance(result, dict):
                    measured[name][case] = result
                else:
                    measured[name][case] = {"times_ms": [t for turn in result for t in turn], "turns_ms": result,
                                            "runtime": ready[name]["runtime"]}
    finally:
        for worker in workers.values():
            worker.close()
    return measured


def paired_ratio(turns_a, turns_b):
    """The median over turns k of median(A's calls in turn k) / median(B's calls in turn k).

    A's and B's turn k ran seconds apart, so a phase of the machine that slows both cancels in
    their ratio, where the pooled minima can compare A's slow phase with B's fast one.
    """
    return statistics.median(statistics.median(a) / statistics.median(b) for a, b in zip(turns_a, turns_b))


def machine_info():
    """The CPU model and core count, and the load average now."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "load": os.getloadavg()}


def summarise(result):
    times = result.get("times_ms")
    if not times:
        return None
    return {"min": min(times), "median": statistics.median(times), "calls": len(times)}


def format_ms(value):
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def table(title, case_names, cases, contenders, ratios, measured):
    """The markdown table: min / median ms per contender, then ratios of minima (and of medians)."""
    header = [", ".join(case_names)] + [f"{name} ms min / med" for name in contenders]
    header += [f"{a}/{b}" for a, b in ratios]
    lines = [f"| {' | '.join(header)} |", "|" + " --- |" * len(header)]
    for case in cases:
        row = ["(" + ", ".join(str(v) for v in case) + ")"]
        stats = {name: summarise(measured[name][tuple(case)]) for name in contenders}
        for name in contenders:
            s = stats[name]
            row.append("-" if s is None else f"{format_ms(s['min'])} / {format_ms(s['median'])}")
        for a, b in ratios:
            if stats[a] is None or stats[b] is None:
                row.append("-")  # never a ratio of something not measured
            else:
                cell = f"{stats[a]['min'] / stats[b]['min']:.2f}x ({stats[a]['median'] / stats[b]['median']:.2f}x)"
                turns_a, turns_b = (measured[name][tuple(case)].get("turns_ms") for name in (a, b))
                row.append(cell + (f" paired {paired_ratio(turns_a, turns_b):.2f}x" if turns_a and turns_b else ""))
        lines.append(f"| {' | '.join(row)} |")
    if any("turns_ms" in result for per_case in measured.values() for result in per_case.values()):
        lines.append("ratios: of the minima (of the medians); paired: the median over turns of the ratio of the two "
                     "contenders' median calls in the same turn (harness.paired_ratio)")
    return lines


def describe_runtime(measured, threads):
    """One line per library as the children reported it, and any thread count that is not `threads`."""
    runtimes = [result["runtime"] for per_case in measured.values() for result in per_case.values()
                if "runtime" in result]
    if not runtimes:
        return ["no contender ran"]
    merged = {}  # key -> the distinct values the children reported, as text
    for runtime in runtimes:
        for key, reported in runtime.items():
            merged.setdefault(key, set()).add(reported if isinstance(reported, str) else json.dumps(reported, sort_keys=True))

    def value(key):
        return " or ".join(sorted(merged.get(key, {"?"})))

    lines = [f"numpy {value('numpy')}, BLAS {value('blas')}, kernel (core type) {value('blas_core')}, "
             f"BLAS threads {value('blas_threads')}"]
    if "torch" in merged:
        lines.append(f"torch {value('torch')} (CPU capability {value('torch_cpu')}), threads {value('torch_threads')}")
    if "numba" in merged:
        lines.append(f"numba {value('numba')}, threads {value('numba_threads')}")
    pinned = [v for v in merged.get("pinning", ()) if any(json.loads(v).values())]
    lines.append("OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the children: " + ("SET " + pinned[0] if pinned else "unset"))
    lines.append("glibc malloc in every child: " + ", ".join(f"{k}={v}" for k, v in MALLOC_VARIABLES.items())
                 + " (what `import tinyseq` sets)")
    for key in ("blas_threads", "torch_threads", "numba_threads"):
        counts = {int(count) for count in merged.get(key, ())}
        if counts - {threads}:
            lines.append(f"WARNING: {key} was {sorted(counts)}, not the {threads} asked for")
    return lines


def _pool(results, case, result):
    """Add one round's result for `case` to `results`: the calls of every round together. A case
    skipped in any round stays skipped (with that round's reason): no figure from part of the rounds."""
    previous = results.get(case)
    if previous is None or "skipped" in result:
        results[case] = result
    elif "skipped" not in previous:
        results[case] = dict(previous, times_ms=previous["times_ms"] + result["times_ms"])


def parse_case(text, arity):
    """'50,32,64,128' -> (50, 32, 64, 128); entries that are not ints stay strings ('LSTM,train,...')."""
    values = tuple(int(v) if v.lstrip("-").isdigit() else v for v in text.split(","))
    if len(values) != arity:
        raise argparse.ArgumentTypeError(f"a case needs {arity} comma-separated values, got {text!r}")
    return values


def case_error(case, case_names, choices):
    """Why `case` (from --size) is not a case this benchmark can measure, or None. choices: field
    name -> the values that field may take; every other field must be a positive int. A typo such as
    'lstm' or 'fit' must not be measured as something else, or run into a traceback."""
    for name, value in zip(case_names, case):
        if name in choices:
            if value not in choices[name]:
                return f"{name} must be one of {', '.join(map(str, choices[name]))}, got {value!r}"
        elif not isinstance(value, int) or value < 1:
            return f"{name} must be a positive integer, got {value!r}"
    return None


def main(script, *, title, case_names, cases, contenders, ratios, make_step, memory_bytes=None,
         default_contenders=None, argv=None, epilogue=None, check_case=None):
    """Command line of a benchmark script: its child mode, or measuring and printing the table.

    cases: tuples of ints and strings (case_names names their entries). default_contenders: the
    ones run without --contenders (default: all). epilogue(cases, measured) -> extra lines.
    check_case(case) -> None, or why a --size case cannot be measured (see case_error).
    Returns the results as a dict (also written with --json).
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        run_child(json.loads(argv[1]), make_step)
        return None
    if argv[:1] == ["--worker"]:
        run_worker(json.loads(argv[1]), make_step)
        return None
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every library (default: all cores)")
    parser.add_argument("--repeats", type=int, help="with --turns 0: timed calls per contender and case (15)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    parser.add_argument("--budget", type=float,
                        help="with --turns 0: stop repeating after this many seconds (>= 3 calls; 10)")
    parser.add_argument("--timer", choices=["wall", "cpu"], default="wall",
                        help="wall-clock time, or the process's CPU time: on a busy machine a job longer than "
                             "a scheduler time slice waits for a core, so use cpu with --threads 1 there")
    parser.add_argument("--contenders", default=",".join(default_contenders or contenders),
                        help=f"comma-separated, from {','.join(contenders)}")
    parser.add_argument("--turns", type=int, default=DEFAULT_TURNS,
                        help="a persistent process per contender; the contenders take this many short turns "
                             "each, one at a time, and the calls are pooled (0: a fresh process per contender "
                             "running --repeats calls, --rounds times)")
    parser.add_argument("--turn-time", type=float, default=DEFAULT_TURN_SECONDS,
                        help="seconds of calls in a turn (at least one call)")
    parser.add_argument("--gap", type=float, default=IDLE_GAP_SECONDS,
                        help="seconds of idling after every turn, for the finished library's threads to sleep")
    parser.add_argument("--rounds", type=int,
                        help="with --turns 0: measure every contender this many times, taking turns, each time "
                             "in a fresh process, and pool the calls")
    parser.add_argument("--isolate", action="store_true",
                        help="a process per case too (default: one per contender, running its cases in turn)")
    parser.add_argument("--size", action="append", type=lambda text: parse_case(text, len(case_names)),
                        help=f"a case {','.join(case_names)} instead of the default ones (repeatable)")
    parser.add_argument("--json", help="also write the results to this file (for run_all.py)")
    args = parser.parse_args(argv)
    older = [f"--{name}" for name in ("repeats", "budget", "rounds") if getattr(args, name) is not None]
    if args.turns and (older or args.isolate):  # silently ignoring them would measure something else than asked
        parser.error(f"{' '.join(older + ['--isolate'] * args.isolate)}: only with --turns 0 (a fresh process per "
                     f"contender); with --turns {args.turns} set --turn-time and --gap instead")
    args.repeats = 15 if args.repeats is None else args.repeats
    args.budget = 10.0 if args.budget is None else args.budget
    args.rounds = 1 if args.rounds is None else args.rounds
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.turns < 0 or args.turn_time <= 0 or args.gap < 0:
        parser.error(f"--turns, --turn-time and --gap must be >= 0, > 0 and >= 0, got {args.turns}, "
                     f"{args.turn_time} and {args.gap}")
    if args.size:
        cases = args.size
        for case in cases if check_case else ():
            problem = check_case(case)
            if problem:
                parser.error(f"--size {','.join(map(str, case))}: {problem}")
    chosen = [name for name in args.contenders.split(",") if name]
    unknown = set(chosen) - set(contenders)
    if unknown:
        parser.error(f"--contenders: unknown {sorted(unknown)}, expected some of {list(contenders)}")
    contenders = [name for name in contenders if name in chosen]
    ratios = [(a, b) for a, b in ratios if a in contenders and b in contenders]

    machine = machine_info()
    print(f"# {title}")
    timer = "wall-clock ms" if args.timer == "wall" else "CPU ms (process time, all threads)"
    if args.turns:
        method = (f"{args.turns} turns each of about {args.turn_time:g} s of calls, one contender at a time, "
                  f"{args.gap:g} s idle after every turn; {timer}, min / median of all the calls after "
                  f"{max(args.warmup, 1)} warm-up calls")
    else:
        rounds = f"{args.rounds} rounds taking turns, " if args.rounds > 1 else ""
        method = (f"{rounds}{timer}, min / median of up to {args.repeats} calls "
                  f"{'a round ' if args.rounds > 1 else ''}after {args.warmup} warm-up calls")
    print(f"{machine['cpu']}, {machine['cores']} cores; {args.threads} thread(s) for every library; "
          f"each contender in its own process; {method}; load average {machine['load'][0]:.2f}", flush=True)
    started = time.time()
    available = available_memory_bytes()
    held = len(contenders) if args.turns else 1  # with --turns every worker holds its case's arrays at once
    measured = {name: {} for name in contenders}
    runnable = {name: [] for name in contenders}
    for name in contenders:
        for case in cases:
            needed = memory_bytes(case) * held if memory_bytes else None
            if needed is not None and available is not None and needed > available:
                at_once = f" for {held} contenders at once" if held > 1 else ""
                measured[name][tuple(case)] = {"skipped": f"needs about {needed / 2**30:.1f} GiB{at_once}, "
                                                          f"{available / 2**30:.1f} GiB available"}
            else:
                runnable[name].append(tuple(case))
    if args.turns:
        for name, results in measure_in_turns(script, [tuple(case) for case in cases], runnable, args.threads,
                                              args.warmup, args.turns, args.turn_time, args.gap, args.timer).items():
            measured[name].update(results)
    else:
        for _ in range(args.rounds):
            for name in contenders:  # one block each: a contender never runs beside another
                groups = [[case] for case in runnable[name]] if args.isolate else [runnable[name]] if runnable[name] else []
                for group in groups:
                    for case, result in zip(group, measure(script, name, group, args.threads, args.repeats,
                                                           args.warmup, args.budget, args.timer)):
                        _pool(measured[name], case, result)
    notes = [f"{name} at ({', '.join(map(str, case))}): {measured[name][tuple(case)]['skipped']}"
             for name in contenders for case in cases if "skipped" in measured[name][tuple(case)]]
    finished = os.getloadavg()
    lines = describe_runtime(measured, args.threads)
    if max(machine["load"][0], finished[0]) > machine["cores"]:
        lines.append(f"NOTE: the machine was busy (load average up to {max(machine['load'][0], finished[0]):.1f} on "
                     f"{machine['cores']} cores): every time is an upper bound, and a library synchronising several "
                     "threads (PyTorch's OpenMP) can lose many times over while its threads wait for a core")
    lines += [""] + table(title, case_names, cases, contenders, ratios, measured)
    lines += [""] + [f"skipped: {note}" for note in notes] if notes else []
    lines += epilogue(cases, measured) if epilogue else []
    lines.append(f"load average {machine['load'][0]:.2f} before, {finished[0]:.2f} after; "
                 f"{time.time() - started:.0f} s in all")
    print("\n".join(lines), flush=True)
    report = {"title": title, "script": Path(script).name, "argv": argv, "machine": machine,
              "threads": args.threads, "timer": args.timer, "case_names": list(case_names), "cases": [list(c) for c in cases],
              "contenders": contenders, "ratios": ratios, "lines": lines, "load_after": finished,
              "results": {name: [{"case": list(case), **{k: v for k, v in measured[name][tuple(case)].items()
                                                         if k != "runtime"}} for case in cases]
                          for name in contenders}}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return report
