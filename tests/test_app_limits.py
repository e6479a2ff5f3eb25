"""AppTest of the teacher's limits on the Train and Shallow vs deep forms."""

from __future__ import annotations

import pytest

from cifar_core.identity import new_key
from cifar_core.training.limits import Limits
from cifar_core.training.queue import shared_manager
from tests.conftest import open_app
from ui.common import OWNER_KEY


@pytest.fixture()
def limits():
    """Set the server's limits for one test (the manager is one per process)."""
    manager = shared_manager()
    before = manager.limits

    def set_limits(**kwargs):
        manager.limits = Limits(**kwargs)

    yield set_limits
    manager.limits = before


def errors(at) -> str:
    return " ".join(e.value for e in at.error)


def form(page: str, key: str | None = None, **sliders: int):
    """Open a page, set its sliders by key, rerun; the page must not raise.

    `key`: the student's per-browser key (default: the tests' student, conftest).
    """
    at = open_app(page, session_state={OWNER_KEY: key} if key else None)
    for key, value in sliders.items():
        at.slider(key=key).set_value(value)
    at.run()
    assert not at.exception
    return at


def test_the_form_shows_the_estimate_before_train_is_pressed(app_env, limits):
    limits(max_run_minutes=12)
    at = open_app("pages/train.py")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "Estimated time on this server:" in captions and "at 12 min" in captions
    assert not at.button(key="train_start").disabled


def test_a_run_over_the_budget_is_refused_on_the_form(app_env, limits):
    limits(max_image_epochs=2_000)
    at = form("pages/train.py", train_size=1000, train_epochs=3)
    assert "3,000 image-passes" in errors(at) and "at most 2 epochs" in errors(at)
    assert at.button(key="train_start").disabled
    at.slider(key="train_epochs").set_value(2)
    at.run()
    assert not errors(at) and not at.button(key="train_start").disabled


def test_shallow_vs_deep_checks_both_runs(app_env, limits):
    limits(max_image_epochs=2_000)
    at = form("pages/shallow_vs_deep.py", svd_train_size=1000, svd_epochs=3)
    assert "image-passes" in errors(at) and at.button(key="svd_start").disabled


def test_a_full_queue_is_said_when_train_is_pressed(app_env, limits, sample_data, tmp_store):
    from cifar_core.training import TrainConfig
    from cifar_core.training.queue import wait_for
    from tests.test_jobs_real_scale import Blocker

    limits(max_queue=1)
    manager = shared_manager()
    blocker = manager.submit(Blocker(TrainConfig(train_size=200, seed=99), sample_data, tmp_store))
    try:
        # Another student's request waits behind the running one: the queue (of 1) is full.
        at_other = form("pages/train.py", key=new_key(), train_size=200, train_epochs=1)
        at_other.button(key="train_start").click()
        at_other.run()
        assert not at_other.exception
        queued = at_other.session_state["training_job"]
        at = form("pages/train.py", train_size=300, train_epochs=1)
        at.button(key="train_start").click()
        at.run()
        assert not at.exception
        assert "The queue is full" in errors(at)
        assert "training_job" not in at.session_state  # nothing was started for this student
        queued.monitor.request_stop()
        assert wait_for(queued, 30)
    finally:
        blocker.release.set()
        assert wait_for(blocker, 30)
