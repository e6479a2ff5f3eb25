"""Teacher: behind a passcode, every run on the server live, and the teacher's controls over them."""

from __future__ import annotations

import logging
import time

import streamlit as st

from cifar_core import classroom, passcode
from cifar_core import constants as C
from cifar_core.lesson import shared_lesson
from cifar_core.runs.disk import RunBudget
from ui.class_results import class_together
from ui.common import get_manager, get_store
from ui.compat import require_app_navigation
from ui.lesson_settings import lesson_settings_ui
from ui.run_views import duration

require_app_navigation()

log = logging.getLogger(__name__)

UNLOCK_KEY = "teacher_unlock"  # a keyed digest of the passcode this session unlocked with
ATTEMPTS_KEY = "teacher_attempts"  # this session's wrong guesses (passcode.Attempts)
CHOICE_KEY = "teacher_choice"  # the row the teacher acts on
DONE_KEY = "teacher_done"  # what the last action did and when, shown for a while

# No passcode configured: no teacher page. The navigation does not list it then, and a direct
# link never runs this file; if it ever did, it would show nothing but this line.
PASSCODE = passcode.configured()
if not PASSCODE:
    st.error("There is no teacher page on this server.")
    st.stop()

st.title("Teacher")


# The lock: a password field, checked in constant time, with a growing wait after wrong tries.
# Returns True once this session entered the passcode configured now.
def unlock_ui() -> bool:
    if passcode.still_unlocked(st.session_state.get(UNLOCK_KEY), PASSCODE):
        return True
    st.session_state.pop(UNLOCK_KEY, None)  # unlocked with a passcode that has changed since
    st.markdown("This page is for the teacher. Enter the passcode set on this server.")
    with st.form("teacher_unlock_form", clear_on_submit=True):  # the typed text is not kept
        guess = st.text_input("Teacher passcode", type="password", key="teacher_passcode")
        submitted = st.form_submit_button("Unlock")
    if submitted:
        attempts = st.session_state.get(ATTEMPTS_KEY, passcode.Attempts())
        outcome = passcode.try_passcode(guess, PASSCODE, attempts, time.monotonic())
        st.session_state[ATTEMPTS_KEY] = outcome.attempts
        if outcome.unlocked:
            st.session_state[UNLOCK_KEY] = passcode.unlock_token(PASSCODE)
            log.info("Teacher page unlocked by a session.")
            st.rerun()
        log.warning("Teacher page: a wrong passcode (%d in a row).", outcome.attempts.failures)
        st.error(outcome.message)
    return False


if not unlock_ui():
    st.stop()

st.markdown(
    "Every training on this server: queued, running, finished lately, and the saved runs. "
    "Students appear only as anonymous labels (the same label for the same browser). "
    "**Stop** ends a running training for everyone who watches it (their page says the teacher "
    "stopped it; what it learned so far is saved); **Cancel** takes a queued one out of the "
    "queue."
)
manager, store = get_manager(), get_store()


def table_row(row: classroom.ClassRow) -> dict:
    """A row as the table shows it."""
    acc = row.test_accuracy
    watch = f"{row.watchers} ({row.watching_now} now)" if row.watchers is not None else ""
    return {
        "Student": row.student,
        "Model": row.model,
        "Images": row.train_size,
        "Epochs": row.epochs,
        "Batch": row.batch_size,
        "LR": row.learning_rate,
        "Augment": "on" if row.augment else "off",
        "Status": row.status,
        "Progress": row.progress,
        "Watchers": watch,
        "Test accuracy": f"{acc:.1%}" if acc is not None else "",
        "Age": duration(row.age_seconds),
        "Run": row.run_id or "",
    }


def describe(row: classroom.ClassRow) -> str:
    """One line naming a row in the action picker."""
    # No status here: a picked option keeps its words while the view refreshes (the table
    # has the status).
    what = f"{row.student} · {row.model}, {row.train_size} images × {row.epochs} epochs"
    return what + (f" · run {row.run_id}" if row.run_id else " · not saved yet")


