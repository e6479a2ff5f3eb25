"""Run store: every training run as a folder of plain files, listed, reopened, downloaded.

Settings, read from the environment:
    CIFAR_RUNS_DIR: the runs folder (default ./runs).
    CIFAR_RUNS_MAX_MB: the run-store budget, total size of the runs in MB (MiB; default
        2000). `RunStore.prune` removes the oldest runs beyond it.
    CIFAR_RUNS_MAX_COUNT: the most runs kept (default 100), also enforced by `prune`.
A value that is not a positive number falls back to the default (`runs.disk.RunBudget.notes` says so).

Every file of a run is untrusted (runs.checks, runs.binary): each is read only as a plain file
of a sane size and checked before use, so a run that loads holds exactly the types the pages
read. Listing reads config.json, status.json, result.json, owners.json (who asked for the run:
owner hashes, see cifar_core.identity), the predictions and model.json, and
the headers of the other model files (never the history, which reaches tens of MB for a long
run); a process-wide cache keyed by each file's inode, size and modification time skips all
that for a run that did not change. A damaged folder never makes listing fail: it is listed
as damaged with what is wrong, and `load` raises RunStoreError for it (also for a damaged
history). A listed run is a `RunInfo`, a loaded one a `Run` (both in runs.run).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from cifar_core import settings
from cifar_core.constants import RUNS_RUNNING_GRACE_SECONDS
from cifar_core.identity import valid_owner_hash
from cifar_core.runs.checks import check_history, check_owners
from cifar_core.runs.disk import RunBudget, _folder_usage, _remove_run_folder
from cifar_core.runs.files import (  # noqa: F401 — the file names are part of this module's API
    ARCHITECTURE_FILE,
    BEST_WEIGHTS_FILE,
    CONFIG_FILE,
    DAMAGED,
    HISTORY_FILE,
    INTERRUPTED,
    MB,
    MODEL_FILE,
    OWNERS_FILE,
    PREDICTIONS_FILE,
    RESULT_FILE,
    RUN_ID_PATTERN,
    RUNNING,
    STATUS_FILE,
    WEIGHTS_FILE,
    RunStoreError,
    _cached_summary,
    _check_run,
    _check_time,
    _checked,
    _Damage,
    _fallback_time,
    _forget,
    _forget_missing,
    _id_time,
    _problem,
    read_object,
)
from cifar_core.runs.run import Run, RunInfo


def default_root() -> Path:
    """The runs folder: $CIFAR_RUNS_DIR, else ./runs."""
    return Path(settings.value(settings.RUNS_DIR))


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


_OWNERS_LOCK = threading.Lock()


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
            previous = read_object(folder / STATUS_FILE, optional=True)
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

    def add_owners(self, run_id: str, owners: Iterable[str]) -> None:
        """Record owner hashes (identity.owner_hash) as having asked for or joined the run.

        Merged into those already recorded, so joins in any order all count. A damaged
        owners.json is replaced by the new owners (it counted as nobody's anyway). Raises
        OSError if the file cannot be written (the folder is gone, the disk is full), and
        ValueError for anything that is not an owner hash.
        """
        new = set(owners)
        if any(valid_owner_hash(owner) is None for owner in new):
            raise ValueError("only owner hashes (identity.owner_hash) can own a run")
        path = self.path(run_id) / OWNERS_FILE
        with _OWNERS_LOCK:  # one read-merge-write at a time in this process
            try:
                known = check_owners(read_object(path, optional=True))
            except Exception:  # noqa: BLE001 — a garbled file is replaced
                known = frozenset()
            if new <= known:
                return
            _write_json(path, {"owners": sorted(known | new)})

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
        """Read a run back, history included, every file checked (see `Run`).

        Raises:
            RunStoreError: the id is not valid, the run is missing, or any of its files is
                damaged (the message says which and how, as the runs list does).
        """
        folder = self.path(run_id)
        if not folder.is_dir():
            raise RunStoreError(f"No run {run_id} in {self.root}.")
        try:
            checked = _check_run(folder)
            history = read_object(folder / HISTORY_FILE, optional=True)
            _checked(HISTORY_FILE, check_history, history)
        except Exception as exc:  # noqa: BLE001 — _Damage, or anything a garbled file causes
            raise RunStoreError(f"Run {run_id} is damaged: {_problem(exc)}.") from None
        return Run(run_id, folder, checked.config, checked.status, history, checked.result)

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
        owned = {"owners": summary.owners, "owner_problem": summary.owner_problem}
        if summary.status == DAMAGED:
            return RunInfo(folder.name, DAMAGED, created, {}, problem=summary.problem, **owned)
        status = summary.status
        if status == RUNNING and folder.name not in active_ids:
            status = INTERRUPTED
        config = dict(summary.config)  # a copy: the cached one stays as read
        return RunInfo(folder.name, status, created, config, summary.test_accuracy, **owned)

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

    def delete(self, run_id: str) -> bool:
        """Remove one run's folder; False if it was already gone.

        Only a real folder named like a run id directly inside the root, never through a
        symbolic link (RunStoreError otherwise). The caller decides that the run may go (it is
        not running, queued or watched): this touches no other folder.
        """
        folder = self.path(run_id)
        gone_before = not _remove_run_folder(self.root, folder)
        _forget([folder])
        return not gone_before

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
