"""Why did it get that wrong? The mistakes explorer of a saved run.

One explorer for every page that shows a saved run (Train's results, Shallow vs deep): click a
confusion-matrix cell → the test images behind it, most confident first, each with its top
three answers → "Where did it look?" on one of them (ui.saliency: Grad-CAM and an occlusion
map, for the predicted and for the true class). Browsing needs only the run's saved
predictions, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import streamlit as st

from cifar_core import constants as C
from cifar_core import live_view
from cifar_core.charts import confusion_heatmap
from cifar_core.data import Cifar10
from cifar_core.evaluation import confusion_matrix
from cifar_core.explain.mistakes import (
    Example,
    cell_examples,
    choice_count,
    largest_mistake_cell,
    mistakes,
    most_confused_pairs,
    predicted_classes,
)
from cifar_core.images import upscale_nearest
from cifar_core.runs import MODEL_FILE, Run
from ui.common import load_saved_run
from ui.saliency import saliency_section

ANY = -1  # the "any class" choice of the pickers


def _keys(key: str) -> dict[str, str]:
    """The session keys of one explorer (one per page and run view)."""
    return {name: f"{key}_{name}" for name in ("true", "pred", "applied", "shown_for", "chosen")}


# --- Browsing the mistakes (saved predictions only) -----------------------------------------


def confusion_chart(
    matrix: np.ndarray,
    names: Sequence[str],
    title: str,
    key: str,
    run_key: object,
    chart_key: str | None = None,
    **extra: object,
) -> None:
    """A confusion matrix whose clicked cell sets this explorer's pickers.

    The chart is built once per run for every session (Altair's validation is most of a
    rerun's cost when a shared run ends and all its watchers rerun in the same second).

    Args:
        chart_key: the widget key (default: one per explorer); a page with several matrices
            feeding one explorer gives each its own.
        extra: more session keys a click sets (e.g. which network the clicked matrix is).
    """

    def build() -> dict:
        chart = confusion_heatmap(matrix.tolist(), names, title, selectable=True, height=420)
        return chart.to_dict()

    chart_key = chart_key or f"{key}_cm"
    event = st.vega_lite_chart(
        spec=live_view.LIVE_CHARTS.get(("confusion", run_key, title), build),
        width="stretch",
        key=chart_key,
        on_select="rerun",
        selection_mode="cell",
    )
    apply_click(event, names, key, f"{chart_key}_seen", **extra)


def apply_click(
    event: object, names: Sequence[str], key: str, seen_key: str, **extra: object
) -> None:
    """Copy a chart's clicked cell into the pickers when that chart's selection changed.

    Each chart remembers the last selection it applied (seen_key): a chart keeps its selection
    across reruns, so without this an old click on one matrix would overwrite a new click on
    another one at every rerun.
    """
    points = (getattr(event, "selection", None) or {}).get("cell") or []
    clicked = (points[0].get("true"), points[0].get("predicted")) if points else None
    if clicked == st.session_state.get(seen_key):
        return
    st.session_state[seen_key] = clicked
    if clicked is None or not set(clicked) <= set(names):
        return
    k = _keys(key)
    st.session_state[k["true"]] = names.index(clicked[0])
    st.session_state[k["pred"]] = names.index(clicked[1])
    st.session_state.pop(k["chosen"], None)
    for name, value in extra.items():
        st.session_state[name] = value


def confused_pairs_text(matrix: np.ndarray, names: Sequence[str], top: int = 3) -> str:
    """The most confused pairs as a numbered Markdown list."""
    lines = [
        f"{n}. **{names[p.a]} ↔ {names[p.b]}**: {p.total} mistakes "
        f"({names[p.a]} → {names[p.b]}: {p.a_as_b}, {names[p.b]} → {names[p.a]}: {p.b_as_a})"
        for n, p in enumerate(most_confused_pairs(matrix, top=top), start=1)
    ]
    return "**Most confused pairs**\n\n" + ("\n".join(lines) or "No mistakes.")


def example_caption(example: Example, names: Sequence[str]) -> str:
    """'✗ dog 91% · cat 6% · frog 2% — true: cat' (✓ when right)."""
    mark = "✓" if example.predicted == example.true else "✗"
    top = " · ".join(f"{names[c]} {p:.0%}" for c, p in example.top3)
    return f"{mark} {top} — true: {names[example.true]} (#{example.index})"


def pickers(names: Sequence[str], matrix: np.ndarray, key: str, run_key: object) -> tuple:
    """True-class and predicted-class pickers; a new run starts at its biggest mistake."""
    k = _keys(key)
    if k["true"] not in st.session_state or st.session_state.get(k["shown_for"]) != run_key:
        st.session_state[k["shown_for"]] = run_key
        st.session_state[k["true"]], st.session_state[k["pred"]] = largest_mistake_cell(matrix)
        st.session_state.pop(k["chosen"], None)
    options = [ANY, *range(len(names))]
    label = {ANY: "any class", **dict(enumerate(names))}.get
    left, right = st.columns(2)
    true_class = left.selectbox("True class", options, format_func=label, key=k["true"])
    pred_class = right.selectbox("Predicted as", options, format_func=label, key=k["pred"])
    return true_class, pred_class


def chosen_examples(
    probs: np.ndarray, labels: np.ndarray, matrix: np.ndarray, true_class: int, pred_class: int
) -> tuple[list[Example], int, str]:
    """The shown images of the picked cell (or filter), most confident first, how many there
    are in all, and what they are. Only the shown ones become Examples (see choice_count)."""
    shown = C.EXPLORER_IMAGES_SHOWN
    t = None if true_class == ANY else true_class
    p = None if pred_class == ANY else pred_class
    count = choice_count(matrix, t, p)
    if t is not None and p is not None:
        found = cell_examples(probs, labels, t, p, limit=shown)
        return found, count, "right" if t == p else "cell"
    if t is None and p is None:
        return mistakes(probs, labels, limit=shown), count, "all"
    if t is not None:
        return mistakes(probs, labels, class_filter=t, limit=shown, by="true"), count, "true"
    return mistakes(probs, labels, class_filter=p, limit=shown, by="predicted"), count, "predicted"


def describe(count: int, kind: str, true_class: int, pred_class: int, names, label: str) -> str:
    what = {
        "cell": f"of class **{names[true_class] if true_class >= 0 else ''}** that {label} "
        f"called **{names[pred_class] if pred_class >= 0 else ''}**",
        "right": f"of class **{names[true_class] if true_class >= 0 else ''}** that {label} "
        "got right",
        "all": f"that {label} got wrong",
        "true": f"of class **{names[true_class] if true_class >= 0 else ''}** that {label} got "
        "wrong",
        "predicted": f"that {label} wrongly called "
        f"**{names[pred_class] if pred_class >= 0 else ''}**",
    }[kind]
    return f"**{count:,}** test images {what}, the most confident first"


def empty_text(kind: str, true_class: int, pred_class: int, names, label: str) -> str:
    """What an empty choice means, in words (never "0 test images"), starting with a capital."""
    if kind == "cell":
        called = names[pred_class]
        article = "an" if called[:1].lower() in ("a", "e", "i", "o", "u") else "a"
        text = (
            f"{label} called **no** test image of class **{names[true_class]}** "
            f"{article} **{called}**: this cell of its confusion matrix is 0."
        )
    elif kind == "right":
        text = (
            f"{label} got **no** test image of class **{names[true_class]}** right: this "
            "cell of its confusion matrix is 0."
        )
    else:
        text = f"{label} made **no** mistake of this kind."
    return text[:1].upper() + text[1:]


def image_choice_grid(
    examples: list[Example], x_test: np.ndarray, names: Sequence[str], key: str
) -> None:
    """The first images of the choice, each with a button that opens its saliency maps."""
    shown = examples[: C.EXPLORER_IMAGES_SHOWN]
    per_row = 4
    for start in range(0, len(shown), per_row):
        for column, example in zip(
            st.columns(per_row), shown[start : start + per_row], strict=False
        ):
            column.image(
                upscale_nearest(x_test[example.index], C.EXPLORER_IMAGE_SCALE),
                caption=example_caption(example, names),
                width="stretch",
            )
            if column.button("Where did it look?", key=f"{key}_look_{example.index}"):
                st.session_state[_keys(key)["chosen"]] = example.index


def mistakes_explorer(
    label: str,
    probs: np.ndarray,
    labels: np.ndarray,
    x_test: np.ndarray | None,
    names: Sequence[str],
    key: str,
    run_key: object,
    *,
    matrix_title: str | None = None,
    show_matrix: bool = True,
) -> int | None:
    """The explorer of one run: matrix (clickable), confused pairs, pickers and images.

    Args:
        label: the run's name in sentences ("the network", "deep (run …)").
        probs, labels: the run's saved test predictions and true labels.
        x_test: the test images those predictions belong to (None: not loaded → no images).
        run_key: identifies the run shown; a new one resets the pickers.
        show_matrix: False when the page draws the clickable matrix itself (Shallow vs deep
            puts both networks' side by side and routes their clicks here via apply_click).

    Returns:
        The index of the test image whose maps the student asked for, if any.
    """
    labels = np.asarray(labels, dtype=np.int64)
    matrix = confusion_matrix(labels, predicted_classes(probs), len(names))
    if show_matrix:
        left, right = st.columns([3, 2])
        with left:
            title = matrix_title or "Confusion matrix (test images)"
            confusion_chart(matrix, names, title, key, run_key)
        right.markdown(confused_pairs_text(matrix, names))
        right.caption(
            "Rows: the true class; columns: the network's answer. **Click a cell** to see its "
            "test images below, or pick a class to see all its mistakes."
        )
    true_class, pred_class = pickers(names, matrix, key, run_key)
    examples, count, kind = chosen_examples(probs, labels, matrix, true_class, pred_class)
    if not count:
        big_true, big_pred = largest_mistake_cell(matrix)
        st.markdown(
            f"{empty_text(kind, true_class, pred_class, names, label)} Its biggest mistake is "
            f"**{names[big_true]} → {names[big_pred]}** ({int(matrix[big_true, big_pred])} "
            "images)."
        )
        return None
    st.markdown(describe(count, kind, true_class, pred_class, names, label) + ".")
    if x_test is None or len(x_test) != len(labels):
        st.caption(
            "The test images of this run are not loaded (another data set), so only "
            "the counts are shown."
        )
        return None
    image_choice_grid(examples, x_test, names, key)
    if count > len(examples):
        st.caption(f"Showing the first {len(examples)} of {count:,}.")
    return st.session_state.get(_keys(key)["chosen"])


def run_explorer(
    run: Run, data: Cifar10 | None, names: list[str], key: str, run_key: Hashable, note: str
) -> None:
    """The mistakes explorer and "where did it look?" of one saved run (Train's results)."""
    st.subheader("Why did it get that wrong?")
    saved = load_saved_run(str(run.path.parent), run.run_id)
    if saved.predictions_error:
        # Its confusion matrix is in its results; the images behind it need the predictions.
        matrix = run.result.get("confusion_matrix")
        if matrix:
            spec = live_view.LIVE_CHARTS.get(
                ("confusion-saved", run_key),
                lambda: confusion_heatmap(matrix, names).to_dict(),
            )
            st.vega_lite_chart(spec=spec, width="stretch", key=f"{key}_confusion")
            st.caption(note)
        st.caption(f"The images behind its mistakes cannot be shown: {saved.predictions_error}.")
        return
    probs = saved.predictions["test_probs"].astype(np.float32)
    labels = saved.predictions["test_labels"].astype(np.int64)
    # The images the predictions belong to: the loaded test split, if it is the same one.
    same = data is not None and np.array_equal(data.y_test, labels)
    x_test = data.x_test if same else None
    chosen = mistakes_explorer("the network", probs, labels, x_test, names, f"{key}_mx", run_key)
    st.caption(note)
    saliency_section(
        str(run.path.parent),
        run.run_id,
        chosen,
        x_test,
        labels,
        names,
        f"{key}_mx",
        run.has(MODEL_FILE),
    )
