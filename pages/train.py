"""Train: pick a network and a budget, watch it learn live, then read the results."""

from __future__ import annotations

import streamlit as st

from cifar_core.lesson import shared_lesson
from cifar_core.models import CONV_STRIDE_NOTE, layer_table
from cifar_core.runs import DAMAGED, RunStoreError
from cifar_core.training import TrainingJob
from ui import run_views
from ui.class_results import class_together
from ui.common import (
    JOB_KEY,
    LATEST_RUN_KEY,
    budget_ui,
    get_data,
    get_manager,
    get_store,
    load_saved_run,
    own_runs,
    request_training,
    session_owner,
    unwatch_job,
    watch_job,
)
from ui.compat import require_app_navigation
from ui.train_form import TRAIN_FORM, train_form

require_app_navigation()

PICKER_KEY = "train_run_picker"  # the saved-runs select box
PENDING_VIEW_KEY = "train_pending_view"  # a run to select in it on the next full run
HANDLED_KEY = "train_handled_job"  # id of the job whose end we already reacted to

st.title("Train a CNN on CIFAR-10")
st.markdown(
    """
Pick a network and a training budget, press **Train**, and watch the network learn. The loss
(how wrong it is) should fall and the accuracy rise. Watch the **validation** curve too: it is
measured on images the network does not train on, so when training accuracy keeps rising but
validation accuracy stalls, the network is fitting the particular images it trains on rather
than what carries over to new ones (*overfitting*).
"""
)

data = get_data()
if data is None:
    st.stop()
store, manager = get_store(), get_manager()


