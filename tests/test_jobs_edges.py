"""Edges of the job queue, presence and the teacher's limits: what callers and users rely on.

No test here trains: the limits and presence tests are pure, the queue tests use jobs that
finish at once (`Quick`) or hold the only slot (`Blocker`) with real threads.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest

import cifar_core.training.queue as J
from cifar_core import constants as C
from cifar_core import settings
from cifar_core.training import TrainConfig, TrainingJob
from cifar_core.training import limits as L
from cifar_core.training.estimates import expected_speed
from cifar_core.training.limits import Limits
from cifar_core.training.monitor import CANCELLED, FAILED, FINISHED, STOPPED, TRAINING
from cifar_core.training.presence import PRESENCE_MIN_SECONDS, Presence
from cifar_core.training.queue import JobManager, wait_for
from tests.conftest import wait_until

# The speeds the queue expects before any run measured one (images/s, float32).
DEEP = C.EXPECTED_IMAGES_PER_SECOND["deep"]
SHALLOW = C.EXPECTED_IMAGES_PER_SECOND["shallow"]

TINY = dict(model="shallow", train_size=200, epochs=1, batch_size=64, seed=1)
SERVER_SETTINGS = (
    settings.MAX_TRAININGS.name,
    settings.MAX_IMAGE_EPOCHS.name,
    settings.MAX_RUN_MINUTES.name,
    settings.MAX_QUEUE.name,
    settings.RUNS_MAX_MB.name,
    settings.RUNS_MAX_COUNT.name,
    settings.PRECISION.name,
    settings.PRESET.name,
)


class Clock:
    """A hand-moved clock."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clean_env(monkeypatch):
    """No server setting in the environment, and no shared manager made yet."""
    for name in SERVER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(J, "_shared_manager", None)
    return monkeypatch


# --- limits: the environment ---


def test_unset_limits_are_the_defaults(clean_env):
    assert Limits.from_env() == Limits()
    assert Limits() == Limits(
        max_image_epochs=C.DEFAULT_MAX_IMAGE_EPOCHS,
        max_run_minutes=C.DEFAULT_MAX_RUN_MINUTES,
        max_queue=C.DEFAULT_MAX_QUEUE,
    )


@pytest.mark.parametrize(
    ("raw", "minutes"), [("0.5", 0.5), (" 2 ", 2.0), ("1", 1.0), ("", C.DEFAULT_MAX_RUN_MINUTES)]
)
def test_run_minutes_may_be_any_positive_number(clean_env, raw, minutes):
    clean_env.setenv(settings.MAX_RUN_MINUTES.name, raw)
    assert Limits.from_env().max_run_minutes == minutes


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "CIFAR_MAX_IMAGE_EPOCHS must be above 0, got '0'."),
        ("-5", "CIFAR_MAX_IMAGE_EPOCHS must be above 0, got '-5'."),
        ("many", "CIFAR_MAX_IMAGE_EPOCHS must be a number, got 'many'."),
    ],
)
def test_a_bad_limit_is_named_with_its_value(clean_env, raw, message):
    clean_env.setenv(settings.MAX_IMAGE_EPOCHS.name, raw)
    with pytest.raises(ValueError) as exc:
        Limits.from_env()
    assert str(exc.value) == message


# --- limits: the per-run budget ---

AT_MOST_3300, AT_MOST_100 = (
    "at most 3,300 images with 3 epochs.",
    "at most 100 images with 2 epochs.",
)


