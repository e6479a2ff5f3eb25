"""Data: load CIFAR-10 as uint8 arrays, from a local folder/tarball or Keras' download."""

from __future__ import annotations

import io
import logging
import os
import pickle
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cifar_core import settings
from cifar_core.constants import CLASS_NAMES, DOWNLOAD_MB, NUM_CLASSES

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
# Where keras.datasets.cifar10.load_data() unpacks its download (Keras 3).
KERAS_CACHE_SUBDIR = ("datasets", "cifar-10-batches-py-target", "cifar-10-batches-py")

log = logging.getLogger(__name__)

# What a student is told (they cannot fix the server; the operator reads the log).
STUDENT_READ_FAILED = "The app could not read the CIFAR-10 images this server is set up to use."
STUDENT_DOWNLOAD_FAILED = (
    "The app could not download the CIFAR-10 images (this server may have no internet access)."
)


class DataError(RuntimeError):
    """CIFAR-10 could not be loaded.

    str(error) is for whoever runs the server: what is wrong, the raw error, and which
    setting fixes it. `student` is a neutral sentence for the page, without paths or settings.

    Args:
        message: the operator's message.
        student: the students' sentence (default: the files could not be read).
    """

    def __init__(self, message: str, student: str = STUDENT_READ_FAILED) -> None:
        super().__init__(message)
        self.student = student


@dataclass(frozen=True)
class Cifar10:
    """CIFAR-10 in memory, as the lesson uses it.

    Attributes:
        x_train: (N, 32, 32, 3) uint8 training images.
        y_train: (N,) int64 labels 0–9.
        x_test: (M, 32, 32, 3) uint8 test images.
        y_test: (M,) int64 labels 0–9.
        class_names: the ten class names, in label order.
        source: a sentence saying where the data came from (shown in the UI).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str

    def make_read_only(self) -> Cifar10:
        """Mark every array read-only, so sessions sharing this object cannot change it."""
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            array.setflags(write=False)
        return self

    @property
    def nbytes(self) -> int:
        """Memory held by the four arrays, in bytes."""
        return sum(a.nbytes for a in (self.x_train, self.y_train, self.x_test, self.y_test))


# --- Reading the official "CIFAR-10 python version" files -------------------------------------


def _get(d: dict, key: str) -> Any:
    """Look a key up as str or bytes: the official files use bytes keys (Python 2 pickles)."""
    if key in d:
        return d[key]
    if key.encode() in d:
        return d[key.encode()]
    raise KeyError(key)


# What a CIFAR-10 batch needs to rebuild its pixel array, and nothing else (as Keras' own
# cifar loader allows since 3.x): numpy < 2 and numpy >= 2 spell `multiarray` differently.
# Dicts, lists, ints and bytes need no global at all.
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 batch: numpy arrays and plain containers only.

    A tampered file in the data folder cannot run code through a pickle `__reduce__`
    gadget (os.system, builtins.eval, …): any other global is refused.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing `{module}.{name}`: a CIFAR-10 batch holds only arrays, lists and bytes"
        )


def _unpickle(raw: bytes, name: str) -> dict:
    # The files are pickles written by the dataset's authors; only a folder the operator
    # configured is ever read this way — never anything a browser user uploaded — and then
    # with an unpickler that rebuilds numpy arrays and plain data only.
    try:
        obj = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # noqa: BLE001 — any unpickling failure means a damaged file
        raise DataError(f"{name}: cannot be read as a CIFAR-10 pickle ({exc}).") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{name}: expected a dict, found {type(obj).__name__}.")
    return obj


def parse_batch(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode one data/test batch into images and labels, checking everything.

    Args:
        raw: the file's bytes.
        name: the file name, used in error messages.

    Returns:
        images (N, 32, 32, 3) uint8 and labels (N,) int64.

    Raises:
        DataError: naming the file and what is wrong with it.
    """
    batch = _unpickle(raw, name)
    try:
        data = np.asarray(_get(batch, "data"))
        labels = np.asarray(_get(batch, "labels"))
    except KeyError as exc:
        raise DataError(f"{name}: the key {exc.args[0]!r} is missing.") from exc
    if data.dtype != np.uint8:
        raise DataError(f"{name}: 'data' must be uint8 pixels, found dtype {data.dtype}.")
    if data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{name}: 'data' must have shape (rows, 3072), found {data.shape}.")
    if labels.ndim != 1 or len(labels) != len(data):
        raise DataError(
            f"{name}: {len(data)} images but labels of shape {labels.shape}; they must match."
        )
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{name}: labels must be integers, found dtype {labels.dtype}.")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise DataError(
            f"{name}: labels must be 0–9, found values from {labels.min()} to {labels.max()}."
        )
    # Each row is 1024 red, then 1024 green, then 1024 blue values, row-major.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def parse_meta(raw: bytes, name: str) -> tuple[str, ...]:
    """Read and check the class names in batches.meta."""
    meta = _unpickle(raw, name)
    try:
        names = _get(meta, "label_names")
    except KeyError as exc:
        raise DataError(f"{name}: the key 'label_names' is missing.") from exc
    names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    if names != CLASS_NAMES:
        raise DataError(
            f"{name}: expected the 10 CIFAR-10 class names {CLASS_NAMES}, found {names}."
        )
    return names


