"""AppTest of what the Train page says in states that used to read like any other.

A run that learned nothing, a data set that cannot be loaded, a bad server setting, a shared
run whose other watchers closed their tabs, and what the downloaded model expects.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cifar_core import evaluation as E
from cifar_core.identity import new_key, owner_hash
from cifar_core.runs import HISTORY_FILE, RESULT_FILE, RunStore
from cifar_core.training import TrainConfig
from cifar_core.training.monitor import FINISHED
from cifar_core.training.queue import shared_manager, wait_for
from tests.conftest import TEST_OWNER_KEY, open_app
from ui.common import OWNER_KEY

STUDENT_WORDS_TO_AVOID = ("CIFAR10_DIR", "Errno", "KERAS_HOME", "CIFAR_PRESET", "Traceback")


def page_text(at) -> str:
    """Everything a student reads on the page (markdown, alerts, captions, status labels)."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "error", "warning", "info", "success")
        for e in getattr(at, kind)
    ]
    parts += [s.label for s in at.main.status]
    return " ".join(parts)


# --- c. no internet and no local data -----------------------------------------------------------


@pytest.fixture()
def offline(monkeypatch, tmp_path, app_env):
    """No CIFAR10_DIR, an empty Keras cache, and a Keras download that fails as offline."""
    import cifar_core.data as D

    monkeypatch.delenv("CIFAR10_DIR")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty-keras-home"))
    monkeypatch.setattr(D, "_shared", {})  # no data set loaded in this process yet
    calls = []

    def no_internet():
        calls.append(1)
        raise OSError(
            "URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz: "
            "None -- [Errno -2] Name or service not known"
        )

    monkeypatch.setattr(D, "_keras_download", no_internet)
    return calls


def test_offline_first_visit_ends_in_an_error_and_tells_students_to_ask(offline, caplog):
    with caplog.at_level("ERROR", logger="cifar_core.data"):
        at = open_app("pages/train.py")
    assert not at.exception
    assert offline, "the (failing) download was not even tried"
    (status,) = at.main.status
    assert status.state == "error" and "could not be downloaded" in status.label
    assert "Downloading" not in status.label
    (error,) = at.error
    assert "could not download the CIFAR-10 images" in error.value
    assert "tell your teacher" in error.value
    text = page_text(at)
    assert not any(word in text for word in STUDENT_WORDS_TO_AVOID), text
    assert not at.button  # nothing to train on, so no Train button
    # The operator gets the setting and the raw error in the server log.
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "cifar_core.data")
    assert "CIFAR10_DIR" in logged and "[Errno -2] Name or service not known" in logged


def test_a_wrong_data_folder_is_logged_not_shown(app_env, monkeypatch, tmp_path, caplog):
    missing = tmp_path / "not-there"
    monkeypatch.setenv("CIFAR10_DIR", str(missing))
    with caplog.at_level("ERROR", logger="cifar_core.data"):
        at = open_app("pages/train.py")
    assert not at.exception
    (error,) = at.error
    assert "tell your teacher" in error.value and str(missing) not in error.value
    assert not at.main.status  # nothing was downloading
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "cifar_core.data")
    assert f"CIFAR10_DIR={missing}" in logged and "does not exist" in logged


def test_a_damaged_data_file_is_named_in_the_log_only(app_env, monkeypatch, tmp_path, caplog):
    import shutil

    from tests.conftest import sample_dir

    broken = tmp_path / "cifar-10-batches-py"
    shutil.copytree(sample_dir(), broken)
    (broken / "data_batch_3").write_bytes(b"this is not a pickle")
    monkeypatch.setenv("CIFAR10_DIR", str(broken))
    with caplog.at_level("ERROR", logger="cifar_core.data"):
        at = open_app("pages/train.py")
    assert not at.exception
    (error,) = at.error
    assert "tell your teacher" in error.value and "data_batch_3" not in error.value
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "cifar_core.data")
    assert "data_batch_3: cannot be read" in logged


# --- d. server settings -----------------------------------------------------------------------


