"""AppTest of the home and Train pages: a real tiny run, polled to the end, results shown."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest

from cifar_core.charts import TRAIN_BATCH
from cifar_core.identity import owner_hash
from cifar_core.runs import RunStore
from tests.conftest import REPO, TEST_OWNER_KEY, chart_values, open_app


def test_home_lists_pages_in_lesson_order_and_the_data_source(app_env, cifar_dir):
    at = open_app()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "4,200,842" in text and "1,676,842" in text
    assert str(cifar_dir) in text  # the CIFAR10_DIR setting is shown
    assert "Conv2D(64, 3, 3)" in text
    headers = [h.value for h in at.header]
    assert headers[0] == "The lesson, step by step"


def test_home_page_does_not_import_tensorflow(app_env):
    code = (
        "import sys; from streamlit.testing.v1 import AppTest;"
        f"at = AppTest.from_file({str(REPO / 'app.py')!r}, default_timeout=60); at.run();"
        "assert not at.exception, at.exception;"
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def shows_the_run_live(at) -> bool:
    """The page shows a run mid-way: a progress bar past its first batch and the batch curve."""
    texts = [p.proto.text for p in at.get("progress")]
    done = [int(m.group(1)) for t in texts if (m := re.search(r"batch (\d+)/\d+", t))]
    curve = any(any(r.get("series") == TRAIN_BATCH for r in chart) for chart in chart_values(at))
    return bool(done) and max(done) >= 1 and curve


@pytest.mark.slow
def test_train_page_runs_a_tiny_training_to_the_end(app_env, monkeypatch, request):
    from cifar_core.training.callbacks import LiveMonitorCallback

    # The run may not end before the page has shown it live: its last epoch waits (at most a
    # minute) until a poll saw the progress bar and the curve. Without a working live view
    # the run ends late and saw_live stays False.
    seen_live = threading.Event()
    request.addfinalizer(seen_live.set)  # a failed test must not leave the run waiting
    epoch_end = LiveMonitorCallback.on_epoch_end

    def wait_to_be_seen(self, epoch, logs=None):
        epoch_end(self, epoch, logs)
        seen_live.wait(60)

    monkeypatch.setattr(LiveMonitorCallback, "on_epoch_end", wait_to_be_seen)
    at = open_app("pages/train.py")
    assert not at.exception
    assert "No saved runs yet" in " ".join(c.value for c in at.caption)
    at.slider(key="train_size").set_value(300)
    at.slider(key="train_epochs").set_value(1)
    at.button(key="train_start").click()
    at.run()
    assert not at.exception
    deadline = time.monotonic() + 240
    saw_live = False
    while not any(m.label == "Test accuracy" for m in at.metric):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.5)
        at.run()  # run_every timers do not fire in AppTest: poll by hand
        assert not at.exception, at.exception
        if not saw_live and shows_the_run_live(at):
            saw_live = True
            seen_live.set()
    assert saw_live, "no poll showed the run's progress and curve while it trained"
    accuracy = next(m for m in at.metric if m.label == "Test accuracy").value
    assert accuracy.endswith("%") and 0 <= float(accuracy[:-1]) <= 100
    assert [s.value for s in at.success] == [
        "Finished. Its curves and results are in **Results** below."
    ]
    rows = chart_values(at)
    assert any(any(r.get("series") == TRAIN_BATCH for r in chart) for chart in rows)
    assert any(any("count" in r for r in chart) for chart in rows)  # the confusion matrix
    # The test-image grid: one element of 24 images, marks in the captions (the mistakes
    # explorer's images above it are one element each).
    (grid,) = [e for e in at.get("image") if len(e.proto.imgs) > 1]
    captions = [img.caption for img in grid.proto.imgs]
    assert len(captions) == 24 and all(c[0] in "✓✗" and "true:" in c for c in captions)
    runs = list(app_env.iterdir())
    assert len(runs) == 1 and (runs[0] / "model.keras").is_file()


def test_train_page_lists_damaged_runs_without_crashing(app_env):
    damaged = app_env / "20260101-080000-abcdef"
    damaged.mkdir(parents=True)
    (damaged / "config.json").write_text("{broken")
    RunStore(app_env).add_owners(damaged.name, [owner_hash(TEST_OWNER_KEY)])  # the student's
    at = open_app("pages/train.py")
    assert not at.exception
    assert any("damaged" in w.value for w in at.warning)


def test_train_page_reopens_a_saved_run(app_env, trained_store, monkeypatch):
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(trained_store.root))
    at = open_app("pages/train.py")
    assert not at.exception
    (info,) = trained_store.list_runs()
    assert at.selectbox(key="train_run_picker").value == info.run_id
    shown = next(m for m in at.metric if m.label == "Test accuracy").value
    assert shown == f"{info.test_accuracy:.1%}"
    labels = [b.label for b in at.get("download_button")]
    assert "Model (.keras)" in labels and "History (CSV)" in labels
    # Take it home: the model card and the notebook of the run (made when clicked).
    for label in ("Model card (Markdown)", "Model card (HTML)", "Notebook (.ipynb)"):
        assert label in labels
    assert "Python script (.py)" in labels


@pytest.mark.slow
def test_lab_settings_train_with_augmentation_and_are_recorded(app_env):
    from cifar_core.augmentation.params import LESSON_PRESET

    at = open_app("pages/train.py")
    assert not at.get("toggle")  # nothing handed over yet: no toggle
    at.session_state["augment_params"] = LESSON_PRESET.to_dict()
    at.run()
    assert at.toggle(key="train_augment").value is True
    at.slider(key="train_size").set_value(200)
    at.slider(key="train_epochs").set_value(1)
    at.button(key="train_start").click()
    at.run()
    deadline = time.monotonic() + 240
    while not any(m.label == "Test accuracy" for m in at.metric):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception
    (folder,) = app_env.iterdir()
    saved = json.loads((folder / "config.json").read_text())
    assert saved["augment"] == LESSON_PRESET.to_dict()
    assert any("Augmentation settings used" in e.label for e in at.expander)


def test_settings_survive_a_visit_to_another_page(app_env):
    at = open_app(page="pages/train.py")
    at.slider(key="train_epochs").set_value(3)
    at.select_slider(key="train_batch").set_value(64)
    at.radio(key="train_model").set_value("shallow").run()
    at.switch_page("pages/home.py").run()
    assert not at.exception
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.slider(key="train_epochs").value == 3
    assert at.select_slider(key="train_batch").value == 64
    assert at.radio(key="train_model").value == "shallow"
    assert not at.warning  # no "default value also set via Session State" warning
