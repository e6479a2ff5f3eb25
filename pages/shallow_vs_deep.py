"""Shallow vs deep: both networks on the same data and budget, side by side."""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core import live_view
from cifar_core.comparison import analysis as K
from cifar_core.comparison import references as R
from cifar_core.comparison import scoreboard as S
from cifar_core.comparison import verdict as V
from cifar_core.comparison.charts import (
    comparison_curves,
    confusion_cells,
    per_class_grouped,
    reference_chart,
)
from cifar_core.data import Cifar10
from cifar_core.evaluation import (
    confusion_matrix,
    is_guessing,
    learning_problem,
    per_class_accuracy,
)
from cifar_core.images import upscale_nearest
from cifar_core.lessons import NOT_SHOWN_HERE
from cifar_core.models import CONV_STRIDE_NOTE, count_mult_adds, count_params, layer_table
from cifar_core.runs import MODEL_FILE, Run, RunStore, RunStoreError
from cifar_core.training import TrainingJob
from cifar_core.training.queue import JobManager
from ui import run_views
from ui.common import (
    LATEST_RUN_KEY,
    budget_ui,
    get_data,
    get_manager,
    get_store,
    load_saved_run,
    request_training,
    session_owner,
    unwatch_job,
    watch_job,
)
from ui.compat import require_app_navigation
from ui.lesson_runs import see_it
from ui.train_form import SVD_FORM, train_form
from ui.upload import photo_upload

if TYPE_CHECKING:  # TensorFlow is imported only when a section needs a model
    import keras

require_app_navigation()

JOBS_KEY = "svd_jobs"  # the (shallow, deep) TrainingJobs this session started or joined
WATCH_KEY = "svd_watch"  # this session's watch of those two jobs (ui.common.watch_job)
LEFT_KEY = "svd_left"  # id of the job pair this session stopped or left
HANDLED_KEY = "svd_handled_jobs"  # id of the job pair whose end we already reacted to
PENDING_KEY = "svd_pending_pair"  # run ids to select in the pickers on the next full run
RUN_KEYS = ("svd_run_a", "svd_run_b")  # the two run pickers
CELL_APPLIED_KEY = "svd_cell_applied"  # the last chart click copied into the cell pickers
CELL_PAIR_KEY = "svd_cell_pair"  # the runs the cell pickers were set for
DISAGREE_SEED_KEY = "svd_disagree_seed"
IMAGES_SHOWN = 12  # images per disagreement list or confusion cell
IMAGE_SCALE = 3  # 32 px → 96 px, nearest neighbour so pixels stay visible

st.title("Shallow vs deep")
st.markdown(
    """
The lesson has two networks. The **shallow** one has a single convolution layer and then one
huge Dense layer; the **deep** one stacks four small convolution layers before its Dense layer.
The deep network has *fewer* parameters but does more arithmetic per image. Which one learns
better depends on the budget: the published runs of these designs used 40,000–50,000 images
and 20–60 epochs, while on a short classroom run the shallow network often keeps up or wins —
and overfits sooner. You only see it when both train on the same images with the same budget,
over more than one seed, so this page trains them together and puts every result side by side.
"""
)

see_it("shallow_overfits_more")
st.caption(NOT_SHOWN_HERE["deep_overtakes"])

data = get_data()
store, manager = get_store(), get_manager()


# --- 1. The two architectures ---------------------------------------------------------------


# Layer tables side by side, with where the parameters sit, computed (not typed in).
def architectures_ui() -> None:
    st.header("The two architectures")
    columns = st.columns(2)
    for column, name in zip(columns, C.MODEL_NAMES, strict=True):
        with column:
            st.subheader(C.MODEL_LABELS[name])
            rows = [
                {
                    "layer": r["layer"],
                    "output shape": " × ".join(map(str, r["output_shape"])),
                    "parameters": r["params"],
                    "multiply-adds": r["mult_adds"],
                }
                for r in layer_table(name)
            ]
            st.dataframe(rows, hide_index=True, width="stretch", key=f"svd_layers_{name}")
            top = K.dominant_layer(name)
            st.markdown(
                f"**{count_params(name):,} parameters** · **{count_mult_adds(name):,}** "
                f"multiply-adds per image. `{top['layer']}` alone holds "
                f"**{top['share']:.1%}** of the parameters ({top['params']:,}): each of its "
                f"{top['fan_in']:,} inputs is wired to each of its units."
            )
            if name == "deep":
                st.info(f"**conv4:** {CONV_STRIDE_NOTE}")
    ratio = count_mult_adds("deep") / count_mult_adds("shallow")
    st.caption(
        "Parameters are what the network stores; multiply-adds are the work per image. The "
        f"deep network stores fewer numbers but does {ratio:.1f}× more arithmetic per image, "
        "so each of its epochs takes longer: its convolutions reuse the same small filters at "
        "every position of the image."
    )