def _iter_folder(folder: Path) -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        path = folder / name
        if not path.is_file():
            raise DataError(f"{path}: file not found. The folder must hold {_layout()}.")
        return path.read_bytes()

    return read


def _iter_tarball(path: Path) -> Callable[[str], bytes]:
    wanted = {META_FILE, TEST_BATCH, *TRAIN_BATCHES}
    try:
        with tarfile.open(path, "r:*") as tar:
            # Read only the members we know by name; nothing is extracted to disk.
            contents = {
                Path(m.name).name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers()
                if m.isfile() and Path(m.name).name in wanted
            }
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .tar.gz archive ({exc}).") from exc

    def read(name: str) -> bytes:
        if name not in contents:
            raise DataError(f"{path}: the archive has no {name}. It must hold {_layout()}.")
        return contents[name]

    return read


def _layout() -> str:
    return f"{META_FILE}, {', '.join(TRAIN_BATCHES)} and {TEST_BATCH}"


def find_batches_folder(path: Path) -> Path:
    """Accept the batches folder itself or a parent that contains `cifar-10-batches-py/`."""
    if (path / META_FILE).exists():
        return path
    inner = path / "cifar-10-batches-py"
    if (inner / META_FILE).exists():
        return inner
    raise DataError(
        f"{path}: no {META_FILE} here or in {inner}. Point {settings.CIFAR10_DIR.name} at the folder "
        f"'cifar-10-batches-py' (holding {_layout()}) or at cifar-10-python.tar.gz."
    )


