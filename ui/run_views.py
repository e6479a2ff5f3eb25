"""Views of one training run (live or saved), shared by the pages that show runs."""

from __future__ import annotations

import time
from collections.abc import Hashable

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core import live_view
from cifar_core.data import Cifar10
from cifar_core.evaluation import framed, is_guessing, learning_problem, pick_grid
from cifar_core.explain.mistakes import predicted_classes
from cifar_core.images import png_bytes
from cifar_core.models import count_params
from cifar_core.runs import (
    ARCHITECTURE_FILE,
    BEST_WEIGHTS_FILE,
    INTERRUPTED,
    MODEL_FILE,
    PREDICTIONS_FILE,
    WEIGHTS_FILE,
    Run,
    RunStoreError,
)
from cifar_core.training import TrainConfig
from cifar_core.training.monitor import (
    CANCELLED,
    EVALUATING,
    FAILED,
    FINISHED,
    PREPARING,
    QUEUED,
    SAVING,
    STOPPED,
    Snapshot,
)
from cifar_core.training.phases import around_training_share, phase_rows
from cifar_core.training.queue import shared_manager
from cifar_core.training.teacher_stops import TEACHER_STOP_NOTE
from ui import explain
from ui.common import load_saved_run
from ui.take_home import take_home

STATUS_TEXT = {
    QUEUED: "Waiting for a free slot",
    PREPARING: "Preparing the data and building the model…",
    EVALUATING: "Training done — scoring every test image…",
    SAVING: "Saving the model and the results…",
    FINISHED: "Finished.",
    STOPPED: "Stopped early — everything learned up to the stop is kept and saved.",
    FAILED: "Failed.",
    CANCELLED: "Cancelled before it started — nothing was trained.",
}
# The final line of a run the teacher stopped (or cancelled before it started).
TEACHER_TEXT = {
    STOPPED: "Stopped by the teacher — everything learned up to the stop is kept and saved.",
    CANCELLED: "Cancelled by the teacher before it started — nothing was trained.",
}


def duration(seconds: float | None) -> str:
    """'1 min 05 s' / '42 s' / '—'."""
    if seconds is None or not np.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def config_summary(config: dict) -> str:
    """One line a student can read: what was trained, on how much, how."""
    cfg = TrainConfig.from_dict(config)
    n_train, n_val = cfg.split_sizes()
    aug = "with augmentation" if cfg.augment else "no augmentation"
    return (
        f"**{C.MODEL_LABELS[cfg.model]}** · {n_train:,} training + {n_val:,} validation images · "
        f"{cfg.epochs} epochs · batch {cfg.batch_size} · "
        f"{C.OPTIMIZER_LABELS[cfg.optimizer]} lr {cfg.learning_rate:g} · seed {cfg.seed} · {aug}"
    )


# What the curves show (once under the charts, live or saved), after "Loss and accuracy".
CURVES_NOTE = (
    "per batch (thin line) and at the end of each epoch for training and validation (dashed, "
    "with dots). The thin line is Keras' running mean since the start of the epoch, and it "
    "starts again at every epoch: the first points of an epoch average only a few batches, so "
    "the line jumps there. That jump comes from the restarted average, not from a sudden "
    "change in the network. In long runs each point averages a group of batches, and the "
    "light band spans its lowest to highest batch. Accuracy is drawn on 0–100% and loss from "
    "0, so a small wiggle looks small."
)


def curves(
    batches: list | tuple,
    epochs: list | tuple,
    config: dict,
    key: str,
    cache_key: Hashable | None = None,
    notes: bool = True,
) -> None:
    """Loss and accuracy charts side by side.

    Args:
        batches: bounded batch points (a live snapshot, a new run's history) or an old run's
            full per-batch list (downsampled, so any run length costs the same to chart).
        cache_key: a live job's Snapshot.chart_key: the charts are then built once per
            version for every session watching (live_view.LIVE_CHARTS) and re-emitted as is.
        notes: write what the curves show under the charts (the live panel writes it once,
            outside its polled fragment).
    """
    cfg = TrainConfig.from_dict(config)
    steps = cfg.steps_per_epoch()
    specs = live_view.curve_specs(batches, epochs, steps, cfg.epochs, cache_key=cache_key)
    left, right = st.columns(2)
    for column, metric in ((left, "loss"), (right, "accuracy")):
        # A ready spec with Arrow data: Streamlit sends it without re-validating or converting.
        column.vega_lite_chart(spec=specs[metric], width="stretch", key=f"{key}_{metric}")
    if notes:
        st.caption(f"Loss and accuracy {CURVES_NOTE}")