# --- 2. Run both ------------------------------------------------------------------------------


def stop_both(jobs: list[TrainingJob]) -> None:
    # Stops each job only if no other session watches it; otherwise this session leaves it.
    for job in jobs:
        manager.stop(job, session_owner())
    unwatch_job(key=WATCH_KEY)
    st.session_state[LEFT_KEY] = id(jobs)


# Both jobs, polled while they run: status (or place in the queue) and live curves.
def live_panel() -> None:
    jobs: list[TrainingJob] = st.session_state[JOBS_KEY]
    snaps = [job.monitor.snapshot() for job in jobs]
    labels = [job.config.model for job in jobs]
    for column, job, snap in zip(st.columns(len(jobs)), jobs, snaps, strict=True):
        with column:
            st.markdown(f"**{C.MODEL_LABELS[job.config.model]}**")
            if not snap.is_final:
                run_views.live_status(snap, job.config.to_dict(), manager.estimate_wait(job))
            elif snap.status == "failed":
                st.error(f"Training failed: {snap.message}")
            else:
                st.caption(run_views.STATUS_TEXT.get(snap.status, snap.status))
            if manager.watchers(job) > 1:
                st.caption("👥 Shared: other sessions asked for exactly these settings.")
    if not all(s.is_final for s in snaps):
        left = st.session_state.get(LEFT_KEY) == id(jobs)
        if st.button("Stop both", key="svd_stop", disabled=left):
            stop_both(jobs)
            st.rerun(scope="app")
        if left:
            st.caption("Stopping (a run shared with other sessions goes on for them).")
    if any(s.batches or s.epochs for s in snaps):
        # Built once per pair of curve versions for every watching session, then re-emitted
        # as is (Streamlit drops elements a fragment run does not emit).
        steps = [j.config.steps_per_epoch() for j in jobs]
        specs = live_view.comparison_specs(
            {
                label: (s.batches, s.epochs, n)
                for label, s, n in zip(labels, snaps, steps, strict=True)
            },
            cache_key=tuple(s.chart_key for s in snaps),
        )
        for column, metric in zip(st.columns(2), ("loss", "accuracy"), strict=True):
            column.vega_lite_chart(spec=specs[metric], width="stretch", key=f"svd_live_{metric}")
        st.caption(
            "Thin lines: each network's training running mean, batch by batch (in long runs, "
            "per group of batches, with a light band from its lowest to its highest batch); "
            "Keras restarts that mean at every epoch, so each epoch's line starts with a jump. "
            "Dots: the end of each epoch, solid for training and dashed for validation; the "
            "shaded band between them is the train − validation gap."
        )
    if all(s.is_final for s in snaps) and st.session_state.get(HANDLED_KEY) != id(jobs):
        # Both ended: select the two new runs below, once, with a full rerun.
        st.session_state[HANDLED_KEY] = id(jobs)
        ids = [s.run_id for s in snaps if s.run_id and s.status in K.USABLE_STATUSES]
        if len(ids) == 2:
            st.session_state[PENDING_KEY] = ids
            st.session_state[LATEST_RUN_KEY] = ids[-1]
        st.rerun(scope="app")