# What the action buttons do. As click callbacks they run before the view is drawn again, so
# the table right after a click already shows what the click did.
def stop_clicked(row: classroom.ClassRow) -> None:
    done = classroom.stop_for_everyone(manager, row)
    if row.can_cancel:
        note_done("Cancelled: the queue moves up." if done else "It had already started or ended.")
    else:
        note_done("Stopping it after its current batch." if done else "It had already ended.")


def note_done(text: str) -> None:
    """Say what an action did (shown under the table for TEACHER_NOTE_SECONDS)."""
    st.session_state[DONE_KEY] = (text, time.monotonic())


def delete_clicked(run_id: str) -> None:
    done = classroom.delete_run(manager, store, run_id)
    note_done(
        f"Deleted run {run_id}."
        if done
        else "This run cannot be deleted now (it is in use, or already gone)."
    )


# The teacher's actions on one chosen row: Stop / Cancel a job, Delete a saved run (confirmed).
def actions_ui(rows: list[classroom.ClassRow]) -> None:
    acting = [r for r in rows if r.can_stop or r.can_cancel or r.can_delete]
    if not acting:
        return
    by_key = {r.key: r for r in acting}
    if st.session_state.get(CHOICE_KEY) not in by_key:
        st.session_state[CHOICE_KEY] = acting[0].key
    key = st.selectbox(
        "Act on", list(by_key), format_func=lambda k: describe(by_key[k]), key=CHOICE_KEY
    )
    row = by_key[key]
    if row.can_stop:
        st.button(
            "Stop for everyone",
            key="teacher_stop",
            type="primary",
            on_click=stop_clicked,
            args=(row,),
        )
    if row.can_cancel:
        st.button(
            "Cancel this queued run", key="teacher_cancel", on_click=stop_clicked, args=(row,)
        )
    if row.can_delete:
        sure = st.checkbox(
            f"Yes, delete run {row.run_id} for good", key=f"teacher_sure_{row.run_id}"
        )
        st.button(
            "Delete this run",
            key="teacher_delete",
            disabled=not sure,
            on_click=delete_clicked,
            args=(row.run_id,),
        )


# The live table, redrawn every CLASS_VIEW_SECONDS (only this part reruns).
@st.fragment(run_every=C.CLASS_VIEW_SECONDS)
def class_view() -> None:
    rows = classroom.class_rows(manager, store)
    running, waiting = manager.counts()
    st.caption(f"{running} training now · {waiting} queued · {len(rows)} runs listed")
    if rows:
        st.dataframe([table_row(r) for r in rows], hide_index=True, width="stretch")
    else:
        st.caption("No runs yet.")
    # The last action's outcome stays up for TEACHER_NOTE_SECONDS: the view refreshes every
    # 2 s, and a note shown once was gone before a teacher looking at the class could read it.
    note = st.session_state.get(DONE_KEY)
    if note and time.monotonic() - note[1] < C.TEACHER_NOTE_SECONDS:
        ago = round(time.monotonic() - note[1])
        st.info(f"{note[0]} ({ago} s ago)" if ago >= 2 else note[0])
    actions_ui(rows)


class_view()
class_together(store, manager.active_run_ids())
# A damaged runs/lesson.json was ignored at start (the server's settings apply): say why, as
# literal text (st.code: whatever the file held shows as text, never as Markdown).
lesson_problem = shared_lesson().problem
if lesson_problem:
    st.warning(
        "The saved lesson settings could not be used, so the server's settings apply. Setting "
        "the lesson again below replaces the file.",
        icon="⚠️",
    )
    st.code(lesson_problem, language=None, wrap_lines=True)
lesson_settings_ui()

st.subheader("Run store")
budget = RunBudget.from_env()
st.caption(
    f"The server keeps at most {budget.max_count} runs and {budget.max_mb:g} MB of them; a new "
    "training removes the oldest runs beyond that by itself. Prune does it now. Never removed: "
    "a run that is training, queued or being watched."
)
if st.button("Prune to the budget now", key="teacher_prune"):
    removed = classroom.prune(manager, store, budget)
    st.info(f"Removed {len(removed)} run(s)." if removed else "The store is within its budget.")
