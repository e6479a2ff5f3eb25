"""Live view: ready chart specs, shared by every session and built once per curve version."""

from __future__ import annotations

import json
import threading

import pyarrow as pa
import pytest

from cifar_core import charts as CH
from cifar_core import live_view as LV
from cifar_core.training.monitor import TrainingMonitor
from tests.test_monitor import FakeClock, fed


def rows_of(spec: dict) -> list[dict]:
    """The data rows of a ready spec (its one Arrow dataset)."""
    (data,) = spec["datasets"].values()
    return pa.ipc.open_stream(data).read_all().to_pylist()


@pytest.fixture(autouse=True)
def empty_cache():
    LV.LIVE_CHARTS.clear()
    yield
    LV.LIVE_CHARTS.clear()


def test_cache_builds_once_and_shares_one_object():
    cache = LV.ChartCache(max_entries=2)
    calls = []

    def build():
        calls.append(1)
        return {"chart": len(calls)}

    first = cache.get(("job", 1), build)
    assert cache.get(("job", 1), build) is first and len(calls) == 1
    cache.get(("job", 2), build)
    cache.get(("job", 1), build)  # used again: now the most recent
    cache.get(("job", 3), build)  # evicts ("job", 2), the least recently used
    assert len(cache) == 2 and cache.builds == 3
    cache.get(("job", 2), build)
    assert len(calls) == 4


def test_sessions_asking_at_once_wait_for_one_build():
    cache = LV.ChartCache()
    started, release = threading.Event(), threading.Event()
    builds = []

    def slow_build():
        builds.append(1)
        started.set()
        release.wait(5)
        return object()

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", slow_build)))
        for _ in range(30)
    ]
    for t in threads:
        t.start()
    assert started.wait(5)
    release.set()
    for t in threads:
        t.join(5)
    assert len(builds) == 1 and len(results) == 30
    assert all(r is results[0] for r in results)


def test_a_failed_build_is_not_cached():
    cache = LV.ChartCache()

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get("k", broken)
    assert cache.get("k", lambda: 42) == 42


def test_live_specs_are_built_once_per_chart_version():
    monitor = TrainingMonitor(clock=FakeClock(), max_points=8)
    monitor.begin(40, 32)
    monitor.add_batch(0, 0, {"loss": 2.0, "accuracy": 0.1}, 32)
    polls = []
    for _ in range(30):  # a class of 30 polling the same job
        snap = monitor.snapshot()
        polls.append(LV.curve_specs(snap.batches, snap.epochs, 20, 2, cache_key=snap.chart_key))
    assert all(p is polls[0] for p in polls) and LV.LIVE_CHARTS.builds == 1
    monitor.add_batch(0, 1, {"loss": 1.0, "accuracy": 0.2}, 32)
    snap = monitor.snapshot()
    newer = LV.curve_specs(snap.batches, snap.epochs, 20, 2, cache_key=snap.chart_key)
    assert newer is not polls[0] and LV.LIVE_CHARTS.builds == 2
    assert [r["value"] for r in rows_of(newer["loss"])] == [2.0, 1.0]
    # Only the data change: the spec text stays, so the browser updates the chart in place.
    assert {k: v for k, v in newer["loss"].items() if k != "datasets"} == {
        k: v for k, v in polls[0]["loss"].items() if k != "datasets"
    }


def test_a_62500_batch_run_charts_within_the_point_cap():
    monitor, raw = fed(62_500)
    monitor.add_epoch(49, {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7})
    snap = monitor.snapshot()
    live = LV.curve_specs(snap.batches, snap.epochs, 1250, 50, cache_key=snap.chart_key)
    saved = LV.curve_specs(raw, snap.epochs, 1250, 50)  # an old run's full history
    for specs in (live, saved):
        for metric in LV.METRICS:
            rows = rows_of(specs[metric])
            batch_rows = [r for r in rows if r["series"] == CH.TRAIN_BATCH]
            assert len(batch_rows) <= LV.C.MAX_CURVE_POINTS
            assert len(rows) == len(batch_rows) + 2  # plus the epoch's train and validation
            assert all(r["lo"] <= r["value"] <= r["hi"] for r in batch_rows)
    live_rows, saved_rows = rows_of(live["loss"]), rows_of(saved["loss"])
    assert len(live_rows) == len(saved_rows)
    for mine, theirs in zip(live_rows, saved_rows, strict=True):
        assert mine["series"] == theirs["series"]
        numbers = ("epoch", "value", "lo", "hi")
        assert [mine[k] for k in numbers] == pytest.approx([theirs[k] for k in numbers])


