"""Identity: a random per-browser key (no login, no personal data), its hash and its label.

A student's browser keeps a random token in a cookie so that their runs are still theirs
after a reload. The token is user-controlled input (anyone can edit a cookie), so it is used
only after `valid_key` accepted it. The run store never holds the token itself: it records
`owner_hash(token)`, a one-way hash, so reading the runs folder does not give anyone the key
that would make another student's runs appear as theirs. The teacher's view shows a run's
owner as `owner_label(hash)`: anonymous, short, the same for every run of one browser.
"""

from __future__ import annotations

import hashlib
import re
import secrets

COOKIE_NAME = "cifar_lesson_key"  # the cookie of the app's origin that holds the key
# The key's format, not a setting: 24 random bytes, which token_urlsafe writes as exactly 32
# URL-safe characters (the only thing valid_key accepts).
_KEY_BYTES = 24
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
# How long the browser keeps the key: a school year and more (browsers cap Max-Age at 400 days).
_COOKIE_MAX_AGE_S = 400 * 24 * 3600
# Domain separation: this hash of a key means "owner of a run of this app", nothing else.
_HASH_PREFIX = b"cifar-lesson-owner-v1:"
OWNER_HASH_PATTERN = re.compile(r"[0-9a-f]{32}")  # what owner_hash gives (128 bits)
# The label's letters: no 0/O, 1/I/L, so a teacher can read one out to a class.
_LABEL_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_LABEL_LETTERS = 4  # 31**4 ≈ 920,000 labels: two of 30 students clash about once in 2,000 classes


def new_key() -> str:
    """A fresh random per-browser key (32 URL-safe characters, 192 random bits)."""
    return secrets.token_urlsafe(_KEY_BYTES)


def valid_key(value: object) -> str | None:
    """The key if `value` has exactly the shape `new_key` makes, else None.

    Anything else (another length, other characters, not text) is refused rather than
    cleaned up: a cookie is whatever the browser, or someone editing it, sends.
    """
    if isinstance(value, str) and KEY_PATTERN.fullmatch(value):
        return value
    return None


def cookie_assignment(key: str, secure: bool = False) -> str:
    """What a page assigns to `document.cookie` to keep `key` in this browser.

    Path=/ so every page of the app sends it, SameSite=Lax so no other site's request carries
    it, a long Max-Age so it outlives the browser session; Secure when the app is served over
    HTTPS. Not HttpOnly: a script sets it (Streamlit cannot set cookies from Python).

    Raises:
        ValueError: `key` is not a valid key (nothing else is ever written into a script).
    """
    if valid_key(key) is None:
        raise ValueError("not a valid per-browser key")
    flags = f"; Max-Age={_COOKIE_MAX_AGE_S}; Path=/; SameSite=Lax" + ("; Secure" if secure else "")
    return f"{COOKIE_NAME}={key}{flags}"


def owner_hash(key: str) -> str:
    """The one-way hash of a valid key that the run store records as a run's owner.

    Raises:
        ValueError: `key` is not a valid key (so a bad cookie never becomes an owner).
    """
    if valid_key(key) is None:
        raise ValueError("not a valid per-browser key")
    return hashlib.sha256(_HASH_PREFIX + key.encode("ascii")).hexdigest()[:32]


def valid_owner_hash(value: object) -> str | None:
    """The hash if `value` has exactly the shape `owner_hash` makes, else None."""
    if isinstance(value, str) and OWNER_HASH_PATTERN.fullmatch(value):
        return value
    return None


def owner_label(owner: str) -> str:
    """An anonymous label for an owner hash, e.g. "Student K7QF" (the teacher's class view).

    The same hash always gives the same label; the label tells nothing about the student and
    cannot be turned back into the key. An invalid hash gets "Unknown student".
    """
    if valid_owner_hash(owner) is None:
        return "Unknown student"
    number = int(owner, 16)
    letters = []
    for _ in range(_LABEL_LETTERS):
        number, digit = divmod(number, len(_LABEL_ALPHABET))
        letters.append(_LABEL_ALPHABET[digit])
    return "Student " + "".join(letters)
