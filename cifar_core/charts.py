"""Charts: Altair specs for training curves, confusion matrices and per-class accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np

TRAIN_BATCH = "train (batches)"
TRAIN_EPOCH = "train"
VAL_EPOCH = "validation"
SERIES_ORDER = [TRAIN_BATCH, TRAIN_EPOCH, VAL_EPOCH]

METRIC_TITLES = {"loss": "Loss (cross-entropy)", "accuracy": "Accuracy"}


def curve_rows(
    batches: Sequence[dict], epochs: Sequence[dict], metric: str, steps_per_epoch: int
) -> list[dict]:
    """Long-format rows for one metric: x in epochs, so batches and epochs share an axis.

    A batch at step b of epoch e sits at x = (e − 1) + b / steps_per_epoch; an epoch's
    end-of-epoch values sit at x = e.
    """
    rows = []
    for b in batches:
        value = b.get(metric)
        if value is not None and np.isfinite(value):
            x = (b["epoch"] - 1) + b["batch"] / max(1, steps_per_epoch)
            rows.append({"epoch": x, "value": value, "series": TRAIN_BATCH})
    for e in epochs:
        for key, series in ((metric, TRAIN_EPOCH), (f"val_{metric}", VAL_EPOCH)):
            value = e.get(key)
            if value is not None and np.isfinite(value):
                rows.append({"epoch": float(e["epoch"]), "value": value, "series": series})
    return rows


def training_curve(
    batches: Sequence[dict],
    epochs: Sequence[dict],
    metric: str,
    steps_per_epoch: int,
    total_epochs: int | None = None,
) -> alt.Chart:
    """Loss or accuracy over training: a thin per-batch line plus end-of-epoch points.

    Series differ by colour AND by mark/dash, so the chart reads without colour.
    """
    rows = curve_rows(batches, epochs, metric, steps_per_epoch)
    x_scale = alt.Scale(domain=[0, total_epochs]) if total_epochs else alt.Scale(zero=True)
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("epoch:Q", title="epoch", scale=x_scale),
        y=alt.Y("value:Q", title=METRIC_TITLES.get(metric, metric), scale=alt.Scale(zero=False)),
        color=alt.Color(
            "series:N", sort=SERIES_ORDER, legend=alt.Legend(orient="bottom", title=None)
        ),
        tooltip=[
            alt.Tooltip("series:N"),
            alt.Tooltip("epoch:Q", format=".2f"),
            alt.Tooltip("value:Q", format=".4f"),
        ],
    )
    batch_line = base.transform_filter(alt.datum.series == TRAIN_BATCH).mark_line(
        strokeWidth=1, opacity=0.6
    )
    epoch_lines = base.transform_filter(alt.datum.series != TRAIN_BATCH).mark_line(
        point=alt.OverlayMarkDef(size=60, filled=True), strokeDash=[6, 3]
    )
    # A short title: the y axis already names the loss function.
    return (batch_line + epoch_lines).properties(title=metric.capitalize(), height=300)


def confusion_heatmap(
    matrix: Sequence[Sequence[int]],
    class_names: Sequence[str],
    title: str = "Confusion matrix (test images)",
    *,
    selectable: bool = False,
    height: int = 360,
) -> alt.LayerChart:
    """Counts of true (rows) vs predicted (columns) classes, with the count in each cell.

    Args:
        matrix: counts[true, predicted].
        class_names: the classes, in label order.
        title: chart title.
        selectable: make cells clickable (a point selection named "cell", for
            st.altair_chart(on_select="rerun")); the clicked cell gets a black outline.
        height: in pixels.
    """
    rows = [
        {"true": class_names[i], "predicted": class_names[j], "count": int(count)}
        for i, row in enumerate(matrix)
        for j, count in enumerate(row)
    ]
    peak = max((r["count"] for r in rows), default=1) or 1
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X(
            "predicted:N",
            sort=list(class_names),
            title="predicted class",
            axis=alt.Axis(labelOverlap=False),
        ),
        y=alt.Y(
            "true:N", sort=list(class_names), title="true class", axis=alt.Axis(labelOverlap=False)
        ),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), title="images"),
        tooltip=["true:N", "predicted:N", "count:Q"],
    )
    if selectable:
        cell = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
        cells = cells.add_params(cell).encode(
            strokeWidth=alt.condition(cell, alt.value(3), alt.value(0.5), empty=False),
            stroke=alt.condition(cell, alt.value("black"), alt.value("white"), empty=False),
        )
    text = base.mark_text(fontSize=11).encode(
        text="count:Q",
        color=alt.condition(alt.datum.count > peak / 2, alt.value("white"), alt.value("black")),
    )
    return (cells + text).properties(title=title, height=height)


def per_class_bars(accuracies: Sequence[float], class_names: Sequence[str]) -> alt.Chart:
    """Test accuracy per class, best first, with the value written on each bar."""
    rows = [
        {"class": name, "accuracy": float(acc)}
        for name, acc in zip(class_names, accuracies, strict=True)
        if acc is not None and np.isfinite(acc)
    ]
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("class:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False)),
        x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    )
    bars = base.mark_bar().encode(tooltip=["class:N", alt.Tooltip("accuracy:Q", format=".1%")])
    labels = base.mark_text(align="left", dx=3).encode(text=alt.Text("accuracy:Q", format=".0%"))
    return (bars + labels).properties(title="Test accuracy per class", height=280)
