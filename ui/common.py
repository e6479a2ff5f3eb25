"""Shared page helpers: cached data, run store and job queue, at the Streamlit edge."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import streamlit as st

from cifar_core import constants as C
from cifar_core.data import Cifar10, DataError, needs_download, shared_data
from cifar_core.identity import owner_hash
from cifar_core.runs import PREDICTIONS_FILE, Run, RunInfo, RunStore, RunStoreError
from cifar_core.runs.files import STATUS_FILE
from cifar_core.training import precision, warmup
from cifar_core.training.limits import (
    STUDENT_SETTINGS_NOTE,
    LimitError,
    report_setting_problem,
)
from cifar_core.training.queue import JobManager, shared_manager
from ui.identity import KEY_STATE, browser_key

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LessonStep:
    """One page of the lesson, for the navigation and the home page."""

    path: str
    title: str
    icon: str
    blurb: str

    @property
    def url_path(self) -> str:
        """The page's URL: its file name without .py.

        It must equal the file stem: because the pages live in a folder named `pages/`,
        Streamlit first looks a requested URL up among those files (its older multipage
        mode) and shows a "Page not found" modal on a direct link to any other name, even
        though st.navigation then opens the right page.
        """
        return Path(self.path).stem


# The lesson, in order. A page appears once its file exists (pages land one by one).
LESSON_STEPS = (
    LessonStep(
        "pages/augmentation_lab.py",
        "Augmentation lab",
        "🎛️",
        "See what rotation, shifts, shear, zoom and flips do to real CIFAR-10 images (or your "
        "own photo) before you train with them, with the matching Keras code.",
    ),
    LessonStep(
        "pages/train.py",
        "Train",
        "🏋️",
        "Train the lesson's shallow or deep CNN on real CIFAR-10 images and watch loss and "
        "accuracy move live; then read the test accuracy, the confusion matrix and the mistakes.",
    ),
    LessonStep(
        "pages/shallow_vs_deep.py",
        "Shallow vs deep",
        "⚖️",
        "Both networks on the same budget, side by side: when depth pays off, and when the "
        "shallow net keeps up or wins.",
    ),
    LessonStep(
        "pages/bias_privacy.py",
        "Bias & privacy",
        "🔍",
        "What changes when the images are faces — with evidence, and with your own model.",
    ),
)


def available_steps() -> list[LessonStep]:
    """The lesson pages whose files exist, in lesson order."""
    return [step for step in LESSON_STEPS if (REPO / step.path).is_file()]


# Session-state keys shared between pages.
LATEST_RUN_KEY = "latest_run_id"  # the run this session trained most recently
JOB_KEY = "training_job"  # the TrainingJob this session owns (alive or finished)
WATCH_KEY = "training_watch"  # ties this session's watch of that job to the session's life
AUGMENT_KEY = "augment_params"  # AugmentParams.to_dict() the Augmentation lab handed over


def get_data() -> Cifar10 | None:
    """The data set, loading (or downloading, the first time) with a visible status.

    Returns None after telling the student that the images could not be loaded and to tell
    the teacher; what is wrong and which setting fixes it go to the server log (data.py).
    """
    if needs_download():
        with st.status(
            f"Downloading CIFAR-10 through Keras (~{C.DOWNLOAD_MB} MB, first time only)…",
            expanded=True,
        ) as status:
            st.write("Keras saves it under ~/.keras/datasets, so this happens once.")
            try:
                data = shared_data()
            except DataError as exc:
                # The box must not keep saying "Downloading…" above the failure.
                status.update(
                    label="CIFAR-10 could not be downloaded.", state="error", expanded=False
                )
                failure = exc
            else:
                status.update(label="CIFAR-10 downloaded.", state="complete", expanded=False)
                return data
        data_error(failure)
        return None
    try:
        with st.spinner("Loading CIFAR-10…"):
            return shared_data()  # one read-only copy for every session of this process
    except DataError as exc:
        data_error(exc)
        return None


def data_error(exc: DataError) -> None:
    """What a student can do when the data set is missing: tell the teacher (details: the log)."""
    st.error(
        f"**CIFAR-10 could not be loaded, so this page cannot work right now.** {exc.student} "
        "Please tell your teacher. (Running the app yourself? The details are in the terminal "
        "where you started it.)",
        icon="⚠️",
    )


class SavedRun(NamedTuple):
    """A saved run and its test (and training) predictions, as every page reads them."""

    run: Run
    predictions: dict  # name → array (see Run.predictions); {} if none were saved or readable
    predictions_error: str | None  # why the saved predictions cannot be used, if they cannot


# The one loader of saved runs for the pages, shared by every session. A run's files are
# read and checked once per version of the run: its status file is rewritten whenever the run
# changes (while it trains, when it ends), so its modification time keys the cache.
def load_saved_run(root: str, run_id: str) -> SavedRun:
    """A saved run with its predictions; raises RunStoreError for a run that cannot be read."""
    try:
        version = (Path(root) / run_id / STATUS_FILE).stat().st_mtime_ns
    except (OSError, ValueError):
        version = 0  # no such run: RunStore.load says so in its own words
    return _load_saved_run(root, run_id, version)


@st.cache_data(max_entries=16, show_spinner=False)
def _load_saved_run(root: str, run_id: str, version: int) -> SavedRun:  # noqa: ARG001
    run = RunStore(root).load(run_id)
    if not run.has(PREDICTIONS_FILE):
        return SavedRun(run, {}, "this run saved no test predictions")
    try:
        return SavedRun(run, run.predictions(), None)
    except RunStoreError as exc:
        return SavedRun(run, {}, str(exc))


def get_store() -> RunStore:
    """The run store (folder from $CIFAR_RUNS_DIR, default ./runs); cheap, so not cached."""
    return RunStore()


def get_manager() -> JobManager:
    """The process-wide training queue ($CIFAR_MAX_TRAININGS at once, default 1).

    A bad server setting (the defaults are then in use) is logged once for the operator, and
    every page that trains says so in one neutral line, without the details.
    """
    manager = shared_manager()
    if manager.setting_problem:
        report_setting_problem(manager.setting_problem)
        st.warning(STUDENT_SETTINGS_NOTE, icon="⚙️")
    return manager


OWNER_KEY = KEY_STATE  # where the session keeps its per-browser key (ui.identity)


def session_owner() -> str:
    """This browser's random key (no personal data), the same after a reload (ui.identity).

    The job manager's per-student limit goes by it, and every run it starts or joins records
    its hash as an owner, which is what `own_runs` lists.
    """
    return browser_key()


# The one rule of whose runs a student sees: the runs this browser asked for or joined.
def own_runs(store: RunStore) -> list[RunInfo]:
    """This browser's runs, newest first: those its key started or joined (shared ones too).

    Other students' runs, and runs saved before runs had owners, are never listed here (the
    teacher's class view lists every run). A run still training in this process is listed
    as running, one cut off by a restart as interrupted.
    """
    mine = owner_hash(session_owner())
    active = shared_manager().active_run_ids()
    return [info for info in store.list_runs(active_ids=active) if mine in info.owners]


def duration_text(seconds: float) -> str:
    """'about 4 min' / 'about 40 s': a rough duration for estimates."""
    if seconds >= 90:
        return f"about {round(seconds / 60)} min"
    return f"about {max(5, round(seconds / 5) * 5)} s"


# Before Train is pressed: how long this will take here, or why the server will not take it.
def budget_ui(configs: list, manager: JobManager) -> bool:
    """Show the estimated training time, or the limit a config breaks; True if it may start."""
    problems = [p for c in configs if (p := manager.limits.check_config(c))]
    if problems:
        st.error(problems[0], icon="⏱️")
        return False
    seconds = sum(manager.estimate_seconds(c) for c in configs)
    limit = manager.limits.max_run_minutes
    st.caption(
        f"⏱️ Estimated time on this server: {duration_text(seconds)} once it starts "
        f"(each run is stopped and saved at {limit:g} min)."
    )
    precision_caption([c.model for c in configs])
    return True


def precision_caption(models: list[str]) -> None:
    """One line per network: the precision this server trains it in, and why (see precision.py)."""
    decisions = [precision.known(m) for m in dict.fromkeys(models)]
    if any(d is None for d in decisions):
        if warmup.enabled() and not warmup.done.is_set():
            st.caption("🔢 Measuring whether this server's CPU trains faster in bfloat16…")
        return  # otherwise the first run measures it
    for decision in decisions:
        st.caption(f"🔢 {decision.sentence()}")


def request_training(configs: list, data: Cifar10, store, manager: JobManager) -> list | None:
    """Start or join the runs of one request for this session; None after showing why not."""
    try:
        return manager.start_request(configs, data, store, owner=session_owner())
    except LimitError as exc:
        st.error(str(exc), icon="⏱️")
        return None


class _Watch:
    """A token in one session's state: when Streamlit drops the session, its jobs lose a watcher.

    The release runs inside garbage collection, in whatever thread collects: it only queues
    the detach (JobManager.release_later), never takes a lock.
    """

    def __init__(self, jobs: list[object], manager: JobManager) -> None:
        self.releases = [weakref.finalize(self, manager.release_later, job) for job in jobs]

    def forget(self) -> None:
        """Stop/Leave already detached: do not detach again when the session ends."""
        for release in self.releases:
            release.detach()


def watch_job(job: object, manager: JobManager, *, key: str = WATCH_KEY) -> None:
    """Make this session a watcher of `job` (or a list of jobs) until the session ends.

    The job manager counts who watches a job, so Stop from one of several sessions that asked
    for the same settings only leaves the shared run. A token replaced under the same `key`
    (the session watches something else now) releases its jobs.
    """
    jobs = job if isinstance(job, list) else [job]
    st.session_state[key] = _Watch(jobs, manager)


def unwatch_job(*, key: str = WATCH_KEY) -> None:
    """Forget this session's watch without releasing it again (Stop/Leave already did)."""
    token = st.session_state.pop(key, None)
    if token is not None:
        token.forget()