def run_both_ui(data: Cifar10 | None, store: RunStore, manager: JobManager) -> None:
    st.header("Run both on the same budget")
    if data is None:
        st.caption("Training needs the CIFAR-10 images, which could not be loaded (see above).")
        return
    configs = train_form(SVD_FORM, len(data.x_train))
    if not configs:
        return
    shallow, deep = configs
    n_train, n_val = shallow.split_sizes()
    st.caption(
        f"Both networks get the same {n_train:,} training and {n_val:,} validation images, "
        "the same epochs, batch, optimizer and seed. They are queued one after the other, so "
        "each gets the whole CPU and their speeds are comparable."
    )
    allowed = budget_ui([shallow, deep], manager)
    jobs = st.session_state.get(JOBS_KEY)
    busy = jobs is not None and not all(j.monitor.snapshot().is_final for j in jobs)
    if st.button("Run both", type="primary", disabled=busy or not allowed, key="svd_start"):
        # Identical settings already asked for on this server join that run (no retraining).
        started = request_training([shallow, deep], data, store, manager)
        if started:
            jobs = [job for job, _ in started]
            st.session_state[JOBS_KEY] = jobs
            watch_job(jobs, manager, key=WATCH_KEY)  # a replaced watch releases
            busy = not all(j.monitor.snapshot().is_final for j in jobs)
    if jobs is not None:
        st.caption("Training runs in the background: you can visit other pages and come back.")
        # Poll while a job is alive: every second, less often when a class watches (see
        # JobManager.poll_seconds); finished jobs are drawn once.
        st.fragment(run_every=manager.poll_seconds(jobs) if busy else None)(live_panel)()


# --- 3. Which two runs -----------------------------------------------------------------------


# Two select boxes over the saved, evaluated runs; default: newest shallow and newest deep.
def usable_runs(store: RunStore, manager: JobManager) -> list:
    """Saved runs that were scored on the test split, newest first."""
    return [
        info
        for info in store.list_runs(active_ids=manager.active_run_ids())
        if info.status in K.USABLE_STATUSES and info.test_accuracy is not None
    ]


def pick_runs_ui(runs: list) -> tuple[str, str] | None:
    st.header("Compare two runs")
    if not runs:
        st.info(
            "No finished runs to compare yet. Press **Run both** above to train the shallow and "
            "the deep network on the same budget (a small budget takes a minute or two), or "
            "train each one on the Train page.",
            icon="ℹ️",
        )
        st.page_link("pages/train.py", label="Go to the Train page", icon="🏋️")
        return None
    ids = [info.run_id for info in runs]
    labels = {info.run_id: info.label for info in runs}
    pending = st.session_state.pop(PENDING_KEY, None)
    defaults = K.default_pair(runs)
    for index, key in enumerate(RUN_KEYS):
        if pending and all(p in ids for p in pending):
            st.session_state[key] = pending[index]
        elif st.session_state.get(key) not in ids:
            st.session_state[key] = defaults[index] or ids[0]
    left, right = st.columns(2)
    run_a = left.selectbox("Run A", ids, format_func=labels.get, key=RUN_KEYS[0])
    run_b = right.selectbox("Run B", ids, format_func=labels.get, key=RUN_KEYS[1])
    if run_a == run_b:
        st.warning(
            "Pick two different runs. With only one finished run, press **Run both** above "
            "to train the other network on the same budget."
        )
        return None
    return run_a, run_b


# --- 4. Curves, scoreboard, reference results ------------------------------------------------


def curves_ui(runs: list[Run], labels: list[str]) -> None:
    st.header("Learning curves")
    x_field = st.radio(
        "x-axis",
        ("epoch", "seconds"),
        format_func={"epoch": "epochs", "seconds": "seconds of training"}.get,
        horizontal=True,
        key="svd_x_axis",
    )
    rows = K.curve_rows(
        {label: run.history.get("epochs", []) for label, run in zip(labels, runs, strict=True)}
    )
    columns = st.container(key="svd_curves").columns(2)  # keyed: browser tests find it
    for column, metric in zip(columns, ("loss", "accuracy"), strict=True):
        column.altair_chart(
            comparison_curves(rows, metric, labels, x_field),
            width="stretch",
            key=f"svd_curve_{metric}",
        )
    st.caption(
        "Colour and point shape: the network. Solid: measured on the training images; dashed: "
        "on the held-out validation images. The shaded band between a network's two curves is "
        "its train − validation gap: when it widens while validation stops improving, the "
        "network fits its training images better than new ones (overfitting). On the seconds axis the "
        "deep network's points spread out: each of its epochs costs more arithmetic."
    )


