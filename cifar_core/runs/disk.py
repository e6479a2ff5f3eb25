"""Run disk: the run store's budget (size and count) and what a failed write means.

Settings, read from the environment: CIFAR_RUNS_MAX_MB (default 2000) and
CIFAR_RUNS_MAX_COUNT (default 100); `RunStore.prune` keeps the store within them.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cifar_core import settings
from cifar_core.constants import (
    DEFAULT_RUNS_MAX_COUNT,
    DEFAULT_RUNS_MAX_MB,
)
from cifar_core.runs.files import RUN_ID_PATTERN, RunStoreError


@dataclass(frozen=True)
class RunBudget:
    """How much the run store may hold (see the module docstring for the settings).

    Attributes:
        max_mb: total size of all runs, MB (MiB).
        max_count: number of runs.
        notes: settings that were not valid and fell back to their default.
    """

    max_mb: float = DEFAULT_RUNS_MAX_MB
    max_count: int = DEFAULT_RUNS_MAX_COUNT
    notes: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RunBudget:
        """$CIFAR_RUNS_MAX_MB and $CIFAR_RUNS_MAX_COUNT, defaults where unset or invalid."""
        notes = []
        max_mb: float = DEFAULT_RUNS_MAX_MB
        max_count: int = DEFAULT_RUNS_MAX_COUNT
        text = settings.raw(settings.RUNS_MAX_MB, environ)
        if text:
            try:
                max_mb = float(text)
                if not (math.isfinite(max_mb) and max_mb > 0):
                    raise ValueError
            except ValueError:
                max_mb = DEFAULT_RUNS_MAX_MB
                notes.append(
                    f"{settings.RUNS_MAX_MB.name}={text!r} is not a positive number of MB; "
                    f"using {DEFAULT_RUNS_MAX_MB}."
                )
        text = settings.raw(settings.RUNS_MAX_COUNT, environ)
        if text:
            try:
                max_count = int(text)
                if max_count < 1:
                    raise ValueError
            except ValueError:
                max_count = DEFAULT_RUNS_MAX_COUNT
                notes.append(
                    f"{settings.RUNS_MAX_COUNT.name}={text!r} is not a positive whole number; "
                    f"using {DEFAULT_RUNS_MAX_COUNT}."
                )
        return cls(max_mb, max_count, tuple(notes))


_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}
# Some libraries (h5py, zip writers) lose the errno; their messages still say it.
_ERROR_WORDS = (
    ("no space left", errno.ENOSPC),
    ("quota", getattr(errno, "EDQUOT", errno.ENOSPC)),
    ("read-only file system", errno.EROFS),
    ("permission denied", errno.EACCES),
    ("not a directory", errno.ENOTDIR),
)


def _write_errno(exc: BaseException) -> tuple[int | None, OSError | None]:
    """The errno behind a write failure, looking through wrapped exceptions."""
    seen: set[int] = set()
    current: BaseException | None = exc
    first_os: OSError | None = None
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            first_os = first_os or current
            if current.errno is not None:
                return current.errno, current
        text = str(current).lower()
        for words, code in _ERROR_WORDS:
            if words in text:
                return code, current if isinstance(current, OSError) else first_os
        current = current.__cause__ or current.__context__
    return None, first_os


def is_storage_error(exc: BaseException) -> bool:
    """True if the disk is full or the runs folder is not writable, even when a library
    (Keras, h5py) wrapped the OSError in another exception."""
    code, _ = _write_errno(exc)
    return code in _DISK_FULL | _NOT_WRITABLE | {errno.ENOTDIR}


def describe_write_error(
    exc: BaseException, root: str | os.PathLike[str], run_id: str | None = None
) -> str:
    """What a failed write of a run means, and what to do, in words for the class.

    Args:
        exc: the error (an OSError, or one that wraps it, from json, np.savez or Keras).
        root: the runs folder.
        run_id: the run being saved, if known.
    """
    run = f"run {run_id}" if run_id else "this run"
    code, os_error = _write_errno(exc)
    reason = (os_error.strerror if os_error is not None else None) or str(exc) or type(exc).__name__
    if code in _DISK_FULL:
        budget = RunBudget.from_env()
        quota = " (its disk quota is used up)" if code != errno.ENOSPC else ""
        return (
            f"The server's disk is full{quota}, so {run} could not be saved in {root}. "
            f"Ask your teacher to free space or lower {settings.RUNS_MAX_MB.name} (now "
            f"{budget.max_mb:g} MB) so that old runs are removed sooner."
        )
    if code in _NOT_WRITABLE:
        return (
            f"The runs folder {root} is not writable ({reason}), so {run} could not be saved. "
            f"Ask your teacher to set {settings.RUNS_DIR.name} to a writable folder and restart the app."
        )
    if code == errno.ENOTDIR:
        return (
            f"The runs folder {root} cannot be used: a file stands where a folder should be, "
            f"so {run} could not be saved. Ask your teacher to set {settings.RUNS_DIR.name} to a "
            "writable folder and restart the app."
        )
    return f"{run[0].upper()}{run[1:]} could not be saved in {root}: {reason}."


# --- A run folder's size, and removing one safely ---------------------------------------------


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
