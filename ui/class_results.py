"""The Teacher page's "The class together": every run of one setting on one chart, a leaderboard."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cifar_core import class_results as CR
from cifar_core import constants as C
from cifar_core import live_view
from cifar_core.lesson import shared_lesson
from cifar_core.runs import RunStore
from cifar_core.training.config import TrainConfig

GROUP_KEY = "class_together_group"  # the chosen group (its group_key)
METRIC_KEY = "class_together_metric"


# The settings everyone trains with unless they change them: the lesson's class preset (the
# teacher's live one, else the server's). Its group is the one the section opens on when it
# has runs.
def _preset_config(store: RunStore) -> dict:
    values = shared_lesson(store.root).current().values()
    try:
        return TrainConfig(**values).to_dict()  # as a run saves it (augmentation included)
    except (TypeError, ValueError):
        return values


def _leader_table(board: list[CR.LeaderRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "#": row.rank,
                "Student": row.student,
                "Seed": row.seed,
                "Best validation accuracy": f"{row.best_val_accuracy:.1%} (epoch {row.best_epoch})",
                "Test accuracy": f"{row.test_accuracy:.1%}"
                if row.test_accuracy is not None
                else "",
                "Run": row.run_id,
            }
            for row in board
        ]
    )


# Built once per (group, metric, versions of its runs) for every session: the histories are
# read and the chart validated only when a run of the group changed.
def _build(store: RunStore, group: CR.Group, infos: list, metric: str) -> dict:
    runs = CR.load_group(store, group, infos)
    curves = CR.curve_rows(runs, metric)
    spread = CR.spread_rows(curves)
    return {
        "runs": len(runs),
        "spec": CR.class_curves_chart(curves, spread, metric).to_dict() if runs else None,
        "caption": CR.describe(curves, spread, metric),
        "board": _leader_table(CR.leaderboard(runs)),
    }


# The section, refreshed every CLASS_TOGETHER_SECONDS so the class's new runs join the chart.
@st.fragment(run_every=C.CLASS_TOGETHER_SECONDS)
def class_together(
    store: RunStore, active_ids: frozenset[str] = frozenset(), *, student: bool = False
) -> None:
    """Pick a group of runs (same settings, different seeds); show its curves and leaderboard.

    Args:
        student: the students' view, when the teacher shares it: the class preset's group
            only (no picker; every label anonymous, as on the teacher's page).
    """
    st.subheader("The class together")
    st.markdown(
        "Every saved run with the same settings, whoever trained it: only the seed differs. "
        "Each thin line is one run; the band shows how far apart the seeds alone put them."
    )
    prefix = "student_" if student else ""
    infos = store.list_runs(active_ids=active_ids)
    found = CR.groups(infos)
    if not found:
        st.caption("No finished runs yet: the chart appears once the class's runs finish.")
        return
    by_key = {g.key: g for g in found}
    default = CR.default_group(found, _preset_config(store)).key
    if student:
        key = default
        st.caption(f"Settings: {by_key[key].label}")
    else:
        if st.session_state.get(GROUP_KEY) not in by_key:
            st.session_state[GROUP_KEY] = default
        key = st.selectbox(
            "Settings", list(by_key), format_func=lambda k: by_key[k].label, key=GROUP_KEY
        )
    metric = st.radio(
        "Show",
        list(CR.METRICS),
        format_func=CR.METRICS.get,
        horizontal=True,
        key=prefix + METRIC_KEY,
    )
    group = by_key[key]
    cache_key = ("class-together", str(store.root), key, metric, CR.versions(store, group))
    view = live_view.LIVE_CHARTS.get(cache_key, lambda: _build(store, group, infos, metric))
    if not view["runs"]:
        st.caption("None of these runs has a validation curve to show.")
        return
    st.vega_lite_chart(spec=view["spec"], width="stretch", key=f"{prefix}class_together_chart")
    st.caption(view["caption"])
    st.markdown("**Leaderboard** (best validation accuracy; ties by test accuracy)")
    st.dataframe(view["board"], hide_index=True, width="stretch")
