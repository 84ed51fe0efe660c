"""tinyseq/memory.py: after `import tinyseq`, two large arrays allocated and freed over and over
no longer page-fault on every round (glibc keeps the freed memory); with
TINYSEQ_KEEP_FREED_MEMORY=0 the same rounds fault, as plain numpy does. Each case runs in a fresh
interpreter, since malloc's state is per process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinyseq import memory

ROOT = Path(__file__).resolve().parents[1]

ROUNDS = """
import resource
import numpy as np
import tinyseq
from tinyseq import memory
x = np.ones((1600, 64), np.float32)
w = np.ones((512, 64), np.float32)
b = np.ones(512, np.float32)
for _ in range(3):
    x @ w.T + b  # two 3.3 MB arrays alive at once, then both freed
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    x @ w.T + b
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def faults_per_round(keep):
    environment = dict(os.environ, TINYSEQ_KEEP_FREED_MEMORY="1" if keep else "0",
                       PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", ROUNDS], capture_output=True, text=True, env=environment,
                          check=True)
    return float(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_import_keeps_freed_memory_and_the_switch_turns_it_off():
    if not memory.keep_freed_memory():
        pytest.skip("this libc has no mallopt (not glibc)")
    kept, returned = faults_per_round(keep=True), faults_per_round(keep=False)
    assert kept < 20, f"{kept} page faults per round with the memory kept"
    assert returned > 200, f"only {returned} page faults per round without it: the test shows nothing here"


def test_the_switch_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TINYSEQ_KEEP_FREED_MEMORY", "0")
    assert memory.keep_freed_memory_unless_disabled() is False
