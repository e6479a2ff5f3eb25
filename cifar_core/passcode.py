"""Passcode: the teacher page's lock — is one configured, is this guess right, may it guess now.

The passcode is a server setting ($CIFAR_TEACHER_PASSCODE, or a top-level Secret of the same
name, which Streamlit copies into the environment at start). It is compared in constant time
and never logged or stored: a session that unlocked keeps only a keyed digest of it, so a
changed passcode locks every session out again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from cifar_core import settings
from cifar_core.constants import (
    PASSCODE_FIRST_LOCK_SECONDS,
    PASSCODE_FREE_TRIES,
    PASSCODE_MAX_LOCK_SECONDS,
)

# A per-process key for the unlock digests: they mean nothing outside this server's life.
_DIGEST_KEY = secrets.token_bytes(32)


def configured(environ: Mapping[str, str] | None = None) -> str:
    """The teacher passcode as set; "" when there is none (then there is no teacher page)."""
    return settings.raw(settings.TEACHER_PASSCODE, environ)


def matches(guess: str, passcode: str) -> bool:
    """Whether `guess` is the passcode, compared in constant time; never true without one.

    `hmac.compare_digest` on the encoded bytes takes as long for a first wrong character as
    for a last one, so response times give a guesser nothing to go on.
    """
    if not passcode:
        return False
    return hmac.compare_digest(guess.encode("utf-8"), passcode.encode("utf-8"))


def unlock_token(passcode: str) -> str:
    """What a session keeps once unlocked: a keyed digest of the passcode, not the passcode."""
    return hmac.new(_DIGEST_KEY, passcode.encode("utf-8"), hashlib.sha256).hexdigest()


def still_unlocked(token: str | None, passcode: str) -> bool:
    """Whether a session's unlock is for the passcode configured now."""
    return bool(token and passcode) and hmac.compare_digest(token, unlock_token(passcode))


def lock_seconds(failures: int) -> float:
    """How long the form stays locked after `failures` wrong guesses in a row.

    Free for the first PASSCODE_FREE_TRIES, then doubling from PASSCODE_FIRST_LOCK_SECONDS
    up to PASSCODE_MAX_LOCK_SECONDS.
    """
    over = failures - PASSCODE_FREE_TRIES
    if over < 0:
        return 0.0
    return min(PASSCODE_MAX_LOCK_SECONDS, PASSCODE_FIRST_LOCK_SECONDS * 2.0 ** min(over, 32))


@dataclass(frozen=True)
class Attempts:
    """One session's guessing so far (kept in its session state; a new value per guess).

    Attributes:
        failures: wrong guesses in a row.
        locked_until: the clock time before which no guess is checked.
    """

    failures: int = 0
    locked_until: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next guess is checked (0: now)."""
        return max(0.0, self.locked_until - now)

    def after_failure(self, now: float) -> Attempts:
        """The record after one more wrong guess at `now`."""
        failures = self.failures + 1
        return Attempts(failures, now + lock_seconds(failures))


@dataclass(frozen=True)
class Outcome:
    """What one submitted guess led to.

    Attributes:
        unlocked: the guess was right.
        attempts: the session's record now.
        message: what to tell the person ("" when unlocked).
    """

    unlocked: bool
    attempts: Attempts
    message: str = ""


def try_passcode(guess: str, passcode: str, attempts: Attempts, now: float) -> Outcome:
    """Check one guess, unless the session is locked out; right guesses reset the count.

    Args:
        guess: what was typed.
        passcode: the configured passcode ("" never unlocks).
        attempts: the session's record before this guess.
        now: the current clock time (the same clock as `attempts`).
    """
    wait = attempts.wait(now)
    if wait > 0:
        return Outcome(False, attempts, f"Too many wrong passcodes: try again in {wait:.0f} s.")
    if matches(guess, passcode):
        return Outcome(True, Attempts())
    attempts = attempts.after_failure(now)
    message = "That passcode is not right."
    if attempts.locked_until > now:
        message += f" Wait {attempts.locked_until - now:.0f} s before the next try."
    return Outcome(False, attempts, message)
