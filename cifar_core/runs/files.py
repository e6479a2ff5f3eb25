"""Run files: the files of a run folder, read and checked so that damage is named, not raised.

File names, the run-id pattern, readers that say exactly what is wrong with a file, and a
process-wide cache of each run's summary (config, status, test accuracy) keyed by the files'
inode, size and modification time, so listing runs reads nothing that did not change.

Every file is untrusted: it is read only if it is a regular file of a sane size (never a
pipe, a device or a folder), and its content is checked before anything else sees it
(`runs.checks` for the JSON files, `runs.binary` for the others). A folder is "damaged" when
any file but the history is wrong (listing never reads the history; `load` checks it too).
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np

from cifar_core.constants import (
    DOWNLOAD_LIMIT,
    LARGE_FILE_READ_LIMIT,
    MB,
    PROBLEM_MAX,
    READ_LIMIT,
)
from cifar_core.runs.binary import check_h5_head, check_keras_zip, check_predictions, read_npz
from cifar_core.runs.checks import (
    Damage,
    check_config,
    check_owners,
    check_result,
    check_status,
    check_time,
    check_unicode,
    kind,
)

# File names inside a run folder.
CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
HISTORY_FILE = "history.json"
RESULT_FILE = "result.json"
PREDICTIONS_FILE = "predictions.npz"
MODEL_FILE = "model.keras"
ARCHITECTURE_FILE = "model.json"
WEIGHTS_FILE = "model.weights.h5"
BEST_WEIGHTS_FILE = "best.weights.h5"
OWNERS_FILE = "owners.json"  # owner hashes of who asked for or joined the run (identity)

# Ids are generated here, never taken from user text: date-time plus random hex.
RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
RUNNING, INTERRUPTED, DAMAGED = "running", "interrupted", "damaged"
ENDED_WITH_RESULTS = ("finished", "stopped")  # statuses saved only after result.json
# The most bytes read of one file (READ_LIMIT for the others; the sizes are in constants).
READ_LIMITS = {HISTORY_FILE: LARGE_FILE_READ_LIMIT, PREDICTIONS_FILE: LARGE_FILE_READ_LIMIT}


class RunStoreError(ValueError):
    """A run id or run folder is not valid."""


# --- Reading the files of a run, saying exactly what is wrong ---------------------------------

# Internal names the run store uses: what is wrong with one file, and a time stamp's check.
_Damage = Damage
_check_time = check_time


def _open_regular(path: Path, limit: int) -> tuple[BinaryIO, int]:
    """(open binary file, size) of a regular file of at most `limit` bytes.

    Never blocks on a pipe and never reads a device: those, folders and oversized files are
    _Damage. FileNotFoundError if the file is missing.
    """
    name = path.name
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise _Damage(f"{name} is a folder, not a file") from None
    except OSError as exc:
        raise _Damage(f"{name} cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _Damage(f"{name} is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise _Damage(f"{name} is not a plain file (a pipe or a device?)")
        if st.st_size > limit:
            raise _Damage(
                f"{name} is too large ({st.st_size / MB:,.0f} MB; at most {limit // MB} MB)"
            )
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise


def _read_file(path: Path) -> bytes:
    """The bytes of a regular file (within its READ_LIMITS); _Damage otherwise."""
    limit = READ_LIMITS.get(path.name, READ_LIMIT)
    handle, _size = _open_regular(path, limit)
    try:
        with handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise _Damage(f"{path.name} cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise _Damage(f"{path.name} is too large (at most {limit // MB} MB)")
    return data


def read_object(path: Path, optional: bool = False) -> dict:
    """A JSON object from a file; {} if optional and missing; _Damage says what is wrong."""
    name = path.name
    try:
        raw = _read_file(path)
    except FileNotFoundError:
        if optional:
            return {}
        raise _Damage(f"{name} is missing") from None
    if not raw.strip():
        raise _Damage(f"{name} is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Damage(f"{name} is not UTF-8 text (bad byte at {exc.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Damage(
            f"{name} is not valid JSON, cut short or garbled ({exc.msg} at line {exc.lineno})"
        ) from None
    except ValueError:  # an integer of thousands of digits (Python's int_max_str_digits)
        raise _Damage(f"{name} holds a number too long to read") from None
    except RecursionError:
        raise _Damage(f"{name} is nested too deeply to read") from None
    if not isinstance(value, dict):
        raise _Damage(f"{name} holds {kind(value)}, not an object")
    _checked(name, lambda v: check_unicode(text, v), value, sep=" ")
    return value


def _checked(name: str, check: Callable[[Any], Any], value: Any, sep: str = ": ") -> Any:
    """check(value), with the file's name put in front of what it finds wrong."""
    try:
        return check(value)
    except Damage as exc:
        raise _Damage(f"{name}{sep}{exc}") from None