def nearest(options: tuple, value: float) -> float:
    """The option closest to a preset value (select sliders accept only their options)."""
    return min(options, key=lambda option: abs(option - value))


def keep_widget_values(saved_key: str, defaults: Mapping[str, Any]) -> None:
    """Give each widget key its value from the student's last visit, else its default.

    Streamlit forgets a widget's value when a run does not draw it (the student is on another
    page, or the control is hidden for a while), so settings would snap back to the defaults.
    This is the app's one way of remembering widget values between visits. Call this before drawing the widgets (which
    then take no `value=`/`index=` argument) and `save_widget_values` after.

    Args:
        saved_key: a plain session key that keeps the values between pages.
        defaults: widget key → value for a first visit.
    """
    saved = st.session_state.get(saved_key, {})
    for key, default in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = saved.get(key, default)


def save_widget_values(saved_key: str, keys: Iterable[str]) -> None:
    """Remember the current values of these widgets for the next visit (keep_widget_values).

    Merged into what was saved, so a widget this run did not draw (a control hidden for a
    while) keeps the value it had when last shown.
    """
    saved = dict(st.session_state.get(saved_key, {}))
    saved.update({k: st.session_state[k] for k in keys if k in st.session_state})
    st.session_state[saved_key] = saved


def saved_widget_value(saved_key: str, key: str, default: Any) -> Any:
    """The value a widget had when last drawn (keep_widget_values), else `default`."""
    return st.session_state.get(saved_key, {}).get(key, default)
