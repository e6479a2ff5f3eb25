"""Lesson settings (cifar_core.lesson): checked like the environment's settings, saved and read
back untrusted, counted in versions, followed live by the job queue; lesson links."""

from __future__ import annotations

import json
import logging
import os
import re
import threading

import pytest

import cifar_core.training.queue as J
from cifar_core import constants as C
from cifar_core import lesson as LS
from cifar_core.training import TrainConfig
from cifar_core.training.limits import LimitError, Limits
from cifar_core.training.queue import JobManager

LIMITS = {"max_image_epochs": 6000, "max_run_minutes": 2.5, "max_queue": 4}
PRESET = {"model": "shallow", "train_size": 2000, "epochs": 3}


@pytest.fixture()
def env(monkeypatch, tmp_path):
    for name in (
        "CIFAR_PRESET",
        "CIFAR_MAX_IMAGE_EPOCHS",
        "CIFAR_MAX_RUN_MINUTES",
        "CIFAR_MAX_QUEUE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path))
    return monkeypatch


# --- checked like the environment's settings ---


@pytest.mark.parametrize(
    ("preset", "limits", "locked", "hidden", "says"),
    [
        ({"epochs": 0}, LIMITS, [], [], "Epochs must be"),
        ({"colour": "red"}, LIMITS, [], [], "unknown settings: colour"),
        ([1, 2], LIMITS, [], [], "must be a JSON object"),
        ({"epochs": [3]}, LIMITS, [], [], "The class preset"),
        (PRESET, {**LIMITS, "max_queue": 0}, [], [], "CIFAR_MAX_QUEUE must be above 0"),
        (PRESET, {**LIMITS, "max_run_minutes": "soon"}, [], [], "must be a number"),
        (PRESET, {**LIMITS, "max_image_epochs": True}, [], [], "must be a number"),
        # a count limit is a whole number, never cut to 0 (int(0.5) would refuse every run)
        (PRESET, {**LIMITS, "max_image_epochs": 0.5}, [], [], "EPOCHS must be a whole number"),
        (PRESET, {**LIMITS, "max_queue": 0.9}, [], [], "QUEUE must be a whole number of 1 or"),
        (PRESET, {**LIMITS, "max_queue": 1.5}, [], [], r"got 1\.5; set it to e\.g\. 2\."),
        (PRESET, {"max_queue": 3}, [], [], "lack max_image_epochs"),
        (PRESET, LIMITS, ["wings"], [], "Unknown locked controls: wings"),
        (PRESET, LIMITS, "epochs", [], "must be a list"),
        (PRESET, LIMITS, ["epochs"], ["epochs"], "either locked or hidden"),
    ],
)
def test_a_bad_lesson_is_refused_with_its_reason(preset, limits, locked, hidden, says):
    with pytest.raises(ValueError, match=says):
        LS.make_lesson(preset, limits, locked, hidden)


def test_the_environment_is_the_start(env, tmp_path):
    env.setenv("CIFAR_PRESET", json.dumps(PRESET))
    env.setenv("CIFAR_MAX_QUEUE", "3")
    lesson = LS.LessonSettings(tmp_path).current()
    assert lesson.preset == PRESET and lesson.limits == Limits(max_queue=3)
    assert not lesson.by_teacher and lesson.version == 0
    assert lesson.state("epochs") == LS.OPEN


# --- applied live, saved, read back, reset ---


def test_apply_saves_and_a_restart_reads_it_back(env, tmp_path):
    lessons = LS.LessonSettings(tmp_path)
    assert lessons.apply(PRESET, LIMITS, ["epochs"], ["seed"]) == ""
    now = lessons.current()
    assert now.version == 1 and now.by_teacher
    assert now.state("epochs") == LS.LOCKED and now.state("seed") == LS.HIDDEN
    assert not list(tmp_path.glob(".lesson-*"))  # the atomic write left no temporary file
    again = LS.LessonSettings(tmp_path).current()  # a restart
    assert (again.preset, again.limits) == (PRESET, Limits(6000, 2.5, 4))
    assert (again.locked, again.hidden) == ({"epochs"}, {"seed"})
    lessons.reset()
    assert lessons.version == 2 and not (tmp_path / LS.LESSON_FILE).exists()
    assert not lessons.current().by_teacher and lessons.current().preset == {}


def test_a_refused_change_changes_nothing(env, tmp_path):
    lessons = LS.LessonSettings(tmp_path)
    lessons.apply(PRESET, LIMITS)
    with pytest.raises(ValueError):
        lessons.apply({"epochs": 99}, LIMITS)
    assert lessons.version == 1 and lessons.current().preset == PRESET


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        json.dumps({"preset": {"epochs": -1}, "limits": LIMITS}),
        json.dumps({"preset": PRESET, "limits": LIMITS, "locked": ["rm -rf"]}),
        json.dumps({"preset": PRESET}),
        "x" * (C.LESSON_FILE_MAX_BYTES + 1),
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_a_bad_lesson_file_is_logged_and_the_server_settings_apply(env, tmp_path, caplog, content):
    (tmp_path / LS.LESSON_FILE).write_text(content)
    with caplog.at_level(logging.WARNING, logger="cifar_core.lesson"):
        lesson = LS.LessonSettings(tmp_path).current()
    assert not lesson.by_teacher and lesson.preset == {} and lesson.limits == Limits()
    assert "Lesson settings in" in caplog.text


def test_whole_count_limits_are_kept_and_fractional_minutes_allowed():
    lesson = LS.make_lesson(
        PRESET, {"max_image_epochs": 6000.0, "max_run_minutes": 0.5, "max_queue": 1}
    )
    assert lesson.limits == Limits(6000, 0.5, 1)
    assert type(lesson.limits.max_image_epochs) is int and type(lesson.limits.max_queue) is int


@pytest.mark.parametrize("field", ["max_image_epochs", "max_queue"])
@pytest.mark.parametrize("value", [0.5, 1.5])
def test_a_lesson_file_with_a_fractional_count_is_ignored_not_cut_to_0(
    env, tmp_path, caplog, field, value
):
    (tmp_path / LS.LESSON_FILE).write_text(
        json.dumps({"preset": PRESET, "limits": {**LIMITS, field: value}})
    )
    with caplog.at_level(logging.WARNING, logger="cifar_core.lesson"):
        lessons = LS.LessonSettings(tmp_path)
    assert lessons.current().limits == Limits() and lessons.limits() == Limits()
    assert not lessons.current().by_teacher
    assert "must be a whole number of 1 or more" in lessons.problem


def test_a_deeply_nested_lesson_file_is_ignored_not_raised(env, tmp_path, caplog):
    # 60,000 "[" (under the size cap) made json.loads raise RecursionError, and every page and
    # the queue, which read the lesson, failed until the file was deleted.
    (tmp_path / LS.LESSON_FILE).write_text("[" * 60_000)
    with caplog.at_level(logging.WARNING, logger="cifar_core.lesson"):
        lessons = LS.LessonSettings(tmp_path)
        lesson = lessons.current()
    assert not lesson.by_teacher and lesson.preset == {} and lesson.limits == Limits()
    assert lessons.limits() == Limits()
    assert "nested too deeply" in lessons.problem and "server's settings apply" in lessons.problem
    assert "Lesson settings in" in caplog.text
    lessons.apply(PRESET, LIMITS)  # the teacher's new settings replace the damaged file
    assert lessons.problem == "" and LS.LessonSettings(tmp_path).current().preset == PRESET


def test_a_pipe_named_lesson_json_is_refused_without_blocking(env, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / LS.LESSON_FILE)
    lessons = LS.LessonSettings(tmp_path)  # would block forever if the pipe were opened
    assert not lessons.current().by_teacher and "not a plain file" in lessons.problem


def test_no_lesson_file_is_no_problem(env, tmp_path):
    assert LS.LessonSettings(tmp_path).problem == ""


def test_changes_from_many_threads_leave_a_whole_lesson(env, tmp_path):
    lessons = LS.LessonSettings(tmp_path)
    threads = [
        threading.Thread(target=lessons.apply, args=({"epochs": n}, LIMITS)) for n in range(1, 9)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert lessons.version == 8
    saved = LS.LessonSettings(tmp_path).current()
    assert saved.preset == lessons.current().preset


# --- the job queue follows the live limits ---


def test_the_job_manager_follows_the_teachers_limits(env, tmp_path):
    lessons = LS.LessonSettings(tmp_path)
    manager = JobManager(1)
    manager.follow_limits(lessons.limits)
    config = TrainConfig(train_size=2000, epochs=5)
    assert manager.limits.check_config(config) is None
    lessons.apply(PRESET, {**LIMITS, "max_image_epochs": 5000})
    assert manager.limits == Limits(5000, 2.5, 4)
    with pytest.raises(LimitError, match="allows 5,000 per run"):
        manager.start_request([config], data=None, store=None)  # refused before any data
    lessons.reset()
    assert manager.limits == Limits()


def test_the_shared_manager_reads_the_shared_lesson(env, tmp_path):
    env.setattr(J, "_shared_manager", None)
    manager = J.shared_manager()
    assert manager.limits == Limits()
    LS.shared_lesson().apply(PRESET, LIMITS)
    assert manager.limits == Limits(6000, 2.5, 4)
    assert LS.shared_lesson(tmp_path) is LS.shared_lesson()
    LS.shared_lesson().reset()


# --- lesson links ---


def test_a_link_with_good_values():
    values, problems = LS.parse_link(
        {
            "model": "shallow",
            "epochs": "3",
            "train_size": "2000",
            "learning_rate": "0.003",
            "batch_size": "64",
            "optimizer": "adam",
            "seed": "7",
            "colour": "red",
        },
        5000,
    )
    assert problems == {}
    assert values == {
        "model": "shallow",
        "epochs": 3,
        "train_size": 2000,
        "learning_rate": 0.003,
        "batch_size": 64,
        "optimizer": "adam",
        "seed": 7,
    }


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        ("model", "huge", "one of shallow, deep"),
        ("epochs", "0", "a whole number from 1 to 50"),
        ("epochs", "3.5", "a whole number from 1 to 50"),
        ("train_size", "6000", "from 100 to 5000 in steps of 100"),
        ("train_size", "150", "in steps of 100"),
        ("batch_size", "100", "one of 32, 64"),
        ("learning_rate", "abc", "one of 0.0001"),
        ("optimizer", "<script>", "one of rmsprop"),
        ("seed", "-1", "from 0 to 2147483647"),
    ],
)
def test_each_bad_link_value_is_named_with_what_is_allowed(name, raw, says):
    values, problems = LS.parse_link(
        {name: raw, "epochs" if name != "epochs" else "seed": "2"}, 5000
    )
    assert name not in values and len(values) == 1
    assert list(problems) == [name]
    assert f"{name}=" in problems[name] and says in problems[name]


