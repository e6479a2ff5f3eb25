"""The one loader of saved runs (ui.common.load_saved_run): read once per version of a run."""

from __future__ import annotations

import shutil

import pytest

from cifar_core.runs import PREDICTIONS_FILE, RunStore, RunStoreError
from ui import common


@pytest.fixture()
def store_copy(trained_store, tmp_path) -> RunStore:
    """A private copy of the trained run (these tests change its files)."""
    root = tmp_path / "runs"
    shutil.copytree(trained_store.root, root)
    return RunStore(root)


def test_a_run_is_read_once_and_again_when_it_changes(store_copy, monkeypatch):
    [info] = store_copy.list_runs()
    loads: list[str] = []
    real = RunStore.load
    monkeypatch.setattr(RunStore, "load", lambda self, rid: loads.append(rid) or real(self, rid))
    first = common.load_saved_run(str(store_copy.root), info.run_id)
    again = common.load_saved_run(str(store_copy.root), info.run_id)
    assert len(loads) == 1 and again.run.status == first.run.status == {**first.run.status}
    assert first.predictions["test_probs"].shape[1] == 10 and first.predictions_error is None
    store_copy.set_status(info.run_id, "stopped", "changed after it was shown")
    changed = common.load_saved_run(str(store_copy.root), info.run_id)
    assert len(loads) == 2 and changed.run.status["status"] == "stopped"


def test_damaged_predictions_are_named_and_not_served_from_the_cache(store_copy):
    [info] = store_copy.list_runs()
    assert common.load_saved_run(str(store_copy.root), info.run_id).predictions
    (store_copy.root / info.run_id / PREDICTIONS_FILE).write_bytes(b"not a zip")
    store_copy.set_status(info.run_id, "finished")  # the run's files changed: a new version
    with pytest.raises(RunStoreError, match="predictions.npz"):
        common.load_saved_run(str(store_copy.root), info.run_id)


def test_a_missing_run_is_the_stores_error(store_copy):
    with pytest.raises(RunStoreError, match="No run"):
        common.load_saved_run(str(store_copy.root), "20990101-000000-abcdef")
