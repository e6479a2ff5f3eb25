"""The one training form (ui/train_form.py) on both pages that train: the whole teacher preset
reaches the run, and a bad setting is a form error, not a failed run."""

from __future__ import annotations

import json

import pytest

from cifar_core.training import TrainConfig
from cifar_core.training.queue import shared_manager, wait_for
from tests.conftest import open_app
from tests.test_jobs_real_scale import Blocker
from ui.common import AUGMENT_KEY

AUGMENT = {"rotation_range": 10.0, "horizontal_flip": True}
PRESET = {"train_size": 300, "epochs": 1, "val_split": 0.1, "seed": 5, "augment": AUGMENT}
# page, its Train button, the session key of what it started, the augment toggle's key
PAGES = [
    ("pages/train.py", "train_start", "training_job", "train_augment"),
    ("pages/shallow_vs_deep.py", "svd_start", "svd_jobs", "svd_augment"),
]


@pytest.fixture()
def slot_held(app_env, sample_data, tmp_store):
    """The server's one training slot is busy, so a pressed Train stays queued (no training)."""
    manager = shared_manager()
    blocker = manager.submit(Blocker(TrainConfig(train_size=200, seed=98), sample_data, tmp_store))
    yield manager
    blocker.release.set()
    assert wait_for(blocker, 30)


def started_configs(at, state_key: str) -> list[TrainConfig]:
    started = at.session_state[state_key]
    jobs = started if isinstance(started, list) else [started]
    for job in jobs:
        job.monitor.request_stop()  # queued: cancelled before it trains
    return [job.config for job in jobs]


@pytest.mark.parametrize(("page", "button", "state_key", "toggle"), PAGES)
def test_the_whole_preset_reaches_the_run(page, button, state_key, toggle, slot_held, monkeypatch):
    monkeypatch.setenv("CIFAR_PRESET", json.dumps(PRESET))
    at = open_app(page)
    assert not at.exception, at.exception
    assert any("10% of them are held out" in s.label for s in at.slider), [
        s.label for s in at.slider
    ]
    assert at.toggle(key=toggle).value is True  # the teacher's augmentation is on from the start
    assert "teacher's preset" in at.toggle(key=toggle).label
    at.button(key=button).click()
    at.run()
    assert not at.exception, at.exception
    configs = started_configs(at, state_key)
    assert configs and all(c.val_split == 0.1 and c.seed == 5 for c in configs)
    for config in configs:
        assert config.augment.rotation_range == 10.0 and config.augment.horizontal_flip
        assert config.split_sizes() == (270, 30)


@pytest.mark.parametrize(("page", "button", "state_key", "toggle"), PAGES)
def test_the_labs_hand_over_wins_over_the_preset(
    page, button, state_key, toggle, slot_held, monkeypatch
):
    monkeypatch.setenv("CIFAR_PRESET", json.dumps(PRESET))
    at = open_app(page, session_state={AUGMENT_KEY: {"width_shift_range": 0.2}})
    assert "Augmentation lab" in at.toggle(key=toggle).label
    at.toggle(key=toggle).set_value(True)
    at.button(key=button).click()
    at.run()
    assert not at.exception, at.exception
    for config in started_configs(at, state_key):
        assert config.augment.width_shift_range == 0.2
        assert config.augment.rotation_range == 0  # the lab's settings, not the preset's


@pytest.mark.parametrize(("page", "button", "state_key", "toggle"), PAGES)
def test_a_broken_lab_hand_over_is_a_form_error_not_a_failed_run(
    page, button, state_key, toggle, app_env
):
    at = open_app(page, session_state={AUGMENT_KEY: {"rotation_range": "a lot"}})
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "cannot be used" in errors and "rotation_range" in errors, errors
    assert "Augmentation lab" in errors  # where to fix it
    assert not any(t.key == toggle for t in at.toggle)  # nothing broken is offered


def test_a_config_carries_checked_augment_params():
    from cifar_core.augmentation.params import AugmentParams

    config = TrainConfig(augment={"rotation_range": 10, "horizontal_flip": True})
    assert isinstance(config.augment, AugmentParams) and config.augment.rotation_range == 10
    assert TrainConfig.from_dict(config.to_dict()) == config  # saved and read back as is
    assert TrainConfig(augment={}).augment is None  # changes nothing: the same run as none
    assert TrainConfig(augment=AugmentParams()).key() == TrainConfig().key()
    with pytest.raises(ValueError, match="rotation_range"):
        TrainConfig(augment={"rotation_range": "a lot"})
    with pytest.raises(ValueError, match="mapping"):
        TrainConfig(augment=["rotation_range", 10])
    assert TrainConfig(train_size=1000, batch_size=128).steps_per_epoch() == 7  # 800 / 128
