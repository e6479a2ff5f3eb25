"""Classroom: the teacher's live view of every run on the server, and what the teacher may do.

One row per training the job manager knows (queued, running, finished lately) and per saved run
in the run store, a run that is both shown once. Who asked for a run appears only as an
anonymous label made from a one-way hash of the session's random id (or the per-browser key's
hash a saved run records): never the id itself, nor anything personal. The teacher's actions
(stop for everyone, cancel, prune, delete) are logged at INFO with run ids only.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from cifar_core.runs import DAMAGED, INTERRUPTED, RunInfo, RunStore, RunStoreError
from cifar_core.runs.disk import RunBudget
from cifar_core.training.job import TrainingJob
from cifar_core.training.monitor import FINAL_STATUSES, QUEUED, Snapshot
from cifar_core.training.queue import JobManager

try:  # the per-browser identity (keys, their hashes, their labels)
    from cifar_core import identity
except ImportError:  # pragma: no cover — a tree without it: session ids only
    identity = None

log = logging.getLogger(__name__)

NO_OWNER = "—"  # a run nobody asked for through a page (benches, tests) or saved before owners
# Saved runs the teacher may delete: ended ones, never a run that may still be training.
DELETABLE = frozenset({*FINAL_STATUSES, INTERRUPTED, DAMAGED})


def owner_label(owner: str | None) -> str:
    """An anonymous label for whoever asked: "Student K7QF" style, stable for the server's life.

    A per-browser key (`identity.valid_key`) or a recorded owner hash gets the same label as
    its saved runs (`identity.owner_label` of the key's hash). Any other session id is hashed
    one way under its own prefix first, so the label never shows, nor leads back to, the id.
    """
    if not owner:
        return NO_OWNER
    # A recorded hash first: 32 hex characters also have a browser key's shape, and hashing a
    # hash again gave a student's saved runs another label than their live job.
    if identity is not None and identity.valid_owner_hash(owner):
        return identity.owner_label(owner)
    if identity is not None and identity.valid_key(owner):
        return identity.owner_label(identity.owner_hash(owner))
    digest = hashlib.sha256(b"cifar-lesson-session-v1:" + owner.encode("utf-8")).hexdigest()
    if identity is None:
        return f"Student {digest[:4].upper()}"
    return identity.owner_label(digest[:32])


@dataclass(frozen=True)
class ClassRow:
    """One line of the class view.

    Attributes:
        key: unique per line ("job-<monitor uid>" or "run-<run id>").
        student: anonymous label(s) of who asked (see `owner_label`).
        model, train_size, epochs, batch_size, learning_rate, augment: the key settings.
        status: the job's or saved run's status.
        progress: "batch 12/40 · epoch 1/2", "3rd in the queue", or "" for a saved run.
        watchers: sessions that asked for a live job and did not leave it (None: saved run).
        watching_now: of those, the ones whose page polled it lately (None: saved run).
        test_accuracy: once evaluated.
        age_seconds: since the run was asked for (job) or created (saved run).
        run_id: the saved run's id, once it has one.
        job: the live job, for the teacher's Stop / Cancel (None: a saved run only).
    """

    key: str
    student: str
    model: str
    train_size: int | None
    epochs: int | None
    batch_size: int | None
    learning_rate: float | None
    augment: bool
    status: str
    progress: str
    watchers: int | None
    watching_now: int | None
    test_accuracy: float | None
    age_seconds: float
    run_id: str | None = None
    job: TrainingJob | None = None

    @property
    def can_stop(self) -> bool:
        """A job that is training (or about to): the teacher may stop it for everyone."""
        return self.job is not None and self.status not in FINAL_STATUSES | {QUEUED}

    @property
    def can_cancel(self) -> bool:
        """A job still waiting for a slot: the teacher may cancel it."""
        return self.job is not None and self.status == QUEUED

    @property
    def can_delete(self) -> bool:
        """A saved run that has ended: the teacher may delete it."""
        return self.run_id is not None and self.status in DELETABLE


def _progress(snap: Snapshot, epochs: int) -> str:
    if snap.status == QUEUED:
        return f"#{snap.queue_position} in the queue" if snap.queue_position else "queued"
    if not snap.total_steps:
        return ""
    epoch = snap.batches[-1]["epoch"] if snap.batches else 1
    return f"batch {snap.steps_done}/{snap.total_steps} · epoch {epoch}/{epochs}"


def _settings(config: dict) -> dict:
    return {
        "model": str(config.get("model", "?")),
        "train_size": config.get("train_size"),
        "epochs": config.get("epochs"),
        "batch_size": config.get("batch_size"),
        "learning_rate": config.get("learning_rate"),
        "augment": bool(config.get("augment")),
    }


def job_row(
    job: TrainingJob,
    askers: tuple[str, ...],
    watchers: int,
    now_watching: int,
    info: RunInfo | None,
) -> ClassRow:
    """The line of one job the manager knows (`info`: its saved run, once listed)."""
    snap = job.monitor.snapshot()
    config = job.config.to_dict()
    return ClassRow(
        key=f"job-{snap.monitor_id}",
        student=", ".join(owner_label(o) for o in askers) or NO_OWNER,
        **_settings(config),
        status=snap.status,
        progress=_progress(snap, job.config.epochs),
        watchers=watchers,
        watching_now=now_watching,
        test_accuracy=info.test_accuracy if info else None,
        age_seconds=snap.elapsed_seconds,
        run_id=snap.run_id,
        job=job,
    )


def run_row(info: RunInfo, now: float) -> ClassRow:
    """The line of a saved run no live job stands for."""
    owners = sorted(getattr(info, "owners", ()))  # hashes saved with the run (identity)
    return ClassRow(
        key=f"run-{info.run_id}",
        student=", ".join(owner_label(o) for o in owners) or NO_OWNER,
        **_settings(info.config),
        status=info.status,
        progress="",
        watchers=None,
        watching_now=None,
        test_accuracy=info.test_accuracy,
        age_seconds=max(0.0, now - info.created),
        run_id=info.run_id,
    )


def class_rows(manager: JobManager, store: RunStore, now: float | None = None) -> list[ClassRow]:
    """Every run on the server: the manager's jobs first (running, queued, finished lately),
    then the saved runs no job stands for, newest first.

    Cheap enough to redraw every few seconds with a class's runs: one snapshot per job and the
    run store's cached list (no run file is read again unless it changed).
    """
    now = time.time() if now is None else now
    infos = {i.run_id: i for i in store.list_runs(active_ids=manager.active_run_ids())}
    rows, shown = [], set()
    for job, askers, watchers in manager.class_jobs():
        if job.store.root.resolve() != store.root.resolve():
            continue  # a job of another run store (tests, benches)
        row = job_row(job, askers, watchers, manager.watching_now(job), infos.get(job.run_id))
        rows.append(row)
        shown.add(row.run_id)
    rows += [run_row(info, now) for run_id, info in infos.items() if run_id not in shown]
    return rows


# --- the teacher's actions ---


def stop_for_everyone(manager: JobManager, row: ClassRow) -> bool:
    """Stop a running job (or cancel a queued one) whoever watches it; False if it had ended."""
    if row.job is None:
        return False
    stopped = manager.stop_for_everyone(row.job)
    if stopped:
        what = "cancelled queued" if row.status == QUEUED else "stopped running"
        log.info("Teacher %s job %s (run %s).", what, row.key, row.run_id or "not saved yet")
    return stopped


def prune(manager: JobManager, store: RunStore, budget: RunBudget | None = None) -> list[str]:
    """Remove the oldest runs until the store is within its budget (never a protected one)."""
    removed = store.prune(manager.protected_run_ids(), budget)
    log.info("Teacher pruned the run store: %d run(s) removed %s.", len(removed), removed)
    return removed


def delete_run(manager: JobManager, store: RunStore, run_id: str) -> bool:
    """Delete one saved run that has ended; False if it is running, protected or gone.

    Only that run's folder is touched (RunStore.delete: a real run folder, never through a
    symbolic link), so a folder a student's new run creates meanwhile is never at risk.
    """
    infos = store.list_runs(active_ids=manager.active_run_ids())
    target = next((i for i in infos if i.run_id == run_id), None)
    if target is None or target.status not in DELETABLE or run_id in manager.protected_run_ids():
        return False
    try:
        deleted = store.delete(run_id)
    except (OSError, RunStoreError):
        deleted = False  # cannot be removed (permissions, turned into a link)
    log.info("Teacher deleted run %s: %s.", run_id, "done" if deleted else "not removed")
    return deleted
