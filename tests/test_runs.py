"""Run store: round trip, listing, damaged folders, interrupted runs and id validation."""

from __future__ import annotations

import numpy as np
import pytest

from cifar_core import runs as R


def make_run(
    store: R.RunStore, run_id: str, status: str = "finished", accuracy: float = 0.5
) -> None:
    store.create(run_id, {"model": "deep", "epochs": 2})
    store.write_json(
        run_id, R.HISTORY_FILE, {"epochs": [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.5}]}
    )
    store.write_json(run_id, R.RESULT_FILE, {"test_accuracy": accuracy})
    store.set_status(run_id, status)


def test_round_trip(tmp_store):
    run_id = tmp_store.new_run_id()
    assert R.RUN_ID_PATTERN.fullmatch(run_id)
    make_run(tmp_store, run_id)
    tmp_store.write_predictions(
        run_id, test_probs=np.eye(10, dtype=np.float16), test_labels=np.arange(10)
    )
    run = tmp_store.load(run_id)
    assert run.config == {"model": "deep", "epochs": 2}
    assert run.status["status"] == "finished" and run.result["test_accuracy"] == 0.5
    assert run.predictions()["test_labels"].tolist() == list(range(10))
    assert run.history_csv().splitlines() == ["epoch,loss", "1,2.0", "2,1.5"]
    assert not any(p.name.endswith(".tmp") for p in run.path.iterdir())


def test_listing_newest_first_with_damaged_and_interrupted(tmp_store):
    make_run(tmp_store, "20260101-080000-aaaaaa")
    make_run(tmp_store, "20260101-090000-bbbbbb", status="running")
    make_run(tmp_store, "20260101-100000-cccccc", status="running")
    damaged = tmp_store.root / "20260101-110000-dddddd"
    damaged.mkdir()
    (damaged / R.CONFIG_FILE).write_text("{not json")
    (tmp_store.root / "not-a-run").mkdir()  # ignored: not a generated id
    infos = tmp_store.list_runs(active_ids={"20260101-100000-cccccc"})
    by_id = {i.run_id: i for i in infos}
    assert set(by_id) == {
        "20260101-080000-aaaaaa",
        "20260101-090000-bbbbbb",
        "20260101-100000-cccccc",
        "20260101-110000-dddddd",
    }
    assert by_id["20260101-110000-dddddd"].status == R.DAMAGED
    assert "damaged" in by_id["20260101-110000-dddddd"].label
    assert by_id["20260101-090000-bbbbbb"].status == R.INTERRUPTED  # no live job: cut off
    assert by_id["20260101-100000-cccccc"].status == R.RUNNING
    assert by_id["20260101-080000-aaaaaa"].test_accuracy == 0.5
    created = [i.created for i in infos]
    assert created == sorted(created, reverse=True)


def test_empty_or_missing_root(tmp_path):
    assert R.RunStore(tmp_path / "none").list_runs() == []


@pytest.mark.parametrize(
    "bad", ["../etc", "/etc/passwd", "20260101-080000-aaaaaa/../../x", "", "20260101-080000-AAAAAA"]
)
def test_run_ids_are_validated(tmp_store, bad):
    with pytest.raises(R.RunStoreError):
        tmp_store.path(bad)
    with pytest.raises(R.RunStoreError):
        tmp_store.load(bad)


def test_only_run_files_can_be_read(tmp_store):
    run_id = "20260101-080000-aaaaaa"
    make_run(tmp_store, run_id)
    run = tmp_store.load(run_id)
    with pytest.raises(R.RunStoreError):
        run.read_bytes("../../secret")
    with pytest.raises(R.RunStoreError, match="No run"):
        tmp_store.load("20260101-080000-ffffff")


def test_default_root_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path))
    assert R.RunStore().root == tmp_path
    monkeypatch.delenv("CIFAR_RUNS_DIR")
    assert str(R.RunStore().root) == "runs"
