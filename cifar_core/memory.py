"""Memory: keep a training server's resident memory small on glibc Linux."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
import threading
from functools import cache

M_ARENA_MAX = -8  # glibc's mallopt parameter number for the arena limit


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 — only glibc has both
    except (OSError, AttributeError):
        return None
    return libc


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's per-thread malloc arenas (like MALLOC_ARENA_MAX, but from inside).

    TensorFlow allocates from many threads; by default glibc gives each its own arena and
    keeps freed memory in all of them, which costs ~80 MB of RSS per training here.

    Returns:
        True if the limit was applied (glibc Linux), False elsewhere.
    """
    libc = _libc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, arenas) == 1)


def release_free_memory() -> bool:
    """Hand memory that Python and TensorFlow have freed back to the OS (malloc_trim)."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))


def freeze_imported_objects() -> bool:
    """Move every object alive now out of the garbage collector's reach (gc.freeze), once.

    Call it right after TensorFlow/Keras is imported. Their import leaves a few hundred
    thousand long-lived objects, and a full collection walks all of them: with TensorFlow
    loaded one `gc.collect()` costs a good part of a second of CPU. Streamlit runs one after
    every script run (and Keras' clear_session, which Streamlit calls after every run once
    Keras is imported, runs another), so with 20 students polling live charts the collector
    alone would keep both cores busy and the training thread starving. Frozen objects are
    never scanned again, so those collections become cheap; objects created later are
    collected as usual.

    Returns:
        True the first time it freezes, False afterwards (nothing to do).
    """
    global _frozen
    with _freeze_lock:
        if _frozen:
            return False
        gc.freeze()
        _frozen = True
        return True


def collect_frozen_garbage() -> int:
    """One full collection that includes the frozen objects, then freeze again.

    Objects alive at the freeze are never collected otherwise — among them the state of
    every browser session open at that moment, and the watch tokens in it. The job manager
    calls this whenever it falls idle, so what closed sessions held is freed then: one
    expensive collection per idle moment instead of one per rerun.

    Returns:
        The number of unreachable objects found (gc.collect's count).
    """
    with _freeze_lock:
        if not _frozen:
            return gc.collect()
        gc.unfreeze()
        try:
            return gc.collect()
        finally:
            gc.freeze()


def keras_imported() -> bool:
    """Whether Keras is imported in this process (without importing it)."""
    return "keras" in sys.modules


_frozen = False
_freeze_lock = threading.Lock()


def rss_mb() -> float:
    """Current resident memory of this process in MB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
