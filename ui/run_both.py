"""Run both: the shallow and the deep network trained on one budget, watched live together.

Shallow vs deep's training section: the one training form (ui.train_form), both jobs queued
one after the other, their live status and curves polled in a fragment, Stop both, and the
two new runs handed to the page's run pickers when both have ended.
"""

from __future__ import annotations

import streamlit as st

from cifar_core import constants as C
from cifar_core import live_view
from cifar_core.comparison import analysis as K
from cifar_core.data import Cifar10
from cifar_core.runs import RunStore
from cifar_core.training import TrainingJob
from cifar_core.training.queue import JobManager
from ui import run_views
from ui.common import (
    LATEST_RUN_KEY,
    budget_ui,
    get_manager,
    request_training,
    session_owner,
    unwatch_job,
    watch_job,
)
from ui.train_form import SVD_FORM, train_form

JOBS_KEY = "svd_jobs"  # the (shallow, deep) TrainingJobs this session started or joined
WATCH_KEY = "svd_watch"  # this session's watch of those two jobs (ui.common.watch_job)
LEFT_KEY = "svd_left"  # id of the job pair this session stopped or left
HANDLED_KEY = "svd_handled_jobs"  # id of the job pair whose end we already reacted to
PENDING_KEY = "svd_pending_pair"  # run ids to select in the pickers on the next full run


def cpu_note(max_concurrent: int) -> str:
    """Whether the two runs' speeds are comparable on this server (one training slot or more)."""
    if max_concurrent == 1:
        return (
            "They are queued one after the other, so each gets the whole CPU and their speeds "
            "are comparable."
        )
    return (
        f"This server trains up to {max_concurrent} runs at once, so they may share the CPU "
        "with each other or with other runs: compare their accuracy, and their speeds only "
        "with care."
    )


def stop_both(jobs: list[TrainingJob]) -> None:
    manager = get_manager()
    # Stops each job only if no other session watches it; otherwise this session leaves it.
    for job in jobs:
        manager.stop(job, session_owner())
    unwatch_job(key=WATCH_KEY)
    st.session_state[LEFT_KEY] = id(jobs)


# Both jobs, polled while they run: status (or place in the queue) and live curves.
def live_panel() -> None:
    manager = get_manager()
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
        f"the same epochs, batch, optimizer and seed. {cpu_note(manager.max_concurrent)}"
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
