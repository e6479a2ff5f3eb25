"""Memory helpers: they work on this Linux machine, measure something real, and are used."""

from __future__ import annotations

import ctypes
import sys
import tomllib
from pathlib import Path

import pytest

from cifar_core.training import memory

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
BLOCK = 64 * 1024  # below glibc's mmap threshold: served from the heap, kept there when freed
BLOCKS = 1200  # 75 MB; every other one is freed (37.5 MB), its neighbours stay live


def _raw_malloc() -> ctypes.CDLL:
    # Straight at glibc, so neither Python's nor numpy's allocator decides what is kept.
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.restype, libc.free.argtypes = None, [ctypes.c_void_p]
    libc.memset.restype = ctypes.c_void_p
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    return libc


@linux_only
def test_trim_returns_freed_heap_memory_that_glibc_keeps_otherwise():
    assert memory.limit_malloc_arenas(2) is True
    libc = _raw_malloc()
    before = memory.rss_mb()
    blocks = []
    try:
        for _ in range(BLOCKS):
            block = libc.malloc(BLOCK)
            libc.memset(block, 1, BLOCK)  # touched: resident
            blocks.append(block)
        assert memory.rss_mb() >= before + 60
        for block in blocks[0::2]:  # a live block between any two freed ones: no coalescing
            libc.free(block)
        held = memory.rss_mb()
        # Freed, yet resident: glibc keeps heap chunks between live ones for reuse. This is
        # what a finished training leaves behind, and why the trim exists.
        assert held >= before + 60
        assert memory.release_free_memory() is True
        assert memory.rss_mb() < held - 30  # handed back to the OS
    finally:
        for block in blocks[1::2]:
            libc.free(block)
        memory.release_free_memory()


def test_the_job_manager_trims_after_every_run(sample_data, tmp_store, monkeypatch):
    import cifar_core.training.queue as jobs_module
    from cifar_core.training import TrainConfig, TrainingJob
    from cifar_core.training.monitor import FINISHED
    from cifar_core.training.queue import JobManager, wait_for

    ran: list[TrainingJob] = []

    class Instant(TrainingJob):
        def run(self) -> None:
            ran.append(self)
            self.monitor.set_status(FINISHED)

    trims: list[str] = []  # the status of the job that ran last, at each trim

    def trim() -> bool:
        trims.append(ran[-1].monitor.snapshot().status if ran else "before any run")
        return True

    monkeypatch.setattr(jobs_module, "release_free_memory", trim)
    manager = JobManager(1)
    for seed in (1, 2):
        job = Instant(TrainConfig(train_size=200, seed=seed), sample_data, tmp_store)
        assert wait_for(manager.submit(job), 10)
        assert ran[-1] is job
    assert trims == [FINISHED, FINISHED]  # once per run, after the run ended


def test_no_full_collection_after_every_script_run():
    # Streamlit's after-every-run gc.collect(2) is switched off (see .streamlit/config.toml).
    config = tomllib.loads((Path(__file__).parents[1] / ".streamlit/config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
