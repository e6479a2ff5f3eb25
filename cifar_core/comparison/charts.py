"""Comparison charts: Altair specs for two runs on shared axes, per-class bars, reference marks."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from cifar_core import constants as C
from cifar_core.charts import (
    METRIC_TITLES,
    confusion_heatmap,
    readable,
    value_axis,
    value_scale,
)
from cifar_core.comparison.references import AXIS_LINE_BREAK

# Blue and orange stay apart for the common colour-vision deficiencies; every chart also
# separates the runs by dash, shape or text, so it still reads in greyscale.
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
RUN_SHAPES = ("circle", "square", "triangle-up", "diamond")
TRAIN, VALIDATION = "train", "validation"
X_TITLES = {"epoch": "epoch", "seconds": "seconds of training"}


def _run_scales(labels: Sequence[str]) -> tuple[alt.Scale, alt.Scale]:
    n = len(labels)
    return (
        alt.Scale(domain=list(labels), range=list(RUN_COLOURS[:n])),
        alt.Scale(domain=list(labels), range=list(RUN_SHAPES[:n])),
    )


# Numeric columns of the comparison rows: float, so a column of missing values is NaN (null in
# Arrow, a gap in Vega-Lite), never a column of Python objects.
CURVE_NUMBERS = (
    "epoch",
    "seconds",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "loss_min",
    "loss_max",
    "accuracy_min",
    "accuracy_max",
)


def curve_frame(rows: Sequence[dict] | pd.DataFrame) -> pd.DataFrame:
    """Comparison rows (comparison.curve_rows + batch_rows) as a DataFrame with float numbers."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    for column in ("model", "kind"):
        if column not in frame:
            frame[column] = pd.Series(dtype=str)
    for column in CURVE_NUMBERS:
        frame[column] = (
            pd.to_numeric(frame[column], errors="coerce").astype("float64")
            if column in frame
            else np.nan
        )
    return frame


def comparison_curves_chart(
    data: pd.DataFrame | alt.NamedData,
    metric: str,
    labels: Sequence[str],
    x_field: str = "epoch",
    shade_gap: bool = True,
    batches: bool = True,
) -> alt.LayerChart:
    """The comparison-curves chart over `data` (a `curve_frame`, or a named dataset).

    Args:
        data: the rows, or alt.NamedData to attach them later (live_view does).
        metric, labels, x_field, shade_gap: as in `comparison_curves`.
        batches: draw the per-batch layers (thin line and min–max band).
    """
    colour_scale, shape_scale = _run_scales(labels)
    x = alt.X(f"{x_field}:Q", title=X_TITLES.get(x_field, x_field), scale=alt.Scale(zero=True))
    y_title = {"loss": "loss", "accuracy": "accuracy"}.get(metric, metric)
    legend = alt.Legend(orient="bottom", title="run")
    colour = alt.Color("model:N", scale=colour_scale, legend=legend)
    base = alt.Chart(data)
    epochs = base.transform_filter(alt.datum.kind == "epoch")
    folded = (
        epochs.transform_fold([metric, f"val_{metric}"], as_=["series", "value"])
        .transform_calculate(split=alt.expr.if_(alt.datum.series == metric, TRAIN, VALIDATION))
        .transform_filter(alt.datum.value != None)  # noqa: E711 — a Vega expression, not Python
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title, scale=value_scale(metric), axis=value_axis(metric)),
            color=colour,
            tooltip=[
                alt.Tooltip("model:N", title="run"),
                alt.Tooltip("split:N", title="measured on"),
                alt.Tooltip("epoch:Q", format=".0f"),
                alt.Tooltip("seconds:Q", format=".1f"),
                alt.Tooltip("value:Q", title=metric, format=".4f"),
            ],
        )
    )
    # Lines (dash = train or validation) and points (shape = run) are separate layers, so each
    # legend draws its own symbols: dashed strokes for the split, shapes for the runs.
    layers = [
        folded.mark_line().encode(
            strokeDash=alt.StrokeDash(
                "split:N",
                scale=alt.Scale(domain=[TRAIN, VALIDATION], range=[[1, 0], [6, 3]]),
                legend=alt.Legend(orient="bottom", title="measured on", symbolStrokeWidth=2),
            ),
            detail="split:N",
        ),
        folded.mark_point(size=55, filled=True, opacity=1).encode(
            shape=alt.Shape("model:N", scale=shape_scale, legend=legend)
        ),
    ]
    if batches:
        batch_rows = base.transform_filter(alt.datum.kind == "batch")
        # The lowest to highest batch of each merged point, light, in the run's colour.
        layers.append(
            batch_rows.mark_area(opacity=0.2).encode(
                x=x,
                y=alt.Y(f"{metric}_min:Q", title=y_title, stack=None, scale=value_scale(metric)),
                y2=alt.Y2(f"{metric}_max:Q"),
                color=colour,
                detail="model:N",
            )
        )
        layers.append(
            batch_rows.mark_line(strokeWidth=1, opacity=0.45).encode(
                x=x,
                y=alt.Y(f"{metric}:Q", title=y_title, scale=value_scale(metric)),
                color=colour,
                detail="model:N",
            )
        )
    if shade_gap:
        layers.append(
            epochs.mark_area(opacity=0.15).encode(
                x=x,
                y=alt.Y(f"{metric}:Q", title=y_title, stack=None, scale=value_scale(metric)),
                y2=alt.Y2(f"val_{metric}:Q"),
                color=colour,
                detail="model:N",
            )
        )
    chart = alt.layer(*layers).properties(
        title=METRIC_TITLES.get(metric, metric), height=C.LIVE_CHART_HEIGHT
    )
    return readable(chart)


