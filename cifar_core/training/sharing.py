"""Sharing: which job identical requests share, how many sessions watch it, whose request it is.

A class of 30 pressing Train on the teacher's settings costs one training: requests with an
identical config key join one job while it waits, runs or after it finished. This is the
bookkeeping behind that, apart from the queue that trains the jobs (`queue.JobManager`).

Not locked itself: the job manager calls it with its own lock held — except
`release_later`, which garbage collection calls from any thread, and which only queues.
"""

from __future__ import annotations

import queue
from collections import OrderedDict
from collections.abc import Iterator

from cifar_core.constants import KEEP_FINISHED
from cifar_core.training.job import TrainingJob
from cifar_core.training.limits import LimitError
from cifar_core.training.monitor import CANCELLED, FAILED, STOPPED


def reusable(job: TrainingJob) -> bool:
    """Whether a new identical request may join this job rather than train anew."""
    # A stopped, failed or cancelled job did not do what the config asks: train anew.
    # Nor does one that is stopping: joining it would only get the stopped result.
    snap = job.monitor.snapshot()
    return snap.status not in (STOPPED, FAILED, CANCELLED) and not snap.stop_requested


class Sharing:
    """Shared jobs by config key, watcher counts, and each session's latest request."""

    def __init__(self) -> None:
        self.jobs: OrderedDict[str, TrainingJob] = OrderedDict()  # config key → job
        self._watchers: dict[int, int] = {}  # id(job) → sessions watching it
        self._owners: dict[str, list[TrainingJob]] = {}  # session → its latest request
        self._askers: dict[int, list[str]] = {}  # monitor uid → sessions that asked for it
        # Sessions that ended, reported by garbage collection: see release_later.
        self._released: queue.SimpleQueue[TrainingJob] = queue.SimpleQueue()

    def joinable(self, keys: list[str]) -> dict[str, TrainingJob]:
        """The jobs these config keys can join (key → job); the other keys need a new job."""
        return {k: j for k in keys if (j := self.jobs.get(k)) and reusable(j)}

    def check_owner(self, owner: str | None, joined: dict[str, TrainingJob]) -> None:
        """One request per session: refuse a new one while its last one is queued or running.

        Raises:
            LimitError: `owner` has an unfinished job that this request does not join.
        """
        if owner is None:
            return
        mine = [j for j in self._owners.get(owner, []) if not j.monitor.snapshot().is_final]
        if mine and not all(j in joined.values() for j in mine):
            raise LimitError(
                "You already have a training queued or running. Wait for it to "
                "finish, or stop it, before you start another one."
            )

    def watch(self, key: str, job: TrainingJob) -> None:
        """One more session watches `job`, shared under `key` (now the most recently asked)."""
        self.jobs[key] = job
        self._watchers[id(job)] = self._watchers.get(id(job), 0) + 1
        self.jobs.move_to_end(key)

    def set_request(self, owner: str | None, jobs: list[TrainingJob]) -> None:
        """Remember `owner`'s latest request (None: no per-session limit)."""
        if owner is not None:
            self._owners[owner] = jobs
            for job in jobs:
                askers = self._askers.setdefault(job.monitor.uid, [])
                if owner not in askers:
                    askers.append(owner)

    def forget_old(self) -> None:
        """Keep the last KEEP_FINISHED finished jobs for joining; drop finished requests."""
        finished = [k for k, j in self.jobs.items() if j.monitor.snapshot().is_final]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            job = self.jobs.pop(key)
            self._watchers.pop(id(job), None)
            self._askers.pop(job.monitor.uid, None)
        done = [
            o
            for o, jobs in self._owners.items()
            if all(j.monitor.snapshot().is_final for j in jobs)
        ]
        for owner in done:
            del self._owners[owner]

    def watchers(self, job: TrainingJob) -> int:
        """How many sessions asked for this job and did not leave it."""
        return self._watchers.get(id(job), 0)

    def askers(self, job: TrainingJob) -> tuple[str, ...]:
        """The sessions that asked for this job, first asker first (for the teacher's view)."""
        return tuple(self._askers.get(job.monitor.uid, ()))

    def unwatch(self, job: TrainingJob) -> int:
        """One session stops watching; returns how many still watch."""
        left = max(0, self._watchers.get(id(job), 0) - 1)
        self._watchers[id(job)] = left
        return left

    def leave(self, owner: str | None, job: TrainingJob) -> None:
        """`job` no longer counts as `owner`'s request (it may start another one)."""
        if owner in self._owners:
            self._owners[owner] = [j for j in self._owners[owner] if j is not job]

    def watched(self) -> list[TrainingJob]:
        """The shared jobs at least one session still watches."""
        return [j for j in self.jobs.values() if self._watchers.get(id(j), 0) > 0]

    def release_later(self, job: TrainingJob) -> None:
        """A session ended: its job is handed back by `released` at the manager's next step.

        Lock-free (a queue), because garbage collection calls it: see JobManager.release_later.
        """
        self._released.put(job)

    def released(self) -> Iterator[TrainingJob]:
        """The jobs of sessions that ended since the last call, one at a time."""
        while True:
            try:
                yield self._released.get_nowait()
            except queue.Empty:
                return