def scoreboard_ui(summaries: list[S.RunSummary], runs: list[Run], infos: list) -> None:
    st.header("Scoreboard")
    labels = [s.label for s in summaries]
    # A run that learned nothing says so here, before its numbers read like findings.
    st.markdown(S.scoreboard_markdown(S.scoreboard(summaries), labels))
    st.caption(
        f"{S.WINNER_MARK} and bold mark the better run of each line: lower is better for "
        "parameters, seconds per epoch and the gap; higher for speed and accuracy. A gap at "
        "or below zero (validation as good as training) means no overfitting, so two of those "
        "tie. Speeds are measured on this machine."
    )
    differ = V.budget_differences(runs[0].config, runs[1].config)
    models = {s.model: s for s in summaries}
    if set(models) == {"shallow", "deep"}:
        st.subheader("What these runs show")
        accuracies = {m: [s.test_accuracy] for m, s in models.items() if s.test_accuracy}
        if not differ:  # same budget: every saved seed of it counts
            seeds = V.seed_accuracies(infos, runs[0].config)
            accuracies = {
                m: list(seeds.get(m, {}).values()) or accuracies.get(m, []) for m in models
            }
        size = runs[0].config.get("train_size", 0)
        verdict = V.depth_verdict(
            accuracies.get("shallow", []),
            accuracies.get("deep", []),
            gaps={m: s.final_gap for m, s in models.items()},
            at_max_size=data is not None and size >= len(data.x_train),
        )
        st.markdown(verdict.text)
    for label, run in zip(labels, runs, strict=True):
        problem = learning_problem(run.result, run.history.get("epochs", []), run.config)
        if problem:
            st.warning(f"**{label}:** {problem}", icon="🤔")
    if differ:
        st.warning(
            "These two runs did not have the same budget (they differ in "
            f"{', '.join(differ)}), so the comparison is not fair. **Run both** trains them on "
            "one budget."
        )


def references_ui(summaries: list[S.RunSummary]) -> None:
    st.header("Published results, for scale")
    measured = [
        {
            "label": f"{s.label} · {s.train_size:,} training images · {s.epochs} epochs",
            "model": s.label,
            "accuracy": s.test_accuracy,
        }
        for s in summaries
    ]
    st.altair_chart(
        reference_chart(R.reference_rows(), measured, [s.label for s in summaries]),
        width="stretch",
        key="svd_references",
    )
    budgets = "; ".join(f"{s.label}: {s.train_size:,} images, {s.epochs} epochs" for s in summaries)
    st.markdown(
        f"Your runs ({budgets}) are measured here. The published numbers were trained on "
        f"40,000–{C.FULL_TRAIN_SIZE:,} training images for 20–60 epochs, with other "
        "settings (see the table): a short classroom run on a subset lands lower — that is "
        "expected, not a mistake."
    )
    st.dataframe(
        [
            {
                "source": r.source,
                "network": r.model,
                "budget": r.budget,
                "metric": r.metric,
                "value": r.value_text,
            }
            for r in R.REFERENCE_RESULTS
        ],
        hide_index=True,
        width="stretch",
        key="svd_reference_table",
    )


# --- 5. Per class, confusions, disagreements --------------------------------------------------


def cell_from_click(event: object, names: list[str], run_index: int) -> None:
    """Copy a clicked confusion-matrix cell into the cell pickers (once per new click)."""
    points = (getattr(event, "selection", None) or {}).get("cell") or []
    if not points:
        return
    point = points[0]
    clicked = (run_index, point.get("true"), point.get("predicted"))
    if clicked == st.session_state.get(CELL_APPLIED_KEY) or not set(clicked[1:]) <= set(names):
        return
    st.session_state[CELL_APPLIED_KEY] = clicked
    st.session_state["svd_cell_run"] = run_index
    st.session_state["svd_cell_true"] = names.index(clicked[1])
    st.session_state["svd_cell_pred"] = names.index(clicked[2])


