"""AppTest of the Shallow vs deep page: two real saved runs compared, cells, photo, Run both."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cifar_core.comparison import analysis as K
from cifar_core.comparison import charts as CC
from cifar_core.comparison import references as R
from cifar_core.evaluation import confusion_matrix
from cifar_core.explain import mistakes as M
from cifar_core.identity import owner_hash
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig, TrainingJob
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import REPO, TEST_OWNER_KEY, chart_values, open_app

PAGE = "pages/shallow_vs_deep.py"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, sample_data, trained_store) -> RunStore:
    """A store with one shallow and one deep finished run on the same tiny budget.

    The deep run is the session's `trained_store` run (copied); the shallow one is trained
    here with the same config (300 real images, 1 epoch, batch 64, seed 1).
    """
    store = RunStore(tmp_path_factory.mktemp("svd") / "runs")
    (deep,) = trained_store.list_runs()
    shutil.copytree(trained_store.path(deep.run_id), store.path(deep.run_id))
    config = TrainConfig(**{**deep.config, "model": "shallow"})
    job = TrainingJob(config, sample_data, store)
    job.add_owner(owner_hash(TEST_OWNER_KEY))  # the test student's, like the deep one
    job = JobManager(1).submit(job)
    assert wait_for(job, timeout=300), "the tiny shallow training did not finish"
    assert job.monitor.snapshot().status == "finished", job.monitor.snapshot().message
    return store


@pytest.fixture()
def page_with_runs(app_env, two_runs, monkeypatch):
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(two_runs.root))
    at = open_app(PAGE)
    assert not at.exception, at.exception
    return at


def run_ids(store: RunStore) -> dict[str, str]:
    return {info.config["model"]: info.run_id for info in store.list_runs()}


def chart_specs(at) -> list[dict]:
    elements = at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
    return [json.loads(element.proto.spec) for element in elements]


def image_captions(at) -> list[str]:
    return [img.caption for element in at.get("image") for img in element.proto.imgs]


def markdown_text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def poll(at, done, timeout: float = 240) -> None:
    """Rerun the page until `done(at)` (run_every timers do not fire in AppTest)."""
    deadline = time.monotonic() + timeout
    while not done(at):
        assert time.monotonic() < deadline, "timed out waiting for the page"
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception


# --- without runs --------------------------------------------------------------------------------


def test_page_without_runs_shows_the_architectures_and_says_what_to_do(app_env):
    at = open_app(PAGE)
    assert not at.exception, at.exception
    info = " ".join(i.value for i in at.info)
    assert "No finished runs to compare yet" in info and "Run both" in info
    text = markdown_text(at)
    assert "4,200,842 parameters" in text and "1,676,842 parameters" in text
    share = K.dominant_layer("shallow")["share"]
    assert f"{share:.1%}" in text and "8,192 inputs" in text  # computed, not typed in
    assert "Conv2D(64, 3, 3)" in info  # the stride note next to the deep net
    assert len(at.dataframe) == 2  # both layer tables
    assert at.button(key="svd_start").label == "Run both"
    assert not at.get("toggle") or all(t.key != "svd_augment" for t in at.toggle)


def test_the_augmentation_toggle_appears_only_with_lab_settings(app_env):
    params = {"rotation_range": 10.0, "horizontal_flip": True}
    at = open_app(PAGE, session_state={"augment_params": params})
    assert not at.exception, at.exception
    assert at.toggle(key="svd_augment").value is False


# --- two saved runs ------------------------------------------------------------------------------


def test_shared_settings_survive_a_visit_to_another_page(app_env):
    at = open_app(PAGE)
    at.slider(key="svd_epochs").set_value(4)
    at.select_slider(key="svd_lr").set_value(0.01).run()
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.slider(key="svd_epochs").value == 4
    assert at.select_slider(key="svd_lr").value == 0.01


def test_two_saved_runs_are_compared_side_by_side(page_with_runs, two_runs):
    at = page_with_runs
    ids = run_ids(two_runs)
    # Defaults: the newest shallow run as A and the newest deep run as B.
    assert at.selectbox(key="svd_run_a").value == ids["shallow"]
    assert at.selectbox(key="svd_run_b").value == ids["deep"]

    table = next(m.value for m in at.markdown if m.value.startswith("| |"))
    assert "| | shallow | deep | better |" in table
    assert "| Parameters | 4,200,842 | 🏆 **1,676,842** | lower |" in table
    for metric in ("Seconds per epoch", "Test accuracy", "Final gap"):
        assert metric in table
    assert "not the same budget" not in " ".join(w.value for w in at.warning)

    charts = chart_values(at)
    curves = [c for c in charts if any(r.get("kind") == "epoch" for r in c)]
    assert len(curves) == 2  # loss and accuracy
    assert {r["model"] for r in curves[0]} == {"shallow", "deep"}
    assert all(r["val_accuracy"] is not None for r in curves[1])
    refs = next(c for c in charts if any("group" in r for r in c))
    published = [r for r in refs if r["group"] == CC.PUBLISHED]
    assert {r["source"] for r in published} == {
        R.GULLI_PAL,
        R.KERAS_EXAMPLE,
        R.NOTEBOOKS,
        R.NOTEBOOK_PROSE,
    }
    mine = [r for r in refs if r["group"] == CC.MEASURED]
    assert len(mine) == 2 and all(
        r["label"].endswith("· 300 training images · 1 epoch") for r in mine
    )
    per_class = next(c for c in charts if any("class" in r for r in c))
    assert {r["model"] for r in per_class} == {"shallow", "deep"}
    confusions = [c for c in charts if any("count" in r for r in c)]
    assert len(confusions) == 2 and all(sum(r["count"] for r in c) == 1017 for c in confusions)
    # These tiny runs (300 images, 1 epoch) may be guessing: then the page says so instead of
    # listing "most confused pairs" that would read like findings.
    from cifar_core.evaluation import is_guessing

    for model, run_id in ids.items():
        run = two_runs.load(run_id)
        if is_guessing(run.result, run.history["epochs"]):
            assert any(model in w.value and "What to change" in w.value for w in at.warning)
            assert any(f"{model} was guessing" in c.value for c in at.caption)
        else:
            assert "Most confused pairs" in markdown_text(at)
    assert "a short classroom run on a subset lands lower" in markdown_text(at)
    # One seed each: the verdict names no winner and says why.
    assert "with one seed each, that cannot tell which design is better" in markdown_text(at)


def test_the_x_axis_switches_to_seconds(page_with_runs):
    at = page_with_runs
    at.radio(key="svd_x_axis").set_value("seconds").run()
    assert not at.exception, at.exception
    encoded = json.dumps(chart_specs(at)[0])
    assert '"field": "seconds"' in encoded and "seconds of training" in encoded


def test_disagreements_and_a_chosen_confusion_cell_show_test_images(page_with_runs, two_runs):
    at = page_with_runs
    ids = run_ids(two_runs)
    preds = {m: two_runs.load(i).predictions() for m, i in ids.items()}
    y = preds["deep"]["test_labels"].astype(np.int64)
    pred_s, pred_d = (M.predicted_classes(preds[m]["test_probs"]) for m in ("shallow", "deep"))
    split = K.disagreements(y, pred_s, pred_d)
    text = markdown_text(at)
    assert f"Only shallow is right on **{len(split.a_only):,}**" in text
    assert f"only deep is right on **{len(split.b_only):,}**" in text

    # Choose the deep run's biggest mistake cell with the explorer's pickers.
    true_class, pred_class = M.largest_mistake_cell(confusion_matrix(y, pred_d))
    at.radio(key="svd_mx_network").set_value(1)
    at.selectbox(key="svd_mx_true").set_value(true_class)
    at.selectbox(key="svd_mx_pred").set_value(pred_class)
    at.run()
    assert not at.exception, at.exception
    expected = M.cell_indices(y, pred_d, true_class, pred_class)
    names = two_runs.load(ids["deep"]).result["class_names"]
    assert len(expected) > 0
    assert (
        f"**{len(expected):,}** test images of class **{names[true_class]}** that deep called "
        f"**{names[pred_class]}**, the most confident first"
    ) in markdown_text(at)
    # Each image of the cell: deep's wrong answer first (its top three), then the true class;
    # the most confident mistake first.
    probs = preds["deep"]["test_probs"].astype(np.float32)
    shown = [c for c in image_captions(at) if c.endswith(")") and "— true: " in c]
    assert len(shown) == min(len(expected), 12)
    assert all(c.startswith(f"✗ {names[pred_class]} ") for c in shown)
    assert all(f"— true: {names[true_class]} (#" in c for c in shown)
    order = [int(c.rsplit("#", 1)[1].rstrip(")")) for c in shown]
    assert set(order) <= set(expected.tolist())
    confidences = probs[order, pred_class]
    assert np.all(np.diff(confidences) <= 1e-6), confidences


def test_two_different_runs_must_be_chosen(page_with_runs, two_runs):
    at = page_with_runs
    at.selectbox(key="svd_run_b").set_value(run_ids(two_runs)["shallow"]).run()
    assert not at.exception, at.exception
    assert any("Pick two different runs" in w.value for w in at.warning)


def test_first_render_with_runs_does_not_import_tensorflow(app_env, two_runs):
    code = (
        "import os, sys; from streamlit.testing.v1 import AppTest;"
        f"os.environ['CIFAR_RUNS_DIR'] = {str(two_runs.root)!r};"
        f"at = AppTest.from_file({str(REPO / 'app.py')!r}, default_timeout=60);"
        f"at.session_state['session_owner'] = {TEST_OWNER_KEY!r}; at.run();"  # the runs' owner
        f"at.switch_page({PAGE!r}); at.run();"
        "assert not at.exception, at.exception;"
        "assert any(h.value == 'Scoreboard' for h in at.header);"
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.slow
def test_look_inside_shows_filters_and_feature_maps(page_with_runs):
    at = page_with_runs
    at.toggle(key="svd_look").set_value(True).run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("conv1 filters") == 4  # two runs × after / before training
    for layer in ("conv1", "conv2", "conv3", "conv4"):
        assert f"after {layer}: first 8 channels" in captions
    images = {
        element.proto.imgs[0].caption or str(i): len(element.proto.imgs)
        for i, element in enumerate(at.get("image"))
    }
    assert 32 in images.values() and 8 in images.values()  # 32 filters, 8 channels


def png_bytes() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_an_uploaded_photo_gets_top_three_from_each_network(page_with_runs, monkeypatch):
    at = page_with_runs
    at.file_uploader(key="svd_upload").upload("photo.png", png_bytes(), "image/png").run()
    assert not at.exception, at.exception
    text = markdown_text(at)
    for label in ("shallow", "deep"):
        block = next(m.value for m in at.markdown if m.value.startswith(f"**{label}**"))
        assert block.count("%") == 3 and "1. " in block and "3. " in block
    assert any("ten labels" in i.value for i in at.info)
    assert "what the networks see: 32×32 pixels" in image_captions(at)
    assert "Traceback" not in text

    from cifar_core import images, look_inside

    decodes = count_calls(monkeypatch, images, "decode_image")
    predictions = count_calls(monkeypatch, look_inside, "predict_image")
    at.run()
    at.radio(key="svd_x_axis").set_value("seconds").run()
    assert not at.exception, at.exception
    assert (decodes, predictions) == ([], [])  # reruns reuse the decoded photo and guesses
    assert sum(m.value.startswith(("**shallow**", "**deep**")) for m in at.markdown) == 2


def test_a_file_that_is_not_an_image_gives_a_clear_error(page_with_runs):
    at = page_with_runs
    at.file_uploader(key="svd_upload").upload("notes.png", b"not an image", "image/png").run()
    assert not at.exception, at.exception
    (error,) = at.error
    assert "not an image" in error.value


def count_calls(monkeypatch, module, name: str) -> list[int]:
    """Count the calls of module.name (the page imports it afresh on every rerun)."""
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_an_upload_is_decoded_once_across_reruns(page_with_runs, monkeypatch):
    from ui import upload

    decodes = count_calls(monkeypatch, upload, "prepare_upload")  # the one upload widget's decoding
    at = page_with_runs
    at.file_uploader(key="svd_upload").upload("notes.png", b"not an image", "image/png").run()
    at.run()
    at.radio(key="svd_x_axis").set_value("seconds").run()  # any widget change reruns the page
    assert not at.exception, at.exception
    assert "not an image" in at.error[0].value
    assert len(decodes) == 1
    at.file_uploader(key="svd_upload").upload("other.png", b"still not", "image/png").run()
    assert len(decodes) == 2 and "not an image" in at.error[0].value
    at.file_uploader(key="svd_upload").clear().run()
    assert not at.error and "svd_upload_decoded" not in at.session_state


# --- Run both ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_run_both_queues_two_jobs_and_compares_them_when_done(app_env: Path):
    at = open_app(PAGE)
    at.slider(key="svd_train_size").set_value(200)
    at.slider(key="svd_epochs").set_value(1)
    at.button(key="svd_start").click()
    at.run()
    assert not at.exception, at.exception
    jobs = at.session_state["svd_jobs"]
    assert [j.config.model for j in jobs] == ["shallow", "deep"]
    assert jobs[0].config.to_dict() | {"model": "deep"} == jobs[1].config.to_dict()
    saw_queue = any("in the queue" in i.value for i in at.info)

    def both_compared(at) -> bool:
        nonlocal saw_queue
        saw_queue = saw_queue or any("in the queue" in i.value for i in at.info)
        return any(h.value == "Scoreboard" for h in at.header)

    poll(at, both_compared)
    assert saw_queue  # the deep job waited while the shallow one trained
    assert [j.monitor.snapshot().status for j in jobs] == ["finished", "finished"]
    assert at.selectbox(key="svd_run_a").value == jobs[0].monitor.snapshot().run_id
    assert at.selectbox(key="svd_run_b").value == jobs[1].monitor.snapshot().run_id
    curves = [c for c in chart_values(at) if any(r.get("kind") == "epoch" for r in c)]
    assert curves and {r["model"] for r in curves[0]} == {"shallow", "deep"}
    assert len(list(app_env.iterdir())) == 2


@pytest.mark.slow
def test_stop_both_stops_the_running_job_and_cancels_the_waiting_one(app_env: Path):
    at = open_app(PAGE)
    at.slider(key="svd_train_size").set_value(2000)
    at.slider(key="svd_epochs").set_value(5)
    at.button(key="svd_start").click()
    at.run()
    jobs = at.session_state["svd_jobs"]
    poll(at, lambda _: jobs[0].monitor.snapshot().status == "training", timeout=120)
    at.button(key="svd_stop").click()
    at.run()
    assert not at.exception, at.exception
    assert at.button(key="svd_stop").disabled
    poll(at, lambda _: all(j.monitor.snapshot().is_final for j in jobs), timeout=120)
    assert jobs[0].monitor.snapshot().status == "stopped"  # kept and saved what it learned
    assert jobs[1].monitor.snapshot().status == "cancelled"


def test_while_the_sessions_pair_trains_no_half_pair_is_compared(app_env, two_runs, monkeypatch):
    # A new shallow run beside an old deep one would differ in more than depth: the page
    # waits for both of this session's runs instead of comparing a stale pair.
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(two_runs.root))
    config = TrainConfig(train_size=300, epochs=1)
    pending = [TrainingJob(config, None, two_runs), TrainingJob(config, None, two_runs)]
    at = open_app(PAGE, session_state={"svd_jobs": pending})
    assert not at.exception, at.exception
    assert "Your two runs are still training" in " ".join(i.value for i in at.info)
    assert not any(h.value == "Scoreboard" for h in at.header)


def test_cells_follow_the_runs_and_an_empty_cell_says_it_is_empty(page_with_runs, two_runs):
    at = page_with_runs
    ids = run_ids(two_runs)
    preds = {m: two_runs.load(i).predictions() for m, i in ids.items()}
    y = preds["shallow"]["test_labels"].astype(np.int64)
    matrix = confusion_matrix(y, M.predicted_classes(preds["shallow"]["test_probs"]))
    # The pickers start at run A's biggest mistake…
    assert (at.selectbox(key="svd_mx_true").value, at.selectbox(key="svd_mx_pred").value) == (
        M.largest_mistake_cell(matrix)
    )
    # …and a cell with no image says so instead of "0 test images".
    empty = np.argwhere(matrix == 0)
    true_class, pred_class = (int(v) for v in empty[0])
    at.radio(key="svd_mx_network").set_value(0)
    at.selectbox(key="svd_mx_true").set_value(true_class)
    at.selectbox(key="svd_mx_pred").set_value(pred_class).run()
    assert not at.exception, at.exception
    text = markdown_text(at)
    assert "this cell of its confusion matrix is 0" in text and "biggest mistake" in text
    assert "**0** test images" not in text


def test_a_one_pixel_photo_is_refused_with_its_size(page_with_runs):
    at = page_with_runs
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 0, 0)).save(buffer, format="PNG")
    at.file_uploader(key="svd_upload").upload("dot.png", buffer.getvalue(), "image/png").run()
    assert not at.exception, at.exception
    assert any("only 1×1 pixels" in e.value for e in at.error)


@pytest.mark.parametrize(("slots", "comparable"), [(1, True), (2, False)])
def test_run_both_says_whether_the_speeds_are_comparable(slots, comparable):
    from ui.run_both import cpu_note

    note = cpu_note(slots)
    assert ("each gets the whole CPU" in note) is comparable
    assert (f"up to {slots} runs at once" in note) is not comparable
