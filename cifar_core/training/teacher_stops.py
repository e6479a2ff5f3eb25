"""Teacher stops: which jobs the teacher stopped for everyone, so their students' pages say so.

Not locked itself: the job manager calls it with its own lock held.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict

from cifar_core.constants import TEACHER_STOPS_KEPT
from cifar_core.training.job import TrainingJob
from cifar_core.training.monitor import STOPPED

# What a run the teacher stopped says, before where it stopped (the students' pages show it).
TEACHER_STOP_NOTE = "Stopped by the teacher."


class TeacherStops:
    """The last TEACHER_STOPS_KEPT jobs the teacher stopped, by monitor uid."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[int, TrainingJob] = OrderedDict()

    def add(self, job: TrainingJob) -> None:
        """The teacher stopped `job` (the oldest remembered one is forgotten past the limit)."""
        self._jobs[job.monitor.uid] = job
        while len(self._jobs) > TEACHER_STOPS_KEPT:
            self._jobs.popitem(last=False)

    def has(self, monitor_id: int | None = None, run_id: str | None = None) -> bool:
        """Whether the teacher stopped the job of this monitor, or of this saved run."""
        if monitor_id is not None and monitor_id in self._jobs:
            return True
        return run_id is not None and any(j.run_id == run_id for j in self._jobs.values())


def note_teacher_stop(job: TrainingJob) -> None:
    """Once a job the teacher stopped has ended: its saved status note says so first.

    The note then survives a server restart and shows on every page that reads the run. A
    status that cannot be rewritten keeps the job's own note.
    """
    snap = job.monitor.snapshot()
    if snap.status != STOPPED or not job.run_id or snap.message.startswith(TEACHER_STOP_NOTE):
        return
    with contextlib.suppress(OSError):
        job.store.set_status(job.run_id, STOPPED, f"{TEACHER_STOP_NOTE} {snap.message}")
