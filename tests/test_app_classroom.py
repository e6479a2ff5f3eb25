"""AppTest of classroom situations: two sessions share one run, a teacher preset, bad data."""

from __future__ import annotations

import time

import pytest

from cifar_core.identity import new_key
from cifar_core.training.limits import STUDENT_PRESET_NOTE
from tests.conftest import open_app
from ui.common import OWNER_KEY


def tiny(at, size_images: int = 300) -> None:
    at.slider(key="train_size").set_value(size_images)
    at.slider(key="train_epochs").set_value(1)


def poll_until_result(*apps, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    pending = list(apps)
    while pending:
        assert time.monotonic() < deadline, "runs did not finish"
        time.sleep(0.5)
        for at in list(pending):
            at.run()
            assert not at.exception, at.exception
            if any(m.label == "Test accuracy" for m in at.metric):
                pending.remove(at)


@pytest.mark.slow
def test_two_sessions_same_settings_share_one_run(app_env):
    # Two students: two browsers, two keys (the second one not the tests' default).
    alice = open_app("pages/train.py")
    bob = open_app("pages/train.py", session_state={OWNER_KEY: new_key()})
    for at in (alice, bob):
        tiny(at, 400)
        at.number_input(key="train_seed").set_value(7)
    alice.button(key="train_start").click()
    alice.run()
    bob.button(key="train_start").click()
    bob.run()
    assert bob.session_state["training_job"] is alice.session_state["training_job"]
    assert any("Shared run: 2 sessions" in c.value for c in bob.caption)
    assert any(b.label == "Leave this shared run" for b in bob.button)
    poll_until_result(alice, bob)
    accuracies = {
        next(m.value for m in at.metric if m.label == "Test accuracy") for at in (alice, bob)
    }
    assert len(accuracies) == 1  # the same result for both
    assert len(list(app_env.iterdir())) == 1  # trained once, saved once


def test_teacher_preset_sets_the_defaults(app_env, monkeypatch):
    monkeypatch.setenv("CIFAR_PRESET", '{"model": "shallow", "train_size": 1200, "epochs": 2}')
    at = open_app("pages/train.py")
    assert not at.exception
    assert at.radio(key="train_model").value == "shallow"
    assert at.slider(key="train_size").value == 1200
    assert at.slider(key="train_epochs").value == 2
    assert any("teacher set the starting values" in i.value for i in at.info)


def test_bad_teacher_preset_is_reported_not_fatal(app_env, monkeypatch):
    monkeypatch.setenv("CIFAR_PRESET", '{"epochs": 0}')
    at = open_app("pages/train.py")
    assert not at.exception
    # Students get one neutral line; the details go to the server log (test_states_train).
    assert STUDENT_PRESET_NOTE in [w.value for w in at.warning]
    assert not any("Epochs" in e.value for e in [*at.error, *at.warning])
    assert at.slider(key="train_epochs").value == 5


def test_wrong_cifar10_dir_says_what_to_fix(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "not-there"))
    at = open_app("pages/train.py")
    assert not at.exception
    (error,) = at.error
    # A student is told to ask the teacher; the folder and CIFAR10_DIR go to the log.
    assert "could not be loaded" in error.value and "tell your teacher" in error.value
    assert "CIFAR10_DIR" not in error.value
    assert not at.button  # nothing to train on, so no Train button


def test_corrupt_cifar10_dir_names_the_file_in_the_log(
    app_env, monkeypatch, tmp_path, cifar_dir, caplog
):
    import logging
    import shutil

    broken = tmp_path / "cifar-10-batches-py"
    shutil.copytree(cifar_dir, broken)
    (broken / "data_batch_3").write_bytes(b"this is not a pickle")
    monkeypatch.setenv("CIFAR10_DIR", str(broken))
    with caplog.at_level(logging.ERROR, logger="cifar_core.data"):
        at = open_app("pages/train.py")
    assert not at.exception
    assert any("tell your teacher" in e.value for e in at.error)
    assert any("data_batch_3" in r.getMessage() for r in caplog.records)


def test_failed_download_names_the_offline_option(app_env, monkeypatch, tmp_path):
    import cifar_core.data as D

    monkeypatch.delenv("CIFAR10_DIR")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def no_internet():
        raise OSError("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(D, "_keras_download", no_internet)
    monkeypatch.setattr(D.load_keras, "__defaults__", (no_internet,))
    at = open_app("pages/train.py")
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "could not download" in message and "tell your teacher" in message
    assert "CIFAR10_DIR" not in message