def rendered_links(markdown: str) -> list[str]:
    """What Markdown (with GitHub's automatic links) would make a link of, roughly."""
    unescaped = r"(?<!\\)"
    inline = re.findall(unescaped + r"\[[^\]]*" + unescaped + r"\]\(", markdown)
    auto = re.findall(r"(?:https?://|www\.|\w@\w)", markdown)
    return inline + auto


@pytest.mark.parametrize(
    "raw",
    [
        "[Log in](https://evil.x)",
        "x https://evil.x/login",
        "see www.evil.x",
        "mail me@evil.x",
        "<a href='https://evil.x'>go</a>",
        "**bold** _it_ `code`",
    ],
)
def test_an_echoed_link_value_is_plain_text_never_a_link(raw):
    _values, problems = LS.parse_link({"model": raw}, 5000)
    message = problems["model"]
    assert rendered_links(message) == [], message
    assert "<" not in message  # no raw HTML either
    assert not re.search(r"(?<!\\)[*_`\[\]]", message.split(" cannot be used")[0])  # all escaped
    assert message.startswith("The link's model=") and "one of shallow, deep" in message
    assert rendered_links("[Log in](https://evil.x)")  # the check itself finds a link


def test_the_link_carries_the_presets_form_fields():
    lesson = LS.make_lesson({**PRESET, "val_split": 0.1}, LIMITS)
    assert LS.link_query(lesson) == "model=shallow&train_size=2000&epochs=3"
    values, problems = LS.parse_link(
        dict(p.split("=") for p in LS.link_query(lesson).split("&")), 5000
    )
    assert values == PRESET and not problems


def test_sharing_the_class_results_is_a_checked_choice_kept_across_a_restart(tmp_path):
    with pytest.raises(ValueError, match="true or false"):
        LS.make_lesson({}, LIMITS, share_class="yes")
    assert LS.make_lesson({}, LIMITS).share_class is False  # not shared unless chosen
    settings = LS.LessonSettings(tmp_path)
    settings.apply({"epochs": 3}, LIMITS, share_class=True)
    assert settings.current().share_class is True
    again = LS.LessonSettings(tmp_path)  # a restart reads it back
    assert again.current().share_class is True
    (tmp_path / "lesson.json").write_text(
        json.dumps({**again.current().to_json(), "share_class": 1})
    )
    assert LS.LessonSettings(tmp_path).current().share_class is False  # a bad file: defaults
