"""The Teacher page in AppTest: the passcode gate, and the class view with real jobs and runs.

AppTest sessions in this process share the module-level job manager, as tabs share the
server's (a fresh manager per test, so no other test's jobs are listed).
"""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

import cifar_core.training.queue as jobs_module
from cifar_core.classroom import owner_label
from cifar_core.constants import PASSCODE_FREE_TRIES
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig
from cifar_core.training.monitor import CANCELLED, QUEUED, STOPPED, TRAINING
from cifar_core.training.queue import JobManager, wait_for
from cifar_core.training.teacher_stops import TEACHER_STOP_NOTE
from tests.conftest import REPO, open_app, wait_until
from tests.test_stop_leave import ask_for_the_run, progress_text
from ui.common import JOB_KEY, OWNER_KEY

PASSCODE = "correct horse battery staple"  # a test's own, set only in its environment
TEACHER = "pages/teacher.py"
# Two students' browser keys (the shape cifar_core.identity makes: 32 URL-safe characters).
ALICE, BOB = "alice-browser-key-0000000000000a", "bob-browser-key-00000000000000bb"


@pytest.fixture()
def teacher_env(app_env, monkeypatch):
    monkeypatch.setenv("CIFAR_TEACHER_PASSCODE", PASSCODE)
    manager = JobManager(1)
    monkeypatch.setattr(jobs_module, "_shared_manager", manager)
    return app_env, manager


def page_text(at) -> str:
    """Everything a teacher's AppTest shows as text, tables included."""
    parts = [
        e.value for kind in ("title", "markdown", "caption", "info", "error") for e in at.get(kind)
    ]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [o for box in at.selectbox for o in box.options]
    return "\n".join(str(p) for p in parts)


def unlock(at, guess: str = PASSCODE) -> None:
    at.text_input(key="teacher_passcode").set_value(guess)
    at.button[0].click()  # the form's Unlock
    at.run()
    assert not at.exception, at.exception


def open_teacher() -> AppTest:
    at = open_app(TEACHER)
    unlock(at)
    assert at.dataframe or "No runs yet." in page_text(at)
    return at


# --- the gate ---


def test_without_a_passcode_there_is_no_teacher_page(app_env, monkeypatch):
    monkeypatch.delenv("CIFAR_TEACHER_PASSCODE", raising=False)
    at = open_app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(TEACHER)  # not in the navigation: no URL reaches it
    # Run on its own (as Streamlit's old multipage mode would run a direct link), it shows
    # nothing of the console either.
    bare = AppTest.from_file(str(REPO / TEACHER), default_timeout=30)
    bare.run()
    assert [e.value for e in bare.error] == ["There is no teacher page on this server."]
    assert not bare.text_input and not bare.dataframe and not bare.button


def test_a_wrong_passcode_is_refused_and_the_right_one_unlocks_this_session_only(teacher_env):
    at = open_app(TEACHER)
    assert "Teacher" in [t.value for t in at.title]
    assert (
        at.text_input(key="teacher_passcode").proto.type
        == at.text_input(key="teacher_passcode").proto.PASSWORD
    )
    unlock(at, "correct horse battery")
    assert "That passcode is not right." in [e.value for e in at.error]
    assert not at.dataframe and "training now" not in page_text(at)
    unlock(at)
    assert "0 training now · 0 queued" in page_text(at)
    assert "teacher_passcode" not in at.session_state  # the typed passcode is not kept
    assert PASSCODE not in str(at.session_state["teacher_unlock"])
    at.run()
    assert "0 training now · 0 queued" in page_text(at)  # stays unlocked on later runs
    other = open_app(TEACHER)  # another session (tab) starts locked
    assert other.text_input(key="teacher_passcode") and "training now" not in page_text(other)


def test_a_damaged_lesson_file_is_named_and_the_page_still_works(teacher_env):
    runs, _manager = teacher_env
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "lesson.json").write_text("[" * 60_000)  # made every page raise RecursionError
    at = open_teacher()
    assert any("could not be used" in w.value for w in at.warning)
    assert any("nested too deeply" in c.value for c in at.code)  # the reason, as plain text
    # The labels follow the browser's key (a cookie), across sessions: not "per session".
    assert "(the same label for the same browser)." in page_text(at)


def test_guessing_is_slowed_down_per_session(teacher_env):
    at = open_app(TEACHER)
    for _ in range(PASSCODE_FREE_TRIES):
        unlock(at, "guess")
    assert any("Wait 5 s before the next try" in e.value for e in at.error)
    unlock(at)  # even the right passcode waits out the lock
    assert any("Too many wrong passcodes" in e.value for e in at.error)
    assert "training now" not in page_text(at)


# --- the class view, with real jobs ---