@pytest.mark.parametrize(
    ("budget", "size", "epochs", "fix"),
    [
        # exactly the budget fits
        (10_000, 5000, 2, None),
        # both ways to fit are offered, joined by "or"
        (10_000, 5000, 3, " Choose at most 2 epochs with 5,000 images or " + AT_MOST_3300),
        # one epoch of these images is already over: only fewer images fit
        (4_000, 5000, 2, " Choose at most 2,000 images with 2 epochs."),
        # each way to fit lands exactly on the smallest epochs / training size
        (200, 200, 2, " Choose at most 1 epochs with 200 images or " + AT_MOST_100),
        # one way falls short of the smallest training size
        (150, 150, 2, " Choose at most 1 epochs with 150 images."),
        # nothing allowed fits: no advice
        (99, 100, 1, ""),
    ],
)
def test_the_budget_message_says_what_fits(budget, size, epochs, fix):
    limits = Limits(max_image_epochs=budget)
    config = TrainConfig(**{**TINY, "train_size": size, "epochs": epochs})
    problem = limits.check_config(config)
    if fix is None:
        assert problem is None
        return
    assert problem == (
        f"This run asks for {size:,} images × {epochs} epochs = {size * epochs:,} image-passes; "
        f"this server allows {budget:,} per run so that everyone gets a turn.{fix}"
    )


# --- limits: the teacher's preset ---


def test_an_unset_preset_is_empty(clean_env):
    assert L.load_preset() == {}
    assert L.preset_or_defaults() == ({}, True)
    clean_env.setenv(settings.PRESET.name, "   ")
    assert L.load_preset() == {}


