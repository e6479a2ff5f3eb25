"""Presence: which sessions are watching a job right now, from when their polls were last seen.

The job manager's watcher count (`JobManager.watchers`) decides what Stop does, and it drops a
session only when Streamlit garbage-collects it, minutes after its tab closed. A number shown
to students ("3 sessions are watching") must not count those closed tabs, so every poll of a
live view records the time it was seen here, and a session counts while its polls keep
coming: until it has missed PRESENCE_POLLS of them (at least PRESENCE_MIN_SECONDS).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from cifar_core import constants as C
from cifar_core.constants import PRESENCE_MIN_SECONDS, PRESENCE_POLLS


class Presence:
    """Last-seen times per (job key, session), thread-safe; old entries are dropped as it goes.

    Never called from a garbage-collection finalizer (unlike JobManager.release_later), so a
    plain lock is safe here.

    Args:
        clock: the time source in seconds (tests inject their own).
        polls: missed polls after which a session no longer counts.
        min_seconds: the shortest time a session counts after its last poll.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        polls: int = PRESENCE_POLLS,
        min_seconds: float = PRESENCE_MIN_SECONDS,
    ) -> None:
        self.clock = clock
        self.polls = polls
        self.min_seconds = min_seconds
        self._lock = threading.Lock()
        # job key → session → the time after which it no longer counts
        self._until: dict[Hashable, dict[str, float]] = {}

    def seen(self, key: Hashable, session: str, every: float | None = None) -> None:
        """A session's view of job `key` polled now; it polls again in about `every` seconds.

        Args:
            every: the session's poll interval (default: constants.POLL_SECONDS).
        """
        every = C.POLL_SECONDS if every is None else max(0.0, float(every))
        now = self.clock()
        with self._lock:
            self._until.setdefault(key, {})[session] = now + max(
                self.polls * every, self.min_seconds
            )
            self._prune_locked(now)

    def leave(self, key: Hashable, session: str) -> None:
        """The session stopped watching on purpose (Stop / Leave): it no longer counts."""
        with self._lock:
            sessions = self._until.get(key, {})
            sessions.pop(session, None)
            if not sessions:
                self._until.pop(key, None)

    def count(self, key: Hashable) -> int:
        """How many sessions are watching job `key` now."""
        with self._lock:
            self._prune_locked(self.clock())
            return len(self._until.get(key, {}))

    def _prune_locked(self, now: float) -> None:
        # Drop sessions whose polls stopped, and jobs nobody watches: memory stays bounded.
        for key in list(self._until):
            sessions = self._until[key]
            for session in [s for s, until in sessions.items() if until < now]:
                del sessions[session]
            if not sessions:
                del self._until[key]
