"""Core of the Shallow vs deep page: gaps, per-class accuracy, confusions, disagreements,
scoreboard, reference data, charts, and the look-inside helpers (filters, feature maps)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

from cifar_core import look_inside as L
from cifar_core.comparison import analysis as K
from cifar_core.comparison import charts as CC
from cifar_core.comparison import references as R
from cifar_core.comparison import scoreboard as S
from cifar_core.constants import CLASS_NAMES
from cifar_core.evaluation import confusion_matrix, per_class_accuracy
from cifar_core.explain import mistakes as M
from cifar_core.models import count_params, layer_table
from tests.conftest import REPO

NAN = float("nan")


def epoch(n: int, acc: float, val: float, seconds: float | None = None) -> dict:
    return {
        "epoch": n,
        "seconds": seconds if seconds is not None else 10.0 * n,
        "loss": 2.0 - acc,
        "accuracy": acc,
        "val_loss": 2.0 - val,
        "val_accuracy": val,
    }


# --- gap ---------------------------------------------------------------------------------------


def test_epoch_gaps_are_train_minus_validation_per_epoch():
    gaps = K.epoch_gaps([epoch(1, 0.30, 0.32), epoch(2, 0.50, 0.41), epoch(3, 0.70, 0.45)])
    assert [g["epoch"] for g in gaps] == [1, 2, 3]
    assert [round(g["gap"], 6) for g in gaps] == [-0.02, 0.09, 0.25]
    assert gaps[2]["seconds"] == 30.0
    assert K.final_gap([epoch(1, 0.30, 0.32), epoch(2, 0.70, 0.45)]) == pytest.approx(0.25)


def test_gap_is_none_when_a_value_is_missing_or_there_are_no_epochs():
    assert K.epoch_gaps([{"epoch": 1, "accuracy": 0.5, "val_accuracy": NAN}])[0]["gap"] is None
    assert K.final_gap([]) is None


def test_curve_rows_are_wide_per_epoch_and_batches_sit_inside_their_epoch():
    rows = K.curve_rows({"shallow": [epoch(1, 0.3, 0.2)], "deep": [epoch(1, 0.4, NAN)]})
    assert [r["model"] for r in rows] == ["shallow", "deep"]
    assert rows[0]["val_accuracy"] == 0.2 and rows[1]["val_accuracy"] is None
    assert {r["kind"] for r in rows} == {"epoch"}
    batches = [{"epoch": 2, "batch": 1, "loss": 1.0, "accuracy": 0.5, "seconds": 3.0}]
    (row,) = K.batch_rows("deep", batches, steps_per_epoch=4)
    assert row["epoch"] == pytest.approx(1.25) and row["kind"] == "batch"


# --- per class, confusions, disagreements ------------------------------------------------------


def test_per_class_accuracy_of_two_runs_by_hand():
    y = np.array([0, 0, 1, 1, 2])
    a = np.array([0, 1, 1, 1, 0])  # class 0: 1/2, class 1: 2/2, class 2: 0/1
    b = np.array([0, 0, 0, 1, 2])  # class 0: 2/2, class 1: 1/2, class 2: 1/1
    acc = np.stack([per_class_accuracy(confusion_matrix(y, p, 4)) for p in (a, b)])
    assert acc.shape == (2, 4)
    np.testing.assert_allclose(acc[:, :3], [[0.5, 1.0, 0.0], [1.0, 0.5, 1.0]])
    assert np.isnan(acc[:, 3]).all()  # no test images of class 3
    rows = K.per_class_rows({"A": acc[0], "B": acc[1]}, ["c0", "c1", "c2", "c3"])
    assert len(rows) == 6 and {r["class"] for r in rows} == {"c0", "c1", "c2"}
    with pytest.raises(ValueError, match="different lengths"):
        K.disagreements(y, a[:3], b)  # two runs scored on different test sets


def test_most_confused_pairs_sum_both_ways_and_keep_the_top_three():
    m = np.zeros((10, 10), dtype=int)
    np.fill_diagonal(m, 50)
    m[3, 5], m[5, 3] = 12, 9  # cat↔dog: 21
    m[0, 8], m[8, 0] = 4, 15  # airplane↔ship: 19
    m[1, 9] = 19  # automobile→truck only: 19 (tie with airplane↔ship: lower indices first)
    m[2, 4] = 3
    pairs = M.most_confused_pairs(m)
    assert [(p.a, p.b, p.total) for p in pairs] == [(3, 5, 21), (0, 8, 19), (1, 9, 19)]
    assert (pairs[0].a_as_b, pairs[0].b_as_a) == (12, 9)
    assert M.most_confused_pairs(np.eye(3, dtype=int) * 7) == []  # no mistakes, no pairs


def test_disagreements_split_the_images_one_model_gets_right():
    y = np.array([0, 1, 2, 3, 4, 5])
    a = np.array([0, 1, 9, 9, 4, 9])  # right on 0, 1, 4
    b = np.array([0, 9, 2, 9, 9, 9])  # right on 0, 2
    split = K.disagreements(y, a, b)
    assert split.a_only.tolist() == [1, 4]
    assert split.b_only.tolist() == [2]
    assert split.a_only.dtype == np.int64


def test_cell_indices_and_the_largest_mistake_cell():
    y = np.array([3, 3, 5, 3, 5, 3])
    p = np.array([5, 3, 3, 5, 5, 5])
    assert M.cell_indices(y, p, 3, 5).tolist() == [0, 3, 5]
    assert M.cell_indices(y, p, 5, 5).tolist() == [4]
    assert M.cell_indices(y, p, 0, 1).tolist() == []
    m = np.diag([100] * 10)
    m[7, 4] = 8
    m[3, 5] = 6
    assert M.largest_mistake_cell(m) == (7, 4)  # the diagonal is never the answer


def test_top_classes_are_sorted_by_probability():
    probs = np.array([0.05, 0.6, 0.05, 0.2, 0.1, 0, 0, 0, 0, 0])
    top = M.top_classes(probs, CLASS_NAMES, k=3)
    assert [c for c, _ in top] == ["automobile", "cat", "deer"]
    assert top[0][1] == pytest.approx(0.6)


# --- scoreboard --------------------------------------------------------------------------------


def summary(label: str, **overrides) -> S.RunSummary:
    values = {
        "model": label,
        "params": count_params(label),
        "seconds_per_epoch": 10.0,
        "images_per_second": 400.0,
        "best_val_accuracy": 0.5,
        "best_epoch": 3,
        "test_accuracy": 0.5,
        "final_gap": 0.1,
        "train_size": 1000,
        "epochs": 5,
    }
    values.update(overrides)
    return S.RunSummary(label=label, **values)


def test_winners_higher_or_lower_ties_and_missing_values():
    assert S.winners([0.4, 0.6]) == (1,)
    assert S.winners([0.4, 0.6], lower_is_better=True) == (0,)
    assert S.winners([0.5, 0.5]) == ()  # a tie has no winner
    assert S.winners([0.5, None]) == ()  # cannot compare with a missing value
    assert S.winners([0.7, 0.7, 0.2]) == (0, 1)


def test_scoreboard_marks_the_winner_of_each_line():
    shallow = summary("shallow", seconds_per_epoch=4.0, images_per_second=900.0, test_accuracy=0.45)
    deep = summary(
        "deep", best_val_accuracy=0.58, best_epoch=5, test_accuracy=0.56, final_gap=-0.01
    )
    rows = {r.metric: r for r in S.scoreboard([shallow, deep])}
    assert rows["Parameters"].winners == (1,) and rows["Parameters"].lower_is_better
    assert rows["Seconds per epoch"].winners == (0,)
    assert rows["Training speed (images/s)"].winners == (0,)
    assert rows["Best validation accuracy (epoch)"].winners == (1,)
    assert rows["Best validation accuracy (epoch)"].texts == ("50.0% (epoch 3)", "58.0% (epoch 5)")
    assert rows["Test accuracy"].winners == (1,)
    assert rows["Final gap (train − validation accuracy)"].winners == (1,)
    assert rows["Final gap (train − validation accuracy)"].texts[1] == "-1.0 points"
    table = S.scoreboard_markdown(S.scoreboard([shallow, deep]), ["shallow", "deep"])
    assert "| Parameters | 4,200,842 | 🏆 **1,676,842** | lower |" in table
    assert "| Test accuracy | 45.0% | 🏆 **56.0%** | higher |" in table


def test_two_gaps_at_or_below_zero_tie_instead_of_the_more_negative_winning():
    # Validation above training (dropout, early epochs) is no overfitting: nothing to win.
    shallow, deep = summary("shallow", final_gap=-0.01), summary("deep", final_gap=-0.097)
    gap_row = {r.metric: r for r in S.scoreboard([shallow, deep])}[
        "Final gap (train − validation accuracy)"
    ]
    assert gap_row.winners == ()
    assert gap_row.values == (-0.01, -0.097)  # shown as measured
    overfit = {r.metric: r for r in S.scoreboard([summary("shallow", final_gap=0.12), deep])}
    assert overfit["Final gap (train − validation accuracy)"].winners == (1,)


def test_summarize_run_reads_result_config_and_history():
    result = {
        "params": 1_676_842,
        "seconds_per_epoch": 12.5,
        "images_per_second": 320.0,
        "best_val_accuracy": 0.41,
        "best_epoch": 2,
        "test_accuracy": 0.4,
    }
    config = {"model": "deep", "train_size": 2000, "epochs": 2}
    s = S.summarize_run("deep", config, result, [epoch(1, 0.3, 0.35), epoch(2, 0.5, 0.41)])
    assert (s.model, s.params, s.best_epoch, s.train_size, s.epochs) == (
        "deep",
        1_676_842,
        2,
        2000,
        2,
    )
    assert s.final_gap == pytest.approx(0.09)


# --- choosing runs -----------------------------------------------------------------------------


def info(run_id: str, model: str, status: str = "finished", acc: float | None = 0.5):
    return SimpleNamespace(run_id=run_id, status=status, config={"model": model}, test_accuracy=acc)


def test_default_pair_is_the_newest_finished_shallow_and_deep():
    runs = [  # newest first, as RunStore.list_runs gives them
        info("r6", "deep", status="failed", acc=None),
        info("r5", "shallow", status="running", acc=None),
        info("r4", "deep"),
        info("r3", "shallow", status="stopped"),
        info("r2", "deep"),
        info("r1", "shallow"),
    ]
    assert K.default_pair(runs) == ("r3", "r4")
    assert K.default_pair([info("d2", "deep"), info("d1", "deep")]) == ("d1", "d2")
    assert K.default_pair([info("d1", "deep")]) == (None, "d1")
    assert K.default_pair([]) == (None, None)


def test_series_labels_stay_distinct():
    assert K.series_labels(["shallow", "deep"], ["a-111111", "b-222222"]) == ["shallow", "deep"]
    assert K.series_labels(["deep", "deep"], ["x-aaaaaa", "x-bbbbbb"]) == [
        "deep (aaaaaa)",
        "deep (bbbbbb)",
    ]
    assert len(set(K.series_labels(["deep", "deep"], ["x-aaaaaa", "x-aaaaaa"]))) == 2


# --- architectures and reference data ----------------------------------------------------------


def test_multiply_adds_checked_by_hand_for_one_layer():
    deep = {r["layer"]: r for r in layer_table("deep")}
    # conv2: 32×32 positions × 32 filters, each a dot product over a 3×3×32 window
    assert deep["conv2"]["mult_adds"] == 32 * 32 * 32 * (3 * 3 * 32) == 9_437_184
    # conv4 (valid padding): 14×14×64 outputs × 3×3×64
    assert deep["conv4"]["mult_adds"] == 14 * 14 * 64 * (3 * 3 * 64)


def test_the_shallow_nets_parameters_sit_in_one_dense_layer():
    top = K.dominant_layer("shallow")
    assert top["layer"] == "dense1" and top["fan_in"] == 8192
    assert top["params"] == 8192 * 512 + 512
    assert top["share"] == pytest.approx(top["params"] / count_params("shallow"))
    assert top["share"] > 0.99
    shares = K.parameter_shares("deep")
    assert sum(s["share"] for s in shares) == pytest.approx(1.0)
    assert [s["layer"] for s in shares] == ["conv1", "conv2", "conv3", "conv4", "dense1", "logits"]


def test_reference_results_are_data_with_source_budget_and_metric():
    refs = R.REFERENCE_RESULTS
    assert {r.source for r in refs} == {
        R.GULLI_PAL,
        R.KERAS_EXAMPLE,
        R.NOTEBOOKS,
        R.NOTEBOOK_PROSE,
    }
    gulli = next(r for r in refs if r.source == R.GULLI_PAL)
    assert (gulli.model, gulli.value, gulli.value_text) == ("shallow", 0.664, "66.4%")
    # validation_split=0.2 in their code: 40,000 training images, not all 50,000
    assert "20 epochs" in gulli.budget and "40,000" in gulli.budget
    assert not any("all 50,000" in r.budget for r in refs if r.source != R.KERAS_EXAMPLE)
    keras_example = [r for r in refs if r.source == R.KERAS_EXAMPLE]
    assert sorted(r.value for r in keras_example) == [0.75, 0.79]
    # a variant, not the lesson's deep net
    assert all(r.model == R.KERAS_VARIANT and "1,250,858" in r.model for r in keras_example)
    prose = [r for r in refs if r.source == R.NOTEBOOK_PROSE]
    assert len(prose) == 1 and "text" in prose[0].metric and prose[0].approximate
    printed = [r for r in refs if r.source == R.NOTEBOOKS]
    assert all("printed" in r.metric for r in printed)
    assert all(0 < r.value < 1 and r.budget and r.metric for r in refs)
    rows = R.reference_rows()
    assert len(rows) == len(refs)
    assert all(r["model"] in r["label"] and r["budget"] in r["label"] for r in rows)


@pytest.mark.parametrize(("epochs", "said"), [(1, "1 epoch"), (2, "2 epochs"), (60, "60 epochs")])
def test_a_measured_run_row_names_its_budget_in_full_and_in_three_lines(epochs, said):
    row = R.measured_row("deep (a1b2c3)", 40_000, epochs, 0.5)
    assert row["label"] == f"deep (a1b2c3) · 40,000 training images · {said}"
    assert row["axis"].split(R.AXIS_LINE_BREAK) == ["deep (a1b2c3)", "40,000 images", said]
    assert row["model"] == "deep (a1b2c3)" and row["accuracy"] == 0.5


def test_each_published_result_has_a_short_unique_row_label_that_says_its_epochs():
    """The chart's row labels: source, network and epochs, one short line each (the full
    label, with the budget, is the tooltip and the table's). 19 characters at 14 px fit the
    140 px label width in Chromium (tests/test_browser_sizes.py, phone and projector)."""
    rows = R.reference_rows()
    lines = [r["axis"].split(R.AXIS_LINE_BREAK) for r in rows]
    assert len({r["axis"] for r in rows}) == len(rows)
    for row, (source, net, epochs) in zip(rows, lines, strict=True):
        assert max(map(len, (source, net, epochs))) <= 19, row["axis"]
        assert source in row["label"] and epochs in row["budget"]
        assert re.fullmatch(r"\d+ epochs", epochs), epochs
        assert net in ("shallow", "deep", R.KERAS_VARIANT_SHORT), net
        assert row["model"] == net or net == R.KERAS_VARIANT_SHORT


# --- charts ------------------------------------------------------------------------------------


def layers_of(spec: dict) -> list[dict]:
    found = []
    for key in ("layer", "vconcat", "hconcat"):
        for child in spec.get(key, []):
            found += [child, *layers_of(child)]
    if "spec" in spec:
        found += [spec["spec"], *layers_of(spec["spec"])]
    return found


def test_comparison_curves_colour_by_run_dash_by_split_and_shade_the_gap():
    rows = K.curve_rows({"shallow": [epoch(1, 0.3, 0.25)], "deep": [epoch(1, 0.35, 0.3)]})
    for x_field in ("epoch", "seconds"):
        spec = CC.comparison_curves(rows, "accuracy", ["shallow", "deep"], x_field).to_dict()
        layers = layers_of(spec)
        area = next(lay for lay in layers if lay.get("mark", {}).get("type") == "area")
        assert area["encoding"]["y2"]["field"] == "val_accuracy"
        line = next(lay for lay in layers if "strokeDash" in lay.get("encoding", {}))
        assert line["encoding"]["color"]["field"] == "model"
        assert line["encoding"]["strokeDash"]["field"] == "split"
        assert line["encoding"]["x"]["field"] == x_field
    (data,) = spec["datasets"].values()  # a DataFrame: Streamlit ships it as Arrow
    assert [{key: r[key] for key in rows[0]} for r in data] == rows


def test_per_class_reference_and_confusion_charts_build():
    rows = K.per_class_rows({"shallow": [0.5] * 10, "deep": [0.6] * 10}, CLASS_NAMES)
    spec = CC.per_class_grouped(rows, ["shallow", "deep"], CLASS_NAMES).to_dict()
    assert any("yOffset" in lay.get("encoding", {}) for lay in layers_of(spec))
    measured = [
        {
            "label": "deep · 300 images · 1 epoch",
            "axis": R.axis_label("deep", "300 images", "1 epoch"),
            "model": "deep",
            "accuracy": 0.2,
        }
    ]
    spec = CC.reference_chart(R.reference_rows(), measured, ["deep"]).to_dict()
    groups = {r["group"] for r in spec["data"]["values"]}
    assert groups == {CC.PUBLISHED, CC.MEASURED}  # two panels, never mixed
    matrix = np.eye(10, dtype=int).tolist()
    spec = CC.confusion_cells(matrix, CLASS_NAMES, "deep", selectable=True).to_dict()
    assert "cell" in json.dumps(spec)  # the click selection Streamlit reports back


# --- look inside -------------------------------------------------------------------------------


def test_filter_images_normalise_each_filter_and_enlarge_it():
    rng = np.random.default_rng(0)
    kernels = rng.normal(0, 0.05, size=(3, 3, 3, 4)).astype(np.float32)
    kernels[..., 3] = 0.2  # a constant filter becomes mid-grey, not a division by zero
    images = L.filter_images(kernels, scale=5)
    assert images.shape == (4, 15, 15, 3) and images.dtype == np.uint8
    assert images[0].min() == 0 and images[0].max() == 255
    assert (images[3] == 128).all()
    maps = rng.random((7, 7, 8)).astype(np.float32)
    assert L.feature_map_images(maps, size=64).shape == (8, 63, 63)
    with pytest.raises(ValueError):
        L.filter_images(np.zeros((3, 3, 4)))


def test_comparison_modules_do_not_import_tensorflow():
    code = (
        "import sys; import cifar_core.comparison.analysis, cifar_core.comparison.charts, "
        "cifar_core.comparison.scoreboard, cifar_core.comparison.references, "
        "cifar_core.comparison.verdict, "
        "cifar_core.look_inside; print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_filters_and_feature_maps_of_a_tiny_trained_model(trained_store, sample_data):
    (run_info,) = trained_store.list_runs()
    run = trained_store.load(run_info.run_id)
    model = L.load_trained(run.path / "model.keras")
    kernels = L.first_layer_kernels(model)
    assert kernels.shape == (3, 3, 3, 32)
    assert L.filter_images(kernels).shape == (32, 36, 36, 3)
    maps = L.feature_maps(model, sample_data.x_test[0])
    assert {k: v.shape for k, v in maps.items()} == {
        "conv1": (32, 32, 8),
        "conv2": (32, 32, 8),
        "conv3": (16, 16, 8),
        "conv4": (14, 14, 8),
    }
    assert all((m >= 0).all() for m in maps.values())  # after ReLU
    before = L.untrained_model("deep", run.config["seed"])
    again = L.untrained_model("deep", run.config["seed"])
    np.testing.assert_array_equal(L.first_layer_kernels(before), L.first_layer_kernels(again))
    assert not np.array_equal(L.first_layer_kernels(before), kernels)  # training moved them
    probs = L.predict_image(model, sample_data.x_test[0])
    assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0, abs=1e-3)


def test_saved_predictions_of_a_whole_test_split_load_fast(trained_store):
    (run_info,) = trained_store.list_runs()
    start = time.perf_counter()
    preds = trained_store.load(run_info.run_id).predictions()
    elapsed = time.perf_counter() - start
    assert preds["test_probs"].shape == (1017, 10)
    assert elapsed < 3.0  # measured ~2 ms: read from predictions.npz, never recomputed


def test_comparison_curves_stand_on_fixed_axes():
    # Auto-zoomed axes make a small run's noise look like big swings: accuracy spans 0–100%.
    rows = K.curve_rows({"shallow": [epoch(1, 0.30, 0.25)], "deep": [epoch(1, 0.31, 0.3)]})
    spec = CC.comparison_curves(rows, "accuracy", ["shallow", "deep"], "epoch").to_dict()
    domains = [
        lay["encoding"]["y"].get("scale", {}).get("domain")
        for lay in layers_of(spec)
        if "y" in lay.get("encoding", {})
    ]
    assert domains and all(d == [0, 1] for d in domains)
    loss = CC.comparison_curves(rows, "loss", ["shallow", "deep"], "epoch").to_dict()
    zeros = [
        lay["encoding"]["y"].get("scale", {}).get("zero")
        for lay in layers_of(loss)
        if "y" in lay.get("encoding", {})
    ]
    assert zeros and all(z is True for z in zeros)