def test_a_preset_file_may_start_with_a_tilde(clean_env, tmp_path):
    clean_env.setenv("HOME", str(tmp_path))
    (tmp_path / "preset.json").write_text(json.dumps({"epochs": 2}))
    assert L.load_preset("~/preset.json") == {"epochs": 2}
    assert L.load_preset("  ~/preset.json\n") == {"epochs": 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "{path} must be a JSON object of Train settings."),
        ('"deep"', "{path} must be a JSON object of Train settings."),
        ("{oops", "{path} is not valid JSON: "),
        ('{"size": 1, "colour": "red"}', "{path} has unknown settings: colour, size."),
    ],
)
def test_a_bad_preset_file_is_named(tmp_path, text, message):
    path = tmp_path / "preset.json"
    path.write_text(text)
    with pytest.raises(ValueError) as exc:
        L.load_preset(str(path))
    assert str(exc.value).startswith(message.format(path=path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{oops", "CIFAR_PRESET is not valid JSON: "),
        ('{"size": 1, "colour": "red"}', "CIFAR_PRESET has unknown settings: colour, size."),
    ],
)
def test_a_bad_inline_preset_names_the_setting(text, message):
    with pytest.raises(ValueError) as exc:
        L.load_preset(text)
    assert str(exc.value).startswith(message)


def test_a_setting_problem_is_logged_once_for_the_operator(monkeypatch, caplog):
    monkeypatch.setattr(L, "_reported", set())
    with caplog.at_level(logging.WARNING, logger="cifar_core.training.limits"):
        assert L.report_setting_problem("CIFAR_MAX_QUEUE must be above 0, got '0'.") is True
        assert L.report_setting_problem("CIFAR_MAX_QUEUE must be above 0, got '0'.") is False
        assert L.report_setting_problem("another problem") is True
    messages = [r.getMessage() for r in caplog.records if r.name == "cifar_core.training.limits"]
    assert messages == [
        "Server setting ignored, defaults in use: CIFAR_MAX_QUEUE must be above 0, got '0'.",
        "Server setting ignored, defaults in use: another problem",
    ]


# --- presence ---


def test_a_poll_without_an_interval_counts_for_the_shortest_window():
    clock = Clock()
    presence = Presence(clock)
    presence.seen("job", "tab")  # polls every constants.POLL_SECONDS
    clock.now += PRESENCE_MIN_SECONDS
    assert presence.count("job") == 1  # exactly at the end of the window: still counts
    clock.now += 0.01
    assert presence.count("job") == 0


@pytest.mark.parametrize(("every", "counted_for"), [(0.5, 1.5), (2.0, 6.0), (-1.0, 0.0)])
def test_a_session_counts_for_its_own_missed_polls(every, counted_for):
    clock = Clock()
    presence = Presence(clock, polls=3, min_seconds=0.0)
    presence.seen("job", "tab", every=every)
    clock.now += counted_for
    assert presence.count("job") == 1
    clock.now += 0.01
    assert presence.count("job") == 0


def test_leaving_drops_only_that_session():
    presence = Presence(Clock())
    presence.seen("job", "alice")
    presence.seen("job", "bob")
    presence.seen("other", "alice")
    presence.leave("job", "alice")
    assert (presence.count("job"), presence.count("other")) == (1, 1)
    presence.leave("job", "carol")  # never watched: nothing changes
    presence.leave("nobody's job", "alice")
    assert (presence.count("job"), presence.count("other")) == (1, 1)
    presence.leave("job", "bob")
    assert presence.count("job") == 0


def test_the_managers_presence_uses_the_sessions_poll_interval(sample_data, tmp_store):
    clock = Clock()
    manager = JobManager(1, clock=clock)
    crowded, other = (
        TrainingJob(TrainConfig(**{**TINY, "seed": seed}), sample_data, tmp_store)
        for seed in (1, 2)
    )
    manager.seen(crowded, "slow", 5.0)  # a crowded run is polled every 5 s
    manager.seen(other, "fast")
    clock.now += 3 * 5.0
    assert (manager.watching_now(crowded), manager.watching_now(other)) == (1, 0)
    clock.now += 0.01
    assert manager.watching_now(crowded) == 0


# --- the shared manager and its settings ---


def test_a_manager_made_directly_has_no_setting_problem_to_show():
    # benches and tests make their own managers; only shared_manager reads the settings
    manager = JobManager(1)
    assert manager.setting_problem == "" and manager.limits == Limits()


def test_the_shared_manager_with_nothing_set(clean_env):
    manager = J.shared_manager()
    assert manager.max_concurrent == C.DEFAULT_MAX_TRAININGS
    assert manager.limits == Limits()
    assert manager.setting_problem == ""
    assert J.shared_manager() is manager


@pytest.mark.parametrize(("raw", "slots"), [("1", 1), ("3", 3), (" 2 ", 2)])
def test_the_shared_managers_training_slots(clean_env, raw, slots):
    clean_env.setenv(settings.MAX_TRAININGS.name, raw)
    manager = J.shared_manager()
    assert manager.max_concurrent == slots and manager.setting_problem == ""


@pytest.mark.parametrize("raw", ["0", "-1", "1.5"])
def test_a_bad_number_of_slots_is_named(clean_env, raw):
    clean_env.setenv(settings.MAX_TRAININGS.name, raw)
    manager = J.shared_manager()
    assert manager.max_concurrent == C.DEFAULT_MAX_TRAININGS
    assert manager.setting_problem == (
        f"CIFAR_MAX_TRAININGS must be a whole number above 0, got {raw!r}; using "
        f"{C.DEFAULT_MAX_TRAININGS}."
    )


def test_the_shared_manager_reads_the_limits(clean_env):
    clean_env.setenv(settings.MAX_QUEUE.name, "3")
    clean_env.setenv(settings.MAX_RUN_MINUTES.name, "2.5")
    manager = J.shared_manager()
    assert manager.limits == Limits(max_run_minutes=2.5, max_queue=3)
    assert manager.setting_problem == ""


def test_every_bad_setting_is_named_and_the_defaults_apply(clean_env):
    clean_env.setenv(settings.MAX_TRAININGS.name, "two")
    clean_env.setenv(settings.MAX_QUEUE.name, "0")
    clean_env.setenv(settings.RUNS_MAX_COUNT.name, "none")
    manager = J.shared_manager()
    assert manager.limits == Limits() and manager.max_concurrent == 1
    assert manager.setting_problem == (
        "CIFAR_MAX_TRAININGS must be a whole number above 0, got 'two'; using 1. "
        "CIFAR_MAX_QUEUE must be above 0, got '0'. The default limits apply. "
        "CIFAR_RUNS_MAX_COUNT='none' is not a positive whole number; using "
        f"{C.DEFAULT_RUNS_MAX_COUNT}."
    )


# --- polling ---


def test_polling_nothing_is_at_the_normal_rate():
    assert JobManager(1).poll_seconds([]) == C.POLL_SECONDS


def test_wait_for_a_job_that_never_started(sample_data, tmp_store):
    never = TrainingJob(TrainConfig(**TINY), sample_data, tmp_store)
    answers: list[bool] = []
    waiter = threading.Thread(target=lambda: answers.append(wait_for(never, 0.05)), daemon=True)
    waiter.start()
    waiter.join(10)  # bounded: a wait_for that never gives up fails here instead of hanging
    assert answers == [False]


# --- the queue: jobs that do not train (real threads, the manager's own logic) ---


class FakeClock:
    """A training clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def report_speed(job: TrainingJob, images: int, seconds: float, total_steps: int) -> None:
    """Make `job`'s monitor show one batch of `images` after `seconds` of `total_steps`."""
    clock = FakeClock()
    job.monitor.clock = clock
    job.monitor.begin(total_steps, images)
    clock.now = seconds
    job.monitor.add_batch(0, 0, {"loss": 2.0, "accuracy": 0.1}, images)


class Held(TrainingJob):
    """Holds a training slot until released; shows a run id ("run-<seed>") meanwhile.

    `eta`: when set, the monitor shows one batch of 100 images after 1 s of 1 + eta steps,
    i.e. `eta` seconds left; else it shows no speed (the manager estimates from the config).
    """

    def __init__(self, *args, eta: float | None = None, **kw) -> None:
        super().__init__(*args, **kw)
        self.release = threading.Event()
        self.eta = eta

    def run(self) -> None:
        self.run_id = f"run-{self.config.seed}"
        if self.eta is None:
            self.monitor.set_status(TRAINING)
        else:
            report_speed(self, 100, 1.0, int(1 + self.eta))
        self.release.wait(30)
        self.monitor.set_status(FINISHED)


class Measured(TrainingJob):
    """Finishes at once having trained `images` images in `seconds` (or ends as `status`)."""

    images, seconds, status = 600, 2.0, FINISHED

    def run(self) -> None:
        if self.images:
            report_speed(self, self.images, self.seconds, 1)
        self.monitor.set_status(self.status)


class Crashes(TrainingJob):
    def run(self) -> None:
        self.monitor.set_status(TRAINING)
        raise RuntimeError("a bug in the training code")


class ReturnsEarly(TrainingJob):
    def run(self) -> None:
        self.monitor.set_status(TRAINING)


def job(cls=TrainingJob, seed: int = 1, model: str = "shallow", *, data, store, **kw):
    return cls(TrainConfig(**{**TINY, "seed": seed, "model": model}), data, store, **kw)


@pytest.fixture()
def quick(monkeypatch):
    """The manager builds jobs that finish at once (as tests/test_queue_cancel.py's Quick)."""
    from tests.test_queue_cancel import Quick

    cls = type("QuickJob", (Quick,), {"made": [], "ran": [], "build_delay": 0.0})
    monkeypatch.setattr(J, "TrainingJob", cls)
    return cls


def release_all(*held: Held) -> None:
    for h in held:
        h.release.set()
    for h in held:
        assert wait_for(h, 10)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # expected
@pytest.mark.parametrize("broken", [Crashes, ReturnsEarly])
def test_a_job_whose_thread_dies_is_failed_and_the_queue_moves_on(sample_data, tmp_store, broken):
    manager = JobManager(1)
    dead = manager.submit(job(broken, 1, data=sample_data, store=tmp_store))
    after = manager.submit(job(Measured, 2, data=sample_data, store=tmp_store))
    assert wait_for(dead, 10) and wait_for(after, 10)
    snap = dead.monitor.snapshot()
    assert (snap.status, snap.message) == (FAILED, "The training thread ended unexpectedly.")
    assert after.monitor.snapshot().status == FINISHED
    assert manager.counts() == (0, 0)


def test_a_job_stopped_while_it_waits_says_so(sample_data, tmp_store):
    manager = JobManager(1)
    holder = manager.submit(job(Held, 1, data=sample_data, store=tmp_store))
    waiting = manager.submit(job(Measured, 2, data=sample_data, store=tmp_store))
    wait_until(lambda: manager.counts() == (1, 1), timeout=10)
    assert manager.stop(waiting) is True  # submitted, not started: nobody else watches it
    assert wait_for(waiting, 10)
    snap = waiting.monitor.snapshot()
    assert (snap.status, snap.message, snap.queue_position) == (
        CANCELLED,
        "Stopped before it started.",
        None,
    )
    release_all(holder)


def test_two_slots_train_two_jobs_at_once_and_queue_the_third(sample_data, tmp_store):
    manager = JobManager(2)
    first, second = (
        manager.submit(job(Held, s, data=sample_data, store=tmp_store)) for s in (1, 2)
    )
    third = manager.submit(job(Measured, 3, data=sample_data, store=tmp_store))
    wait_until(lambda: manager.counts() == (2, 1), timeout=10)
    for running in (first, second):
        wait_until(lambda r=running: r.monitor.snapshot().status == TRAINING, timeout=10)
    assert third.monitor.snapshot().queue_position == 1
    first.release.set()
    assert wait_for(third, 10) and third.monitor.snapshot().status == FINISHED
    release_all(first, second)
    assert manager.counts() == (0, 0)


@pytest.mark.parametrize(
    ("model", "train_size", "epochs", "minutes", "seconds"),
    [
        # deep at DEEP img/s: 160 × 2 / DEEP + (40 × 2 + 10,000) / 3 / DEEP
        ("deep", 200, 2, 15.0, (160 * 2 + (40 * 2 + 10_000) / 3) / DEEP),
        # shallow at SHALLOW img/s, 1,000 images (800 train, 200 validation), 3 epochs
        ("shallow", 1000, 3, 15.0, (800 * 3 + (200 * 3 + 10_000) / 3) / SHALLOW),
        # capped: training stops at the time limit (3 s), then the test pass (10,000 / 3 / SHALLOW)
        ("shallow", 5000, 10, 0.05, 3 + 10_000 / 3 / SHALLOW),
    ],
)
def test_the_time_a_config_takes_before_any_run_measured_it(
    monkeypatch, model, train_size, epochs, minutes, seconds
):
    monkeypatch.setenv(settings.PRECISION.name, "float32")
    manager = JobManager(1, Limits(max_run_minutes=minutes))
    config = TrainConfig(model=model, train_size=train_size, epochs=epochs)
    assert manager.estimate_seconds(config) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("forced", "decision", "speed"),
    [
        ("float32", None, DEEP),
        ("bfloat16", None, DEEP),  # forced, not measured: no known speed-up
        ("", ("bfloat16", {"float32": 100.0, "bfloat16": 250.0}), DEEP * 2.5),
        ("", ("float32", {"float32": 100.0, "bfloat16": 90.0}), DEEP),
        ("", None, DEEP),  # not calibrated yet
    ],
)
def test_the_expected_speed_follows_the_precision(monkeypatch, forced, decision, speed):
    from cifar_core.training import precision

    monkeypatch.setenv(settings.PRECISION.name, forced)
    decisions = {}
    if decision:
        decisions["deep"] = precision.Decision("deep", decision[0], "measured", decision[1])
    monkeypatch.setattr(precision, "_decisions", decisions)
    assert expected_speed("deep") == pytest.approx(speed)


