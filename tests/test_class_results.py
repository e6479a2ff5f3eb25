"""The class together (cifar_core.class_results): grouping, spread, leaderboard, chart.

Synthetic histories for the arithmetic, then copies of trained_store's real run with other
seeds written into their config.json (as 30 students' runs of one preset would be).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cifar_core import class_results as CR
from cifar_core import constants as C
from cifar_core.identity import owner_hash, owner_label
from cifar_core.runs import CONFIG_FILE, HISTORY_FILE, OWNERS_FILE, RunInfo, RunStore
from tests.conftest import TEST_OWNER_KEY

BASE = {
    "model": "shallow",
    "train_size": 1000,
    "epochs": 3,
    "batch_size": 64,
    "optimizer": "adam",
    "learning_rate": 0.001,
    "val_split": 0.2,
    "seed": 1,
    "augment": None,
}


def info(run_id: str, status: str = "finished", test: float | None = 0.3, **change) -> RunInfo:
    return RunInfo(run_id, status, 0.0, {**BASE, **change}, test)


def run(run_id: str, vals: list[float], test: float | None = None, seed: int = 1) -> CR.ClassRun:
    epochs = tuple(
        {"epoch": i + 1, "val_accuracy": v, "val_loss": 2.0 - v} for i, v in enumerate(vals)
    )
    return CR.ClassRun(run_id, "—", seed, epochs, test)


# --- grouping ---


def test_groups_ignore_the_seed_and_owner_but_not_the_settings():
    infos = [
        info("r1", seed=1),
        info("r2", seed=2),
        RunInfo("r3", "finished", 0.0, {**BASE, "seed": 3}, 0.3, owners=frozenset({"a" * 32})),
        info("r4", model="deep"),  # another network: another experiment
        info("r5", epochs=4),  # another budget
        info("r6", augment={"horizontal_flip": True}),
        info("r7", seed=9, status="running"),  # not complete: not shown
        RunInfo("r8", "damaged", 0.0, {}, None, problem="bad"),
        info("r9", seed=5, status="stopped"),  # stopped runs have their epochs so far
    ]
    found = CR.groups(infos)
    assert [g.run_ids for g in found] == [("r1", "r2", "r3", "r9"), ("r4",), ("r5",), ("r6",)]
    assert "seed" not in found[0].config
    assert (
        found[0].label.startswith("shallow · 1,000 images × 3 epochs")
        and "4 runs" in found[0].label
    )
    assert CR.group_key({**BASE, "seed": 42}) == CR.group_key(BASE)
    # The default: the preset's group when it has runs, else the biggest.
    assert CR.default_group(found, {**BASE, "model": "deep", "seed": 7}).run_ids == ("r4",)
    assert CR.default_group(found, {**BASE, "epochs": 9}) is found[0]
    assert CR.default_group(found) is found[0] and CR.default_group([]) is None


# --- the numbers ---


def test_spread_per_epoch_by_hand():
    runs = [run("a", [0.1, 0.3, 0.5]), run("b", [0.2, 0.4]), run("c", [0.3, 0.2, 0.6])]
    curves = CR.curve_rows(runs)
    assert len(curves) == 8 and set(curves.columns) >= {"run", "student", "seed", "epoch", "value"}
    spread = CR.spread_rows(curves)
    assert spread["epoch"].tolist() == [1, 2, 3]
    assert spread["lo"].tolist() == pytest.approx([0.1, 0.2, 0.5])
    assert spread["median"].tolist() == pytest.approx([0.2, 0.3, 0.55])
    assert spread["hi"].tolist() == pytest.approx([0.3, 0.4, 0.6])
    assert spread["runs"].tolist() == [3, 3, 2]
    loss = CR.spread_rows(CR.curve_rows(runs, "val_loss"))
    assert loss["lo"].tolist() == pytest.approx([1.7, 1.6, 1.4])
    assert CR.spread_rows(CR.curve_rows([])).empty


def test_leaderboard_ranks_by_best_validation_then_test_accuracy():
    board = CR.leaderboard(
        [
            run("a", [0.2, 0.5, 0.4], test=0.45, seed=1),  # best 0.5 at epoch 2
            run("b", [0.5, 0.3], test=0.48, seed=2),  # same best, better test: first
            run("c", [0.6], test=None, seed=3),  # the best validation, never tested
            run("d", [0.1, 0.2], test=0.9, seed=4),  # a high test does not beat validation
            run("e", [0.5], test=0.45, seed=5),  # tied with a on both: shares its rank
        ]
    )
    assert [r.run_id for r in board] == ["c", "b", "a", "e", "d"]
    assert [r.rank for r in board] == [1, 2, 3, 3, 5]
    assert board[2].best_val_accuracy == 0.5 and board[2].best_epoch == 2
    assert board[0].test_accuracy is None and board[0].seed == 3


def test_runs_without_a_validation_history_or_damaged_are_left_out(tmp_path):
    good = info("good")
    assert CR.class_run(good, {"epochs": []}) is None
    assert CR.class_run(good, {}) is None
    assert CR.class_run(good, {"epochs": "nonsense"}) is None
    assert CR.class_run(good, {"epochs": [{"epoch": 1, "val_accuracy": float("nan")}]}) is None
    kept = CR.class_run(good, {"epochs": [{"epoch": 1, "val_accuracy": 0.4}, "junk"]})
    assert kept is not None and len(kept.epochs) == 1 and kept.student == "—"
    # A listed run that cannot be loaded any more is skipped by load_group.
    store = RunStore(tmp_path / "runs")
    group = CR.groups([good])[0]
    assert CR.load_group(store, group, [good]) == []
    assert CR.versions(store, group) == (("good", 0),)


# --- the chart ---


def _font_sizes(spec: object, found: dict | None = None) -> dict:
    """Every *FontSize / fontSize value of a Vega-Lite spec, by the path it sits at."""
    found = {} if found is None else found
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key.lower().endswith("fontsize"):
                found.setdefault(key, []).append(value)
            _font_sizes(value, found)
    elif isinstance(spec, list):
        for value in spec:
            _font_sizes(value, found)
    return found


def test_the_chart_is_readable_on_a_projector():
    runs = [run(f"r{i}", [0.1 + i / 100, 0.2 + i / 50, 0.25 + i / 40], seed=i) for i in range(30)]
    curves = CR.curve_rows(runs)
    spread = CR.spread_rows(curves)
    spec = CR.class_curves_chart(curves, spread).to_dict()
    sizes = _font_sizes(spec["config"])
    for key in ("labelFontSize", "titleFontSize", "fontSize"):
        assert key in sizes and min(sizes[key]) >= 14, (key, sizes)
    assert spec["config"]["legend"]["labelFontSize"] >= 14
    assert spec["height"] >= 360
    text = spec["description"]
    assert text.startswith("30 runs with the same settings, different seeds") and "band" in text
    assert "After epoch 3 the runs range from 25.0% to 97.5% (median" in text
    loss = CR.class_curves_chart(CR.curve_rows(runs, "val_loss"), spread, "val_loss").to_dict()
    assert loss["height"] == C.CLASS_CHART_HEIGHT


# --- real runs ---


def seed_copies(trained_store: RunStore, root: Path, seeds: dict[str, int]) -> RunStore:
    """Copies of trained_store's run, each with its own seed in config.json."""
    [real] = trained_store.list_runs()
    for name, seed in seeds.items():
        shutil.copytree(trained_store.path(real.run_id), root / name)
        config = json.loads((root / name / CONFIG_FILE).read_text())
        (root / name / CONFIG_FILE).write_text(json.dumps({**config, "seed": seed}))
    return RunStore(root)


