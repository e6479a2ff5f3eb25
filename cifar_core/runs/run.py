"""A saved run: one line of the runs list (RunInfo) and a run read back from its folder (Run).

`RunStore` (the package module) lists and loads them; every file a `Run` reads is checked
here too (`runs.files`), so a damaged file is a RunStoreError, never a crash.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_core.runs.files import (
    ARCHITECTURE_FILE,
    BEST_WEIGHTS_FILE,
    DAMAGED,
    DOWNLOAD_LIMIT,
    MODEL_FILE,
    PREDICTIONS_FILE,
    WEIGHTS_FILE,
    RunStoreError,
    _Damage,
    _open_regular,
    _problem,
    _read_predictions,
)

# The model files a run offers for download (only these names are ever read for one).
DOWNLOADABLE = (MODEL_FILE, WEIGHTS_FILE, BEST_WEIGHTS_FILE, ARCHITECTURE_FILE)


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
        owners: owner hashes of the browsers that asked for or joined the run (identity);
            empty for a run saved before runs had owners, or whose owners.json is bad.
        owner_problem: what is wrong with its owners.json, if anything.
    """

    run_id: str
    status: str
    created: float
    config: dict
    test_accuracy: float | None = None
    problem: str = ""
    owners: frozenset[str] = frozenset()
    owner_problem: str = ""

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

    Only `RunStore.load` makes one, after checking every file (runs.checks): config is a
    valid TrainConfig dict; status has a known status word and valid times; history holds
    lists of records with numeric values; result is {} until evaluated, else it holds test
    accuracy and loss, the confusion matrix and the per-class accuracy, one per class.

    Attributes:
        run_id: the folder name.
        path: the folder.
        config, status, history, result: the JSON files, checked.
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
        """A file of the run, for downloads (only the known file names are allowed).

        Raises:
            RunStoreError: not a downloadable name, or not a plain file of a sane size.
            FileNotFoundError: the file is gone.
        """
        if name not in DOWNLOADABLE:
            raise RunStoreError(f"{name!r} is not a file of a run.")
        try:
            handle, _size = _open_regular(self.path / name, DOWNLOAD_LIMIT)
        except _Damage as exc:
            raise RunStoreError(f"Run {self.run_id} is damaged: {exc}.") from None
        with handle:
            return handle.read()

    def predictions(self) -> dict[str, np.ndarray]:
        """Saved predictions, checked: plain number arrays only (nothing is ever unpickled).

        Keys as saved: test_probs (N, classes) and test_labels (N,); train_indices,
        train_probs and train_labels for the images it trained on. Labels are valid class
        indices for `result["class_names"]`.

        Raises:
            RunStoreError: the file is missing or damaged.
        """
        try:
            return _read_predictions(self.path / PREDICTIONS_FILE, self.result)
        except FileNotFoundError:
            raise RunStoreError(f"Run {self.run_id} has no saved predictions.") from None
        except _Damage as exc:
            raise RunStoreError(f"Run {self.run_id} is damaged: {_problem(exc)}.") from None

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