def test_a_bad_preset_gets_a_neutral_line_and_a_log_entry(app_env, monkeypatch, caplog):
    from cifar_core.training import limits as L

    monkeypatch.setattr(L, "_reported", set())
    monkeypatch.setenv("CIFAR_PRESET", '{"epochs": 0, "model": "shallow"}')
    with caplog.at_level("WARNING", logger="cifar_core.training.limits"):
        at = open_app("pages/train.py")
        at.run()  # a second view of the page: still one log entry
    assert not at.exception
    assert L.STUDENT_PRESET_NOTE in [w.value for w in at.warning]
    assert "Epochs" not in page_text(at) and not at.error
    assert at.slider(key="train_epochs").value == 5  # the defaults are in use
    assert at.radio(key="train_model").value == "deep"
    records = [r for r in caplog.records if r.name == "cifar_core.training.limits"]
    assert len(records) == 1 and "Epochs must be" in records[0].getMessage()


def test_a_bad_server_setting_gets_a_neutral_line_and_one_log_entry(app_env, monkeypatch, caplog):
    from cifar_core.training import limits as L

    monkeypatch.setattr(L, "_reported", set())
    manager = shared_manager()
    monkeypatch.setattr(manager, "setting_problem", "CIFAR_MAX_QUEUE must be above 0, got '-3'.")
    with caplog.at_level("WARNING", logger="cifar_core.training.limits"):
        at = open_app("pages/train.py")
        at.run()
    assert not at.exception
    assert L.STUDENT_SETTINGS_NOTE in [w.value for w in at.warning]
    assert "CIFAR_MAX_QUEUE" not in page_text(at) and not at.error
    records = [r for r in caplog.records if r.name == "cifar_core.training.limits"]
    assert len(records) == 1 and "got '-3'" in records[0].getMessage()


# --- a. a run that learned nothing ------------------------------------------------------------


def save_run(store: RunStore, sample_data, answers: np.ndarray, val: list[float]) -> str:
    """A finished run whose network gave `answers` for the real test images (no model files)."""
    config = TrainConfig(model="deep", train_size=1000, epochs=len(val), seed=5).to_dict()
    run_id = store.new_run_id()
    store.create(run_id, config)
    y = sample_data.y_test.astype(np.int64)
    probs = np.full((len(y), 10), 0.02)
    probs[np.arange(len(y)), answers] = 0.82
    result = {
        **E.summarize_predictions(probs, y),
        "class_names": list(sample_data.class_names),
        "n_train": 800,
        "n_val": 200,
        "epochs_completed": len(val),
    }
    epochs = [
        {"epoch": i + 1, "loss": 2.3 - i / 10, "accuracy": 0.1, "val_loss": 2.3, "val_accuracy": v}
        for i, v in enumerate(val)
    ]
    store.write_json(run_id, RESULT_FILE, result)
    store.write_json(run_id, HISTORY_FILE, {"batches": [], "epochs": epochs})
    store.set_status(run_id, FINISHED)
    store.add_owners(run_id, [owner_hash(TEST_OWNER_KEY)])  # the test student's run
    return run_id


def test_a_run_that_learned_nothing_says_so_above_its_metrics(app_env, sample_data):
    store = RunStore(app_env)
    y = sample_data.y_test
    rng = np.random.default_rng(1)
    learned = np.where(rng.random(len(y)) < 0.6, y, rng.integers(0, 10, len(y)))
    good_id = save_run(store, sample_data, learned, [0.35, 0.5])
    dead_id = save_run(store, sample_data, np.full(len(y), 2), [0.12, 0.11])  # "bird" always

    at = open_app("pages/train.py")
    at.selectbox(key="train_run_picker").set_value(dead_id).run()
    assert not at.exception
    run = store.load(dead_id)
    expected = E.learning_problem(run.result, run.history["epochs"], run.config)
    assert expected is not None and "“bird” for every test image" in expected
    assert [w.value for w in at.warning] == [expected]
    # ...above the metrics: it is the first thing read about the results.
    kinds = [e.type for e in at.main if getattr(e, "type", None) in ("warning", "metric")]
    assert kinds[0] == "warning" and kinds.count("metric") == 5
    captions = " ".join(c.value for c in at.caption)
    assert "shows how it guesses" in captions and "show its guess" in captions
    assert "a pair of classes the network mixes up" not in captions

    at.selectbox(key="train_run_picker").set_value(good_id).run()
    assert not at.exception and not at.warning
    captions = " ".join(c.value for c in at.caption)
    assert "a pair of classes the network mixes up" in captions and "guess" not in captions