def per_class_ui(
    labels: list[str], y_true: list, preds: list, names: list[str], guessing: list[bool]
) -> list:
    st.header("Class by class")
    # Each run against its own test labels (the same images, unless scored on another set).
    matrices = [confusion_matrix(y, p, len(names)) for y, p in zip(y_true, preds, strict=True)]
    accuracies = [per_class_accuracy(m) for m in matrices]
    rows = K.per_class_rows(dict(zip(labels, accuracies, strict=True)), names)
    st.altair_chart(per_class_grouped(rows, labels, names), width="stretch", key="svd_per_class")
    st.caption("Share of each class's test images each network got right.")
    for index, (column, label, matrix) in enumerate(
        zip(st.columns(2), labels, matrices, strict=True)
    ):
        with column:
            event = st.altair_chart(
                confusion_cells(matrix.tolist(), names, f"{label}: confusion matrix", True),
                width="stretch",
                key=f"svd_confusion_{index}",
                on_select="rerun",
                selection_mode="cell",
            )
            cell_from_click(event, names, index)
            if guessing[index]:
                st.caption(
                    f"{label} was guessing (see above): its matrix shows the guess, not "
                    "classes it confuses."
                )
                continue
            pairs = K.most_confused_pairs(matrix, top=3)
            lines = [
                f"{n}. **{names[p.a]} ↔ {names[p.b]}**: {p.total} mistakes "
                f"({names[p.a]} → {names[p.b]}: {p.a_as_b}, {names[p.b]} → {names[p.a]}: "
                f"{p.b_as_a})"
                for n, p in enumerate(pairs, start=1)
            ]
            st.markdown("**Most confused pairs**\n\n" + ("\n".join(lines) or "No mistakes."))
    st.caption(
        "Rows: true class; columns: the network's answer. Click a cell (or use the pickers "
        "below) to see the test images behind it."
    )
    return matrices


def caption_for(index: int, y_true: np.ndarray, preds: list, labels: list, names: list) -> str:
    """'cat · shallow: dog ✗ · deep ✓' for one test image: its true class, then each answer."""
    parts = [names[y_true[index]]]
    for label, pred in zip(labels, preds, strict=True):
        right = pred[index] == y_true[index]
        parts.append(f"{label} ✓" if right else f"{label}: {names[pred[index]]} ✗")
    return " · ".join(parts)


def image_strip(x_test: np.ndarray, indices: np.ndarray, captions: list[str]) -> None:
    if len(indices):
        images = [upscale_nearest(x_test[i], IMAGE_SCALE) for i in indices]
        st.image(images, caption=captions, width=32 * IMAGE_SCALE)


def disagreements_ui(
    x_test: np.ndarray, y_true: np.ndarray, preds: list, labels: list, names: list
) -> None:
    st.header("Where they disagree")
    split = K.disagreements(y_true, preds[0], preds[1])
    both_right = int(((preds[0] == y_true) & (preds[1] == y_true)).sum())
    both_wrong = int(((preds[0] != y_true) & (preds[1] != y_true)).sum())
    st.markdown(
        f"Of {len(y_true):,} test images, both are right on **{both_right:,}** and both wrong on "
        f"**{both_wrong:,}**. Only {labels[0]} is right on **{len(split.a_only):,}**; only "
        f"{labels[1]} is right on **{len(split.b_only):,}**."
    )
    seed = st.session_state.get(DISAGREE_SEED_KEY, 0)
    rng = np.random.default_rng(seed)
    for label, other, chosen in (
        (labels[0], labels[1], split.a_only),
        (labels[1], labels[0], split.b_only),
    ):
        st.subheader(f"{label} right, {other} wrong")
        sample = np.sort(rng.choice(chosen, min(IMAGES_SHOWN, len(chosen)), replace=False))
        image_strip(x_test, sample, [caption_for(i, y_true, preds, labels, names) for i in sample])
        if not len(chosen):
            st.caption("None.")
    if st.button("Show other images", key="svd_disagree_reroll"):
        st.session_state[DISAGREE_SEED_KEY] = seed + 1
        st.rerun()