def live_status(snap: Snapshot, config: dict, wait_seconds: float | None = None) -> None:
    """The progress line and bar of a job that is not finished yet.

    Args:
        wait_seconds: estimated time until a queued job starts, if known.
    """
    if snap.status == QUEUED:
        where = f"number {snap.queue_position} in the queue" if snap.queue_position else "queued"
        when = f" It should start in about {duration(wait_seconds)}." if wait_seconds else ""
        st.info(
            f"⏳ {STATUS_TEXT[QUEUED]}: you are **{where}**.{when} This server trains a "
            "limited number of networks at a time so each run gets enough CPU; yours starts "
            "when the ones ahead finish.",
        )
        return
    if snap.status in STATUS_TEXT:
        st.caption(STATUS_TEXT[snap.status])
    cfg = TrainConfig.from_dict(config)
    epoch = snap.batches[-1]["epoch"] if snap.batches else 1
    parts = [f"epoch {epoch}/{cfg.epochs}", f"batch {snap.steps_done}/{snap.total_steps or '?'}"]
    if snap.images_per_second:
        parts.append(f"{snap.images_per_second:,.0f} images/s")
    if snap.eta_seconds is not None:
        parts.append(f"about {duration(snap.eta_seconds)} left")
    if snap.stop_requested:
        by_teacher = shared_manager().stopped_by_teacher(monitor_id=snap.monitor_id)
        parts.append(
            f"{'the teacher stopped this run: ' if by_teacher else ''}stopping after this batch…"
        )
    st.progress(snap.progress, text=" · ".join(parts))


def metrics_row(run: Run) -> None:
    """Test accuracy and friends as big numbers."""
    result = run.result
    cols = st.columns(5)
    cols[0].metric("Test accuracy", f"{result['test_accuracy']:.1%}")
    cols[1].metric("Test loss", f"{result['test_loss']:.3f}")
    best = result.get("best_val_accuracy")
    cols[2].metric(
        "Best validation accuracy",
        f"{best:.1%}" if best is not None else "—",
        help=f"at epoch {result.get('best_epoch')}; those weights are saved as {BEST_WEIGHTS_FILE}",
    )
    cols[3].metric("Training time", duration(result.get("train_seconds")))
    speed = result.get("images_per_second")
    cols[4].metric("Speed", f"{speed:,.0f} img/s" if speed else "—")


def prediction_grid(run: Run, data: Cifar10 | None, key: str) -> None:
    """Test images with true and predicted labels; mistakes framed red and marked ✗."""
    if not run.has(PREDICTIONS_FILE):
        return
    seed = st.session_state.get(f"{key}_grid_seed", 0)

    def build() -> tuple[list[bytes], list[str]] | None:
        saved = load_saved_run(str(run.path.parent), run.run_id)
        if saved.predictions_error:
            raise RunStoreError(saved.predictions_error)
        preds = saved.predictions
        probs = preds["test_probs"].astype(np.float32)
        y_true = preds["test_labels"].astype(np.int64)
        if data is None or len(data.x_test) != len(y_true):
            return None
        y_pred = predicted_classes(probs)
        names = run.result.get("class_names", list(C.CLASS_NAMES))
        images, captions = [], []
        for i in pick_grid(y_true, y_pred, C.RESULT_GRID_SIZE, seed):
            ok = bool(y_pred[i] == y_true[i])
            images.append(png_bytes(framed(data.x_test[i], ok)))
            mark = "✓" if ok else "✗"
            captions.append(
                f"{mark} {names[y_pred[i]]} {probs[i, y_pred[i]]:.0%} · true: {names[y_true[i]]}"
            )
        return images, captions

    # Encoded once per run and grid for every session (a shared run's watchers all show it).
    source = data.source if data is not None else None
    try:
        grid = live_view.LIVE_CHARTS.get(
            ("grid", str(run.path), run.status.get("updated"), seed, source), build
        )
    except RunStoreError as exc:  # the predictions file changed or broke since the run loaded
        st.warning(f"The test images of this run cannot be shown: {exc}")
        return
    if grid is None:
        st.caption(
            "The test images of this run are not loaded (different data set), so the grid is hidden."
        )
        return
    images, captions = grid
    st.image(images, caption=captions, width=110)
    st.caption(
        "Test images the network never saw during training. Green frame and ✓: correct; red frame "
        "and ✗: a mistake. Each caption gives the prediction, the network's confidence and the "
        "true class. About half of the grid are mistakes, chosen on purpose so there is "
        "something to discuss."
    )
    if st.button("Show other images", key=f"{key}_grid_reroll"):
        st.session_state[f"{key}_grid_seed"] = seed + 1
        st.rerun()


