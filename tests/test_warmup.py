"""The warm-up: what the first Train click would wait for is done in the background."""

from __future__ import annotations

import pytest

from cifar_core import constants as C
from cifar_core import data, settings
from cifar_core.training import precision, warmup


@pytest.mark.slow
def test_warm_up_imports_tensorflow_loads_the_data_and_decides_the_precision(
    monkeypatch: pytest.MonkeyPatch, cifar_dir
):
    monkeypatch.setenv(settings.CIFAR10_DIR.name, str(cifar_dir))
    monkeypatch.delenv(settings.PRECISION.name, raising=False)
    precision.forget()
    warmup.steps.clear()
    warmup.warm_up()
    assert warmup.done.is_set()
    assert all(isinstance(warmup.steps.get(s), float) for s in ("import", "data", "precision"))
    assert data.shared_data_ready()
    for name in C.MODEL_NAMES:
        decision = precision.known(name)
        assert decision is not None and decision.reason in ("measured", "no-bf16-cpu")


def test_a_failed_step_is_logged_and_the_rest_still_runs(monkeypatch, caplog):
    warmup.steps.clear()

    def broken() -> None:
        raise OSError("disk gone")

    warmup._step("data", broken)
    warmup._step("import", lambda: None)
    assert warmup.steps["data"] == "error: OSError: disk gone"
    assert isinstance(warmup.steps["import"], float)
    assert "disk gone" in caplog.text


def test_off_switch_and_once_per_process(monkeypatch):
    monkeypatch.setenv(settings.WARMUP.name, "0")
    assert not warmup.enabled() and warmup.start(delay_s=3600) is False
    monkeypatch.setenv(settings.WARMUP.name, "1")
    monkeypatch.setattr(warmup, "_started", False)
    monkeypatch.setattr(warmup, "warm_up", lambda: None)
    assert warmup.start(delay_s=0) is True
    assert warmup.start(delay_s=0) is False  # a second page view starts nothing