# One confusion-matrix cell: which run, which true class, which answer → its images.
def cell_ui(
    x_test: np.ndarray, y_true: np.ndarray, preds: list, labels: list, names: list, matrices: list
) -> None:
    st.subheader("The images behind one confusion-matrix cell")
    shown_pair = tuple(labels) + tuple(int(m.sum()) for m in matrices)
    if "svd_cell_true" not in st.session_state or st.session_state.get(CELL_PAIR_KEY) != shown_pair:
        # New runs: start from their biggest mistake, not the cell kept from other runs.
        st.session_state[CELL_PAIR_KEY] = shown_pair
        st.session_state["svd_cell_run"] = 0
        st.session_state["svd_cell_true"], st.session_state["svd_cell_pred"] = (
            K.largest_mistake_cell(matrices[0])
        )
    columns = st.columns(3)
    run_index = columns[0].selectbox(
        "Network", range(len(labels)), format_func=labels.__getitem__, key="svd_cell_run"
    )
    true_class = columns[1].selectbox(
        "True class", range(len(names)), format_func=names.__getitem__, key="svd_cell_true"
    )
    pred_class = columns[2].selectbox(
        "Predicted as", range(len(names)), format_func=names.__getitem__, key="svd_cell_pred"
    )
    indices = K.cell_indices(y_true, preds[run_index], true_class, pred_class)
    if not len(indices):
        big_true, big_pred = K.largest_mistake_cell(matrices[run_index])
        right = "got right" if true_class == pred_class else f"called **{names[pred_class]}**"
        st.markdown(
            f"{labels[run_index]} {right} **no** test image of class **{names[true_class]}**: "
            "this cell of its confusion matrix is 0. Its biggest mistake is "
            f"**{names[big_true]} → {names[big_pred]}** "
            f"({int(matrices[run_index][big_true, big_pred])} images)."
        )
        return
    st.markdown(
        f"**{len(indices):,}** test images of class **{names[true_class]}** that "
        f"{labels[run_index]} called **{names[pred_class]}**"
        + (f" (showing {IMAGES_SHOWN})." if len(indices) > IMAGES_SHOWN else ".")
    )
    shown = indices[:IMAGES_SHOWN]
    image_strip(x_test, shown, [caption_for(i, y_true, preds, labels, names) for i in shown])


# --- 6. Look inside and your own photo (these load TensorFlow, only when asked) --------------


@st.cache_resource(max_entries=4, show_spinner="Loading the trained network…")
def trained_model(root: str, run_id: str) -> keras.Model:
    from cifar_core.look_inside import load_trained

    return load_trained(RunStore(root).path(run_id) / MODEL_FILE)


@st.cache_resource(max_entries=4, show_spinner="Building the untrained network…")
def initial_model(name: str, seed: int) -> keras.Model:
    from cifar_core.look_inside import untrained_model

    return untrained_model(name, seed)


def look_inside_ui(
    runs: list[Run], labels: list[str], x_test: np.ndarray, y_test: np.ndarray, names: list
) -> None:
    st.header("Look inside")
    if not st.toggle(
        "Show filters and feature maps (loads TensorFlow: a few seconds the first time)",
        key="svd_look",
    ):
        st.caption(
            "The first layer's filters, and what every conv layer makes of one test image — "
            "after training and before it."
        )
        return
    from cifar_core.look_inside import (
        feature_map_images,
        feature_maps,
        filter_images,
        first_layer_kernels,
    )

    index = st.number_input("Test image number", 0, len(x_test) - 1, 0, key="svd_look_index")
    st.image(
        upscale_nearest(x_test[index], 4),
        caption=f"test image {index} ({names[int(y_test[index])]}), 32×32 enlarged",
    )
    st.caption(
        "Filters: conv1's 32 filters of 3×3 pixels × 3 colours, each stretched to its own range. "
        "Feature maps: what the first channels of each conv layer (after its ReLU) make of the "
        "image, bright = strong response. A plain grey square is a channel this image does not "
        "switch on at all. Before training means the run's own starting weights (same seed)."
    )
    for run, label in zip(runs, labels, strict=True):
        st.subheader(label)
        try:
            trained = trained_model(str(run.path.parent), run.run_id)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            st.warning(f"The saved model of run {run.run_id} cannot be loaded: {exc}")
            continue
        before = initial_model(run.config["model"], int(run.config.get("seed", C.DEFAULT_SEED)))
        columns = st.columns(2)
        for column, model, when in zip(
            columns, (trained, before), ("After training", "Before training"), strict=True
        ):
            with column:
                st.markdown(f"**{when}**")
                st.image(list(filter_images(first_layer_kernels(model))), width=36)
                st.caption("conv1 filters")
                for layer, maps in feature_maps(model, x_test[index]).items():
                    st.image(list(feature_map_images(maps)), width=52)
                    st.caption(f"after {layer}: first {maps.shape[-1]} channels")


# The photo widget's upload and its predictions: {"upload": its file id, "small": the 32×32
# image, "probs": run id → prediction}. One entry, replaced by the next upload and dropped
# when the upload is removed.
PHOTO_KEY = "svd_upload_decoded"


