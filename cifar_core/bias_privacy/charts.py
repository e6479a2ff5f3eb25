"""Bias & privacy charts: Altair specs of the two demos (the page only displays them)."""

from __future__ import annotations

import altair as alt
import numpy as np

from cifar_core import constants as C
from cifar_core.bias_privacy.analysis import ScoreParams, confidence_histogram, normal_pdf
from cifar_core.charts import readable
from cifar_core.constants import DENSITY_POINTS, SCORE_MAX, SCORE_MIN

MEMBER_LABEL = "training images (seen)"
NONMEMBER_LABEL = "test images (never seen)"
GENUINE_LABEL = "genuine pairs (same person)"
IMPOSTOR_LABEL = "impostor pairs (different people)"


def score_chart(groups: dict[str, ScoreParams], threshold: float) -> alt.VConcatChart:
    """Each group's genuine and impostor score curves, one panel per group, with the threshold.

    Genuine curves are solid, impostor curves dashed, so the chart reads without colour; the
    areas on the wrong side of the threshold (the errors) are shaded.
    """
    xs = np.linspace(SCORE_MIN, SCORE_MAX, DENSITY_POINTS)
    panels = []
    for name, p in groups.items():
        rows = []
        for kind, mean, sd in (
            (GENUINE_LABEL, p.genuine_mean, p.genuine_sd),
            (IMPOSTOR_LABEL, p.impostor_mean, p.impostor_sd),
        ):
            for x, y in zip(xs, normal_pdf(xs, mean, sd), strict=True):
                wrong = x < threshold if kind == GENUINE_LABEL else x >= threshold
                rows.append(
                    {"score": float(x), "density": float(y), "kind": kind, "error": bool(wrong)}
                )
        # One legend for colour and dash together, so it also reads without colour.
        # One entry a line: side by side the two long labels ran past a phone's screen.
        legend = alt.Legend(
            orient="bottom", title=None, labelLimit=0, symbolType="stroke", columns=1
        )
        kinds = [GENUINE_LABEL, IMPOSTOR_LABEL]
        base = alt.Chart(alt.Data(values=rows)).encode(
            x=alt.X("score:Q", title="match score", scale=alt.Scale(domain=[SCORE_MIN, SCORE_MAX])),
            # No y axis: Streamlit stretches each panel of a stacked chart to the column's full
            # width, so an axis beside it ran 58 px past the edge (cut off, on a phone too).
            # A density's numbers mean nothing to a student; the curves' heights do.
            y=alt.Y("density:Q", title="how common", axis=None),
            color=alt.Color("kind:N", sort=kinds, legend=legend),
        )
        lines = base.mark_line().encode(
            strokeDash=alt.StrokeDash("kind:N", sort=kinds, legend=legend)
        )
        errors = base.transform_filter(alt.datum.error).mark_area(opacity=0.35)
        rule = (
            alt.Chart(alt.Data(values=[{"threshold": threshold}]))
            .mark_rule(strokeWidth=2, color="black")
            .encode(x="threshold:Q", tooltip=[alt.Tooltip("threshold:Q", format=".2f")])
        )
        panels.append((errors + lines + rule).properties(title=f"{name} (synthetic)", height=170))
    return readable(alt.vconcat(*panels))


def confidence_chart(member_conf: np.ndarray, nonmember_conf: np.ndarray) -> alt.FacetChart:
    """Histograms of confidence in the true class: training images above, test images below."""
    rows = []
    for label, conf in ((MEMBER_LABEL, member_conf), (NONMEMBER_LABEL, nonmember_conf)):
        edges, fractions = confidence_histogram(conf)
        for lo, hi, frac in zip(edges[:-1], edges[1:], fractions, strict=True):
            rows.append({"set": label, "from": float(lo), "to": float(hi), "share": float(frac)})
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            x=alt.X("from:Q", bin="binned", title="confidence in the true class"),
            x2="to:Q",
            y=alt.Y("share:Q", title="share of images", axis=alt.Axis(format="%")),
            color=alt.Color("set:N", sort=[MEMBER_LABEL, NONMEMBER_LABEL], legend=None),
            tooltip=[
                alt.Tooltip("set:N"),
                alt.Tooltip("from:Q", format=".2f"),
                alt.Tooltip("to:Q", format=".2f"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(height=140, width=C.PANEL_CHART_WIDTH_PX)
        # Each panel's name above it, not beside it: beside, it ran past a phone's screen.
        .facet(
            row=alt.Row(
                "set:N",
                sort=[MEMBER_LABEL, NONMEMBER_LABEL],
                title=None,
                header=alt.Header(labelAngle=0, labelOrient="top", labelAnchor="start"),
            )
        )
    )
    return readable(chart)
