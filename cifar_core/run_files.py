"""Run files: the files of a run folder, read and checked so that damage is named, not raised.

File names, the run-id pattern, readers that say exactly what is wrong with a file, and a
process-wide cache of each run's summary (config, status, test accuracy) keyed by the files'
inode, size and modification time, so listing runs reads nothing that did not change.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

# Ids are generated here, never taken from user text: date-time plus random hex.
RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
RUNNING, INTERRUPTED, DAMAGED = "running", "interrupted", "damaged"
MB = 1024 * 1024


class RunStoreError(ValueError):
    """A run id or run folder is not valid."""


# --- Reading the JSON files of a run, saying exactly what is wrong ---------------------------


class _Damage(Exception):
    """What is wrong with one file of a run folder (internal; becomes a message)."""


def _read_file(path: Path) -> bytes:
    return path.read_bytes()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _read_object(path: Path, optional: bool = False) -> dict:
    """A JSON object from a file; {} if optional and missing; _Damage says what is wrong."""
    name = path.name
    try:
        raw = _read_file(path)
    except FileNotFoundError:
        if optional:
            return {}
        raise _Damage(f"{name} is missing") from None
    except IsADirectoryError:
        raise _Damage(f"{name} is a folder, not a file") from None
    except OSError as exc:
        raise _Damage(f"{name} cannot be read ({exc.strerror or exc})") from None
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
    except RecursionError:
        raise _Damage(f"{name} is nested too deeply to read") from None
    if not isinstance(value, dict):
        raise _Damage(f"{name} holds {_kind(value)}, not an object")
    return value


def _check_time(value: Any, what: str) -> float:
    """A valid time stamp (seconds since the epoch), or _Damage."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Damage(f"{what} is {_short(value)}, not a time in seconds")
    seconds = float(value)
    try:
        if not math.isfinite(seconds):
            raise ValueError
        time.localtime(seconds)
    except (OverflowError, OSError, ValueError):
        raise _Damage(f"{what} is {_short(value)}, not a possible time") from None
    return seconds


def _check_status(status: dict) -> tuple[str, float | None]:
    """(status word, created or None if absent) from status.json, or _Damage."""
    word = status.get("status")
    if not isinstance(word, str) or not word.strip():
        raise _Damage(f'{STATUS_FILE}: "status" is {_short(word)}, not a status word')
    created = status.get("created")
    if created is not None:
        created = _check_time(created, f'{STATUS_FILE}: "created"')
    return word, created


def _check_accuracy(result: dict) -> float | None:
    accuracy = result.get("test_accuracy")
    if accuracy is None:
        return None
    if isinstance(accuracy, bool) or not isinstance(accuracy, int | float):
        raise _Damage(f'{RESULT_FILE}: "test_accuracy" is {_short(accuracy)}, not a number')
    return None if math.isnan(accuracy) else float(accuracy)


def _check_history(history: dict) -> None:
    for level in ("epochs", "batches"):
        rows = history.get(level)
        if rows is not None and (
            not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows)
        ):
            raise _Damage(f'{HISTORY_FILE}: "{level}" is not a list of records')


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


def _summarize(folder: Path) -> _Summary:
    """Read config, status and result (never the history) of one run folder."""
    try:
        config = _read_object(folder / CONFIG_FILE)
        status, created = _check_status(_read_object(folder / STATUS_FILE))
        accuracy = _check_accuracy(_read_object(folder / RESULT_FILE, optional=True))
    except _Damage as exc:
        return _Summary(DAMAGED, None, {}, None, str(exc))
    return _Summary(status, created, config, accuracy)


# Process-wide: folder path → (signature of the files read, summary). Shared by every
# RunStore and session, so a rerun of any page re-reads only the runs that changed.
_CACHE_LOCK = threading.Lock()
_SUMMARIES: dict[str, tuple[tuple, _Summary]] = {}
_CACHE_MAX = 4096
_SETTLE_NS = 2_000_000_000


def _signature(folder: Path) -> tuple:
    """Inode, size and times of the files a summary reads: any rewrite changes it."""
    parts: list[Any] = []
    for name in (CONFIG_FILE, STATUS_FILE, RESULT_FILE):
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


def _folder_usage(folder: Path) -> tuple[int, float]:
    """(bytes, latest modification time) of a folder and everything in it.

    Symbolic links are counted as links, never followed. FileNotFoundError if the folder
    itself is gone; entries that vanish meanwhile are skipped.
    """
    top = os.lstat(folder)
    total, latest = 0, top.st_mtime
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except FileNotFoundError:
            if current == folder:
                raise
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            latest = max(latest, st.st_mtime)
            if stat.S_ISDIR(st.st_mode):
                pending.append(Path(entry.path))
            else:
                total += st.st_size
    return total, latest


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


def _remove_run_folder(root: Path, folder: Path) -> bool:
    """Delete one run folder; False if it was already gone. Refuses anything but a real
    folder named like a run id directly inside the root (never follows a link)."""
    if not RUN_ID_PATTERN.fullmatch(folder.name) or folder.parent != root:
        raise RunStoreError(f"{folder} is not a run folder of {root}.")
    try:
        st = os.lstat(folder)
        if not stat.S_ISDIR(st.st_mode) or folder.resolve().parent != root.resolve():
            raise RunStoreError(f"{folder} is not a run folder of {root}.")
        shutil.rmtree(folder)  # on Linux rmtree never follows links inside (fd-based)
    except FileNotFoundError:
        if os.path.lexists(folder):  # something inside vanished meanwhile: once more
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(folder)
            return True
        return False
    return True
