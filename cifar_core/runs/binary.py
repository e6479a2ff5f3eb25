"""Run binary files: predictions.npz and the model files, checked without trusting them.

Like runs.checks (whose `Damage` they raise), these say what is wrong with a file of a run in a
short sentence without its name. An .npz is read without ever unpickling and without letting
an array header make it allocate more than the file holds; the model files are checked only
for being whole (the .keras zip directory, the HDF5 superblock's end-of-file address), which
is what a crash or a full disk mid-write breaks.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from cifar_core.constants import NPZ_MAX_BYTES, NUM_CLASSES
from cifar_core.runs.checks import Damage, short

# --- predictions.npz ---------------------------------------------------------------------------

_PAIRS = (("test_probs", "test_labels"), ("train_probs", "train_labels"))


def read_npz(raw: bytes) -> dict[str, np.ndarray]:
    """The arrays of an .npz file's bytes, read without ever unpickling anything.

    Each array's header is checked before its data is read, so a header that claims a huge
    array cannot make this allocate it; every member's checksum is verified.
    """
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
            if len(members) > 64 or sum(m.file_size for m in members) > NPZ_MAX_BYTES:
                raise Damage("holds more than predictions ever take")
            for member in members:
                key = member.filename.removesuffix(".npy")
                name = key if key.isidentifier() and len(key) <= 30 else short(key)
                if key == member.filename:
                    raise Damage(f"holds {name}, not an array")
                arrays[key] = _read_npy(archive.read(member), name)
    except Damage:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise Damage(f"is not a valid .npz file, cut short or garbled ({exc})") from None
    except Exception as exc:  # noqa: BLE001 — a garbled archive fails in many ways (zlib.error…)
        raise Damage(f"cannot be read as arrays ({type(exc).__name__}: {exc})") from None
    return arrays


def _read_npy(raw: bytes, name: str) -> np.ndarray:
    """One array of an .npz, its header checked against its size before it is read."""
    stream = io.BytesIO(raw)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise Damage(f"{name} has an unknown array format {version}")
    if dtype.hasobject:
        raise Damage(f"{name} holds Python objects (a pickle), not numbers")
    count = math.prod(shape)
    if count * dtype.itemsize != len(raw) - stream.tell():
        raise Damage(f"{name} is cut short or has extra bytes")
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=stream.tell())
    return array.reshape(shape, order="F" if fortran else "C").copy()


def check_predictions(
    arrays: Mapping[str, np.ndarray], n_test: Any, n_classes: int = NUM_CLASSES
) -> None:
    """Probabilities (N, classes) in [0, 1] (NaN: a diverged run), labels 0…classes-1.

    Args:
        arrays: what read_npz gave.
        n_test: the result's "n_test" (None if not evaluated): the test labels must match.
        n_classes: the classes scored (CIFAR-10's ten, as result.json must name).
    """
    for probs_key, labels_key in _PAIRS:
        if (probs_key in arrays) != (labels_key in arrays):
            pair = (probs_key, labels_key)
            there, missing = pair if probs_key in arrays else pair[::-1]
            raise Damage(f"{missing} is missing ({there} is there)")
        if probs_key not in arrays:
            continue
        probs, labels = arrays[probs_key], arrays[labels_key]
        if probs.dtype.kind != "f" or probs.ndim != 2 or probs.shape[1] != n_classes:
            raise Damage(
                f"{probs_key} is {probs.dtype} {probs.shape}, not (images, {n_classes}) floats"
            )
        if labels.dtype.kind not in "iu" or labels.shape != probs.shape[:1]:
            raise Damage(
                f"{labels_key} is {labels.dtype} {labels.shape}, not {len(probs)} whole numbers"
            )
        values = probs[~np.isnan(probs)].astype(np.float64)
        if values.size and (values.min() < -0.01 or values.max() > 1.01):
            raise Damage(f"{probs_key} holds values that are not probabilities")
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise Damage(f"{labels_key} holds labels outside 0–{n_classes - 1}")
    if "train_indices" in arrays:
        indices = arrays["train_indices"]
        expected = arrays["train_labels"].shape if "train_labels" in arrays else indices.shape
        if indices.dtype.kind not in "iu" or indices.shape != expected:
            raise Damage(f"train_indices is {indices.dtype} {indices.shape}, not image numbers")
        if indices.size and indices.min() < 0:
            raise Damage("train_indices holds negative image numbers")
    if "test_labels" in arrays and n_test is not None and len(arrays["test_labels"]) != n_test:
        raise Damage(f"test_labels has {len(arrays['test_labels']):,} images, result {n_test:,}")


# --- Model files -------------------------------------------------------------------------------

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def check_h5_head(head: bytes, size: int) -> None:
    """An HDF5 file (weights) that is whole: its superblock's end-of-file address is in it.

    Args:
        head: the file's first 64 bytes (or all of it, if shorter).
        size: the file's size in bytes.
    """
    if not head.startswith(HDF5_SIGNATURE):
        raise Damage("is not an HDF5 weights file")
    if len(head) < 16:
        raise Damage("is cut short (no HDF5 superblock)")
    version = head[8]
    offsets = head[13] if version < 2 else head[9]
    if version > 3 or offsets not in (4, 8):
        return  # an HDF5 layout this check does not know: the signature must do
    fmt = "<I" if offsets == 4 else "<Q"
    base_at = (24, 28, 12, 12)[version]  # superblock versions 0, 1, 2 and 3
    eof_at = base_at + 2 * offsets
    if len(head) < eof_at + offsets:
        raise Damage("is cut short (no HDF5 superblock)")
    base = struct.unpack_from(fmt, head, base_at)[0]
    end = struct.unpack_from(fmt, head, eof_at)[0]
    if base + end > size:
        raise Damage(f"is cut short ({size:,} of {base + end:,} bytes)")


def check_keras_zip(source: BinaryIO) -> None:
    """A .keras file (open, binary) whose zip directory is intact and names the model's config.

    Only the directory at the end of the file is read: a file cut short has none.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error):
        raise Damage("is not a valid .keras file, cut short or garbled") from None
    if "config.json" not in names:
        raise Damage("is not a saved Keras model (no config.json inside)")
