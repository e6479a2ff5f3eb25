"""Run store: every training run as a folder of plain files, listed, reopened, downloaded."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cifar_core.constants import DEFAULT_RUNS_DIR, ENV_RUNS_DIR

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
    # Write to a temporary name and rename, so a crash never leaves half a file.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, allow_nan=True))
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


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
            writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
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

    def create(self, run_id: str, config: dict) -> Path:
        """Start a run folder: config plus a "running" status."""
        folder = self.path(run_id)
        folder.mkdir(parents=True, exist_ok=False)
        _write_json(folder / CONFIG_FILE, config)
        self.set_status(run_id, RUNNING)
        return folder

    def set_status(self, run_id: str, status: str, message: str = "", **extra: Any) -> None:
        """Record a status (and when it was set)."""
        folder = self.path(run_id)
        previous = _read_json(folder / STATUS_FILE) if (folder / STATUS_FILE).exists() else {}
        record = {"created": previous.get("created", time.time()), **previous, **extra}
        record.update(status=status, message=message, updated=time.time())
        _write_json(folder / STATUS_FILE, record)

    def write_json(self, run_id: str, name: str, obj: Any) -> None:
        """Write one of the run's JSON files atomically."""
        _write_json(self.path(run_id) / name, obj)

    def write_predictions(self, run_id: str, **arrays: np.ndarray) -> None:
        """Save prediction arrays (numbers only) for later pages."""
        tmp = self.path(run_id) / (PREDICTIONS_FILE + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)
        os.replace(tmp, self.path(run_id) / PREDICTIONS_FILE)

    def load(self, run_id: str) -> Run:
        """Read a run back; RunStoreError if it is missing or damaged."""
        folder = self.path(run_id)
        if not folder.is_dir():
            raise RunStoreError(f"No run {run_id} in {self.root}.")
        try:
            config = _read_json(folder / CONFIG_FILE)
            status = _read_json(folder / STATUS_FILE)
            history = _read_json(folder / HISTORY_FILE) if (folder / HISTORY_FILE).exists() else {}
            result = _read_json(folder / RESULT_FILE) if (folder / RESULT_FILE).exists() else {}
        except (OSError, ValueError) as exc:
            raise RunStoreError(f"Run {run_id} is damaged: {exc}") from exc
        if not isinstance(config, dict) or not isinstance(status, dict):
            raise RunStoreError(f"Run {run_id} is damaged: config or status is not an object.")
        return Run(run_id, folder, config, status, history, result)

    def list_runs(self, active_ids: frozenset[str] | set[str] = frozenset()) -> list[RunInfo]:
        """Every run, newest first. Never raises for a bad folder: it is listed as damaged.

        Args:
            active_ids: ids of jobs alive in this process; a "running" run not among them was
                cut off (server restart) and is listed as interrupted.
        """
        if not self.root.is_dir():
            return []
        infos = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or not RUN_ID_PATTERN.fullmatch(folder.name):
                continue
            infos.append(self._info(folder, active_ids))
        return sorted(infos, key=lambda info: (info.created, info.run_id), reverse=True)

    def _info(self, folder: Path, active_ids: frozenset[str] | set[str]) -> RunInfo:
        try:
            run = self.load(folder.name)
        except RunStoreError as exc:
            return RunInfo(folder.name, DAMAGED, folder.stat().st_mtime, {}, problem=str(exc))
        status = run.status.get("status", DAMAGED)
        if status == RUNNING and folder.name not in active_ids:
            status = INTERRUPTED
        accuracy = run.result.get("test_accuracy")
        created = float(run.status.get("created", folder.stat().st_mtime))
        return RunInfo(folder.name, status, created, run.config, accuracy)