def load_local(path: str | os.PathLike[str]) -> Cifar10:
    """Load CIFAR-10 from a local folder in the official python layout, or its .tar.gz.

    Any number of rows per batch is accepted, with bytes or str keys, and without the
    `filenames` key; shapes, dtypes, label ranges and class names are checked.

    Args:
        path: the `cifar-10-batches-py` folder (or its parent), or `cifar-10-python.tar.gz`.

    Returns:
        The data set, arrays writable (call `make_read_only()` before sharing it).

    Raises:
        DataError: naming the file and what is wrong.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: does not exist. Check the {settings.CIFAR10_DIR.name} setting.")
    read = _iter_tarball(path) if path.is_file() else _iter_folder(find_batches_folder(path))
    class_names = parse_meta(read(META_FILE), META_FILE)
    parts = [parse_batch(read(name), name) for name in TRAIN_BATCHES]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = parse_batch(read(TEST_BATCH), TEST_BATCH)
    return Cifar10(x_train, y_train, x_test, y_test, class_names, source=f"local files in {path}")


# --- Keras' own download and cache ------------------------------------------------------------


def keras_home() -> Path:
    """The folder Keras caches datasets under (KERAS_HOME or ~/.keras)."""
    return Path(settings.value(settings.KERAS_HOME)).expanduser()


def keras_cache_folder() -> Path:
    """Where keras.datasets.cifar10.load_data() leaves the unpacked batches."""
    return keras_home().joinpath(*KERAS_CACHE_SUBDIR)


def is_keras_cached() -> bool:
    """True when a previous download is on disk, so loading needs neither network nor TF."""
    return (keras_cache_folder() / TEST_BATCH).is_file()


def _keras_download() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    import keras  # imported here: only a first download needs TensorFlow

    return keras.datasets.cifar10.load_data()


def load_keras(downloader: Callable[[], Any] | None = None) -> Cifar10:
    """Load CIFAR-10 through Keras: read its cache if present, else download (~170 MB) first.

    Args:
        downloader: the function that downloads and returns Keras' arrays (default: Keras';
            looked up at call time, so tests can replace `_keras_download` and simulate a
            failed download without a network).

    Raises:
        DataError: when the download fails, with the raw error and the offline option.
    """
    if is_keras_cached():
        data = load_local(keras_cache_folder())
        return Cifar10(*_arrays(data), source=f"Keras' cache in {keras_cache_folder()}")
    try:
        (x_train, y_train), (x_test, y_test) = (downloader or _keras_download)()
    except Exception as exc:  # noqa: BLE001 — any failure here is reported the same way
        raise DataError(
            f"Downloading CIFAR-10 (~{DOWNLOAD_MB} MB) through Keras failed: "
            f"{type(exc).__name__}: {exc}. Check the server's internet connection, or work "
            "offline: download cifar-10-python.tar.gz once from "
            "https://www.cs.toronto.edu/~kriz/cifar.html, and set the environment variable "
            f"{settings.CIFAR10_DIR.name} to the .tar.gz file or to its unpacked 'cifar-10-batches-py' "
            "folder.",
            student=STUDENT_DOWNLOAD_FAILED,
        ) from exc
    return Cifar10(
        np.ascontiguousarray(x_train, dtype=np.uint8),
        np.asarray(y_train).reshape(-1).astype(np.int64),
        np.ascontiguousarray(x_test, dtype=np.uint8),
        np.asarray(y_test).reshape(-1).astype(np.int64),
        CLASS_NAMES,
        source="Keras' download (keras.datasets.cifar10), cached in " + str(keras_home()),
    )


def _arrays(data: Cifar10) -> tuple:
    return data.x_train, data.y_train, data.x_test, data.y_test, data.class_names


# --- The one entry point the app uses ---------------------------------------------------------


def configured_dir() -> str | None:
    """The CIFAR10_DIR setting, or None when the app should use Keras' download."""
    return settings.raw(settings.CIFAR10_DIR) or None


def describe_source() -> str:
    """One sentence for the home page: where the data will come from."""
    local = configured_dir()
    if local:
        return f"Local files from `{settings.CIFAR10_DIR.name}` = `{local}`."
    if is_keras_cached():
        return f"Keras' cached download in `{keras_cache_folder()}`."
    return (
        f"Keras' download (~{DOWNLOAD_MB} MB, once, on first use; then cached in "
        f"`{keras_home()}`). Offline? Whoever runs the app can set `{settings.CIFAR10_DIR.name}` (below)."
    )


def needs_download() -> bool:
    """True when loading will first download ~170 MB (so the UI can say so)."""
    return configured_dir() is None and not is_keras_cached()


def load_cifar10() -> Cifar10:
    """Load CIFAR-10 from CIFAR10_DIR if set, else through Keras; arrays made read-only."""
    local = configured_dir()
    data = load_local(local) if local else load_keras()
    return data.make_read_only()


_DATA_LOCK = threading.Lock()
_shared: dict[str | None, Cifar10] = {}


def shared_data() -> Cifar10:
    """THE data set of this server process: loaded once, read-only, shared by every session.

    A module-level cache keyed by the configured source (so a test or a restart with another
    CIFAR10_DIR gets that one; at most one data set is kept). Not a Streamlit cache: a visitor
    clearing Streamlit's caches from the app menu would otherwise make a second copy.
    Concurrent first callers wait for the one load instead of loading twice.

    A failure is logged (error) for the operator, with the setting and the raw error: the
    pages show students only `DataError.student`.

    Raises:
        DataError: the data cannot be loaded (the message says why and how to fix it).
    """
    source = configured_dir()
    with _DATA_LOCK:
        data = _shared.get(source)
        if data is None:
            try:
                data = load_cifar10()
            except DataError as exc:
                where = (
                    f"{settings.CIFAR10_DIR.name}={source}"
                    if source
                    else f"{settings.CIFAR10_DIR.name} unset"
                )
                log.error("CIFAR-10 could not be loaded (%s): %s", where, exc)
                raise
            _shared.clear()
            _shared[source] = data
        return data


def shared_data_ready() -> bool:
    """True once shared_data() would answer at once (nothing to load)."""
    return configured_dir() in _shared