@pytest.mark.parametrize(
    ("images", "status", "learned"),
    [(600, FINISHED, 300.0), (600, STOPPED, None), (0, FINISHED, None)],
)
def test_a_finished_run_teaches_the_queue_its_speed(
    monkeypatch, sample_data, tmp_store, images, status, learned
):
    monkeypatch.setenv(settings.PRECISION.name, "float32")
    manager = JobManager(1)
    measured = type("M", (Measured,), {"images": images, "seconds": 2.0, "status": status})
    done = manager.submit(job(measured, 1, "deep", data=sample_data, store=tmp_store))
    assert wait_for(done, 10)
    config = TrainConfig(model="deep", train_size=200, epochs=2)
    speed = learned or DEEP
    assert manager.estimate_seconds(config) == pytest.approx(
        (160 * 2 + (40 * 2 + 10_000) / 3) / speed
    )
    # the other network is not affected
    other = TrainConfig(model="shallow", train_size=200, epochs=2)
    assert manager.estimate_seconds(other) == pytest.approx(
        (160 * 2 + (40 * 2 + 10_000) / 3) / SHALLOW
    )


def test_waits_add_up_in_queue_order_on_one_slot(quick, sample_data, tmp_store):
    # Before a new job's worker first looks, it waits with the slot free: nothing ahead of
    # the first job, then the estimates of the ones ahead, in order.
    manager = JobManager(1)
    with manager._cond:  # the workers wait for this lock (a Condition's RLock: ours to reenter)
        jobs = [
            manager.start(TrainConfig(**{**TINY, "train_size": size}), sample_data, tmp_store)[0]
            for size in (200, 1000, 500)
        ]
        estimates = [manager.estimate_seconds(j.config) for j in jobs]
        waits = [manager.estimate_wait(j) for j in jobs]
    assert waits == pytest.approx([0.0, estimates[0], estimates[0] + estimates[1]])
    for j in jobs:
        assert wait_for(j, 10)
    assert [manager.estimate_wait(j) for j in jobs] == [None, None, None]