def _read_predictions(path: Path, result: dict) -> dict[str, np.ndarray]:
    """The checked arrays of predictions.npz (FileNotFoundError if there is none)."""
    arrays = _checked(path.name, read_npz, _read_file(path), sep=" ")
    _checked(path.name, lambda a: check_predictions(a, result.get("n_test")), arrays)
    return arrays


def _check_model_file(path: Path) -> None:
    """A model file that is whole: the .keras zip's directory, the HDF5 superblock, the JSON."""
    if path.name == ARCHITECTURE_FILE:
        read_object(path)
        return
    handle, size = _open_regular(path, DOWNLOAD_LIMIT)
    with handle:
        try:
            if path.name == MODEL_FILE:
                _checked(path.name, check_keras_zip, handle, sep=" ")
            else:
                _checked(path.name, lambda head: check_h5_head(head, size), handle.read(64), " ")
        except OSError as exc:
            raise _Damage(f"{path.name} cannot be read ({exc.strerror or exc})") from None


_OTHER_FILES = (PREDICTIONS_FILE, MODEL_FILE, WEIGHTS_FILE, BEST_WEIGHTS_FILE, ARCHITECTURE_FILE)
_SETTLE_NS = 2_000_000_000


def _check_other_files(folder: Path, running: bool, result: dict) -> None:
    """The predictions and model files that are there (each one is optional).

    A running run writes its model, weights and predictions when it saves, at the end: its
    files changed within the last seconds may be half written, so they are not judged yet
    (their summary is not cached either, so the next listing looks again).
    """
    for name in _OTHER_FILES:
        path = folder / name
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise _Damage(f"{name} cannot be read ({exc.strerror or exc})") from None
        if running and time.time_ns() - st.st_mtime_ns < _SETTLE_NS:
            continue
        try:
            if name == PREDICTIONS_FILE:
                _read_predictions(path, result)
            else:
                _check_model_file(path)
        except FileNotFoundError:
            continue  # removed meanwhile: it is optional


class _Checked(NamedTuple):
    """A run folder's files, checked (the history apart)."""

    config: dict
    status: dict
    result: dict
    word: str
    created: float | None
    test_accuracy: float | None


def _check_run(folder: Path) -> _Checked:
    """Read and check every file of a run folder but the history; _Damage names the first
    problem found."""
    config = read_object(folder / CONFIG_FILE)
    _checked(CONFIG_FILE, check_config, config)
    status = read_object(folder / STATUS_FILE)
    word, created = _checked(STATUS_FILE, check_status, status)
    result = read_object(folder / RESULT_FILE, optional=True)
    accuracy = _checked(RESULT_FILE, check_result, result)
    if not result and word in ENDED_WITH_RESULTS:  # they are written before the status
        raise _Damage(f'{RESULT_FILE} is missing or empty, but the run is "{word}"')
    _check_other_files(folder, word == RUNNING, result)
    return _Checked(config, status, result, word, created, accuracy)


def _problem(exc: BaseException) -> str:
    """A short line for a damaged run: what _Damage said, or the kind of unexpected error."""
    text = str(exc) if isinstance(exc, Damage) else f"cannot be read ({type(exc).__name__})"
    return text if len(text) <= PROBLEM_MAX else text[: PROBLEM_MAX - 1] + "…"