@pytest.mark.slow
def test_the_teacher_cancels_a_queued_run_and_stops_a_watched_one_for_everyone(
    teacher_env, sample_data
):
    runs, manager = teacher_env
    alice = open_app("pages/train.py", session_state={OWNER_KEY: ALICE})
    bob = open_app("pages/train.py", session_state={OWNER_KEY: BOB})
    ask_for_the_run(alice)
    ask_for_the_run(bob)  # identical settings: Bob watches Alice's run
    job = alice.session_state[JOB_KEY]
    assert bob.session_state[JOB_KEY] is job and manager.watchers(job) == 2
    # A third student's tiny run (deep, 200 images, 1 epoch) waits behind it.
    tiny = TrainConfig(model="deep", train_size=200, epochs=1, batch_size=64, seed=3)
    carol = "c0ffee00c0ffee00"
    queued, _ = manager.start(tiny, sample_data, RunStore(runs), owner=carol)
    wait_until(lambda: job.monitor.snapshot().status == TRAINING, timeout=180)

    teacher = open_teacher()
    table = teacher.dataframe[0].value
    assert list(table["Status"]) == [TRAINING, QUEUED]
    assert list(table["Model"]) == ["deep", "deep"] and list(table["Images"])[1] == 200
    assert "2 (" in table["Watchers"][0]  # two sessions asked for the running one
    text = page_text(teacher)
    for owner in (ALICE, BOB, carol):
        assert owner not in text, "a raw session id is on the teacher's page"
    assert table["Student"][0].split(", ") == [owner_label(ALICE), owner_label(BOB)]
    assert table["Student"][1] == owner_label(carol)

    # Cancel the queued one.
    teacher.selectbox(key="teacher_choice").set_value(f"job-{queued.monitor.uid}")
    teacher.run()
    teacher.button(key="teacher_cancel").click()
    teacher.run()
    assert not teacher.exception, teacher.exception
    assert wait_for(queued, 10)
    assert queued.monitor.snapshot().status == CANCELLED
    assert "by the teacher" in queued.monitor.snapshot().message

    # Stop the running one, which two sessions watch: it stops for both.
    teacher.selectbox(key="teacher_choice").set_value(f"job-{job.monitor.uid}")
    teacher.run()
    teacher.button(key="teacher_stop").click()
    teacher.run()
    assert not teacher.exception, teacher.exception
    assert job.monitor.stop_requested and manager.watchers(job) == 2
    bob.run()
    if not job.monitor.snapshot().is_final:
        assert "the teacher stopped this run" in progress_text(bob)
    assert wait_for(job, 180)
    assert job.monitor.snapshot().status == STOPPED
    for student in (alice, bob):
        student.run()  # the live panel notices the end and reruns the page
        student.run()
        assert not student.exception, student.exception
        infos = [i.value for i in student.info]
        assert any(i.startswith(TEACHER_STOP_NOTE) for i in infos), infos
        # The live panel's own last line says who stopped it, not "Stopped early".
        assert any(i.startswith("Stopped by the teacher — everything") for i in infos), infos
        assert not any(i.startswith("Stopped early") for i in infos), infos
    saved = RunStore(runs).load(job.run_id).status["message"]
    assert saved.startswith(TEACHER_STOP_NOTE)


@pytest.mark.slow
def test_the_teacher_deletes_a_saved_run_after_confirming_and_prunes(
    teacher_env, trained_store, monkeypatch
):
    runs, _ = teacher_env
    [info] = trained_store.list_runs()
    for name in ("20260101-090000-aaaaaa", "20260101-100000-bbbbbb", "20260101-110000-cccccc"):
        shutil.copytree(trained_store.path(info.run_id), runs / name)
    teacher = open_teacher()
    assert list(teacher.dataframe[0].value["Run"]) == [
        "20260101-110000-cccccc",
        "20260101-100000-bbbbbb",
        "20260101-090000-aaaaaa",
    ]
    assert "deep" in page_text(teacher) and "%" in teacher.dataframe[0].value["Test accuracy"][0]

    teacher.selectbox(key="teacher_choice").set_value("run-20260101-100000-bbbbbb")
    teacher.run()
    assert teacher.button(key="teacher_delete").disabled  # not before the confirmation
    teacher.checkbox(key="teacher_sure_20260101-100000-bbbbbb").check()
    teacher.run()
    teacher.button(key="teacher_delete").click()
    teacher.run()
    assert not teacher.exception, teacher.exception
    assert not (runs / "20260101-100000-bbbbbb").exists()
    assert "Deleted run 20260101-100000-bbbbbb." in page_text(teacher)
    teacher.run()  # the view refreshes every 2 s: the outcome stays up for a while
    assert "Deleted run 20260101-100000-bbbbbb." in page_text(teacher)

    monkeypatch.setenv("CIFAR_RUNS_MAX_COUNT", "1")
    teacher.run()
    teacher.button(key="teacher_prune").click()
    teacher.run()
    assert "Removed 1 run(s)." in page_text(teacher)
    assert sorted(p.name for p in runs.iterdir()) == ["20260101-110000-cccccc"]
