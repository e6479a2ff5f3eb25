"""This browser's key: read from its cookie, or made here and handed to the browser to keep.

No login and no personal data: the key is a random token (cifar_core.identity). Streamlit can
read the cookies a browser sent when the session opened (`st.context.cookies`, read-only) but
cannot set one from Python, so a tiny script on the page sets it: `st.html` with
`unsafe_allow_javascript=True` (public API; `components.v1.html` is deprecated in 1.67). The
script is built only from a key that passed `valid_key`, so no user text ever reaches it. The
next session of this browser (a reload, a new tab) sends the cookie and gets the same key.
Where the browser refuses the cookie, each session simply keeps the key it made: its runs are
its own until the tab closes.
"""

from __future__ import annotations

import json

import streamlit as st

from cifar_core.identity import COOKIE_NAME, cookie_assignment, new_key, valid_key

KEY_STATE = "session_owner"  # this session's per-browser key (tests put one in directly)


def _cookie_key() -> str | None:
    """The key this browser sent in its cookie when the session opened, if it is valid."""
    try:
        return valid_key(st.context.cookies.get(COOKIE_NAME))
    except Exception:  # noqa: BLE001 — no cookies (AppTest, an odd client): no key
        return None


def browser_key() -> str:
    """This browser's key: the cookie's if it sent a valid one, else a new one for the session.

    Kept in the session, so every rerun and page of the session uses the same key; a value
    in the session that is not a valid key (never written by this module) is replaced.
    """
    key = valid_key(st.session_state.get(KEY_STATE))
    if key is None:
        key = _cookie_key() or new_key()
        st.session_state[KEY_STATE] = key
    return key


# The script writes the cookie on the app's page, adding Secure over HTTPS; where that is
# refused (cookies blocked), nothing happens.
_SCRIPT = """<script>
(function () {
  var assignment = %s;
  try {
    if (window.location.protocol === "https:") assignment += "; Secure";
    document.cookie = assignment;
  } catch (error) {}
})();
</script>"""


def keep_key_in_browser() -> None:
    """Ask the browser to keep this session's key in its cookie, unless it already sent it.

    Called by app.py on each full run of the script (never by a fragment's rerun). A session
    that opened with the cookie emits nothing. One that did not emits the same script on each
    full run: the browser keeps an unchanged element as it is (the script runs once per page
    load), and a rerun right after the first one cannot remove it before it ran.
    """
    key = browser_key()
    if _cookie_key() == key:
        return
    st.html(_SCRIPT % json.dumps(cookie_assignment(key)), unsafe_allow_javascript=True)
