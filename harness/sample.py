"""Where the real CIFAR-10 sample is: the one place that knows its default location."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = REPO.parent / "shared" / "cifar10-sample" / "cifar-10-batches-py"


def sample_dir() -> Path:
    """The real CIFAR-10 sample: $CIFAR10_DIR (as .ci/run sets it), else ../shared/…

    5,085 train + 1,017 test images in the official "python version" layout; never copied
    into the repo.
    """
    return Path(os.environ.get("CIFAR10_DIR") or DEFAULT_SAMPLE)
