"""Chart specs: the right rows, the data in the spec, bounded however long the run."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cifar_core import charts as CH
from cifar_core.comparison import analysis as K
from cifar_core.comparison import charts as CC
from cifar_core.curve_points import downsample_batches


def test_curve_frame_puts_batches_and_epochs_on_one_axis():
    batches = [
        {"epoch": 1, "batch": 1, "loss": 2.3},
        {"epoch": 1, "batch": 2, "loss": 2.1},
        {"epoch": 2, "batch": 1, "loss": 1.9},
    ]
    epochs = [
        {"epoch": 1, "loss": 2.1, "val_loss": 2.2, "accuracy": 0.2, "val_accuracy": float("nan")}
    ]
    rows = CH.curve_frame(batches, epochs, "loss", steps_per_epoch=2).to_dict("records")
    assert [(r["epoch"], r["series"]) for r in rows] == [
        (0.5, CH.TRAIN_BATCH),
        (1.0, CH.TRAIN_BATCH),
        (1.5, CH.TRAIN_BATCH),
        (1.0, CH.TRAIN_EPOCH),
        (1.0, CH.VAL_EPOCH),
    ]
    acc_rows = CH.curve_frame([], epochs, "accuracy", 2).to_dict("records")
    assert [r["series"] for r in acc_rows] == [CH.TRAIN_EPOCH]  # NaN is left out


def test_specs_carry_their_data():
    chart = CH.training_curve([{"epoch": 1, "batch": 1, "loss": 2.0}], [], "loss", 3, 5)
    assert isinstance(chart.data, pd.DataFrame)  # a DataFrame: Streamlit ships it as Arrow
    spec = chart.to_dict()
    (rows,) = spec["datasets"].values()
    assert spec["data"]["name"] in spec["datasets"] and rows[0]["value"] == 2.0
    heat = CH.confusion_heatmap([[3, 1], [0, 2]], ["cat", "dog"]).to_dict()
    assert {"true": "cat", "predicted": "dog", "count": 1} in heat["data"]["values"]
    bars = CH.per_class_bars([0.5, float("nan")], ["cat", "dog"]).to_dict()
    assert bars["data"]["values"] == [{"class": "cat", "accuracy": 0.5}]


def long_run(n: int = 62_500, spe: int = 1250, spike: int = 40_000) -> list[dict]:
    """An old-style full per-batch list: loss falls, one batch spikes."""
    return [
        {
            "step": i + 1,
            "epoch": i // spe + 1,
            "batch": i % spe + 1,
            "loss": 50.0 if i + 1 == spike else 2.0 - i / n,
            "accuracy": i / n,
            "seconds": i * 0.05,
            "size": 32,
        }
        for i in range(n)
    ]


def test_curve_frame_of_a_62500_batch_run_stays_within_the_cap():
    points = downsample_batches(long_run())
    frame = CH.curve_frame(points, [{"epoch": 50, "loss": 0.9, "val_loss": 1.0}], "loss", 1250)
    batches = frame[frame["series"] == CH.TRAIN_BATCH]
    assert len(batches) <= 500 and len(frame) == len(batches) + 2
    assert list(frame.columns) == ["epoch", "value", "lo", "hi", "series"]
    assert batches["hi"].max() == 50.0  # the spike stays on the chart, as the band's top
    assert (batches["lo"] <= batches["value"]).all() and (batches["value"] <= batches["hi"]).all()
    assert batches["epoch"].iloc[-1] == 50.0
    epochs = frame[frame["series"] != CH.TRAIN_BATCH]
    assert epochs["lo"].isna().all()  # epoch values have no band


def test_training_curve_draws_a_min_max_band_and_keeps_its_legend():
    spec = CH.training_curve([{"epoch": 1, "batch": 1, "loss": 2.0}], [], "loss", 3, 5).to_dict()
    line, band, epochs = spec["layer"]  # the first layer sets the legend's symbols, as before
    assert line["mark"]["type"] == "line" and epochs["mark"]["strokeDash"] == [6, 3]
    assert band["mark"]["type"] == "area" and band["encoding"]["y2"]["field"] == "hi"
    assert band["encoding"]["color"] == line["encoding"]["color"]  # one colour legend for all
    assert spec["title"] == "Loss"


def test_comparison_curves_come_from_a_dataframe_with_batch_bands():
    rows = K.curve_rows({"shallow": [{"epoch": 1, "loss": 1.0, "val_loss": 1.2}]})
    rows += K.batch_rows("shallow", downsample_batches(long_run(4_000, 400, 1_000)), 400)
    frame = CC.curve_frame(rows)
    assert frame["val_loss"].dtype == "float64" and frame["loss_max"].max() == 50.0
    spec = CC.comparison_curves(rows, "loss", ["shallow"]).to_dict()
    (data,) = spec["datasets"].values()
    assert len(data) == len(rows) <= 1 + 500
    assert '"loss_min"' in json.dumps(spec["layer"])
    epochs_only = CC.comparison_curves(rows[:1], "loss", ["shallow"]).to_dict()
    assert '"loss_min"' not in json.dumps(epochs_only["layer"])  # no batches, no batch layers


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_batch_rows_carry_each_points_range(metric):
    point = {"epoch": 1, "batch": 4, "loss": 1.0, "accuracy": 0.5, "seconds": 2.0}
    (plain,) = K.batch_rows("deep", [point], 4)
    assert plain[f"{metric}_min"] == plain[f"{metric}_max"] == point[metric]
    merged = {**point, f"{metric}_min": 0.1, f"{metric}_max": 3.0}
    (row,) = K.batch_rows("deep", [merged], 4)
    assert (row[f"{metric}_min"], row[f"{metric}_max"]) == (0.1, 3.0)


@pytest.mark.parametrize(
    ("metric", "scale", "axis"),
    [("accuracy", {"domain": [0, 1]}, {"format": "%"}), ("loss", {"zero": True}, {})],
)
def test_curve_axes_have_fixed_ground_so_noise_looks_small(metric, scale, axis):
    # A near-chance run wiggling between 9% and 13%: auto-zoom made that fill the chart.
    batches = [
        {"epoch": 1, "batch": b, "loss": 2.30 + 0.01 * (b % 3), "accuracy": 0.09 + 0.01 * (b % 5)}
        for b in range(1, 13)
    ]
    spec = CH.training_curve(batches, [], metric, 12, 2).to_dict()
    line, band, epochs = spec["layer"]
    for layer, field in ((line, "value"), (band, "lo"), (epochs, "value")):
        y = layer.get("encoding", {}).get("y") or spec["encoding"]["y"]
        assert y["field"] == field and y["scale"] == scale and y.get("axis", {}) == axis


def _every_chart():
    """One of each chart the app draws, as Vega-Lite dicts."""
    import numpy as np

    from cifar_core.bias_privacy import charts as BC
    from cifar_core.bias_privacy.analysis import ScoreParams
    from cifar_core.comparison.references import reference_rows

    names = [f"class {i}" for i in range(10)]
    epoch = {"epoch": 1, "loss": 1.0, "accuracy": 0.4, "val_loss": 1.2, "val_accuracy": 0.35}
    rows = K.curve_rows({"a": [epoch], "b": [epoch]})
    per_class = [{"class": n, "model": m, "accuracy": 0.5} for n in names for m in ("a", "b")]
    measured = [{"label": "a", "axis": "a", "model": "a", "accuracy": 0.4}]
    group = ScoreParams(0.7, 0.1, 0.3, 0.1)
    rng = np.random.default_rng(0)
    return {
        "training_curve": CH.training_curve([], [epoch], "loss", 3, 2),
        "confusion": CH.confusion_heatmap(np.eye(10, dtype=int) * 50, names),
        "per_class": CH.per_class_bars([0.5] * 10, names),
        "comparison": CC.comparison_curves(rows, "accuracy", ["a", "b"]),
        "per_class_grouped": CC.per_class_grouped(per_class, ["a", "b"], names),
        "reference": CC.reference_chart(reference_rows(), measured, ["a"]),
        "scores": BC.score_chart({"Group A": group, "Group B": group}, 0.5),
        "confidence": BC.confidence_chart(rng.random(50), rng.random(50)),
    }


@pytest.mark.parametrize("name", list(_every_chart()))
def test_every_chart_reads_on_a_projector(name):
    """charts.readable on every chart: labels ≥ 14 px, titles larger, numbers on marks too."""
    spec = _every_chart()[name].to_dict()
    config = spec["config"]
    label, title = CH.C.PROJECTOR_LABEL_PX, CH.C.PROJECTOR_TITLE_PX
    for part in ("axis", "legend", "header"):
        assert config[part]["labelFontSize"] >= label, (part, config)
        assert config[part]["titleFontSize"] >= title, (part, config)
    assert config["title"]["fontSize"] > title
    marks = json.dumps(spec)
    assert '"fontSize": 10' not in marks and '"fontSize": 11' not in marks
    assert '"fontSize": 12' not in marks and '"labelFontSize": 12' not in marks
