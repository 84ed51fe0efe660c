"""The benchmark harness says what it could not measure and never prints a ratio it did not measure.

These run benchmarks/ scripts at tiny sizes in subprocesses and check their text, never their
timings (a timed test would fail on a busy machine and prove nothing).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def run_benchmark(script, *args, pythonpath=None):
    environment = None
    if pythonpath is not None:
        import os

        environment = dict(os.environ, PYTHONPATH=str(pythonpath))
    completed = subprocess.run([sys.executable, str(REPOSITORY / "benchmarks" / script), *args], cwd=REPOSITORY,
                               env=environment, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def table_row(output, case_text):
    rows = [line for line in output.splitlines() if line.startswith(f"| {case_text} |")]
    assert len(rows) == 1, output
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_a_case_too_big_for_memory_is_skipped_in_one_line_without_a_ratio():
    output = run_benchmark("bench_ctc.py", "--size", "1000000,100000,80,100")
    for contender in ("tinyseq", "torch", "numpy"):
        assert f"skipped: {contender} at (1000000, 100000, 80, 100): needs about" in output
    row = table_row(output, "(1000000, 100000, 80, 100)")
    assert row[1:] == ["-"] * 5, row  # three contenders, two ratios: all empty
    assert "x (" not in output  # no ratio anywhere


def test_without_torch_its_column_is_skipped_and_no_ratio_against_it_is_printed(tmp_path):
    # A torch package that fails to import, ahead of the real one on the children's path.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('torch hidden by the test')\n")
    output = run_benchmark("bench_overhead.py", "--size", "8,2", "--turns", "2", "--turn-time", "0.01", "--gap", "0",
                           "--contenders", "torch,numpy", pythonpath=tmp_path)
    assert "skipped: torch at (8, 2): torch is not installed" in output
    row = table_row(output, "(8, 2)")
    torch_cell, numpy_cell = row[1], row[2]
    assert torch_cell == "-" and numpy_cell != "-", row
    assert "torch 2." not in output  # no torch runtime reported either


def test_every_child_gets_the_malloc_thresholds_that_import_tinyseq_sets():
    """The contenders run with one allocator setting: the harness's environment tunables are the
    numbers tinyseq/memory.py gives mallopt, and child_environment passes them to every child."""
    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    try:
        import harness
    finally:
        sys.path.remove(str(REPOSITORY / "benchmarks"))
    from tinyseq import memory

    assert harness.MALLOC_VARIABLES == {"MALLOC_MMAP_THRESHOLD_": str(memory.MMAP_THRESHOLD_BYTES),
                                        "MALLOC_TRIM_THRESHOLD_": str(memory.TRIM_THRESHOLD_BYTES)}
    environment = harness.child_environment(1)
    for name, value in harness.MALLOC_VARIABLES.items():
        assert environment[name] == value


def test_run_all_refuses_an_out_folder_that_does_not_exist_before_measuring(tmp_path):
    missing = tmp_path / "no_such_folder" / "results.md"
    completed = subprocess.run([sys.executable, str(REPOSITORY / "benchmarks" / "run_all.py"), "--out", str(missing)],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert f"the folder {missing.parent} does not exist" in completed.stderr
    assert "$ python" not in completed.stdout  # no benchmark was started


@pytest.mark.parametrize("script", ["run_all.py", "bench_ctc.py"])
def test_options_of_the_fresh_process_method_are_refused_with_turns_not_ignored(script):
    """--repeats, --budget and --rounds only mean something with --turns 0; with turns they would be
    ignored silently, and a quoted command would measure something other than it says."""
    completed = subprocess.run([sys.executable, str(REPOSITORY / "benchmarks" / script), "--repeats", "20",
                                "--budget", "5", "--out" if script == "run_all.py" else "--json", "/nonexistent/x"],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert "--repeats --budget: only with --turns 0" in completed.stderr
    assert "$ python" not in completed.stdout and "|" not in completed.stdout  # nothing was measured


def test_rounds_take_turns_and_pool_every_call(tmp_path):
    """--turns 0 --rounds 2 --repeats 3: each contender is measured twice, in a fresh process each
    time (its calls pooled: the JSON holds 6 times per case), and the header says so."""
    report_path = tmp_path / "report.json"
    output = run_benchmark("bench_overhead.py", "--size", "8,2", "--repeats", "3", "--warmup", "0", "--budget", "60",
                           "--contenders", "tinyseq,numpy", "--turns", "0", "--rounds", "2", "--json", str(report_path))
    assert "2 rounds taking turns" in output
    report = json.loads(report_path.read_text())
    for contender in ("tinyseq", "numpy"):
        (result,) = report["results"][contender]
        assert len(result["times_ms"]) == 6, result


def import_harness():
    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    try:
        import harness
    finally:
        sys.path.remove(str(REPOSITORY / "benchmarks"))
    return harness


def test_a_case_skipped_in_any_round_stays_skipped():
    harness = import_harness()
    results = {}
    harness._pool(results, (1,), {"times_ms": [1.0, 2.0]})
    harness._pool(results, (1,), {"skipped": "killed"})
    harness._pool(results, (1,), {"times_ms": [0.5]})
    assert results[(1,)] == {"skipped": "killed"}
    harness._pool(results, (2,), {"times_ms": [1.0]})
    harness._pool(results, (2,), {"times_ms": [0.5, 3.0]})
    assert results[(2,)]["times_ms"] == [1.0, 0.5, 3.0]


# A benchmark whose contenders sleep a known time per call and log every call (contender, start,
# end on the system-wide monotonic clock) to LOG. Case (kind,): "ok" runs; at "unavailable" the
# contender "slow" cannot run; at "memory" slow's third call raises MemoryError; at "killed" slow's
# process dies in its third call; "after" follows "killed", to show a fresh worker takes over.
SLEEPY_BENCHMARK = """
import os
import sys
import time

