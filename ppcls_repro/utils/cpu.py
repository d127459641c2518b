"""CPU settings the suite applies when it is imported, before Paddle loads, and their one switch.

``PPCLS_REPRO_FAST_CPU=0`` in the environment turns all of them off: the oneDNN convolutions of
``layers/conv.py`` and the allocator setting below (``MKL_DEBUG_CPU_TYPE`` is set either way).
"""
from __future__ import annotations

import ctypes
import os
import sys

FAST_CPU_VARIABLE = "PPCLS_REPRO_FAST_CPU"

# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def fast_cpu_enabled() -> bool:
    return os.environ.get(FAST_CPU_VARIABLE, "1") != "0"


def keep_freed_memory() -> bool:
    """Serve large allocations from the heap and keep freed memory in the process.

    Why: Paddle's CPU tensors are malloc'd and freed op by op, and glibc hands every block above
    its mmap threshold straight back to the kernel, so the next op's output page-faults afresh.
    Measured on this project's machine (one thread): ``paddle.empty`` + ``fill_`` of 19 MiB took
    9.3 ms, 0.43 ms with this setting (50 MiB: 23.8 -> 1.7 ms); a training step allocates dozens
    of such tensors. The cost: memory freed after a peak stays with the process (reused by the
    next step) instead of returning to the system. Returns whether glibc accepted the setting.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))
    except (OSError, AttributeError):  # not glibc (musl, ...): leave the allocator alone
        return False
