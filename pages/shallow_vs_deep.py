"""Shallow vs deep: both networks on the same data and budget, side by side."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core.comparison import analysis as K
from cifar_core.comparison import pair as P
from cifar_core.comparison import references as R
from cifar_core.comparison import scoreboard as S
from cifar_core.comparison import verdict as V
from cifar_core.comparison.charts import comparison_curves, per_class_grouped, reference_chart
from cifar_core.evaluation import learning_problem
from cifar_core.images import upscale_nearest
from cifar_core.lessons import NOT_SHOWN_HERE
from cifar_core.models import CONV_STRIDE_NOTE, count_mult_adds, count_params, layer_table
from cifar_core.runs import MODEL_FILE, Run, RunStore, RunStoreError
from ui import explain, saliency
from ui.common import get_data, get_manager, get_store, load_saved_run, own_runs
from ui.compat import require_app_navigation
from ui.lesson_runs import see_it
from ui.look_inside import look_inside_ui, photo_ui
from ui.run_both import JOBS_KEY, PENDING_KEY, run_both_ui

require_app_navigation()

RUN_KEYS = ("svd_run_a", "svd_run_b")  # the two run pickers
DISAGREE_SEED_KEY = "svd_disagree_seed"

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


# --- 3. Which two runs -----------------------------------------------------------------------


# Two select boxes over the student's saved, evaluated runs; default: newest shallow and deep.
def usable_runs(store: RunStore) -> list:
    """This browser's runs that were scored on the test split, newest first.

    Also the verdict's other seeds: it weighs only this student's own runs, never another
    student's.
    """
    return [
        info
        for info in own_runs(store)
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
    size = runs[0].config.get("train_size", 0)
    verdict = V.pair_verdict(
        summaries,
        [run.config for run in runs],
        infos,
        at_max_size=data is not None and size >= len(data.x_train),
    )
    if verdict is not None:
        st.subheader("What these runs show")
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
    measured = [R.measured_row(s.label, s.train_size, s.epochs, s.test_accuracy) for s in summaries]
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


# --- 5. Class by class, mistakes, disagreements ----------------------------------------------

EXPLORER_KEY = "svd_mx"  # the mistakes explorer's keys: svd_mx_true, svd_mx_pred, …
NETWORK_KEY = "svd_mx_network"  # which network's mistakes the explorer shows


def per_class_ui(pair: P.ComparedPair, pair_key: tuple) -> None:
    st.header("Class by class")
    st.altair_chart(
        per_class_grouped(pair.per_class_rows(), pair.labels, pair.names),
        width="stretch",
        key="svd_per_class",
    )
    st.caption("Share of each class's test images each network got right.")
    for index, column in enumerate(st.columns(2)):
        with column:
            # A click on either matrix opens that network's cell in the explorer below.
            explain.confusion_chart(
                pair.matrices[index],
                pair.names,
                f"{pair.labels[index]}: confusion matrix",
                EXPLORER_KEY,
                pair_key,
                chart_key=f"svd_confusion_{index}",
                **{NETWORK_KEY: index},
            )
            if pair.guessing[index]:
                st.caption(
                    f"{pair.labels[index]} was guessing (see above): its matrix shows the "
                    "guess, not classes it confuses."
                )
                continue
            st.markdown(explain.confused_pairs_text(pair.matrices[index], pair.names))
    st.caption(
        "Rows: true class; columns: the network's answer. Click a cell (or use the pickers "
        "below) to see the test images behind it."
    )


def image_strip(x_test: np.ndarray, indices: np.ndarray, captions: list[str]) -> None:
    if len(indices):
        images = [upscale_nearest(x_test[i], C.PAIR_IMAGE_SCALE) for i in indices]
        st.image(images, caption=captions, width=32 * C.PAIR_IMAGE_SCALE)


def disagreements_ui(x_test: np.ndarray, pair: P.ComparedPair) -> None:
    st.header("Where they disagree")
    count, (a, b) = pair.agreement(), pair.labels
    st.markdown(
        f"Of {count['total']:,} test images, both are right on **{count['both_right']:,}** and "
        f"both wrong on **{count['both_wrong']:,}**. Only {a} is right on "
        f"**{count['a_only']:,}**; only {b} is right on **{count['b_only']:,}**."
    )
    split = pair.disagreements()
    rng = np.random.default_rng(st.session_state.get(DISAGREE_SEED_KEY, 0))
    for label, other, chosen in ((a, b, split.a_only), (b, a, split.b_only)):
        st.subheader(f"{label} right, {other} wrong")
        shown = min(C.PAIR_IMAGES_SHOWN, len(chosen))
        sample = np.sort(rng.choice(chosen, shown, replace=False))
        image_strip(x_test, sample, [pair.caption(i) for i in sample])
        if not len(chosen):
            st.caption("None.")
    if st.button("Show other images", key="svd_disagree_reroll"):
        st.session_state[DISAGREE_SEED_KEY] = st.session_state.get(DISAGREE_SEED_KEY, 0) + 1
        st.rerun()


# One network's mistakes, most confident first, and where it looked (ui.explain).
def mistakes_ui(
    pair: P.ComparedPair, runs: list[Run], x_test: np.ndarray | None, pair_key: tuple
) -> None:
    st.header("Why did it get that wrong?")
    index = st.radio(
        "Network",
        range(len(pair.labels)),
        format_func=pair.labels.__getitem__,
        horizontal=True,
        key=NETWORK_KEY,
    )
    chosen = explain.mistakes_explorer(
        pair.labels[index],
        pair.probs[index],
        pair.y_true[index],
        x_test,
        pair.names,
        EXPLORER_KEY,
        pair_key,
        show_matrix=False,
    )
    run = runs[index]
    saliency.saliency_section(
        str(run.path.parent),
        run.run_id,
        chosen,
        x_test,
        pair.y_true[index],
        pair.names,
        EXPLORER_KEY,
        run.has(MODEL_FILE),
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
saved_runs = usable_runs(store)
chosen_pair = pick_runs_ui(saved_runs)
if chosen_pair is None:
    st.stop()
try:
    saved = [load_saved_run(str(store.root), run_id) for run_id in chosen_pair]
    for item in saved:
        if item.predictions_error:
            raise RunStoreError(f"run {item.run.run_id}: {item.predictions_error}")
    runs = [item.run for item in saved]
    labels = K.series_labels([r.config.get("model", "?") for r in runs], list(chosen_pair))
    pair = P.compare(
        labels,
        [item.predictions for item in saved],
        [run.result for run in runs],
        [run.history for run in runs],
        list(runs[0].result.get("class_names") or C.CLASS_NAMES),
    )
except (RunStoreError, OSError, KeyError, ValueError) as exc:
    st.warning(f"A run cannot be read: {exc}")
    st.stop()
summaries = [
    S.summarize_run(label, run.config, run.result, run.history.get("epochs", []))
    for label, run in zip(labels, runs, strict=True)
]
# The shown pair, as the explorer's pickers know it: new runs start at their biggest mistake.
pair_key = tuple((run.run_id, run.status.get("updated")) for run in runs)

curves_ui(runs, labels)
scoreboard_ui(summaries, runs, saved_runs)
references_ui(summaries)
per_class_ui(pair, pair_key)
x_test = data.x_test if data is not None and pair.shows_images_of(data.y_test) else None
if x_test is not None:
    disagreements_ui(x_test, pair)
else:
    st.caption(
        "The test images these runs were scored on are not the ones loaded now (another data "
        "set), so the image views are hidden."
    )
mistakes_ui(pair, runs, x_test, pair_key)
if x_test is not None:
    look_inside_ui(runs, labels, x_test, pair.y_true[0], pair.names)
photo_ui(runs, labels, pair.names)