def test_saved_curves_have_fixed_axes_and_explain_the_epoch_restart(app_env, sample_data):
    store = RunStore(app_env)
    save_run(store, sample_data, sample_data.y_test.copy(), [0.3, 0.4])
    at = open_app("pages/train.py")
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    y_scales = {
        s["title"]: s["layer"][0]["encoding"]["y"]["scale"]
        for s in specs
        if "layer" in s and s.get("title") in ("Loss", "Accuracy")
    }
    assert y_scales == {"Loss": {"zero": True}, "Accuracy": {"domain": [0, 1]}}
    captions = " ".join(c.value for c in at.caption)
    assert "starts again at every epoch" in captions and "0–100%" in captions
    assert not [c for c in at.code if "load_model" in c.value]  # no model file, no snippet


# --- g. what the downloaded model expects -----------------------------------------------------


def test_the_download_area_says_what_the_model_expects(app_env, trained_store, monkeypatch):
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(trained_store.root))
    at = open_app("pages/train.py")
    assert not at.exception
    (info,) = trained_store.list_runs()
    download = next(i for i, h in enumerate(at.subheader) if h.value == "Download")
    assert download >= 0
    captions = [c.value for c in at.caption]
    assert any("divided by 255" in c and "float32" in c and "bfloat16" in c for c in captions)
    (code,) = [c.value for c in at.code if "load_model" in c.value]
    assert f'"{info.run_id}-model.keras"' in code
    assert 'x = image.astype("float32") / 255' in code


@pytest.mark.slow
def test_the_download_snippet_predicts_like_the_run(trained_store, sample_data, tmp_path):
    from ui.run_views import predict_snippet

    (info,) = trained_store.list_runs()
    run = trained_store.load(info.run_id)
    saved = run.predictions()["test_probs"].astype(np.float32)
    for i in (0, 7):
        scope = {"image": sample_data.x_test[i]}  # uint8, as a student's image would be
        exec(predict_snippet(str(run.path / "model.keras")), scope)  # noqa: S102 — our own code
        assert scope["probs"].shape == (10,)
        assert np.allclose(scope["probs"], saved[i], atol=2e-3)


# --- e. a shared run whose other watcher closed the tab ---------------------------------------


def test_the_shared_count_drops_a_closed_tab(app_env, sample_data, tmp_store, monkeypatch):
    from tests.test_jobs_real_scale import Blocker

    manager = shared_manager()
    now = [5000.0]
    monkeypatch.setattr(manager.presence, "clock", lambda: now[0])
    blocker = manager.submit(Blocker(TrainConfig(train_size=200, seed=98), sample_data, tmp_store))
    started = []
    try:
        # Two students: two browsers, two keys (the second one not the tests' default).
        alice = open_app("pages/train.py")
        bob = open_app("pages/train.py", session_state={OWNER_KEY: new_key()})
        for at in (alice, bob):
            at.slider(key="train_size").set_value(300)
            at.slider(key="train_epochs").set_value(1)
            at.number_input(key="train_seed").set_value(4242)
            at.button(key="train_start").click()
            at.run()
            assert not at.exception
            started.append(at.session_state["training_job"])
        job = alice.session_state["training_job"]
        assert bob.session_state["training_job"] is job  # queued behind the blocker, shared
        alice.run()
        assert any("Shared run: 2 sessions are watching it now" in c.value for c in alice.caption)
        now[0] += 6.0  # bob closed his tab: no poll from him since
        alice.run()
        captions = " ".join(c.value for c in alice.caption)
        assert "2 sessions" not in captions and "none of them is watching right now" in captions
        assert any(b.label == "Leave this shared run" for b in alice.button)  # Stop: only leave
        assert manager.watchers(job) == 2
    finally:
        for job in started:  # still queued: cancelled without training
            job.monitor.request_stop()
            assert wait_for(job, 30)
        blocker.release.set()
        assert wait_for(blocker, 30)