def _id_time(run_id: str) -> float | None:
    """When a run was created, from its id (local date-time); None if the id has no date."""
    try:
        return time.mktime(time.strptime(run_id[:15], "%Y%m%d-%H%M%S"))
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class _Summary:
    """What the runs list needs from one folder (cached per file signature)."""

    status: str  # as saved ("running" is not yet mapped to interrupted), or DAMAGED
    created: float | None  # None: absent or damaged; the id's time is used then
    config: dict
    test_accuracy: float | None = None
    problem: str = ""
    owners: frozenset[str] = frozenset()  # owner hashes; empty: nobody's (a run from before)
    owner_problem: str = ""  # why owners.json was not usable (the run is then nobody's)


def _read_owners(folder: Path) -> tuple[frozenset[str], str]:
    """(owner hashes, problem): a missing owners.json is nobody's run, a bad one too.

    A bad owners file does not damage the run (its results are fine): the run is nobody's,
    so no student sees it as theirs, and the problem says why.
    """
    try:
        owners = read_object(folder / OWNERS_FILE, optional=True)
        return _checked(OWNERS_FILE, check_owners, owners), ""
    except Exception as exc:  # noqa: BLE001 — a garbled file never breaks the list
        return frozenset(), _problem(exc)


def _summarize(folder: Path) -> _Summary:
    """Check every file of one run folder but the history; never raises."""
    owners, owner_problem = _read_owners(folder)
    try:
        checked = _check_run(folder)
    except Exception as exc:  # noqa: BLE001 — one bad folder never breaks the list
        return _Summary(DAMAGED, None, {}, None, _problem(exc), owners, owner_problem)
    return _Summary(
        checked.word,
        checked.created,
        checked.config,
        checked.test_accuracy,
        "",
        owners,
        owner_problem,
    )


# Process-wide: folder path → (signature of the files read, summary). Shared by every
# RunStore and session, so a rerun of any page re-reads only the runs that changed.
_CACHE_LOCK = threading.Lock()
_SUMMARIES: dict[str, tuple[tuple, _Summary]] = {}
_CACHE_MAX = 4096


def _signature(folder: Path) -> tuple:
    """Inode, size and times of the files a summary reads: any rewrite changes it."""
    parts: list[Any] = []
    for name in (CONFIG_FILE, STATUS_FILE, RESULT_FILE, OWNERS_FILE, *_OTHER_FILES):
        try:
            st = os.stat(folder / name)
        except FileNotFoundError:
            parts.append(None)
        except OSError as exc:
            parts.append(("error", exc.errno))
        else:
            parts.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return tuple(parts)


def _settled(signature: tuple) -> bool:
    # A file changed within the last seconds could change again within the same tick of the
    # file system's clock, keeping size and times (and the inode can be reused): such a
    # summary is not cached, so it is read again next time (as git does for "racy" files).
    recent = time.time_ns() - _SETTLE_NS
    return all(part is None or part[0] == "error" or part[2] < recent for part in signature)


def _cached_summary(folder: Path) -> _Summary:
    key = os.path.abspath(folder)
    signature = _signature(folder)  # stat before reading: a later change always shows
    with _CACHE_LOCK:
        hit = _SUMMARIES.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    summary = _summarize(folder)
    with _CACHE_LOCK:
        if len(_SUMMARIES) >= _CACHE_MAX:
            _SUMMARIES.clear()
        if _settled(signature):
            _SUMMARIES[key] = (signature, summary)
        else:
            _SUMMARIES.pop(key, None)
    return summary


def _forget(folders: Iterable[Path]) -> None:
    with _CACHE_LOCK:
        for folder in folders:
            _SUMMARIES.pop(os.path.abspath(folder), None)


def _forget_missing(root: Path, seen: set[str]) -> None:
    """Drop cache entries of this root's folders that are gone."""
    root_key = os.path.abspath(root)
    with _CACHE_LOCK:
        for key in [k for k in _SUMMARIES if os.path.dirname(k) == root_key and k not in seen]:
            del _SUMMARIES[key]


# --- Budget and write errors --------------------------------------------------------------


def _fallback_time(folder: Path) -> float:
    """Creation time of a run without a usable one: its id's time, else the folder's."""
    from_id = _id_time(folder.name)
    if from_id is not None:
        return from_id
    try:
        return folder.stat().st_mtime
    except OSError:
        return 0.0
