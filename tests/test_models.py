"""Models: parameter counts, shapes and multiply-adds, by hand and as Keras builds them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cifar_core import models as M


@pytest.mark.parametrize(("name", "params"), [("shallow", 4_200_842), ("deep", 1_676_842)])
def test_parameter_counts_match_the_lesson(name, params):
    assert M.count_params(name) == params
    assert M.build_model(name).count_params() == params


@pytest.mark.parametrize("name", ["shallow", "deep"])
def test_hand_table_matches_keras(name):
    ours = [(r["layer"], r["output_shape"], r["params"]) for r in M.layer_table(name)]
    keras_rows = [
        (r["layer"], r["output_shape"], r["params"])
        for r in M.keras_layer_table(M.build_model(name))
    ]
    assert ours == keras_rows


def test_fourth_conv_is_3x3_stride_1_valid():
    conv4 = M.build_model("deep").get_layer("conv4")
    assert conv4.kernel_size == (3, 3) and conv4.strides == (1, 1) and conv4.padding == "valid"
    row = next(r for r in M.layer_table("deep") if r["layer"] == "conv4")
    assert row["output_shape"] == (14, 14, 64)
    assert "Conv2D(64, 3, 3)" in row["note"] and "stride" in row["note"]


def test_conv_stride_note_tells_the_history_right():
    note = M.CONV_STRIDE_NOTE
    # Keras 1 and standalone Keras 2.0–2.3 (legacy shim) read a 3×3 kernel; only later ones stride.
    for fact in (
        "Keras 1",
        "Keras 2.0–2.3",
        "kernel_size=(3, 3)",
        "Update your `Conv2D` call",
        "stride 1",
        "Keras 2.4",
        "Keras 3",
        "strides=3",
        "source:",
    ):
        assert fact in note, fact
    assert "In Keras 2 and later" not in note  # the old, false claim


def test_todays_keras_reads_conv2d_64_3_3_as_stride_3():
    # What the note says the notebooks' line does when it runs today (Keras 3).
    import keras

    layer = keras.layers.Conv2D(64, 3, 3)
    assert layer.kernel_size == (3, 3) and layer.strides == (3, 3)
    model = keras.Sequential([keras.Input((16, 16, 64)), keras.layers.Conv2D(64, 3, 3)])
    assert model.output_shape == (None, 5, 5, 64)  # stride 1 "valid" would give 14×14


def test_mult_adds_by_hand():
    rows = {r["layer"]: r for r in M.layer_table("shallow")}
    # conv1: 32×32 outputs × 32 filters, each a 3×3×3 window → 884,736 multiply-adds
    assert rows["conv1"]["mult_adds"] == 32 * 32 * 32 * 27 == 884_736
    # dense1: 8,192 inputs × 512 units
    assert rows["flatten"]["output_shape"] == (8192,)
    assert rows["dense1"]["mult_adds"] == 8192 * 512
    assert M.count_mult_adds("shallow") == 884_736 + 8192 * 512 + 512 * 10


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of shallow, deep"):
        M.layer_table("resnet")


def test_tables_need_no_tensorflow():
    code = "import sys, cifar_core.models as m; m.layer_table('deep'); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
