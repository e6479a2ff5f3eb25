"""Charts: Altair specs for training curves, confusion matrices and per-class accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from cifar_core import constants as C
from cifar_core.curve_points import batch_x

TRAIN_BATCH = "train (batches)"
TRAIN_EPOCH = "train"
VAL_EPOCH = "validation"
SERIES_ORDER = [TRAIN_BATCH, TRAIN_EPOCH, VAL_EPOCH]

METRIC_TITLES = {"loss": "Loss (cross-entropy)", "accuracy": "Accuracy"}


def readable(chart: alt.TopLevelMixin, **legend: object) -> alt.TopLevelMixin:
    """`chart` with fonts that read on a projector from the back of the room, and on a phone.

    One style for every chart of the app: axis, legend and facet-header labels at
    constants.PROJECTOR_LABEL_PX, their titles at PROJECTOR_TITLE_PX, the chart's title at
    PROJECTOR_CHART_TITLE_PX (Vega's defaults are 10–13 px). The chart's config wins over
    Streamlit's theme (measured in Chromium: tests/test_browser_sizes.py). Apply it last, to
    the finished chart: a configured chart can no longer be layered or concatenated.

    Args:
        chart: a finished top-level chart.
        legend: extra legend settings (e.g. symbolStrokeWidth).
    """
    label, title = C.PROJECTOR_LABEL_PX, C.PROJECTOR_TITLE_PX
    return (
        chart.configure_axis(labelFontSize=label, titleFontSize=title)
        .configure_legend(labelFontSize=label, titleFontSize=title, **legend)
        .configure_header(labelFontSize=label, titleFontSize=title)
        .configure_title(fontSize=C.PROJECTOR_CHART_TITLE_PX)
        .configure_text(fontSize=C.CHART_MARK_TEXT_PX)
    )


def value_scale(metric: str) -> alt.Scale:
    """Fixed ground for a metric's axis: accuracy always 0–100 %, loss from 0 up.

    An axis zoomed to the data makes the noise of a small run look like big swings, and a
    run at 11% look like one at 60%: with fixed ground, a flat curve near chance looks flat.
    """
    return alt.Scale(domain=[0, 1]) if metric == "accuracy" else alt.Scale(zero=True)


def value_axis(metric: str) -> alt.Axis:
    """Accuracy in percent; loss as plain numbers."""
    return alt.Axis(format="%") if metric == "accuracy" else alt.Axis()


def curve_frame(
    batches: Sequence[dict], epochs: Sequence[dict], metric: str, steps_per_epoch: int
) -> pd.DataFrame:
    """One metric's training curve as long-format rows: batches and epochs on one x axis.

    A batch sits at curve_points.batch_x (x in epochs); an epoch's end-of-epoch values at x = e.
    Columns: epoch (x), value, lo, hi, series. A batch point that merges several batches
    (curve_points.BatchSeries) has lo/hi = the lowest and highest batch value it covers; a single
    batch has lo = hi = value; epoch rows have none (NaN). Non-finite values are left out.
    """
    xs, values, lows, highs, series = [], [], [], [], []
    low_key, high_key = f"{metric}_min", f"{metric}_max"
    for b in batches:
        value = b.get(metric)
        if value is not None and np.isfinite(value):
            xs.append(batch_x(b, steps_per_epoch))
            values.append(value)
            lo, hi = b.get(low_key, value), b.get(high_key, value)
            lows.append(lo if lo is not None and np.isfinite(lo) else value)
            highs.append(hi if hi is not None and np.isfinite(hi) else value)
            series.append(TRAIN_BATCH)
    for e in epochs:
        for key, name in ((metric, TRAIN_EPOCH), (f"val_{metric}", VAL_EPOCH)):
            value = e.get(key)
            if value is not None and np.isfinite(value):
                xs.append(float(e["epoch"]))
                values.append(value)
                lows.append(np.nan)
                highs.append(np.nan)
                series.append(name)
    return pd.DataFrame(
        {
            "epoch": np.asarray(xs, dtype=np.float64),
            "value": np.asarray(values, dtype=np.float64),
            "lo": np.asarray(lows, dtype=np.float64),
            "hi": np.asarray(highs, dtype=np.float64),
            "series": series,
        }
    )


def training_curve_chart(
    data: pd.DataFrame | alt.NamedData, metric: str, total_epochs: int | None = None
) -> alt.LayerChart:
    """The training-curve chart over `data` (a `curve_frame`, or a named dataset to fill later).

    Three layers: the thin mean line through the batch points, a light band from each batch
    point's lowest to highest batch (visible once long runs merge batches, so spikes stay on
    the chart), and the end-of-epoch values as dashed lines with dots. Series differ by
    colour AND by mark/dash, so the chart reads without colour.
    """
    x_scale = alt.Scale(domain=[0, total_epochs]) if total_epochs else alt.Scale(zero=True)
    y_title = METRIC_TITLES.get(metric, metric)
    x = alt.X("epoch:Q", title="epoch", scale=x_scale)
    colour = alt.Color(
        "series:N", sort=SERIES_ORDER, legend=alt.Legend(orient="bottom", title=None)
    )
    scale, axis = value_scale(metric), value_axis(metric)
    fmt = ".1%" if metric == "accuracy" else ".4f"  # tooltips read like the axis
    base = alt.Chart(data).encode(
        x=x,
        y=alt.Y("value:Q", title=y_title, scale=scale, axis=axis),
        color=colour,
        tooltip=[
            alt.Tooltip("series:N"),
            alt.Tooltip("epoch:Q", format=".2f"),
            alt.Tooltip("value:Q", format=fmt),
        ],
    )
    batch_points = base.transform_filter(alt.datum.series == TRAIN_BATCH)
    band = batch_points.mark_area(opacity=0.2).encode(
        y=alt.Y("lo:Q", title=y_title, scale=scale, axis=axis),
        y2=alt.Y2("hi:Q"),
        tooltip=[
            alt.Tooltip("epoch:Q", format=".2f"),
            alt.Tooltip("lo:Q", title="lowest batch", format=fmt),
            alt.Tooltip("hi:Q", title="highest batch", format=fmt),
        ],
    )
    batch_line = batch_points.mark_line(strokeWidth=1, opacity=0.6)
    epoch_lines = base.transform_filter(alt.datum.series != TRAIN_BATCH).mark_line(
        point=alt.OverlayMarkDef(size=60, filled=True), strokeDash=[6, 3]
    )
    # The legend takes its symbols from the first layer (the line, as before the band); the
    # band goes under the epoch values. A short title: the y axis names the loss function.
    chart = alt.layer(batch_line, band, epoch_lines).properties(
        title=metric.capitalize(), height=C.LIVE_CHART_HEIGHT
    )
    return readable(chart)


def training_curve(
    batches: Sequence[dict],
    epochs: Sequence[dict],
    metric: str,
    steps_per_epoch: int,
    total_epochs: int | None = None,
) -> alt.LayerChart:
    """Loss or accuracy over training: a thin per-batch line (with its min–max band) plus
    end-of-epoch points, from a DataFrame (Streamlit ships it as Arrow).

    Pass bounded batch points (curve_points.BatchSeries, or curve_points.downsample_batches of a full
    list) so the chart costs the same for any run length.
    """
    frame = curve_frame(batches, epochs, metric, steps_per_epoch)
    return training_curve_chart(frame, metric, total_epochs)


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
    text = base.mark_text(fontSize=C.CHART_MARK_TEXT_PX).encode(
        text="count:Q",
        color=alt.condition(alt.datum.count > peak / 2, alt.value("white"), alt.value("black")),
    )
    return readable((cells + text).properties(title=title, height=height))


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
    labels = base.mark_text(align="left", dx=3, fontSize=C.CHART_MARK_TEXT_PX).encode(
        text=alt.Text("accuracy:Q", format=".0%")
    )
    return readable((bars + labels).properties(title="Test accuracy per class", height=280))
