"""The benchmark harness says what it could not measure and never prints a ratio it did not measure.

These run benchmarks/ scripts at tiny sizes in subprocesses and check their text, never their
timings (a timed test would fail on a busy machine and prove nothing).
"""

import subprocess
import sys
from pathlib import Path

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
    output = run_benchmark("bench_ctc.py", "--size", "1000000,100000,80,100", "--repeats", "3")
    for contender in ("tinyseq", "torch", "numpy"):
        assert f"skipped: {contender} at (1000000, 100000, 80, 100): needs about" in output
    row = table_row(output, "(1000000, 100000, 80, 100)")
    assert row[1:] == ["-"] * 5, row  # three contenders, two ratios: all empty
    assert "x (" not in output  # no ratio anywhere


def test_without_torch_its_column_is_skipped_and_no_ratio_against_it_is_printed(tmp_path):
    # A torch package that fails to import, ahead of the real one on the children's path.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('torch hidden by the test')\n")
    output = run_benchmark("bench_overhead.py", "--size", "8,2", "--repeats", "3", "--warmup", "0",
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


def test_rounds_take_turns_and_pool_every_call(tmp_path):
    """--rounds 2 --repeats 3: each contender is measured twice (its calls pooled: the JSON holds 6
    times per case), and the header says so."""
    report_path = tmp_path / "report.json"
    output = run_benchmark("bench_overhead.py", "--size", "8,2", "--repeats", "3", "--warmup", "0", "--budget", "60",
                           "--contenders", "tinyseq,numpy", "--rounds", "2", "--json", str(report_path))
    assert "2 rounds taking turns" in output
    import json

    report = json.loads(report_path.read_text())
    for contender in ("tinyseq", "numpy"):
        (result,) = report["results"][contender]
        assert len(result["times_ms"]) == 6, result


def test_a_case_skipped_in_any_round_stays_skipped():
    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    try:
        import harness
    finally:
        sys.path.pop(0)
    results = {}
    harness._pool(results, (1,), {"times_ms": [1.0, 2.0]})
    harness._pool(results, (1,), {"skipped": "killed"})
    harness._pool(results, (1,), {"times_ms": [0.5]})
    assert results[(1,)] == {"skipped": "killed"}
    harness._pool(results, (2,), {"times_ms": [1.0]})
    harness._pool(results, (2,), {"times_ms": [0.5, 3.0]})
    assert results[(2,)]["times_ms"] == [1.0, 0.5, 3.0]
