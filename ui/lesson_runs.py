"""'See it: run this' — the lesson experiment behind a claim, started from where the claim is made."""

from __future__ import annotations

import streamlit as st

from cifar_core import lessons as L
from cifar_core.runs import RunStoreError
from cifar_core.training import TrainingJob
from ui.common import (
    duration_text,
    get_data,
    get_manager,
    get_store,
    load_saved_run,
    request_training,
    watch_job,
)
from ui.run_views import duration, live_status


def _jobs_key(key: str) -> str:
    return f"see_it_jobs_{key}"


def see_it(key: str) -> None:
    """A box under a claim: what the experiment runs, a Run button, then what it showed.

    The data set is loaded only when the button is pressed, so a page that shows the box
    (the home page) still opens without loading CIFAR-10 or TensorFlow.
    """
    experiment = L.EXPERIMENTS[key]
    box = st.container(border=True, key=f"see_it_{key}")
    unique = list({c.key(): c for c in experiment.configs}.values())  # identical runs share
    # This server's own estimate (its measured speed and precision), not the test machine's.
    seconds = sum(get_manager().estimate_seconds(c) for c in unique)
    box.markdown(
        f"**See it: run this.** {experiment.claim} — {len(unique)} "
        f"run{'s' if len(unique) > 1 else ''}, {duration_text(seconds)} on this server."
    )
    box.caption(" · ".join(_describe(c) for c in experiment.configs))
    jobs: list[TrainingJob] | None = st.session_state.get(_jobs_key(key))
    busy = jobs is not None and not all(j.monitor.snapshot().is_final for j in jobs)
    if box.button("Run this", key=f"see_it_run_{key}", disabled=busy):
        with box:
            data = get_data()
            if data is not None:
                started = request_training(
                    list(experiment.configs), data, get_store(), get_manager()
                )
                if started:
                    jobs = [job for job, _ in started]
                    st.session_state[_jobs_key(key)] = jobs
                    watch_job(jobs, get_manager(), key=f"see_it_watch_{key}")
                    busy = True
    if jobs is not None:
        with box:
            poll = get_manager().poll_seconds(jobs) if busy else None
            st.fragment(run_every=poll)(_progress)(key)


def _describe(config) -> str:
    n_train, n_val = config.split_sizes()
    aug = ", augmented" if config.augment else ""
    return f"{config.model}: {n_train:,} + {n_val:,} images, {config.epochs} epochs{aug}"


# Polled while the experiment's runs train; when all ended, what they showed.
def _progress(key: str) -> None:
    experiment = L.EXPERIMENTS[key]
    jobs: list[TrainingJob] = st.session_state[_jobs_key(key)]
    snaps = [job.monitor.snapshot() for job in jobs]
    if not all(s.is_final for s in snaps):
        for label, job, snap in zip(experiment.labels, jobs, snaps, strict=True):
            st.markdown(f"**{label}**")
            if not snap.is_final:
                live_status(snap, job.config.to_dict(), get_manager().estimate_wait(job))
            else:
                st.caption(f"done in {duration(snap.elapsed_seconds)}")
        return
    if st.session_state.get(f"see_it_done_{key}") != id(jobs):
        st.session_state[f"see_it_done_{key}"] = id(jobs)
        st.rerun(scope="app")  # the button comes back; the outcome below stays
    failed = [s for s in snaps if s.status not in ("finished",) or not s.run_id]
    if failed:
        st.warning(
            "Not every run of this experiment finished "
            f"({', '.join(s.status for s in failed)}), so it shows nothing yet. Run it again."
        )
        return
    store = get_store()
    outcomes = []
    for label, snap in zip(experiment.labels, snaps, strict=True):
        try:
            run = load_saved_run(str(store.root), snap.run_id).run
        except RunStoreError as exc:
            st.warning(f"A run of this experiment cannot be read, so it shows nothing: {exc}")
            return
        outcomes.append(
            L.Outcome(label, run.result["test_accuracy"], run.history.get("epochs", []))
        )
    shown, text = L.evaluate(key, outcomes)
    (st.success if shown else st.warning)(text, icon="🔬" if shown else "🤔")
    st.caption(
        f"Look at: {experiment.look_at} The runs are saved: open them on the Train or "
        "Shallow vs deep page."
    )