def predict_snippet(model_file: str) -> str:
    """Keras code that loads a downloaded .keras file and predicts one image, as trained."""
    return (
        "import keras\n"
        f'model = keras.saving.load_model("{model_file}")\n'
        'x = image.astype("float32") / 255  # image: a (32, 32, 3) uint8 RGB array\n'
        "probs = model.predict(x[None], verbose=0)[0]  # 10 probabilities, in class order"
    )


def downloads(run: Run, key: str) -> None:
    """Download buttons for the model files and the history, and how to feed the model."""
    files = [
        (MODEL_FILE, "Model (.keras)", "application/octet-stream"),
        (WEIGHTS_FILE, "Final weights", "application/octet-stream"),
        (BEST_WEIGHTS_FILE, "Best-epoch weights", "application/octet-stream"),
        (ARCHITECTURE_FILE, "Architecture (JSON)", "application/json"),
    ]
    st.caption(
        f"Weights are `.weights.h5` files; best-epoch weights are those of the epoch with the "
        f"highest validation accuracy ({BEST_WEIGHTS_FILE})."
    )
    cols = st.columns(len(files) + 1)
    for column, (name, label, mime) in zip(cols, files, strict=False):
        if run.has(name):
            column.download_button(
                label,
                # a callable: the file is read only when the button is clicked
                data=lambda name=name: run.read_bytes(name),
                file_name=f"{run.run_id}-{name}",
                mime=mime,
                on_click="ignore",
                key=f"{key}_dl_{name}",
            )
    cols[-1].download_button(
        "History (CSV)",
        data=run.history_csv("epochs"),
        file_name=f"{run.run_id}-history.csv",
        mime="text/csv",
        on_click="ignore",
        key=f"{key}_dl_history",
    )
    if not run.has(MODEL_FILE):
        return
    st.caption(
        "The model expects what it trained on: 32×32 RGB images as float32 pixels divided by "
        "255 (values 0–1), not 0–255. The files are float32 even when this server trained in "
        "mixed bfloat16. To predict one image with the .keras file (`probs.argmax()` is the "
        f"class: 0 = {C.CLASS_NAMES[0]} … 9 = {C.CLASS_NAMES[-1]}):"
    )
    st.code(predict_snippet(f"{run.run_id}-{MODEL_FILE}"), language="python")