def test_waits_fill_the_earliest_free_slot_first(quick, sample_data, tmp_store):
    manager = JobManager(2)
    with manager._cond:
        jobs = [
            manager.start(TrainConfig(**{**TINY, "train_size": size}), sample_data, tmp_store)[0]
            for size in (1000, 200, 500, 300)
        ]
        e = [manager.estimate_seconds(j.config) for j in jobs]
        waits = [manager.estimate_wait(j) for j in jobs]
    # two slots: the first two start at once; the third takes the slot the shorter one frees;
    # the fourth the next slot to free.
    third = min(e[0], e[1])
    fourth = min(max(e[0], e[1]), third + e[2])
    assert waits == pytest.approx([0.0, 0.0, third, fourth])
    for j in jobs:
        assert wait_for(j, 10)


def test_a_waiting_job_waits_for_the_running_ones(sample_data, tmp_store):
    manager = JobManager(2)
    timed = manager.submit(job(Held, 1, data=sample_data, store=tmp_store, eta=40.0))
    untimed = manager.submit(job(Held, 2, data=sample_data, store=tmp_store))
    wait_until(lambda: timed.monitor.snapshot().eta_seconds is not None, timeout=10)
    wait_until(lambda: untimed.monitor.snapshot().status == TRAINING, timeout=10)
    assert timed.monitor.snapshot().eta_seconds == pytest.approx(40.0)
    untimed_left = manager.estimate_seconds(untimed.config)
    assert untimed_left < 40.0
    first = manager.submit(job(Measured, 3, data=sample_data, store=tmp_store))
    second = manager.submit(job(Measured, 4, data=sample_data, store=tmp_store))
    wait_until(lambda: manager.counts() == (2, 2), timeout=10)
    # the first waits for the earlier of the two ends; the second for the next slot to free
    assert manager.estimate_wait(first) == pytest.approx(untimed_left)
    assert manager.estimate_wait(second) == pytest.approx(
        min(40.0, untimed_left + manager.estimate_seconds(first.config))
    )
    release_all(timed, untimed)
    assert wait_for(first, 10) and wait_for(second, 10)


