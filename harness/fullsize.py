"""A full-size CIFAR-10 folder (50,000 train + 10,000 test) tiled from the sample.

The real sample ($CIFAR10_DIR, 5,085 train + 1,017 test images) is repeated, in order, until
there are 50,000 training images (data_batch_1 … data_batch_5, 10,000 rows each) and 10,000
test images (test_batch), written in the official "CIFAR-10 python version" layout: pickled
dicts with bytes keys b"batch_label", b"data" ((rows, 3072) uint8) and b"labels" (a list of
ints), plus batches.meta (b"label_names" …, copied), pickled with protocol 4 as the sample's
files are (the 2009 originals are protocol-2 Python 2 pickles, ~1.7× bigger written from
Python 3; the loader reads both).

Accuracy on it means nothing (every image is there ~10 times, test images included in no
particular relation to training ones); what it gives a bench is the real cost: the real
memory (150 MB train + 30 MB test arrays), the real loading time, and slider ranges up to
50,000 images.

    from harness.fullsize import fullsize_dir
    with fullsize_dir() as folder:                      # a temporary folder, removed after
        env = {"CIFAR10_DIR": str(folder)}              # what the app's servers read

`python -m bench.fullsize` builds one, loads it with cifar_core.data.load_local, checks it and
prints the times.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from cifar_core import constants as C
from cifar_core.data import META_FILE, TEST_BATCH, TRAIN_BATCHES
from harness.sample import sample_dir

BATCH_ROWS = C.FULL_TRAIN_SIZE // len(TRAIN_BATCHES)  # 10,000, as in the original files
PICKLE_PROTOCOL = 4  # as the sample's files (and numpy arrays stay compact)


def _read_rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(rows, 3072) uint8 pixels and int labels of one official batch file."""
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return np.asarray(batch[b"data"], dtype=np.uint8), np.asarray(batch[b"labels"], np.int64)


def tile(rows: np.ndarray, labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows repeated in order until there are exactly n of them."""
    if not len(rows):
        raise ValueError("nothing to tile: the source has no rows")
    index = np.arange(n) % len(rows)
    return rows[index], labels[index]


def _write_batch(path: Path, label: str, rows: np.ndarray, labels: np.ndarray) -> None:
    batch = {
        b"batch_label": label.encode(),
        b"labels": [int(v) for v in labels],
        b"data": np.ascontiguousarray(rows, dtype=np.uint8),
    }
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=PICKLE_PROTOCOL)


def write_fullsize(
    out: Path,
    source: Path | None = None,
    n_train: int = C.FULL_TRAIN_SIZE,
    n_test: int = C.FULL_TEST_SIZE,
) -> Path:
    """Write the tiled data set into `out` (created); returns `out`.

    Args:
        out: the folder to write (it becomes a `cifar-10-batches-py` folder).
        source: the official-layout folder to tile (default: the real sample).
        n_train: training images, split evenly over the five data batches.
        n_test: test images.
    """
    source = Path(source or sample_dir())
    out.mkdir(parents=True, exist_ok=True)
    parts = [_read_rows(source / name) for name in TRAIN_BATCHES]
    train_rows = np.concatenate([p[0] for p in parts])
    train_labels = np.concatenate([p[1] for p in parts])
    rows, labels = tile(train_rows, train_labels, n_train)
    per_batch = -(-n_train // len(TRAIN_BATCHES))
    for i, name in enumerate(TRAIN_BATCHES):
        chunk = slice(i * per_batch, min(n_train, (i + 1) * per_batch))
        _write_batch(
            out / name,
            f"training batch {i + 1} of 5 (tiled from the sample)",
            rows[chunk],
            labels[chunk],
        )
    test_rows, test_labels = tile(*_read_rows(source / TEST_BATCH), n_test)
    _write_batch(
        out / TEST_BATCH, "testing batch 1 of 1 (tiled from the sample)", test_rows, test_labels
    )
    shutil.copyfile(source / META_FILE, out / META_FILE)  # the class names, unchanged
    return out


@contextmanager
def fullsize_dir(source: Path | None = None, parent: str | None = None) -> Iterator[Path]:
    """A temporary full-size `cifar-10-batches-py` folder; removed when the block ends.

    Args:
        source: the official-layout folder to tile (default: the real sample).
        parent: where to make the temporary folder (default: the system's temp folder).

    Yields:
        The folder, to pass as CIFAR10_DIR.
    """
    with tempfile.TemporaryDirectory(prefix="cifar10-fullsize-", dir=parent) as tmp:
        yield write_fullsize(Path(tmp) / "cifar-10-batches-py", source)