def test_ready_specs_have_no_altair_theme_and_name_their_data():
    specs = LV.curve_specs([{"epoch": 1, "batch": 1, "loss": 2.0, "accuracy": 0.1}], [], 3, 5)
    spec = specs["loss"]
    assert "view" not in spec["config"] and spec["data"] == {"name": LV.TRAIN_DATASET}
    # The app's chart style (charts.readable) travels in the cached spec, live charts too.
    assert spec["config"]["axis"]["labelFontSize"] >= LV.C.PROJECTOR_LABEL_PX
    assert spec["config"]["title"]["fontSize"] == LV.C.PROJECTOR_CHART_TITLE_PX
    assert spec["height"] == LV.C.LIVE_CHART_HEIGHT
    live = LV.comparison_specs({"a": ([], [{"epoch": 1, "loss": 1.0, "val_loss": 1.1}], 3)})
    assert live["loss"]["config"]["legend"]["labelFontSize"] >= LV.C.PROJECTOR_LABEL_PX
    assert isinstance(spec["datasets"][LV.TRAIN_DATASET], bytes)
    assert spec["title"] == "Loss"
    json.dumps({k: v for k, v in spec.items() if k != "datasets"})  # plain JSON otherwise


def test_live_and_saved_curves_keep_accuracy_on_0_to_1_and_loss_from_0():
    specs = LV.curve_specs([{"epoch": 1, "batch": 1, "loss": 2.0, "accuracy": 0.11}], [], 3, 5)
    for metric, scale in (("accuracy", {"domain": [0, 1]}), ("loss", {"zero": True})):
        ys = [layer["encoding"]["y"] for layer in specs[metric]["layer"]]
        assert ys and all(y["scale"] == scale for y in ys)
        # the run length only patches the x axis
        xs = [layer["encoding"]["x"]["scale"] for layer in specs[metric]["layer"]]
        assert all(x == {"domain": [0, 5]} for x in xs)


def test_comparison_specs_hold_both_runs_and_their_bands():
    shallow, _ = fed(3_000, spe=300, seed=1)
    deep, _ = fed(3_000, spe=300, seed=2, spike=1_234)
    snaps = [m.snapshot() for m in (shallow, deep)]
    runs = {
        label: (s.batches, s.epochs, 300)
        for label, s in zip(("shallow", "deep"), snaps, strict=True)
    }
    key = tuple(s.chart_key for s in snaps)
    specs = LV.comparison_specs(runs, cache_key=key)
    assert LV.comparison_specs(runs, cache_key=key) is specs and LV.LIVE_CHARTS.builds == 1
    rows = rows_of(specs["loss"])
    assert {r["model"] for r in rows} == {"shallow", "deep"}
    assert max(r["loss_max"] for r in rows if r["model"] == "deep") == 50.0
    assert sum(1 for r in rows if r["kind"] == "batch") <= 2 * LV.C.MAX_CURVE_POINTS
    layers = json.dumps(specs["accuracy"]["layer"])
    assert '"accuracy_min"' in layers and '"accuracy_max"' in layers


def test_streamlit_sends_a_ready_spec_as_arrow(tmp_path):
    """The emitted element carries the Arrow dataset (what tests.conftest.chart_values reads)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import chart_values

    script = tmp_path / "live.py"
    script.write_text(
        "import streamlit as st\n"
        "from cifar_core import live_view\n"
        "batches = [{'epoch': 1, 'batch': b, 'loss': 2.0 - b / 10, 'accuracy': b / 10}\n"
        "           for b in range(1, 6)]\n"
        "specs = live_view.curve_specs(batches, [], 5, 2, cache_key=('script', 1))\n"
        "for metric in ('loss', 'accuracy'):\n"
        "    st.vega_lite_chart(spec=specs[metric], width='stretch', key=metric)\n"
    )
    at = AppTest.from_file(str(script)).run()
    assert not at.exception
    loss, accuracy = chart_values(at)
    assert [r["value"] for r in loss] == pytest.approx([1.9, 1.8, 1.7, 1.6, 1.5])
    assert {r["series"] for r in accuracy} == {CH.TRAIN_BATCH}
    assert at.run().get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # a rerun too


@pytest.mark.parametrize("metric", LV.METRICS)
def test_templates_are_what_altair_validates(metric):
    """Templates skip Altair's schema validation at run time; here they get it."""
    import altair as alt

    from cifar_core.charts import training_curve_chart
    from cifar_core.comparison.charts import comparison_curves_chart

    for total_epochs in (None, 1, 7, 50):  # one Altair build per metric, the x axis patched in
        chart = training_curve_chart(alt.NamedData(name=LV.TRAIN_DATASET), metric, total_epochs)
        validated = chart.to_dict(validate=True)
        validated["config"].pop("view", None)  # Altair's default theme
        assert LV._training_template(metric, total_epochs) == validated
    chart = comparison_curves_chart(
        alt.NamedData(name=LV.COMPARISON_DATASET), metric, ("shallow", "deep"), "epoch"
    )
    validated = chart.to_dict(validate=True)
    validated["config"].pop("view", None)
    assert LV._comparison_template(metric, ("shallow", "deep"), "epoch") == validated