def test_a_timed_run_ahead_sets_the_wait(sample_data, tmp_store):
    manager = JobManager(1)
    timed = manager.submit(job(Held, 1, data=sample_data, store=tmp_store, eta=25.0))
    wait_until(lambda: timed.monitor.snapshot().eta_seconds is not None, timeout=10)
    waiting = manager.submit(job(Measured, 2, data=sample_data, store=tmp_store))
    wait_until(lambda: manager.counts() == (1, 1), timeout=10)
    assert manager.estimate_wait(waiting) == pytest.approx(25.0)
    release_all(timed)
    assert wait_for(waiting, 10)


def test_old_finished_runs_are_forgotten_oldest_first(quick, sample_data, tmp_store):
    manager = JobManager(1)
    done = []
    for seed in range(C.KEEP_FINISHED + 1):
        started, _ = manager.start(TrainConfig(**{**TINY, "seed": seed}), sample_data, tmp_store)
        assert wait_for(started, 10)
        done.append(started)
    # all kept so far; asking again for the oldest joins it (and makes it the newest) …
    again, attached = manager.start(TrainConfig(**{**TINY, "seed": 0}), sample_data, tmp_store)
    assert again is done[0] and attached and manager.watchers(done[0]) == 2
    # … and the one after it, now the oldest beyond the last KEEP_FINISHED, is forgotten
    assert manager.watchers(done[1]) == 0
    anew, attached = manager.start(TrainConfig(**{**TINY, "seed": 1}), sample_data, tmp_store)
    assert anew is not done[1] and not attached
    kept, attached = manager.start(TrainConfig(**{**TINY, "seed": 2}), sample_data, tmp_store)
    assert kept is done[2] and attached
    assert wait_for(anew, 10)


