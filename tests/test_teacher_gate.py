"""The teacher page's lock: the passcode setting, the constant-time check, the guessing limit,
and the anonymous labels of the class view (fast: no training, no server)."""

from __future__ import annotations

import hmac

import pytest

from cifar_core import classroom, passcode, settings
from cifar_core.constants import (
    PASSCODE_FIRST_LOCK_SECONDS,
    PASSCODE_FREE_TRIES,
    PASSCODE_MAX_LOCK_SECONDS,
)


def test_the_passcode_is_a_setting_and_empty_means_none():
    assert settings.TEACHER_PASSCODE in settings.ALL
    assert passcode.configured({}) == ""
    assert passcode.configured({"CIFAR_TEACHER_PASSCODE": "   "}) == ""
    assert passcode.configured({"CIFAR_TEACHER_PASSCODE": " s3cret "}) == "s3cret"


def test_the_check_compares_encoded_bytes_in_constant_time(monkeypatch):
    calls, real = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(passcode.hmac, "compare_digest", spy)
    assert passcode.matches("ünïcode-pass", "ünïcode-pass")
    assert not passcode.matches("ünïcode-pasS", "ünïcode-pass")
    assert calls == [
        ("ünïcode-pass".encode(), "ünïcode-pass".encode()),
        ("ünïcode-pasS".encode(), "ünïcode-pass".encode()),
    ]


def test_nothing_unlocks_without_a_passcode():
    assert not passcode.matches("", "")
    assert not passcode.try_passcode("", "", passcode.Attempts(), 0.0).unlocked


def test_an_unlock_is_for_the_passcode_configured_now():
    token = passcode.unlock_token("first")
    assert "first" not in token
    assert passcode.still_unlocked(token, "first")
    assert not passcode.still_unlocked(token, "second")  # the passcode changed: locked again
    assert not passcode.still_unlocked(None, "first")
    assert not passcode.still_unlocked(token, "")


def test_wrong_guesses_are_free_a_few_times_then_wait_longer_and_longer():
    attempts, now, waits = passcode.Attempts(), 100.0, []
    for _ in range(PASSCODE_FREE_TRIES + 4):
        outcome = passcode.try_passcode("wrong", "right", attempts, now)
        assert not outcome.unlocked and "not right" in outcome.message
        attempts = outcome.attempts
        waits.append(attempts.wait(now))
        now += attempts.wait(now)  # the next try comes exactly when allowed
    first = PASSCODE_FIRST_LOCK_SECONDS
    # Three wrong tries without waiting; after the third, 5 s, then 10, 20, 40, 80.
    assert waits == [0.0] * (PASSCODE_FREE_TRIES - 1) + [first * 2**i for i in range(5)]
    assert passcode.lock_seconds(10_000) == PASSCODE_MAX_LOCK_SECONDS


def test_while_locked_even_the_right_passcode_is_not_checked():
    attempts = passcode.Attempts(failures=PASSCODE_FREE_TRIES + 1, locked_until=50.0)
    outcome = passcode.try_passcode("right", "right", attempts, 40.0)
    assert not outcome.unlocked and outcome.attempts == attempts
    assert "try again in 10 s" in outcome.message
    later = passcode.try_passcode("right", "right", attempts, 50.0)
    assert later.unlocked and later.attempts == passcode.Attempts()  # a right one resets


@pytest.mark.parametrize(
    "owner",
    ["3f9a0c1d2e4b5a6c", "Kx3_aBcDeFgHiJkLmNoPqRsTuVwXyZ01", "0123456789abcdef0123456789abcdef"],
    ids=["session id", "browser key", "owner hash"],
)
def test_labels_are_anonymous_stable_and_never_show_the_id(owner):
    label = classroom.owner_label(owner)
    assert label.startswith("Student ") and label == classroom.owner_label(owner)
    assert owner not in label and owner.lower() not in label.lower()
    assert classroom.owner_label(owner[::-1]) != label  # another owner, another label
    assert classroom.owner_label(None) == classroom.owner_label("") == classroom.NO_OWNER
