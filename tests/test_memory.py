"""Memory helpers: they work on this Linux machine and measure something real."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cifar_core import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_arena_limit_trim_and_rss():
    assert memory.limit_malloc_arenas(2) is True
    before = memory.rss_mb()
    block = np.ones(50 * 2**20, dtype=np.uint8)  # 50 MB, touched
    assert memory.rss_mb() >= before + 40
    del block
    memory.release_free_memory()
    assert memory.rss_mb() < before + 40