def test_the_runs_kept_are_the_running_and_the_watched_ones(sample_data, tmp_store, monkeypatch):
    manager = JobManager(1)
    monkeypatch.setattr(J, "TrainingJob", Held)
    watched, _ = manager.start(TrainConfig(**{**TINY, "seed": 1}), sample_data, tmp_store)
    left, _ = manager.start(TrainConfig(**{**TINY, "seed": 2}), sample_data, tmp_store)
    wait_until(lambda: watched.run_id == "run-1", timeout=10)
    assert manager.active_run_ids() == {"run-1"}
    assert manager.protected_run_ids() == {"run-1"}  # the waiting one has no run yet
    watched.release.set()
    wait_until(lambda: left.run_id == "run-2", timeout=10)
    assert wait_for(watched, 10)
    assert manager.active_run_ids() == {"run-2"}
    assert manager.protected_run_ids() == {"run-1", "run-2"}  # watched, running
    assert manager.stop(watched) is True  # its only session left it: no longer kept
    assert manager.protected_run_ids() == {"run-2"}
    left.release.set()
    assert wait_for(left, 10)
    assert manager.active_run_ids() == set()
    assert manager.protected_run_ids() == {"run-2"}  # finished, still watched


class SavesARun(TrainingJob):
    """Saves a finished run folder at once (no training); notes how many runs it found.

    Its run id tells the runs' order apart within one second (the store orders by creation
    time, to the second, then by id).
    """

    def run(self) -> None:
        self.found = len(self.store.list_runs())
        self.run_id = f"20300101-00000{self.config.seed}-abcdef"
        self.store.create(self.run_id, self.config.to_dict())
        self.monitor.set_run_id(self.run_id)
        self.store.set_status(self.run_id, FINISHED)
        self.monitor.set_status(FINISHED)


def test_the_queue_keeps_the_store_within_its_budget_before_and_after_each_run(
    sample_data, tmp_store, monkeypatch
):
    monkeypatch.setenv(settings.RUNS_MAX_COUNT.name, "1")
    for seed in (7, 8):  # runs saved by an earlier server, before the budget was lowered
        run_id = f"20240101-00000{seed}-abcdef"
        tmp_store.create(run_id, TrainConfig(**{**TINY, "seed": seed}).to_dict())
        tmp_store.set_status(run_id, FINISHED)
    manager = JobManager(1)
    for seed in (1, 2, 3):
        saved = manager.submit(job(SavesARun, seed, data=sample_data, store=tmp_store))
        assert wait_for(saved, 10) and saved.monitor.snapshot().status == FINISHED
        assert saved.found == 1  # room was made before it wrote
        assert [info.run_id for info in tmp_store.list_runs()] == [saved.run_id]


