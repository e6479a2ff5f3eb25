"""Bench: build the full-size tiled CIFAR-10 folder (harness.fullsize), load it, time it.

`python -m bench.fullsize [--out DIR]` writes the sample tiled to 50,000 train + 10,000 test
images (into a temporary folder, removed after, or into DIR, kept), loads it with the app's
loader (cifar_core.data.load_local), checks sizes, dtypes and labels, and prints the times.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cifar_core import constants as C
from cifar_core.data import load_local
from harness.fullsize import fullsize_dir, write_fullsize


def check(folder: Path) -> str:
    """Load the folder with the app's loader and check sizes, dtypes and labels; a summary."""
    start = time.perf_counter()
    data = load_local(folder)
    seconds = time.perf_counter() - start
    assert data.x_train.shape == (C.FULL_TRAIN_SIZE, *C.IMAGE_SHAPE), data.x_train.shape
    assert data.x_test.shape == (C.FULL_TEST_SIZE, *C.IMAGE_SHAPE), data.x_test.shape
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert set(np.unique(data.y_train)) <= set(range(C.NUM_CLASSES))
    assert data.class_names == C.CLASS_NAMES
    return (
        f"load_local {seconds:.2f} s: train {data.x_train.shape}, test {data.x_test.shape}, "
        f"{data.nbytes / 1e6:.0f} MB in memory"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write here and keep it (default: temporary)")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.out:
        folder = write_fullsize(args.out)
        print(f"written {folder} in {time.perf_counter() - start:.1f} s")
        print(check(folder))
        return
    with fullsize_dir() as folder:
        size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        print(f"written {folder} ({size:.0f} MB) in {time.perf_counter() - start:.1f} s")
        print(check(folder))
    print(f"removed: {not folder.exists()}")


if __name__ == "__main__":
    main()
