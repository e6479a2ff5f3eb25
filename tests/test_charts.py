"""Chart specs: the right rows, the data inline in the spec."""

from __future__ import annotations

from cifar_core import charts as CH


def test_curve_rows_put_batches_and_epochs_on_one_axis():
    batches = [
        {"epoch": 1, "batch": 1, "loss": 2.3},
        {"epoch": 1, "batch": 2, "loss": 2.1},
        {"epoch": 2, "batch": 1, "loss": 1.9},
    ]
    epochs = [
        {"epoch": 1, "loss": 2.1, "val_loss": 2.2, "accuracy": 0.2, "val_accuracy": float("nan")}
    ]
    rows = CH.curve_rows(batches, epochs, "loss", steps_per_epoch=2)
    assert [(r["epoch"], r["series"]) for r in rows] == [
        (0.5, CH.TRAIN_BATCH),
        (1.0, CH.TRAIN_BATCH),
        (1.5, CH.TRAIN_BATCH),
        (1.0, CH.TRAIN_EPOCH),
        (1.0, CH.VAL_EPOCH),
    ]
    acc_rows = CH.curve_rows([], epochs, "accuracy", 2)
    assert [r["series"] for r in acc_rows] == [CH.TRAIN_EPOCH]  # NaN is left out


def test_specs_carry_their_data():
    spec = CH.training_curve([{"epoch": 1, "batch": 1, "loss": 2.0}], [], "loss", 3, 5).to_dict()
    assert spec["data"]["values"][0]["value"] == 2.0
    heat = CH.confusion_heatmap([[3, 1], [0, 2]], ["cat", "dog"]).to_dict()
    assert {"true": "cat", "predicted": "dog", "count": 1} in heat["data"]["values"]
    bars = CH.per_class_bars([0.5, float("nan")], ["cat", "dog"]).to_dict()
    assert bars["data"]["values"] == [{"class": "cat", "accuracy": 0.5}]
