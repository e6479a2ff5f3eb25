"""Run store: every training run as a folder of plain files, listed, reopened, downloaded.

Settings, read from the environment:
    CIFAR_RUNS_DIR: the runs folder (default ./runs).
    CIFAR_RUNS_MAX_MB: the run-store budget, total size of the runs in MB (MiB; default
        2000). `RunStore.prune` removes the oldest runs beyond it.
    CIFAR_RUNS_MAX_COUNT: the most runs kept (default 100), also enforced by `prune`.
A value that is not a positive number falls back to the default (`run_disk.RunBudget.notes` says so).

Listing is cheap: `list_runs` reads only config.json, status.json and result.json (never the
history, which reaches tens of MB for a long run), and a process-wide cache keyed by each
file's inode, size and modification time skips even that for a run that did not change.
A damaged folder never makes listing fail: it is listed as damaged with what is wrong, and
`load` raises RunStoreError for it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cifar_core.constants import (
    DEFAULT_RUNS_DIR,
    ENV_RUNS_DIR,
    RUNS_RUNNING_GRACE_SECONDS,
)
from cifar_core.run_disk import RunBudget

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


def default_root() -> Path:
    """The runs folder: $CIFAR_RUNS_DIR, else ./runs."""
    return Path(os.environ.get(ENV_RUNS_DIR, "").strip() or DEFAULT_RUNS_DIR)


def validate_run_id(run_id: str) -> str:
    """Return the id if it has the generated shape; raise RunStoreError otherwise.

    This is what keeps "../../etc" or an absolute path from ever becoming a file path.
    """
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise RunStoreError(f"{run_id!r} is not a run id (expected e.g. 20261122-093000-1a2b3c).")
    return run_id


def _write_json(path: Path, obj: Any) -> None:
    # Write to a temporary name and rename, so a crash never leaves half a file; a failed
    # write (disk full) removes its temporary file so it does not keep the space.
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(obj, indent=1, allow_nan=True)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


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


@dataclass(frozen=True)
class RunInfo:
    """One line of the runs list.

    Attributes:
        run_id: the folder name.
        status: finished | stopped | failed | running | interrupted | damaged.
        created: seconds since the epoch.
        config: the training config as saved (empty if damaged).
        test_accuracy: None until evaluated.
        problem: what is wrong with a damaged folder.
    """

    run_id: str
    status: str
    created: float
    config: dict
    test_accuracy: float | None = None
    problem: str = ""

    @property
    def label(self) -> str:
        """A short human label for select boxes."""
        when = time.strftime("%d %b %H:%M:%S", time.localtime(self.created))
        if self.status == DAMAGED:
            return f"{when} · damaged ({self.problem})"
        acc = f" · test acc {self.test_accuracy:.1%}" if self.test_accuracy is not None else ""
        model = self.config.get("model", "?")
        return f"{when} · {model} · {self.config.get('epochs', '?')} ep · {self.status}{acc}"


@dataclass(frozen=True)
class Run:
    """A saved run, read back from its folder.

    Attributes:
        run_id: the folder name.
        path: the folder.
        config, status, history, result: the JSON files (result is {} until evaluated).
    """

    run_id: str
    path: Path
    config: dict
    status: dict
    history: dict
    result: dict

    def has(self, name: str) -> bool:
        """True if the run folder holds this file."""
        return (self.path / name).is_file()

    def read_bytes(self, name: str) -> bytes:
        """A file of the run, for downloads (only the known file names are allowed)."""
        if name not in DOWNLOADABLE:
            raise RunStoreError(f"{name!r} is not a file of a run.")
        return (self.path / name).read_bytes()

    def predictions(self) -> dict[str, np.ndarray]:
        """Saved predictions; plain arrays only (allow_pickle=False)."""
        with np.load(self.path / PREDICTIONS_FILE, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}

    def history_csv(self, level: str = "epochs") -> str:
        """The per-epoch (or per-batch) history as CSV text."""
        rows = self.history.get(level, [])
        out = io.StringIO()
        if rows:
            fields = list(dict.fromkeys(key for row in rows for key in row))
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue()


DOWNLOADABLE = (MODEL_FILE, WEIGHTS_FILE, BEST_WEIGHTS_FILE, ARCHITECTURE_FILE)


class RunStore:
    """A folder of run folders. Thread-safe enough: each run is written by one job only."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def new_run_id(self) -> str:
        """A fresh, unguessable, sortable id."""
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)

    def path(self, run_id: str) -> Path:
        """The folder of a run (the id is validated first)."""
        return self.root / validate_run_id(run_id)

    # --- writing (OSError on failure: see describe_write_error) ---

    def create(self, run_id: str, config: dict) -> Path:
        """Start a run folder: config plus a "running" status."""
        folder = self.path(run_id)
        folder.mkdir(parents=True, exist_ok=False)
        _write_json(folder / CONFIG_FILE, config)
        self.set_status(run_id, RUNNING)
        return folder

    def set_status(self, run_id: str, status: str, message: str = "", **extra: Any) -> None:
        """Record a status (and when it was set).

        A damaged status.json is replaced (its "created" then comes from the run id); a
        failed write raises OSError, for the caller to report.
        """
        folder = self.path(run_id)
        try:
            previous = _read_object(folder / STATUS_FILE, optional=True)
            existed = bool(previous)
        except _Damage:
            previous, existed = {}, True
        try:
            created = _check_time(previous["created"], "created") if "created" in previous else None
        except _Damage:
            created = None
        if created is None:
            created = (_id_time(run_id) if existed else None) or time.time()
        record = {**previous, "created": created, **extra}
        record.update(status=status, message=message, updated=time.time())
        _write_json(folder / STATUS_FILE, record)

    def write_json(self, run_id: str, name: str, obj: Any) -> None:
        """Write one of the run's JSON files atomically."""
        _write_json(self.path(run_id) / name, obj)

    def write_predictions(self, run_id: str, **arrays: np.ndarray) -> None:
        """Save prediction arrays (numbers only) for later pages."""
        folder = self.path(run_id)
        tmp = folder / (PREDICTIONS_FILE + ".tmp.npz")
        try:
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, folder / PREDICTIONS_FILE)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise

    # --- reading ---

    def load(self, run_id: str) -> Run:
        """Read a run back, history included; RunStoreError if it is missing or damaged."""
        folder = self.path(run_id)
        if not folder.is_dir():
            raise RunStoreError(f"No run {run_id} in {self.root}.")
        try:
            config = _read_object(folder / CONFIG_FILE)
            status = _read_object(folder / STATUS_FILE)
            _check_status(status)
            history = _read_object(folder / HISTORY_FILE, optional=True)
            _check_history(history)
            result = _read_object(folder / RESULT_FILE, optional=True)
            _check_accuracy(result)
        except _Damage as exc:
            raise RunStoreError(f"Run {run_id} is damaged: {exc}.") from None
        return Run(run_id, folder, config, status, history, result)

    def list_runs(self, active_ids: frozenset[str] | set[str] = frozenset()) -> list[RunInfo]:
        """Every run, newest first. Never raises for a bad folder: it is listed as damaged.

        Reads only config, status and result of a run that changed since the last call (in
        this process); never the history.

        Args:
            active_ids: ids of jobs alive in this process; a "running" run not among them was
                cut off (server restart) and is listed as interrupted.
        """
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return []
        infos, seen = [], set()
        for entry in entries:
            if not RUN_ID_PATTERN.fullmatch(entry.name):
                continue
            try:
                if not entry.is_dir():  # a linked run folder is listed (never pruned)
                    continue
            except OSError:
                continue
            folder = Path(entry.path)
            seen.add(os.path.abspath(folder))
            infos.append(self._info(folder, active_ids))
        _forget_missing(self.root, seen)
        return sorted(infos, key=lambda info: (info.created, info.run_id), reverse=True)

    def _info(self, folder: Path, active_ids: frozenset[str] | set[str]) -> RunInfo:
        summary = _cached_summary(folder)
        created = summary.created if summary.created is not None else _fallback_time(folder)
        if summary.status == DAMAGED:
            return RunInfo(folder.name, DAMAGED, created, {}, problem=summary.problem)
        status = summary.status
        if status == RUNNING and folder.name not in active_ids:
            status = INTERRUPTED
        config = dict(summary.config)  # a copy: the cached one stays as read
        return RunInfo(folder.name, status, created, config, summary.test_accuracy)

    # --- budget ---

    def _own_folders(self) -> list[Path]:
        """Run folders that really are folders inside the root (symbolic links left out)."""
        try:
            entries = list(os.scandir(self.root))
        except OSError:
            return []
        folders = []
        for entry in entries:
            try:
                if RUN_ID_PATTERN.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
            except OSError:
                continue
        return folders

    def disk_usage(self) -> dict[str, int]:
        """Bytes used by each run folder (damaged ones too; linked folders not counted).

        One directory scan per run (a stat per file, no file is read).
        """
        usage = {}
        for folder in self._own_folders():
            with contextlib.suppress(FileNotFoundError):
                usage[folder.name] = _folder_usage(folder)[0]
        return usage

    def total_mb(self) -> float:
        """Total size of the runs, MB (MiB)."""
        return sum(self.disk_usage().values()) / MB

    def prune(
        self,
        protected: Iterable[str] = frozenset(),
        budget: RunBudget | None = None,
        now: float | None = None,
    ) -> list[str]:
        """Remove the oldest runs until the store is within its budget; returns their ids.

        Oldest first by creation time (damaged folders by their id's time), until at most
        `budget.max_count` runs remain and they total at most `budget.max_mb`. Never removed:
        a run whose id is in `protected` (running, queued or watched), a run with status
        "running" whose folder changed in the last RUNS_RUNNING_GRACE_SECONDS, anything not
        named like a run id, and symbolic links (nothing is ever deleted through a link).
        A folder that vanishes meanwhile, or cannot be removed, is skipped.

        Args:
            protected: ids that must stay.
            budget: the limits; RunBudget.from_env() if None.
            now: the current time (for tests).
        """
        budget = budget or RunBudget.from_env()
        keep = set(protected)
        now = time.time() if now is None else now
        candidates = []
        for folder in self._own_folders():
            try:
                size, latest = _folder_usage(folder)
            except FileNotFoundError:
                continue
            summary = _cached_summary(folder)
            created = summary.created if summary.created is not None else _fallback_time(folder)
            candidates.append((created, folder.name, folder, size, latest, summary.status))
        count = len(candidates)
        total = sum(c[3] for c in candidates)
        limit = budget.max_mb * MB
        removed: list[str] = []
        for _created, run_id, folder, size, latest, status in sorted(candidates):
            if count <= budget.max_count and total <= limit:
                break
            if run_id in keep or (status == RUNNING and now - latest < RUNS_RUNNING_GRACE_SECONDS):
                continue
            try:
                gone_before = not _remove_run_folder(self.root, folder)
            except (OSError, RunStoreError):
                continue  # cannot be removed (permissions, turned into a link): skip it
            _forget([folder])
            count, total = count - 1, total - size
            if not gone_before:
                removed.append(run_id)
        return removed


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
