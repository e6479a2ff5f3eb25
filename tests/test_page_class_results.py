"""The Teacher page's "The class together" in AppTest, on copies of a real saved run.

trained_store's real run is copied with other seeds written into config.json: three seeds of
one setting (a class's runs of one preset) and one run of another budget.
"""

from __future__ import annotations

import json

import pytest

from cifar_core import class_results as CR
from cifar_core import live_view
from cifar_core.identity import owner_hash, owner_label
from cifar_core.lesson import shared_lesson
from cifar_core.runs import CONFIG_FILE, RunStore
from tests.conftest import TEST_OWNER_KEY
from tests.test_class_results import seed_copies
from tests.test_page_shallow_vs_deep import chart_specs
from tests.test_page_teacher import open_teacher, page_text, teacher_env  # noqa: F401

SEEDS = {"20260101-090000-aaaaaa": 2, "20260101-100000-bbbbbb": 3, "20260101-110000-cccccc": 4}
OTHER = "20260101-120000-dddddd"  # the same run, claimed to have trained 2 epochs


def leaderboard(at):
    [board] = [d.value for d in at.dataframe if "Best validation accuracy" in d.value.columns]
    return board


def test_without_finished_runs_the_section_says_so(teacher_env):  # noqa: F811
    at = open_teacher()
    assert "The class together" in [s.value for s in at.subheader]
    assert "No finished runs yet" in page_text(at)


@pytest.mark.slow
def test_the_class_together_shows_every_seed_and_a_leaderboard(
    teacher_env,  # noqa: F811
    trained_store,
):
    runs, _ = teacher_env
    seed_copies(trained_store, runs, {**SEEDS, OTHER: 5})
    config = json.loads((runs / OTHER / CONFIG_FILE).read_text())
    (runs / OTHER / CONFIG_FILE).write_text(json.dumps({**config, "epochs": 2}))
    live_view.LIVE_CHARTS.clear()

    at = open_teacher()
    assert not at.exception, at.exception
    picker = at.selectbox(key="class_together_group")
    assert picker.value == CR.group_key(config)  # the biggest group first
    assert len(picker.options) == 2 and picker.options[picker.index].endswith("— 3 runs")
    board = leaderboard(at)
    assert sorted(board["Seed"]) == [2, 3, 4] and list(board["#"]) == [1, 1, 1]
    assert set(board["Student"]) == {owner_label(owner_hash(TEST_OWNER_KEY))}
    assert set(board["Run"]) == set(SEEDS)
    [spec] = [s for s in chart_specs(at) if "class together" in str(s.get("title", ""))]
    assert spec["description"].startswith("3 runs with the same settings, different seeds")
    assert spec["config"]["axis"]["labelFontSize"] >= 14
    assert "the band is the spread" in page_text(at)
    builds = live_view.LIVE_CHARTS.builds

    at.run()  # a rerun with nothing changed: the view comes from the cache
    assert live_view.LIVE_CHARTS.builds == builds

    at.radio(key="class_together_metric").set_value("val_loss").run()
    [spec] = [s for s in chart_specs(at) if "class together" in str(s.get("title", ""))]
    assert "validation loss" in spec["title"]

    other = CR.group_key({**config, "epochs": 2})
    at.selectbox(key="class_together_group").select(other).run()
    assert not at.exception, at.exception
    assert list(leaderboard(at)["Seed"]) == [5]
    assert RunStore(runs).list_runs()  # the page changed nothing in the store


@pytest.mark.slow
def test_the_section_opens_on_the_class_presets_group(teacher_env, trained_store):  # noqa: F811
    runs, _ = teacher_env
    seed_copies(trained_store, runs, {**SEEDS, OTHER: 5})
    config = json.loads((runs / OTHER / CONFIG_FILE).read_text())
    (runs / OTHER / CONFIG_FILE).write_text(json.dumps({**config, "epochs": 2}))
    preset = {k: config[k] for k in ("model", "train_size", "batch_size", "optimizer")}
    limits = {"max_image_epochs": 10**6, "max_run_minutes": 60, "max_queue": 8}
    shared_lesson(runs).apply({**preset, "epochs": 2}, limits)  # the teacher's class preset

    at = open_teacher()
    assert not at.exception, at.exception
    assert at.selectbox(key="class_together_group").value == CR.group_key({**config, "epochs": 2})
    assert list(leaderboard(at)["Seed"]) == [5]