def comparison_curves(
    rows: Sequence[dict] | pd.DataFrame,
    metric: str,
    labels: Sequence[str],
    x_field: str = "epoch",
    shade_gap: bool = True,
) -> alt.LayerChart:
    """Loss or accuracy of several runs on one chart, train and validation.

    Colour (and point shape) tells the runs apart; solid vs dashed tells train from
    validation; the band between a run's train and validation curves is its gap, shaded in
    the run's colour, so overfitting shows as a band that widens. The data travel as a
    DataFrame (Streamlit ships it as Arrow).

    Args:
        rows: wide rows from comparison.curve_rows (kind "epoch") and optionally
            comparison.batch_rows (kind "batch", drawn as a thin running-mean line with a light
            min–max band), as dicts or a `curve_frame`.
        metric: "loss" or "accuracy".
        labels: the run labels, in legend order.
        x_field: "epoch" or "seconds".
        shade_gap: draw the train−validation band.
    """
    frame = curve_frame(rows)
    has_batches = bool((frame["kind"] == "batch").any())
    return comparison_curves_chart(frame, metric, labels, x_field, shade_gap, has_batches)


def per_class_grouped(
    rows: Sequence[dict], labels: Sequence[str], class_names: Sequence[str]
) -> alt.LayerChart:
    """Test accuracy per class, one bar per run side by side, the value written on each bar.

    Args:
        rows: (class, model, accuracy) rows from comparison.per_class_rows.
        labels: the run labels, in legend order.
        class_names: the classes, in label order.
    """
    colour_scale, _ = _run_scales(labels)
    base = alt.Chart(alt.Data(values=list(rows))).encode(
        y=alt.Y("class:N", sort=list(class_names), title=None, axis=alt.Axis(labelOverlap=False)),
        yOffset=alt.YOffset("model:N", sort=list(labels)),
        x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "model:N", scale=colour_scale, legend=alt.Legend(orient="bottom", title="run")
        ),
        # A lighter second run: the two bars differ in lightness too, not only in hue.
        opacity=alt.Opacity(
            "model:N",
            scale=alt.Scale(domain=list(labels), range=[1.0, 0.55, 0.8, 0.4][: len(labels)]),
            legend=None,
        ),
        tooltip=[
            alt.Tooltip("model:N", title="run"),
            "class:N",
            alt.Tooltip("accuracy:Q", format=".1%"),
        ],
    )
    text = base.mark_text(align="left", dx=3, fontSize=C.CHART_MARK_TEXT_PX).encode(
        text=alt.Text("accuracy:Q", format=".0%")
    )
    return readable((bars + text).properties(title="Test accuracy per class", height=420))