def photo_ui(runs: list[Run], labels: list[str], names: list[str]) -> None:
    st.header("Your own photo")
    upload = photo_upload("Upload a photo: both networks guess what it shows", "svd_upload")
    if upload is None or upload.photo is None:
        st.session_state.pop(PHOTO_KEY, None)
        return
    # The page reruns for every widget change and live-chart poll: predict once per upload
    # and run.
    photo = st.session_state.get(PHOTO_KEY)
    if photo is None or photo["upload"] != upload.file_id:
        photo = {"upload": upload.file_id, "small": upload.photo.cifar, "probs": {}}
        st.session_state[PHOTO_KEY] = photo
    small = photo["small"]
    columns = st.columns(len(runs) + 1)
    columns[0].image(upscale_nearest(small, 4), caption="what the networks see: 32×32 pixels")
    from cifar_core.look_inside import predict_image

    for column, run, label in zip(columns[1:], runs, labels, strict=True):
        if run.run_id not in photo["probs"]:
            try:
                model = trained_model(str(run.path.parent), run.run_id)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
                column.warning(f"The saved model of run {run.run_id} cannot be loaded: {exc}")
                continue
            photo["probs"][run.run_id] = predict_image(model, small)
        top = K.top_classes(photo["probs"][run.run_id], names, k=3)
        column.markdown(
            f"**{label}**\n\n" + "\n".join(f"{n}. {c} — {p:.0%}" for n, (c, p) in enumerate(top, 1))
        )
    st.info(
        "Anything outside the ten classes — a face, a cup, a cloud — still gets one of the "
        'ten labels, often with high confidence: the network has no way to say "none of '
        'these". Keep that in mind on the Bias & privacy page.'
    )


# --- The page, top to bottom -----------------------------------------------------------------

architectures_ui()
run_both_ui(data, store, manager)
own_jobs = st.session_state.get(JOBS_KEY)
if own_jobs and not all(job.monitor.snapshot().is_final for job in own_jobs):
    # Half a pair is no comparison: a new shallow run beside an old deep one would differ in
    # more than depth (seed, budget), so wait for both.
    st.header("Compare two runs")
    st.info(
        "Your two runs are still training. The comparison appears here when both have "
        "finished (the page shows them by itself).",
        icon="⏳",
    )
    st.stop()
saved_runs = usable_runs(store, manager)
pair = pick_runs_ui(saved_runs)
if pair is None:
    st.stop()
try:
    saved = [load_saved_run(str(store.root), run_id) for run_id in pair]
    for item in saved:
        if item.predictions_error:
            raise RunStoreError(f"run {item.run.run_id}: {item.predictions_error}")
    runs = [item.run for item in saved]
    predictions = [item.predictions for item in saved]
except (RunStoreError, OSError, KeyError, ValueError) as exc:
    st.warning(f"A run cannot be read: {exc}")
    st.stop()
labels = K.series_labels([r.config.get("model", "?") for r in runs], list(pair))
summaries = [
    S.summarize_run(label, run.config, run.result, run.history.get("epochs", []))
    for label, run in zip(labels, runs, strict=True)
]
names = list(runs[0].result.get("class_names") or C.CLASS_NAMES)
y_true = [p["test_labels"].astype(np.int64) for p in predictions]
preds = [K.predicted_classes(p["test_probs"]) for p in predictions]

curves_ui(runs, labels)
scoreboard_ui(summaries, runs, saved_runs)
references_ui(summaries)
guessing = [is_guessing(run.result, run.history.get("epochs", [])) for run in runs]
matrices = per_class_ui(labels, y_true, preds, names, guessing)

same_test = len(y_true[0]) == len(y_true[1]) and np.array_equal(y_true[0], y_true[1])
images_match = data is not None and len(data.x_test) == len(y_true[0]) and same_test
if images_match and np.array_equal(data.y_test, y_true[0]):
    disagreements_ui(data.x_test, y_true[0], preds, labels, names)
    cell_ui(data.x_test, y_true[0], preds, labels, names, matrices)
    look_inside_ui(runs, labels, data.x_test, y_true[0], names)
else:
    st.caption(
        "The test images these runs were scored on are not the ones loaded now (another data "
        "set), so the image views are hidden."
    )
photo_ui(runs, labels, names)
