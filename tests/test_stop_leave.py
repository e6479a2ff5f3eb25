"""Stop and Leave on the Train page, clicked: two sessions share one run, one leaves, one stops.

Two AppTest sessions in this process share the module-level job manager, as two tabs share
the server's (a fresh manager here, so no other test's jobs are in the queue).
"""

from __future__ import annotations

import time

import pytest

import cifar_core.training.queue as jobs_module
from cifar_core.identity import new_key
from cifar_core.runs import RunStore
from cifar_core.training.monitor import STOPPED, TRAINING
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import open_app, wait_until
from ui.common import JOB_KEY, OWNER_KEY
from ui.run_views import STATUS_TEXT

# 480 training images of 64 = 8 batches per epoch; 50 epochs so the run outlasts the clicks.
SETTINGS = {"train_size": 600, "train_epochs": 50}
LEAVE, STOP = "Leave this shared run", "Stop"


def ask_for_the_run(at) -> None:
    at.slider(key="train_size").set_value(SETTINGS["train_size"])
    at.slider(key="train_epochs").set_value(SETTINGS["train_epochs"])
    at.select_slider(key="train_batch").set_value(64)
    at.number_input(key="train_seed").set_value(4343)
    at.button(key="train_start").click()
    at.run()
    assert not at.exception, at.exception


def stop_button(at):
    found = [b for b in at.button if b.key == "train_stop"]
    return found[0] if found else None


def progress_text(at) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


@pytest.mark.slow
def test_one_session_leaves_a_shared_run_and_the_other_stops_it(app_env, monkeypatch):
    manager = JobManager(1)
    monkeypatch.setattr(jobs_module, "_shared_manager", manager)
    # Two students: two browsers, two keys (the second one not the tests' default).
    alice = open_app("pages/train.py")
    bob = open_app("pages/train.py", session_state={OWNER_KEY: new_key()})
    ask_for_the_run(alice)
    job = alice.session_state[JOB_KEY]
    try:
        ask_for_the_run(bob)
        assert bob.session_state[JOB_KEY] is job  # identical settings: one shared run
        assert any("you joined that run" in t.value for t in bob.toast)
        assert manager.watchers(job) == 2
        for at in (alice, bob):
            at.run()
            assert stop_button(at).label == LEAVE and not stop_button(at).disabled

        # Alice leaves: her session lets go of the run, the run goes on for Bob.
        alice.button(key="train_stop").click()
        alice.run()
        assert not alice.exception, alice.exception
        assert JOB_KEY not in alice.session_state
        assert stop_button(alice) is None and not alice.get("progress")
        assert "Training" not in [h.value for h in alice.header]  # no live panel any more
        assert not alice.button(key="train_start").disabled  # free to train something else
        assert manager.watchers(job) == 1 and not job.monitor.stop_requested
        wait_until(lambda: job.monitor.snapshot().status == TRAINING, timeout=180)
        steps = job.monitor.snapshot().steps_done
        wait_until(lambda: job.monitor.snapshot().steps_done >= steps + 3, timeout=60)
        assert not job.monitor.snapshot().is_final  # still training, for Bob
        bob.run()
        assert not bob.exception, bob.exception
        assert stop_button(bob).label == STOP  # the only watcher now: Stop really stops
        assert "batch" in progress_text(bob)

        # Bob stops: the run ends after the batch it is on and is saved as stopped.
        at_stop: list[int] = []
        request_stop = job.monitor.request_stop

        def record_and_stop() -> None:
            at_stop.append(job.monitor.snapshot().steps_done)
            request_stop()

        monkeypatch.setattr(job.monitor, "request_stop", record_and_stop)
        bob.button(key="train_stop").click()
        bob.run()
        assert not bob.exception, bob.exception
        assert at_stop and job.monitor.stop_requested
        assert bob.session_state[JOB_KEY] is job  # Bob keeps watching it to the end
        if not job.monitor.snapshot().is_final:
            assert stop_button(bob).disabled and "stopping after this batch" in progress_text(bob)
        assert wait_for(job, 120)
        snap = job.monitor.snapshot()
        assert snap.status == STOPPED, snap.message
        assert snap.steps_done <= at_stop[0] + 1  # at most the batch in flight finished
        assert snap.steps_done < snap.total_steps

        (info,) = RunStore(app_env).list_runs()  # one run for both sessions
        assert info.run_id == job.run_id and info.status == STOPPED
        assert (app_env / job.run_id / "model.keras").is_file()

        deadline = time.monotonic() + 60
        while not any(STATUS_TEXT[STOPPED] in i.value for i in bob.info):
            assert time.monotonic() < deadline, [i.value for i in bob.info]
            time.sleep(0.3)
            bob.run()
            assert not bob.exception, bob.exception
        assert stop_button(bob) is None  # a stopped run has nothing left to stop
        assert bob.selectbox(key="train_run_picker").value == job.run_id  # its results shown
        assert any(m.label == "Test accuracy" for m in bob.metric)

        # Alice, who left, never gets Bob's ending, but finds the saved run in the list.
        alice.run()
        assert not alice.exception, alice.exception
        assert not any(STATUS_TEXT[STOPPED] in i.value for i in alice.info)
        assert stop_button(alice) is None and JOB_KEY not in alice.session_state
        assert alice.selectbox(key="train_run_picker").value == job.run_id
    finally:
        job.monitor.request_stop()
        assert wait_for(job, 120)
