"""Precision: bfloat16 or float32 chosen by measurement, same lesson either way, portable files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cifar_core import constants as C
from cifar_core import settings
from cifar_core.training import precision
from cifar_core.training.precision import BFLOAT16, FLOAT32, Decision, decide


@pytest.fixture()
def fresh_decisions(monkeypatch: pytest.MonkeyPatch):
    """No cached decision before or after the test, and no forced precision."""
    monkeypatch.delenv(settings.PRECISION.name, raising=False)
    precision.forget()
    yield
    precision.forget()


def speeds(fp32: float, bf16: float):
    calls = []

    def measure(model: str) -> dict[str, float]:
        calls.append(model)
        return {FLOAT32: fp32, BFLOAT16: bf16}

    measure.calls = calls
    return measure


# --- the decision -------------------------------------------------------------------------


def test_bfloat16_is_chosen_only_when_the_measurement_says_it_is_faster():
    assert decide("deep", has_bf16=True, measure=speeds(500, 1100)).precision == BFLOAT16
    slower = decide("deep", has_bf16=True, measure=speeds(500, 80))  # emulated bfloat16
    assert slower.precision == FLOAT32 and slower.reason == "measured"
    # Barely faster is noise: float32 keeps its extra accuracy.
    assert decide("deep", has_bf16=None, measure=speeds(500, 520)).precision == FLOAT32


def test_a_cpu_without_bfloat16_keeps_float32_without_measuring():
    measure = speeds(500, 5000)
    decision = decide("deep", has_bf16=False, measure=measure)
    assert decision.precision == FLOAT32 and decision.reason == "no-bf16-cpu"
    assert measure.calls == [] and "no bfloat16" in decision.sentence()


def test_the_setting_forces_a_precision_and_a_bad_value_says_what_is_allowed():
    assert precision.setting("bfloat16") == (BFLOAT16, "")
    assert precision.setting(" Float32 ") == (FLOAT32, "")
    assert precision.setting("") == ("auto", "")
    mode, problem = precision.setting("fp16")
    assert mode == "auto" and "CIFAR_PRECISION" in problem and "float32" in problem
    measure = speeds(500, 80)
    forced = decide("deep", forced=BFLOAT16, has_bf16=False, measure=measure)
    assert forced.precision == BFLOAT16 and forced.reason == "forced" and measure.calls == []


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert precision.cpu_has_bf16(info) is True
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma\n")
    assert precision.cpu_has_bf16(info) is False
    info.write_text("Features\t: fp asimd bf16 i8mm\n")  # ARM
    assert precision.cpu_has_bf16(info) is True
    assert precision.cpu_has_bf16(tmp_path / "missing") is None


def test_every_network_is_calibrated_once_per_process(fresh_decisions, monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    measure = speeds(400, 1000)
    assert precision.known("deep") is None
    first = precision.precision_for("deep", measure)
    again = precision.precision_for("shallow", measure)
    assert first.precision == again.precision == BFLOAT16
    assert measure.calls == list(C.MODEL_NAMES)  # both at once, then never again
    assert precision.known("shallow") == again
    assert "about 2.5× faster" in first.sentence()
    monkeypatch.setenv(settings.PRECISION.name, "float32")  # the teacher forces it: no calibration
    assert precision.precision_for("deep").precision == FLOAT32


def test_sentences_say_what_was_measured():
    kept = Decision("shallow", FLOAT32, "measured", {FLOAT32: 1000.0, BFLOAT16: 600.0})
    assert "float32" in kept.sentence() and "0.60×" in kept.sentence()
    assert "set by CIFAR_PRECISION" in Decision("deep", BFLOAT16, "forced", {}).sentence()
    # Faster, but under the 10% bar: the sentence must not say "not faster".
    close = Decision("deep", FLOAT32, "measured", {FLOAT32: 1000.0, BFLOAT16: 1050.0})
    assert "not at least 10% faster" in close.sentence() and "1.05×" in close.sentence()


# --- the network in bfloat16 -----------------------------------------------------------------


@pytest.mark.parametrize("name", C.MODEL_NAMES)
def test_bfloat16_nets_compute_in_bfloat16_but_their_output_layers_in_float32(name):
    from cifar_core.models import FLOAT32_LAYERS, build_model

    model = build_model(name, seed=1, precision=BFLOAT16)
    for layer in model.layers:
        expected = "float32" if layer.name in FLOAT32_LAYERS else "bfloat16"
        assert layer.compute_dtype == expected, layer.name
        assert layer.variable_dtype == "float32", layer.name  # weights stay float32
    probs = model.predict_on_batch(np.full((2, *C.IMAGE_SHAPE), 0.5, np.float32))
    assert probs.dtype == np.float32 and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="precision"):
        build_model(name, precision="float16")


@pytest.mark.slow
def test_the_real_calibration_measures_both_precisions_of_both_networks():
    for name in C.MODEL_NAMES:
        measured = precision.measure_speeds(name, batch_size=32)
        assert set(measured) == {FLOAT32, BFLOAT16}
        assert all(ips > 10 for ips in measured.values()), measured


# --- same lesson, same results; portable files ---------------------------------------------

LOAD_AND_SCORE = """
import json, sys
import numpy as np
import keras
from cifar_core.data import load_local
from cifar_core.models import build_model