# The chosen network's layers, as a table, with the Conv2D(64, 3, 3) note where it applies.
def architecture_ui(model: str) -> None:
    with st.expander(f"Layers of the {model} network"):
        rows = [
            {
                "layer": r["layer"],
                "output shape": " × ".join(map(str, r["output_shape"])),
                "parameters": r["params"],
            }
            for r in layer_table(model)
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
        st.caption(f"Total: {sum(r['parameters'] for r in rows):,} parameters.")
        if model == "deep":
            st.info(f"**conv4:** {CONV_STRIDE_NOTE}")


# Who shares this live run: the sessions looking at it now (closed tabs drop out within a
# few polls); returns how many asked for it and did not leave (what Stop goes by).
def shared_run_ui(job: TrainingJob, poll_seconds: float | None, live: bool) -> int:
    watchers = manager.watchers(job)
    if not live:
        return watchers  # nobody polls a finished run: a count would mean nothing
    manager.seen(job, session_owner(), poll_seconds)
    now = manager.watching_now(job)
    if now > 1:
        st.caption(
            f"👥 Shared run: {now} sessions are watching it now. Everyone who asked for "
            "exactly these settings watches the same run: the server trains it once."
        )
    elif watchers > 1:
        st.caption(
            "👥 Shared run: other sessions asked for exactly these settings too, but none of "
            "them is watching right now. The server trains it once for all of them."
        )
    return watchers


# The live view of this session's job; polls the monitor while the job runs.
def live_panel(poll_seconds: float | None = None) -> None:
    job: TrainingJob = st.session_state[JOB_KEY]
    snap = job.monitor.snapshot()
    config = job.config.to_dict()
    watchers = shared_run_ui(job, poll_seconds, live=not snap.is_final)
    if not snap.is_final:
        run_views.live_status(snap, config, manager.estimate_wait(job))
        label = "Leave this shared run" if watchers > 1 else "Stop"
        if st.button(label, key="train_stop", disabled=snap.stop_requested):
            # Stop only if nobody else watches; otherwise just this session leaves.
            if not manager.stop(job, session_owner()):
                st.session_state.pop(JOB_KEY, None)
            unwatch_job()
            st.rerun(scope="app")
    saved = snap.is_final and snap.run_id and snap.status != "failed"
    if (snap.batches or snap.epochs) and not saved:  # once saved, the results below show them
        # Built once per curve version for every watching session; a poll with nothing new
        # re-emits the same charts (Streamlit drops elements a fragment run does not emit).
        run_views.curves(
            snap.batches, snap.epochs, config, key="live", cache_key=snap.chart_key, notes=False
        )
    if snap.is_final and st.session_state.get(HANDLED_KEY) != id(job):
        # The job just ended: show its saved run below, once, with a full rerun.
        st.session_state[HANDLED_KEY] = id(job)
        if snap.run_id and snap.status != "failed":
            st.session_state[LATEST_RUN_KEY] = snap.run_id
            st.session_state[PENDING_VIEW_KEY] = snap.run_id
        st.rerun(scope="app")
    if snap.is_final:
        message = run_views.STATUS_TEXT.get(snap.status, snap.status)
        if manager.stopped_by_teacher(monitor_id=snap.monitor_id):
            message = run_views.TEACHER_TEXT.get(snap.status, message)
        if snap.status == "failed":
            st.error(f"Training failed: {snap.message}")
        else:
            where = " Its curves and results are in **Results** below." if saved else ""
            (st.success if snap.status == "finished" else st.info)(message + where)


configs = train_form(TRAIN_FORM, len(data.x_train))
allowed = False
if configs:
    [config] = configs
    architecture_ui(config.model)
    n_train, n_val = config.split_sizes()
    st.caption(
        f"{n_train:,} images train the network; {n_val:,} are held out to measure validation "
        f"accuracy after each epoch; all {len(data.x_test):,} test images score it at the end. "
        "Same seed and settings give the same result on the same machine; another machine or "
        "TensorFlow version can differ slightly, because parallel CPU arithmetic may add "
        "numbers in a different order."
    )
    allowed = budget_ui(configs, manager)
job = st.session_state.get(JOB_KEY)
busy = job is not None and not job.monitor.snapshot().is_final
if st.button("Train", type="primary", disabled=busy or not allowed, key="train_start"):
    started = request_training(configs, data, store, manager)
    if started:
        [(job, attached)] = started
        st.session_state[JOB_KEY] = job
        watch_job(job, manager)
        if attached:
            st.toast(
                "Someone on this server already trains these exact settings: you joined that run."
            )
        busy = not job.monitor.snapshot().is_final
if busy:
    st.caption("Training runs in the background: you can visit other pages and come back.")

if job is not None:
    st.header("Training")
    st.markdown(run_views.config_summary(job.config.to_dict()))
    # Poll while the job is alive: every second, less often when this session joined a run a
    # class already watches (JobManager.poll_seconds; fixed until the next full run, so
    # nobody reruns the whole page just because others joined). A finished job is drawn
    # once. Only what changes is inside the fragment.
    poll = manager.poll_seconds(job) if busy else None
    st.fragment(run_every=poll)(live_panel)(poll)
    if busy:
        st.caption(f"Loss and accuracy {run_views.CURVES_NOTE}")

st.header("Results")
runs = own_runs(store)  # this browser's runs only: ones it trained or joined
if not runs:
    st.caption("No saved runs yet: press **Train** above.")
else:
    ids = [r.run_id for r in runs]
    labels = {r.run_id: r.label for r in runs}
    pending = st.session_state.pop(PENDING_VIEW_KEY, None)
    if pending in ids:
        st.session_state[PICKER_KEY] = pending  # a run just ended: show it
    elif st.session_state.get(PICKER_KEY) not in ids:
        st.session_state[PICKER_KEY] = ids[0]
    chosen = st.selectbox("Saved runs (newest first)", ids, format_func=labels.get, key=PICKER_KEY)
    info = next(r for r in runs if r.run_id == chosen)
    if info.status == DAMAGED:
        st.warning(f"This run folder is damaged and cannot be shown: {info.problem}")
    else:
        try:
            run_views.show_run(
                load_saved_run(str(store.root), chosen).run, data, key="result", status=info.status
            )
        except RunStoreError as exc:
            st.warning(str(exc))

# The class's runs together, when the teacher shares them (Teacher page → lesson settings):
# one chart of every run with the class preset's settings, labels anonymous.
if shared_lesson(store.root).current().share_class:
    class_together(store, frozenset(manager.active_run_ids()), student=True)