def test_a_store_that_cannot_be_pruned_does_not_stop_the_queue(sample_data, tmp_store, monkeypatch):
    from cifar_core.runs import RunStore

    def read_only(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self.root))

    monkeypatch.setattr(RunStore, "prune", read_only)
    manager = JobManager(1)
    jobs = [manager.submit(job(SavesARun, s, data=sample_data, store=tmp_store)) for s in (1, 2)]
    for saved in jobs:
        assert wait_for(saved, 10) and saved.monitor.snapshot().status == FINISHED
    assert len(tmp_store.list_runs()) == 2 and manager.counts() == (0, 0)


def test_a_training_thread_never_keeps_the_server_from_exiting(quick, sample_data, tmp_store):
    manager = JobManager(1)
    started, _ = manager.start(TrainConfig(**TINY), sample_data, tmp_store)
    # a daemon thread, named for what it does (tracebacks and thread dumps show the name)
    assert started.thread.daemon and started.thread.name == "training"
    assert wait_for(started, 10)


def test_what_a_refused_request_tells_the_student(quick, sample_data, tmp_store):
    manager = JobManager(2, Limits(max_queue=1))
    with manager._cond:  # nothing leaves the queue meanwhile
        mine, _ = manager.start(TrainConfig(**TINY), sample_data, tmp_store, owner="a")
        with pytest.raises(L.LimitError) as exc:
            manager.start(TrainConfig(**{**TINY, "seed": 2}), sample_data, tmp_store, owner="a")
        assert str(exc.value) == (
            "You already have a training queued or running. Wait for it to finish, or stop it, "
            "before you start another one."
        )
        with pytest.raises(L.LimitError) as exc:
            manager.start(TrainConfig(**{**TINY, "seed": 3}), sample_data, tmp_store, owner="b")
        assert str(exc.value) == (
            "The queue is full (1 runs are waiting for the 2 training slot(s)). Try again in a "
            "few minutes, or train with your teacher's settings to join a run that is already "
            "going."
        )
    assert wait_for(mine, 10)


@pytest.mark.parametrize("minutes", [0.5, 15.0])
def test_a_queued_run_gets_the_servers_time_limit(quick, sample_data, tmp_store, minutes):
    manager = JobManager(1, Limits(max_run_minutes=minutes))
    started, _ = manager.start(TrainConfig(**TINY), sample_data, tmp_store)
    assert started.time_limit_s == minutes * 60
    assert wait_for(started, 10)


def test_wait_for_returns_when_the_job_ends_or_gives_up_at_the_timeout(sample_data, tmp_store):
    import time

    manager = JobManager(1)
    held = manager.submit(job(Held, 1, data=sample_data, store=tmp_store))
    assert wait_for(held, 0.2) is False  # still training at the timeout
    held.release.set()
    start = time.monotonic()
    assert wait_for(held, 60) is True
    assert time.monotonic() - start < 30  # as soon as it ended, not at the timeout


def test_the_same_settings_twice_in_one_request_make_one_job(quick, sample_data, tmp_store):
    manager = JobManager(1)
    with manager._cond:  # nothing leaves the queue meanwhile
        twice = manager.start_request([TrainConfig(**TINY)] * 2, sample_data, tmp_store, owner="a")
        assert [attached for _, attached in twice] == [False, True]
        (first, _), (second, _) = twice
        assert second is first and manager.watchers(first) == 2
        assert manager.counts() == (0, 1)
    assert wait_for(first, 10) and quick.ran == [first]


def test_wait_for_gives_up_at_its_deadline_not_a_second_later():
    # A caller's timeout is a promise: a job still running when it passes is reported at once
    # (a mutation that joined for at least a second more survived every other test).
    import time
    from types import SimpleNamespace

    release = threading.Event()
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    try:
        job = SimpleNamespace(thread=thread)
        started = time.monotonic()
        assert J.wait_for(job, timeout=0.0) is False
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        thread.join(5)
    assert J.wait_for(job, timeout=1.0) is True  # ended: True, whatever the timeout
