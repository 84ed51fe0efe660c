"""Keep freed memory in the process, so that large temporary arrays do not page-fault on every call.

tinyseq, like any numpy program, allocates and frees arrays of megabytes on every training step
(the gates of all time steps, their gradients). glibc's malloc, which numpy uses on Linux, serves
such sizes from the heap or with mmap, and by default gives freed memory back to the operating
system once the free space at the top of the heap passes a threshold that it adjusts as it goes.
The next allocation of that size must then be faulted in page by page (4 KiB each). On the
project's 2-core VMs a fault costs about 4.5 us: a (1600, 64) x (64, 512) float32 projection plus
its bias took 9.4 ms, 7 of them in 1,568 page faults, and an LSTM training step of
(T, B, I, H) = (20, 64, 256, 512) spent about a sixth of its time faulting. Whether it happens depends
on the order of earlier allocations, so it also made benchmark figures jump between runs.

keep_freed_memory() fixes glibc's two thresholds instead (mallopt):
    M_MMAP_THRESHOLD = 32 MiB   allocations below it come from the heap (glibc's maximum; it also
                                 turns off the threshold's adjustment)
    M_TRIM_THRESHOLD = 256 MiB  freed memory at the top of the heap is kept until it exceeds this
The cost: the process keeps up to 256 MiB of freed heap memory for reuse instead of returning it,
as PyTorch's GPU caching allocator keeps GPU memory. `import tinyseq` calls it once; set the
environment variable TINYSEQ_KEEP_FREED_MEMORY=0 before the import to leave malloc as it is. On a
system without glibc (macOS, Windows, musl) it does nothing and returns False.
"""

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024


def keep_freed_memory():
    """Set glibc's mmap and trim thresholds as above. Returns True if both were set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def keep_freed_memory_unless_disabled():
    """What `import tinyseq` runs: keep_freed_memory() unless TINYSEQ_KEEP_FREED_MEMORY=0."""
    if os.environ.get("TINYSEQ_KEEP_FREED_MEMORY", "1").strip() == "0":
        return False
    return keep_freed_memory()