sys.path.insert(0, {benchmarks!r})
import harness

SLEEP_MS = {{"quick": 2.0, "slow": 6.0}}
LOG = {log!r}


def make_step(contender, case):
    (kind,) = case
    if kind == "unavailable" and contender == "slow":
        raise harness.Unavailable("slow cannot run this case")
    calls = []

    def step():
        calls.append(None)
        if contender == "slow" and len(calls) == 3 and kind in ("memory", "killed"):
            if kind == "memory":
                raise MemoryError
            os._exit(3)
        start = time.monotonic()
        time.sleep(SLEEP_MS[contender] / 1000)
        with open(LOG, "a") as log:
            log.write(f"{{contender}} {{start}} {{time.monotonic()}}\\n")

    return step


if __name__ == "__main__":
    harness.main(__file__, title="sleepy", case_names=("kind",), cases=[("ok",)], contenders=("quick", "slow"),
                 ratios=[("quick", "slow")], make_step=make_step)
"""


def run_sleepy(tmp_path, *args):
    script, log, report_path = tmp_path / "sleepy.py", tmp_path / "calls.log", tmp_path / "report.json"
    script.write_text(SLEEPY_BENCHMARK.format(benchmarks=str(REPOSITORY / "benchmarks"), log=str(log)))
    completed = subprocess.run([sys.executable, str(script), *args, "--json", str(report_path)], cwd=REPOSITORY,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    calls = [(name, float(start), float(end)) for name, start, end in map(str.split, log.read_text().splitlines())]
    return completed.stdout, json.loads(report_path.read_text()), calls


def test_turns_run_one_contender_at_a_time_with_the_gap_between_and_pool_each_turn(tmp_path):
    gap = 0.05
    output, report, calls = run_sleepy(tmp_path, "--turns", "3", "--turn-time", "0.02", "--warmup", "1",
                                       "--gap", str(gap))
    # Only one contender runs at a time, and after one's turn the other waits at least the gap.
    calls.sort(key=lambda call: call[1])
    for (name, _, end), (next_name, next_start, _) in zip(calls, calls[1:]):
        assert next_start >= end, "two calls overlapped"
        if next_name != name:
            assert next_start - end >= gap, f"{next_name} started {next_start - end:.3f} s after {name}'s turn"
    # Builds (quick, slow), then turns whose order flips every round: quick slow | slow quick | quick slow.
    runs = [name for index, (name, _, _) in enumerate(calls) if index == 0 or calls[index - 1][0] != name]
    assert runs == ["quick", "slow", "quick", "slow", "quick", "slow"], runs
    for name, sleep_ms in (("quick", 2.0), ("slow", 6.0)):
        (result,) = report["results"][name]
        turns = result["turns_ms"]
        assert len(turns) == 3 and len({len(turn) for turn in turns}) == 1, turns  # same calls every turn
        assert result["times_ms"] == [t for turn in turns for t in turn]  # pooled: every call of every turn
        assert min(result["times_ms"]) >= 0.99 * sleep_ms  # a sleep never returns early
        # the log has every timed call plus the build's warm-up call and one untimed call a turn
        logged = sum(1 for call in calls if call[0] == name)
        assert logged == len(result["times_ms"]) + 1 + 3
    assert "3 turns each of about 0.02 s of calls" in output
    assert "paired" in table_row(output, "(ok)")[3]


def test_in_turns_a_case_a_contender_cannot_finish_is_skipped_without_a_ratio(tmp_path):
    output, report, _ = run_sleepy(tmp_path, "--turns", "4", "--turn-time", "0.01", "--gap", "0", "--warmup", "1",
                                   "--size", "unavailable", "--size", "memory", "--size", "killed", "--size", "after")
    assert "skipped: slow at (unavailable): slow cannot run this case" in output
    assert "skipped: slow at (memory): ran out of memory (MemoryError)" in output
    assert "skipped: slow at (killed): the process failed (exit 3)" in output
    for case in ("unavailable", "memory", "killed"):
        quick, slow, ratio = table_row(output, f"({case})")[1:]
        assert quick != "-" and slow == "-" and ratio == "-", (case, quick, slow, ratio)
    quick, slow, ratio = table_row(output, "(after)")[1:]  # a fresh worker replaced the dead one
    assert "-" not in (quick, slow, ratio)
    for name in ("quick", "slow"):
        after = report["results"][name][3]
        assert after["case"] == ["after"] and len(after["turns_ms"]) == 4


def test_paired_ratio_cancels_a_drift_that_fools_the_pooled_minimum():
    """Synthetic turns: A takes 1.0 and B 1.2 time units a call (A/B = 0.833), both in a slow phase
    (factor 2) except during B's third turn, which fell in a fast phase (factor 1). The pooled
    minima compare A's slow phase with B's fast one (2.0 / 1.2 = 1.67); the median over turns of
    the per-turn ratios is the true 0.833."""
    harness = import_harness()
    phase_a, phase_b = [2, 2, 2, 2, 2], [2, 2, 1, 2, 2]
    turns_a = [[1.0 * f, 1.01 * f, 1.02 * f] for f in phase_a]
    turns_b = [[1.2 * f, 1.21 * f, 1.22 * f] for f in phase_b]
    pooled_min = min(min(turn) for turn in turns_a) / min(min(turn) for turn in turns_b)
    assert pooled_min == pytest.approx(2.0 / 1.2)
    assert harness.paired_ratio(turns_a, turns_b) == pytest.approx(1.01 / 1.21)
    # and the table prints both, the paired one marked as such
    measured = {"A": {(1,): {"times_ms": sum(turns_a, []), "turns_ms": turns_a}},
                "B": {(1,): {"times_ms": sum(turns_b, []), "turns_ms": turns_b}}}
    row = harness.table("t", ("n",), [(1,)], ["A", "B"], [("A", "B")], measured)[2]
    assert row.endswith("| 1.67x (0.83x) paired 0.83x |"), row


@pytest.mark.parametrize("script, size, message", [
    ("bench_rnn.py", "lstm,train,5,2,3,4", "layer must be one of LSTM, GRU, BiLSTM2, got 'lstm'"),
    ("bench_rnn.py", "LSTM,fit,5,2,3,4", "pass must be one of train, infer, got 'fit'"),
    ("bench_rnn.py", "GRU,infer,5,0,3,4", "B must be a positive integer, got 0"),
    ("bench_crf.py", "like,2,3,4", "call must be one of likelihood, viterbi, got 'like'"),
    ("bench_ctc.py", "5,2,1,4", "C must be at least 2 (the blank and one label), got 1"),
    ("bench_overhead.py", "6,4", "nodes must be a multiple of 4 (whole blocks), got 6"),
])
def test_a_size_the_benchmark_cannot_measure_is_refused_in_one_line(script, size, message):
    """A typo in --size must not be measured as some other case (it was: 'fit' ran as train, 'like'
    as viterbi, 0 nodes as 4) nor end in a traceback ('lstm' was a KeyError)."""
    completed = subprocess.run([sys.executable, str(REPOSITORY / "benchmarks" / script), "--size", size],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and "Traceback" not in completed.stderr, completed.stderr
    assert completed.stderr.strip().splitlines()[-1].endswith(f"error: --size {size}: {message}"), completed.stderr