@pytest.mark.slow
def test_real_runs_of_one_preset_with_different_seeds(trained_store, tmp_path):
    names = {"20260101-090000-aaaaaa": 2, "20260101-100000-bbbbbb": 3, "20260101-110000-cccccc": 4}
    store = seed_copies(trained_store, tmp_path / "runs", names)
    # One more copy whose history is damaged: listed, never raised, left out of the chart.
    bad = tmp_path / "runs" / "20260101-120000-dddddd"
    shutil.copytree(store.path("20260101-110000-cccccc"), bad)
    (bad / HISTORY_FILE).write_text("{not json")
    infos = store.list_runs()
    [group] = CR.groups(infos)
    assert len(group.run_ids) == 4 and group.config["model"] == "deep"
    runs = CR.load_group(store, group, infos)
    assert sorted(r.seed for r in runs) == [2, 3, 4]
    assert {r.student for r in runs} == {owner_label(owner_hash(TEST_OWNER_KEY))}
    board = CR.leaderboard(runs)
    assert [r.rank for r in board] == [1, 1, 1]  # the same run three times: tied on both
    assert board[0].test_accuracy == pytest.approx(infos[0].test_accuracy)
    curves = CR.curve_rows(runs)
    spread = CR.spread_rows(curves)
    assert spread["lo"].tolist() == spread["hi"].tolist()  # identical copies: no spread
    CR.class_curves_chart(curves, spread).to_dict()  # builds
    # Without owners.json a run's student is "—".
    (store.path("20260101-090000-aaaaaa") / OWNERS_FILE).unlink()
    runs = CR.load_group(store, group, store.list_runs())
    assert sorted(r.student for r in runs)[-1] == "—"  # the others stay theirs