folder, data_dir = sys.argv[1], sys.argv[2]
data = load_local(data_dir)
x = data.x_test.astype("float32") / 255.0
model = keras.saving.load_model(f"{folder}/model.keras")
twin = build_model(json.load(open(f"{folder}/config.json"))["model"])
twin.load_weights(f"{folder}/model.weights.h5")
best = build_model(twin.name)
best.load_weights(f"{folder}/best.weights.h5")  # the best epoch's, as the lesson's checkpoint
print(json.dumps({
    "policy": keras.mixed_precision.global_policy().name,
    "dtypes": sorted({layer.dtype_policy.name for layer in model.layers}),
    "accuracy": float((model.predict(x, verbose=0).argmax(1) == data.y_test).mean()),
    "weights_accuracy": float((twin.predict(x, verbose=0).argmax(1) == data.y_test).mean()),
    "best_dtypes": sorted({str(w.dtype) for w in best.get_weights()}),
}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", C.MODEL_NAMES)
def test_bfloat16_and_float32_teach_the_same_lesson_and_save_portable_files(
    name, sample_data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cifar_dir: Path
):
    from cifar_core.runs import RunStore
    from cifar_core.training import TrainConfig, TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    store = RunStore(tmp_path / "runs")
    # The whole sample, 10 epochs (as the issue measured): at a few epochs accuracy still
    # jumps by several points between neighbouring epochs and any two runs can differ by
    # that much (3,000 images × 4 epochs: 6 points between the precisions with one seed,
    # 3–7 points between seeds); here seeds 7–9 gave differences of 0.2–1.3 points.
    config = TrainConfig(model=name, train_size=len(sample_data.x_train), epochs=10, seed=7)
    results = {}
    for chosen in (FLOAT32, BFLOAT16):
        monkeypatch.setenv(settings.PRECISION.name, chosen)
        job = JobManager(1).submit(TrainingJob(config, sample_data, store))
        assert wait_for(job, timeout=600)
        snap = job.monitor.snapshot()
        assert snap.status == "finished", snap.message
        results[chosen] = (snap.run_id, store.load(snap.run_id).result)
    (_, fp32), (bf16_id, bf16) = results[FLOAT32], results[BFLOAT16]
    assert fp32["precision"] == FLOAT32 and bf16["precision"] == BFLOAT16
    # Both learned (chance is 10%) and within a few points of each other.
    assert fp32["test_accuracy"] > 0.35 and bf16["test_accuracy"] > 0.35, (fp32, bf16)
    assert abs(fp32["test_accuracy"] - bf16["test_accuracy"]) < 0.04, (fp32, bf16)

    # The bfloat16 run's files, in a fresh plain-float32 Keras: they load, compute in float32
    # and score what the run reported (up to bfloat16's rounding in the run's own scoring).
    out = subprocess.run(
        [sys.executable, "-c", LOAD_AND_SCORE, str(store.root / bf16_id), str(cifar_dir)],
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1],
        env={**__import__("os").environ, "CIFAR_PRECISION": ""},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["policy"] == "float32" and loaded["dtypes"] == ["float32"]
    assert abs(loaded["accuracy"] - bf16["test_accuracy"]) <= 0.01, (loaded, bf16)
    assert loaded["weights_accuracy"] == pytest.approx(loaded["accuracy"], abs=1e-9)
    assert loaded["best_dtypes"] == ["float32"]
    assert "Skipping variable loading" not in out.stderr  # the optimizer state came along


@pytest.mark.slow
@pytest.mark.parametrize(("bf16_speed", "expected"), [(80.0, FLOAT32), (2000.0, BFLOAT16)])
def test_a_run_trains_in_whatever_the_calibration_found_faster(
    bf16_speed, expected, fresh_decisions, sample_data, tmp_store, monkeypatch
):
    from cifar_core.training import TrainConfig, TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(precision, "measure_speeds", speeds(500.0, bf16_speed))
    config = TrainConfig(model="shallow", train_size=300, epochs=1, batch_size=64)
    job = JobManager(1).submit(TrainingJob(config, sample_data, tmp_store))
    assert wait_for(job, timeout=300)
    result = tmp_store.load(job.monitor.snapshot().run_id).result
    assert (result["precision"], result["precision_reason"]) == (expected, "measured")