def show_run(run: Run, data: Cifar10 | None, key: str = "run", status: str | None = None) -> None:
    """Everything about a saved run: status, config, metrics, curves, errors, downloads.

    Args:
        status: the status as the run list derived it (e.g. "interrupted" for a run left
            "running" by a server restart); defaults to the saved one.
    """
    status = status or run.status.get("status", "?")
    when = time.strftime("%d %b %Y %H:%M", time.localtime(run.status.get("created", 0)))
    st.markdown(f"Run `{run.run_id}` · {when} · **{status}**")
    st.markdown(config_summary(run.config))
    if status == INTERRUPTED:
        st.warning(
            "This run was cut off (the server restarted while it trained), so it has no "
            "results. Train again with the same settings to get them."
        )
    message = run.status.get("message") or ""
    # A run the teacher stopped says so: its saved note does a moment after it ends (the job
    # manager adds it), and until then the manager knows.
    if (
        status == STOPPED
        and not message.startswith(TEACHER_STOP_NOTE)
        and shared_manager().stopped_by_teacher(run_id=run.run_id)
    ):
        message = f"{TEACHER_STOP_NOTE} {message}".strip()
    if message:
        (st.error if status == FAILED else st.info)(message)
    if run.config.get("augment"):
        with st.expander("Augmentation settings used"):
            st.json(run.config["augment"])
    if not run.result:
        st.warning("This run has no test results (it did not get that far).")
        return
    history = run.history
    epochs = history.get("epochs", [])
    # A run that learned nothing must not read like any other: say so before its numbers.
    problem = learning_problem(run.result, epochs, run.config)
    if problem:
        st.warning(problem, icon="🎲")
    metrics_row(run)
    # A saved run does not change: its charts are built once for every session that shows it
    # (when a shared run ends, all its watchers rerun this in the same second).
    run_key = (str(run.path), run.status.get("updated"))
    curves(history.get("batches", []), epochs, run.config, key, run_key)
    names = run.result.get("class_names", list(C.CLASS_NAMES))
    specs = live_view.saved_run_specs(run_key, run.result, names)
    confusion_note, per_class_note = result_notes(is_guessing(run.result, epochs))
    st.vega_lite_chart(spec=specs["per_class"], width="stretch", key=f"{key}_per_class")
    st.caption(per_class_note)
    explain.run_explorer(run, data, names, key, run_key, confusion_note)
    st.subheader("Test images: prediction vs truth")
    prediction_grid(run, data, key)
    st.subheader("Download")
    downloads(run, key)
    take_home(run, data, key)
    trained_in = run.result.get("precision", "float32")
    how = (
        "mixed bfloat16 (bfloat16 arithmetic, float32 weights and output layer); the files are "
        "saved as float32"
        if trained_in == "bfloat16"
        else "float32"
    )
    st.caption(
        f"{count_params(run.config['model']):,} parameters. Trained with TensorFlow "
        f"{run.result.get('versions', {}).get('tensorflow', '?')} in {how}. Load the .keras "
        "file with `keras.saving.load_model(path)`; load weights into the same architecture "
        "with `model.load_weights(path)`. The model expects pixels divided by 255 (values "
        "0–1), as it was trained."
    )
    time_spent(run)


def result_notes(guessing: bool) -> tuple[str, str]:
    """Captions of the confusion matrix and the per-class bars; a guessing run's say so."""
    if guessing:
        return (
            "Rows: the true class; columns: what the network said. This run did not learn to "
            "tell the classes apart (see the warning above), so this matrix shows how it "
            "guesses: its off-diagonal numbers are not pairs of classes that look alike.",
            "Share of each class's test images the network classified correctly. A run that "
            "guesses scores high on the class it answers most and near 0 on the others: these "
            "bars show its guess, not which classes are easy.",
        )
    return (
        "Rows: the true class; columns: what the network said. The diagonal holds the correct "
        "answers; a big number off the diagonal is a pair of classes the network mixes up.",
        "Share of each class's test images the network classified correctly.",
    )


def time_spent(run: Run) -> None:
    """Where the run's time went, phase by phase (runs saved before phases were kept: none)."""
    phases = run.result.get("phases")
    if not isinstance(phases, dict) or not phases:
        return
    rows = phase_rows(phases)
    total = sum(r["seconds"] for r in rows)
    around = around_training_share(phases) or 0.0
    with st.expander(f"Where the time went: {duration(total)}, {around:.0%} of it around training"):
        st.dataframe(
            [
                {
                    "Phase": r["phase"],
                    "Seconds": round(r["seconds"], 2),
                    "Share": f"{r['share']:.0%}",
                    "What": r["what"],
                }
                for r in rows
            ],
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "Measured by the training job from the moment the run was asked for to its saved "
            "result. Importing TensorFlow and choosing the precision happen once per server "
            "(usually in the background right after it starts), so later runs skip them."
        )