# references.AXIS_LINE_BREAK as it is written inside a Vega expression's string.
AXIS_LINE_BREAK_EXPR = AXIS_LINE_BREAK.encode("unicode_escape").decode()
PUBLISHED = "Published results (not measured here: full data, long training)"
MEASURED = "Your runs (test accuracy, measured on this machine)"


def reference_chart(
    references: Sequence[dict], measured: Sequence[dict], labels: Sequence[str]
) -> alt.FacetChart:
    """Published results in one panel, the student's measured runs in another, one accuracy axis.

    The panels never mix: references are grey dashed rules ending in a tick, with their value
    written next to them; the student's runs are coloured bars labelled with their budget.
    Each row is named by its short "axis" label, one line per part (source, network, epochs),
    so that it is read whole on a projector and fits a phone; the long label is its tooltip.

    Args:
        references: rows from references.reference_rows (label, axis, source, accuracy…).
        measured: rows (label, axis, model, accuracy) for the student's runs; model is the run
            label, axis made by references.axis_label.
        labels: the run labels, in legend order (same colours as the curves).
    """
    colour_scale, _ = _run_scales(labels)
    rows = [{**r, "group": PUBLISHED} for r in references] + [
        {**r, "group": MEASURED, "value_text": f"{r['accuracy']:.1%}"} for r in measured
    ]
    base = alt.Chart().encode(
        y=alt.Y(
            "axis:N",
            sort=None,
            title=None,
            axis=alt.Axis(
                labelLimit=C.REFERENCE_LABEL_LIMIT_PX,
                labelOverlap=False,  # three-line labels: Vega would hide every other one
                labelExpr=f"split(datum.label, '{AXIS_LINE_BREAK_EXPR}')",
            ),
        ),
        x=alt.X(
            "accuracy:Q",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%", title="accuracy"),
        ),
    )
    published = base.transform_filter(alt.datum.group == PUBLISHED)
    yours = base.transform_filter(alt.datum.group == MEASURED)
    layers = alt.layer(
        # A rule from 0 to the value (x from a computed field: a datum value breaks facets).
        published.transform_calculate(zero="0")
        .mark_rule(strokeDash=[4, 3], color="#888", strokeWidth=1.5)
        .encode(x="zero:Q", x2="accuracy:Q"),
        published.mark_tick(color="#444", thickness=3, size=16).encode(
            tooltip=["label:N", "source:N", "model:N", "budget:N", "metric:N", "value_text:N"]
        ),
        yours.mark_bar(size=14).encode(
            color=alt.Color("model:N", scale=colour_scale, legend=None),
            tooltip=["label:N", alt.Tooltip("accuracy:Q", format=".1%")],
        ),
        base.mark_text(align="left", dx=6, color="#333", fontSize=C.CHART_MARK_TEXT_PX).encode(
            text="value_text:N"
        ),
    ).properties(height=alt.Step(C.REFERENCE_ROW_PX), width=C.REFERENCE_CHART_WIDTH_PX)
    chart = layers.facet(
        data=alt.Data(values=rows),
        row=alt.Row(
            "group:N",
            sort=[PUBLISHED, MEASURED],
            title=None,
            header=alt.Header(
                labelAngle=0,
                labelAlign="left",
                labelAnchor="start",
                labelOrient="top",
                labelFontWeight="bold",
                labelFontSize=C.PROJECTOR_LABEL_PX,
                # The explanation in brackets on its own lines: on one line a phone cut it off.
                # (A header starts above the plot, right of the row labels.)
                labelExpr=(
                    "split(replace(replace(replace(datum.label, ' (', '|('), ': ', ':|'), ', ', "
                    "',|'), '|')"
                ),
            ),
        ),
    ).resolve_scale(y="independent")
    return readable(chart)


def confusion_cells(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], title: str, selectable: bool
) -> alt.LayerChart:
    """A confusion matrix whose cells can be clicked (a point selection named "cell").

    Args:
        matrix: counts[true, predicted].
        class_names: the classes, in label order.
        title: chart title (the run's label).
        selectable: add the click selection (for st.altair_chart(on_select="rerun")).
    """
    return confusion_heatmap(matrix, class_names, title, selectable=selectable, height=440)
