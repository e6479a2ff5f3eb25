"""Shared bench helpers: the real sample's location and peak memory."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as `python bench/x.py` from anywhere


def sample_dir() -> Path:
    """The real CIFAR-10 sample ($CIFAR10_DIR or ../shared/cifar10-sample/…)."""
    default = REPO.parent / "shared" / "cifar10-sample" / "cifar-10-batches-py"
    return Path(os.environ.get("CIFAR10_DIR") or default)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
