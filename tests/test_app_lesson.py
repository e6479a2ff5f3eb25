"""Lesson settings in AppTest: the teacher changes them on the teacher page, a new student's
Train page follows at once (locked and hidden controls); lesson links with good and bad values."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import cifar_core.training.queue as jobs_module
from cifar_core.lesson import shared_lesson
from cifar_core.training import TrainConfig
from cifar_core.training.queue import JobManager
from tests.conftest import REPO, TEST_OWNER_KEY, open_app
from ui.common import AUGMENT_KEY

PASSCODE = "lesson test passcode"
TEACHER, TRAIN, SVD = "pages/teacher.py", "pages/train.py", "pages/shallow_vs_deep.py"
LIMITS = {"max_image_epochs": 50_000, "max_run_minutes": 10, "max_queue": 8}


@pytest.fixture()
def lesson_env(app_env, monkeypatch):
    monkeypatch.setenv("CIFAR_TEACHER_PASSCODE", PASSCODE)
    monkeypatch.delenv("CIFAR_PRESET", raising=False)
    manager = JobManager(1)
    manager.follow_limits(lambda: shared_lesson().limits())
    monkeypatch.setattr(jobs_module, "_shared_manager", manager)
    return app_env, manager


def teacher() -> AppTest:
    at = open_app(TEACHER)
    at.text_input(key="teacher_passcode").set_value(PASSCODE)
    at.button[0].click()  # the form's Unlock
    at.run()
    assert not at.exception, at.exception
    return at


def apply_button(at: AppTest):
    return next(b for b in at.button if b.label == "Apply")


def test_the_teacher_locks_epochs_and_a_new_student_sees_it(lesson_env):
    _, manager = lesson_env
    early = open_app(TRAIN)  # a student who was here before the lock and moved the slider
    early.slider(key="train_epochs").set_value(12).run()
    at = teacher()
    at.slider(key="lesson_epochs").set_value(3)
    at.radio(key="lesson_model").set_value("shallow")
    at.number_input(key="lesson_max_queue").set_value(2)
    at.multiselect(key="lesson_locked").set_value(["epochs"])
    apply_button(at).click()
    at.run()
    assert not at.exception, at.exception
    assert any("Applied" in s.value for s in at.success)
    table = at.dataframe[-1].value
    assert table.loc[table["Control"] == "Epochs", "For students"].item().startswith("locked")
    assert "/train?model=shallow" in at.code[-1].value and "epochs=3" in at.code[-1].value
    assert manager.limits.max_queue == 2  # the queue follows at once
    assert at.slider(key="lesson_epochs").value == 3  # the form shows what is in force

    student = open_app(TRAIN)  # a new session: the new default, disabled
    assert not student.exception, student.exception
    assert student.slider(key="train_epochs").value == 3
    assert student.slider(key="train_epochs").disabled
    assert student.radio(key="train_model").value == "shallow"
    assert not student.radio(key="train_model").disabled
    assert any("Set by your teacher" in c.value for c in student.caption)

    early.run()  # the value kept from before the lock does not win over it
    assert early.slider(key="train_epochs").value == 3 and early.slider(key="train_epochs").disabled

    pair = open_app(SVD)  # Shallow vs deep gets it through the same form
    assert pair.slider(key="svd_epochs").value == 3 and pair.slider(key="svd_epochs").disabled

    at.button(key="lesson_reset").click()
    at.run()
    assert not at.exception, at.exception
    again = open_app(TRAIN)
    assert (
        again.slider(key="train_epochs").value == 5
        and not again.slider(key="train_epochs").disabled
    )


def test_a_refused_change_is_said_on_the_teacher_page(lesson_env):
    at = teacher()
    at.multiselect(key="lesson_locked").set_value(["seed"])
    at.multiselect(key="lesson_hidden").set_value(["seed"])
    apply_button(at).click()
    at.run()
    assert not at.exception, at.exception
    assert any("Not applied" in e.value and "either locked or hidden" in e.value for e in at.error)
    assert shared_lesson().version == 0


def test_a_hidden_control_is_left_out_and_its_preset_value_applies(lesson_env):
    shared_lesson().apply({"seed": 7, "optimizer": "adam"}, LIMITS, hidden=["seed", "optimizer"])
    student = open_app(TRAIN)
    assert not student.exception, student.exception
    assert not [n for n in student.number_input if n.key == "train_seed"]
    assert not [s for s in student.selectbox if s.key == "train_optimizer"]
    assert student.slider(key="train_epochs").value == 5  # the rest as before


def open_with_link(page: str, params: dict) -> AppTest:
    from ui.common import OWNER_KEY

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state[OWNER_KEY] = TEST_OWNER_KEY
    at.query_params.update(params)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_lesson_link_fills_the_form(lesson_env):
    at = open_with_link(TRAIN, {"model": "shallow", "epochs": "3", "train_size": "1200", "x": "1"})
    assert at.radio(key="train_model").value == "shallow"
    assert at.slider(key="train_epochs").value == 3
    assert at.slider(key="train_size").value == 1200
    assert not at.warning


def test_bad_link_values_are_named_and_the_defaults_used(lesson_env):
    at = open_with_link(TRAIN, {"epochs": "500", "optimizer": "magic", "model": "shallow"})
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2
    assert any("epochs='500'" in w and "from 1 to 50" in w for w in warnings)
    assert any("optimizer='magic'" in w and "one of rmsprop, adam, sgd" in w for w in warnings)
    assert (
        at.slider(key="train_epochs").value == 5
        and at.selectbox(key="train_optimizer").value == "rmsprop"
    )
    assert at.radio(key="train_model").value == "shallow"  # the good value still applies


def test_a_link_value_is_shown_as_text_never_as_a_link(lesson_env):
    at = open_with_link(TRAIN, {"model": "[Log in](https://evil.x)"})
    (warning,) = [w.value for w in at.warning]
    assert "one of shallow, deep" in warning
    assert "](" not in warning.replace("\\]", "") and "https://" not in warning
    assert "\\[Log in\\]" in warning  # the brackets escaped: Markdown shows them as text
    assert at.radio(key="train_model").value == TrainConfig().model  # the usual value


def test_a_damaged_lesson_file_leaves_the_train_page_working(lesson_env):
    runs, _manager = lesson_env
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "lesson.json").write_text("[" * 60_000)  # raised RecursionError on every request
    at = open_app(TRAIN)
    assert not at.exception, at.exception
    assert at.slider(key="train_epochs").value == 5  # the environment's (default) settings
    assert "nested too deeply" in shared_lesson().problem


def test_a_locked_control_wins_over_the_link(lesson_env):
    shared_lesson().apply({"epochs": 2}, LIMITS, locked=["epochs"])
    at = open_with_link(TRAIN, {"epochs": "9", "seed": "11"})
    assert at.slider(key="train_epochs").value == 2 and at.slider(key="train_epochs").disabled
    assert at.number_input(key="train_seed").value == 11


def test_locked_augmentation_is_the_presets_and_a_labs_hand_over_does_not_win(lesson_env):
    shared_lesson().apply({"augment": {"rotation_range": 10.0}}, LIMITS, locked=["augment"])
    at = open_app(TRAIN, session_state={AUGMENT_KEY: {"horizontal_flip": True}})
    assert not at.exception, at.exception
    toggle = at.toggle(key="train_augment")
    assert toggle.value is True and toggle.disabled and "teacher's preset" in toggle.label
    shared_lesson().apply({}, LIMITS, hidden=["augment"])
    at.run()
    assert not [t for t in at.toggle if t.key == "train_augment"]


@pytest.mark.slow
def test_students_see_the_class_together_only_when_the_teacher_shares_it(lesson_env, trained_store):
    import json

    from cifar_core import live_view
    from cifar_core.identity import owner_hash, owner_label
    from cifar_core.runs import OWNERS_FILE
    from tests.test_class_results import seed_copies

    runs, _ = lesson_env
    seeds = {"20260101-090000-aaaaaa": 2, "20260101-100000-bbbbbb": 3}
    seed_copies(trained_store, runs, seeds)
    classmate = owner_hash("a-classmates-browser-key-0000001")  # not this student's runs
    for name in seeds:
        (runs / name / OWNERS_FILE).write_text(json.dumps({"owners": [classmate]}))
    live_view.LIVE_CHARTS.clear()

    def subheaders(at: AppTest) -> list[str]:
        return [s.value for s in at.subheader]

    student = open_app(TRAIN)
    assert "The class together" not in subheaders(student)  # not shared: nothing of others
    at = teacher()
    at.checkbox(key="lesson_share_class").check()
    apply_button(at).click()
    at.run()
    assert not at.exception, at.exception

    student = open_app(TRAIN)  # the student's next page load
    assert not student.exception, student.exception
    assert "The class together" in subheaders(student)
    assert "No saved runs yet" in " ".join(c.value for c in student.caption)  # still not theirs
    [board] = [d.value for d in student.dataframe if "Best validation accuracy" in d.value.columns]
    assert sorted(board["Seed"]) == [2, 3]
    assert set(board["Student"]) == {owner_label(classmate)}  # anonymous labels only
    shown = " ".join(board.astype(str).to_numpy().ravel()) + " ".join(
        m.value for m in student.markdown
    )
    assert classmate not in shown
    assert not [s for s in student.selectbox if s.key == "class_together_group"]  # no picker

    at.button(key="lesson_reset").click()
    at.run()
    assert "The class together" not in subheaders(open_app(TRAIN))
