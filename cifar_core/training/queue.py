"""Jobs: the process-wide training queue, shared jobs for identical configs, wait estimates.

The bookkeeping of who shares and watches which job is `sharing`; the estimates' arithmetic
and the measured speeds, `estimates`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from cifar_core import constants as C
from cifar_core.data import Cifar10
from cifar_core.identity import owner_hash, valid_key
from cifar_core.lesson import shared_lesson
from cifar_core.runs import RunStore
from cifar_core.runs.disk import RunBudget
from cifar_core.training import TrainConfig, TrainingJob, precision
from cifar_core.training.estimates import (
    MeasuredSpeeds,
    poll_interval,
    training_seconds,
    wait_seconds,
)
from cifar_core.training.limits import LimitError, Limits, training_slots
from cifar_core.training.memory import limit_malloc_arenas, release_free_memory
from cifar_core.training.monitor import CANCELLED, FAILED
from cifar_core.training.presence import Presence
from cifar_core.training.sharing import Sharing
from cifar_core.training.teacher_stops import TeacherStops, note_teacher_stop


class JobManager:
    """Process-wide queue: at most `max_concurrent` trainings at once, the rest wait in order.

    Requests with an identical config share one job: while it waits, runs or after it
    finished, a second request attaches to it instead of training again, so a class of 30
    pressing Train on the teacher's settings costs one training. Each waiting job's monitor
    shows its place in the queue. A job stopped while waiting is cancelled without training.

    Who watches a job is counted (`attach` / `detach`): Stop from one of several watchers
    only detaches that watcher; the last watcher's Stop stops the job. A job nobody watches
    any more (its tabs were closed) still finishes and is saved: nothing is lost and the
    queue moves on. Who is looking at a job right now (`seen` / `watching_now`) is kept
    apart, in `presence`: a closed tab stops counting there within a few polls.

    Args:
        max_concurrent: trainings at once.
        limits: the per-run limits (default: Limits()).
        clock: time source of the presence bookkeeping (tests inject their own).
    """

    def __init__(
        self,
        max_concurrent: int = C.DEFAULT_MAX_TRAININGS,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        limit_malloc_arenas()  # before any training thread allocates: less RSS per run
        self.max_concurrent = max(1, int(max_concurrent))
        fixed = limits or Limits()
        self._limits: Callable[[], Limits] = lambda: fixed
        self.setting_problem = ""  # a bad limit setting, for the pages to show
        self._cond = threading.Condition()
        self._waiting: list[TrainingJob] = []
        self._running: list[TrainingJob] = []
        self._sharing = Sharing()  # shared jobs, their watchers, each session's request
        # Measured training speed per model once a run of it finished, for the estimates;
        # until then EXPECTED_IMAGES_PER_SECOND scaled by the precision's speed-up.
        self._speeds = MeasuredSpeeds()
        self.presence = Presence(clock)  # sessions whose live view polled a job lately
        self._teacher_stops = TeacherStops()  # so the watchers' pages can say who stopped it

    @property
    def limits(self) -> Limits:
        """The per-run limits in force now (the live source's value when following one)."""
        return self._limits()

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._limits = lambda: value

    def follow_limits(self, source: Callable[[], Limits]) -> None:
        """Read the limits from `source` at every check (the teacher's live lesson settings)."""
        self._limits = source

    # --- starting, sharing and watching ---

    def start(
        self, config: TrainConfig, data: Cifar10, store: RunStore, owner: str | None = None
    ) -> tuple[TrainingJob, bool]:
        """Attach to an identical live or finished job, or queue a new one.

        Args:
            owner: the asking session (None: no per-session limit, as in tests and benches).

        Returns:
            (job, attached): attached is True when an existing job was reused.

        Raises:
            LimitError: the request is over a limit (the message says which and what to do).
        """
        return self.start_request([config], data, store, owner)[0]

    def start_request(
        self,
        configs: list[TrainConfig],
        data: Cifar10,
        store: RunStore,
        owner: str | None = None,
    ) -> list[tuple[TrainingJob, bool]]:
        """Start or join one job per config, as ONE request of `owner` (all or nothing).

        `owner` is the asker's per-browser key (identity): each run it starts or joins records
        the key's hash as an owner, so the run shows among that browser's runs. Any other
        owner (None, a test's name) only counts for the per-session limit.

        Raises:
            LimitError: a config is over the per-run budget, the owner already has a request
                queued or running, or the queue is full. Nothing is started then.
        """
        limits = self.limits  # one reading for the whole request (the teacher may change them)
        for config in configs:
            problem = limits.check_config(config)
            if problem:
                raise LimitError(problem)
        # Same settings, same data, same run store: the same run (tests use several stores).
        keys = [f"{c.key()}|{data.source}|{store.root.resolve()}" for c in configs]
        with self._cond:
            self._drain_released()
            reuse = self._sharing.joinable(keys)
            self._sharing.check_owner(owner, reuse)
            new = [k for k in dict.fromkeys(keys) if k not in reuse]
            if new and len(self._waiting) + len(new) > limits.max_queue:
                raise LimitError(
                    f"The queue is full ({len(self._waiting)} runs are waiting for the "
                    f"{self.max_concurrent} training slot(s)). Try again in a few minutes, or "
                    "train with your teacher's settings to join a run that is already going."
                )
            out, started = [], {}
            for key, config in zip(keys, configs, strict=True):
                if key in reuse:
                    job, attached = reuse[key], True
                elif key in started:
                    job, attached = started[key], True
                else:
                    job = TrainingJob(config, data, store, time_limit_s=limits.max_run_minutes * 60)
                    attached = False
                    started[key] = job
                    self._enqueue_locked(job)  # counted in the queue before the lock drops
                self._sharing.watch(key, job)
                out.append((job, attached))
            self._sharing.set_request(owner, [job for job, _ in out])
            self._sharing.forget_old()
        if valid_key(owner):  # the run is the asker's too, whether new or joined
            for job, _ in out:
                job.add_owner(owner_hash(owner))
        for job in started.values():
            self._start_thread(job)
        return out

    def watchers(self, job: TrainingJob) -> int:
        """How many sessions asked for this job and did not leave it (what Stop goes by).

        A closed tab counts until Streamlit garbage-collects its session (minutes): to show
        how many are looking now, use `watching_now`.
        """
        with self._cond:
            self._drain_released()
            return self._sharing.watchers(job)

    def seen(self, job: TrainingJob, session: str, every: float | None = None) -> None:
        """A session's live view of `job` polled now (and polls again in `every` seconds)."""
        self.presence.seen(job.monitor.uid, session, every)

    def watching_now(self, job: TrainingJob) -> int:
        """How many sessions' live views of `job` polled within their last few poll intervals."""
        return self.presence.count(job.monitor.uid)

    def detach(self, job: TrainingJob) -> int:
        """One session stops watching; returns how many still watch.

        A queued job that nobody watches any more is cancelled: nothing was trained yet, and
        it would only hold up the queue (a running one goes on, and is saved).
        """
        with self._cond:
            self._drain_released()
            return self._detach_locked(job)

    def _detach_locked(self, job: TrainingJob) -> int:
        left = self._sharing.unwatch(job)
        if left == 0 and job in self._waiting:
            job.monitor.request_stop()
        return left

    def release_later(self, job: TrainingJob) -> None:
        """A session ended: detach it from `job` at the manager's next step.

        Called from a weakref finalizer, i.e. by garbage collection, which can run in ANY
        thread at any allocation — also in a training thread that holds a monitor's lock
        while this manager's lock is held by a page waiting for that monitor. Taking a lock
        here could deadlock, so this only drops the job in a lock-free queue.
        """
        self._sharing.release_later(job)

    def _drain_released(self) -> None:
        # With self._cond held: apply the detaches that finalizers queued.
        for job in self._sharing.released():
            self._detach_locked(job)

    def stop(self, job: TrainingJob, owner: str | None = None) -> bool:
        """Stop on behalf of one session: the job stops only if nobody else watches it.

        Args:
            owner: the session; a job it left no longer counts as its request, so it may
                start another one while the shared run goes on for the others.

        Returns:
            True if the job was asked to stop; False if the session just left a shared job.
        """
        if owner is not None:
            self.presence.leave(job.monitor.uid, owner)
        with self._cond:
            self._drain_released()
            self._sharing.leave(owner, job)
            if self._detach_locked(job) > 0:
                return False
        job.monitor.request_stop()
        return True

    # --- the teacher's console ---

    def class_jobs(self) -> list[tuple[TrainingJob, tuple[str, ...], int]]:
        """(job, sessions that asked for it, watchers) for the teacher's class view: running,
        waiting (in queue order), then the finished jobs kept for joining (newest first)."""
        with self._cond:
            self._drain_released()
            kept = reversed(self._sharing.jobs.values())
            jobs = dict.fromkeys([*self._running, *self._waiting, *kept])
            return [(j, self._sharing.askers(j), self._sharing.watchers(j)) for j in jobs]

    def stop_for_everyone(self, job: TrainingJob) -> bool:
        """The teacher's Stop: the job stops however many sessions watch it.

        A running job stops after its current batch and is saved as stopped by the teacher;
        a queued one is cancelled and the queue moves up. False if it had already ended.
        """
        if job.monitor.snapshot().is_final:
            return False
        with self._cond:
            self._teacher_stops.add(job)
        job.monitor.request_stop()
        with self._cond:
            self._cond.notify_all()  # a queued job notices now, not at its next wake-up
        return True

    def stopped_by_teacher(self, monitor_id: int | None = None, run_id: str | None = None) -> bool:
        """Whether the teacher stopped the job of this monitor, or of this saved run."""
        with self._cond:
            return self._teacher_stops.has(monitor_id, run_id)

    # --- the queue ---

    def submit(self, job: TrainingJob) -> TrainingJob:
        """Queue a job (not shared) and start its worker thread; returns the job."""
        with self._cond:
            self._enqueue_locked(job)
        self._start_thread(job)
        return job

    def _enqueue_locked(self, job: TrainingJob) -> None:
        self._waiting.append(job)
        self._renumber()

    def _start_thread(self, job: TrainingJob) -> None:
        job.thread = threading.Thread(target=self._work, args=(job,), name="training", daemon=True)
        job.thread.start()

    def _renumber(self) -> None:
        for position, waiting in enumerate(self._waiting, start=1):
            waiting.monitor.set_queue_position(position)

    def _work(self, job: TrainingJob) -> None:
        with self._cond:
            self._drain_released()
            while True:
                # A Stop (or the last tab closing) first, even when a slot is free now: a job
                # stopped while it waited never trains.
                if job.monitor.stop_requested:
                    self._waiting.remove(job)
                    self._renumber()
                    by = " by the teacher" if self._teacher_stops.has(job.monitor.uid) else ""
                    job.monitor.set_status(CANCELLED, f"Stopped{by} before it started.")
                    self._cond.notify_all()
                    return
                if self._waiting[0] is job and len(self._running) < self.max_concurrent:
                    break
                self._cond.wait(timeout=0.2)  # wake up now and then to notice a Stop
            self._waiting.pop(0)
            self._running.append(job)
            self._renumber()
        try:
            self._prune(job.store)  # make room before this run writes
            job.run()
            if self.stopped_by_teacher(job.monitor.uid):
                note_teacher_stop(job)  # the saved run says so too (after a restart as well)
        finally:
            if not job.monitor.snapshot().is_final:  # never leave a dead job looking alive
                job.monitor.set_status(FAILED, "The training thread ended unexpectedly.")
            release_free_memory()  # the model and its buffers are gone: return the pages
            with self._cond:
                self._running.remove(job)
                self._speeds.learn(job)
                self._cond.notify_all()
            self._prune(job.store)

    def protected_run_ids(self) -> set[str]:
        """Runs the store must keep: training now, or shown to a session that watches them."""
        with self._cond:
            self._drain_released()
            jobs = list(self._running) + self._sharing.watched()
        return {j.run_id for j in jobs if j.run_id}

    def _prune(self, store: RunStore) -> None:
        # Keep the run store within its budget, oldest first; never a protected run.
        with contextlib.suppress(OSError):  # a store that cannot be pruned must not stop the queue
            store.prune(self.protected_run_ids())

    def active_run_ids(self) -> set[str]:
        """Run ids of jobs alive in this process (their "running" status is real)."""
        with self._cond:
            return {j.run_id for j in self._running if j.run_id}

    def counts(self) -> tuple[int, int]:
        """(running, waiting) right now."""
        with self._cond:
            return len(self._running), len(self._waiting)

    # --- estimates for the pages (their arithmetic is `estimates`) ---

    def estimate_seconds(self, config: TrainConfig) -> float:
        """Expected training time of a config on this machine (from measured speeds).

        Capped at the per-run time limit: no run trains longer.
        """
        speed = self._speeds.images_per_second(config.model)
        return training_seconds(config, speed, self.limits.max_run_minutes)

    def estimate_wait(self, job: TrainingJob) -> float | None:
        """Seconds until a waiting job should start (None if it is not waiting)."""
        with self._cond:
            if job not in self._waiting:
                return None
            ahead = self._waiting[: self._waiting.index(job)]
            running = list(self._running)
        remaining = []
        for other in running:
            eta = other.monitor.snapshot().eta_seconds
            remaining.append(eta if eta is not None else self.estimate_seconds(other.config))
        ahead_seconds = [self.estimate_seconds(other.config) for other in ahead]
        return wait_seconds(remaining, ahead_seconds, self.max_concurrent)

    def poll_seconds(self, jobs: TrainingJob | list[TrainingJob]) -> float:
        """How often a session should poll these jobs: 1 s, slower as more sessions watch."""
        jobs = jobs if isinstance(jobs, list) else [jobs]
        return poll_interval(max((self.watchers(job) for job in jobs), default=1))


_SHARED_LOCK = threading.Lock()
_shared_manager: JobManager | None = None


def shared_manager() -> JobManager:
    """THE job manager of this server process, made on first use.

    A module-level singleton, not a Streamlit cache: any visitor can clear Streamlit's caches
    from the app menu, and a second manager would mean two trainings at once (and two queues)
    despite $CIFAR_MAX_TRAININGS. Settings: $CIFAR_MAX_TRAININGS and the Limits variables.

    A limit variable that is not a positive number leaves the defaults in force and is named
    in `setting_problem`, so the pages can say so instead of failing.
    """
    global _shared_manager
    with _SHARED_LOCK:
        if _shared_manager is None:
            slots, slots_problem = training_slots()
            try:
                limits, problem = Limits.from_env(), ""
            except ValueError as exc:
                limits, problem = Limits(), f"{exc} The default limits apply."
            notes = [slots_problem, problem, *RunBudget.from_env().notes, precision.setting()[1]]
            problem = " ".join(note for note in notes if note)
            _shared_manager = JobManager(slots, limits)
            _shared_manager.setting_problem = problem
            # The teacher's lesson settings, when set, replace the environment's limits live.
            _shared_manager.follow_limits(lambda: shared_lesson().limits())
        return _shared_manager


def wait_for(job: TrainingJob, timeout: float = 600.0) -> bool:
    """Block until a job's thread ends (for tests and benches); True if it ended in time."""
    deadline = time.monotonic() + timeout
    while job.thread is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if job.thread is not None:
        job.thread.join(max(0.0, deadline - time.monotonic()))
    return job.thread is not None and not job.thread.is_alive()
