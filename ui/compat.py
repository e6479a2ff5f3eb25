"""The app's workarounds of library and interpreter bugs, in one place, checked and loud.

Two replace behaviour Streamlit has no public switch for. Each one checks that the private
name it touches still exists, logs a warning saying what the student will see when it cannot
apply, and warns once when the installed Streamlit is newer than the last version they were
checked against (`CHECKED_STREAMLIT`). tests/test_compat.py exercises the real behaviour in a
real server, so a Streamlit upgrade that breaks either fails the suite:

* `keep_keras_state_between_reruns` (app.py, every run): Streamlit calls
  `keras.backend.clear_session()` after every script run, under our training threads.
* `require_app_navigation` (first line of every page; app.py marks its own runs with
  `app_navigation`): on a fresh server, a direct link to a page runs `pages/<name>.py` as an
  old-style multipage app, outside app.py's navigation.

The third is for a CPython bug, applied only on the Python versions that have it:

* `serialize_ast_parsing` (app.py, every run): on Python 3.11.0–3.11.7 and 3.12.0–3.12.1 two
  threads calling `ast.parse` at once can fail with "SystemError: AST constructor recursion
  depth mismatch" — and Streamlit parses page scripts while training threads parse source
  (TensorFlow's autograph) and .npy headers (numpy).
"""

from __future__ import annotations

import ast
import contextvars
import functools
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version

import streamlit as st

log = logging.getLogger(__name__)

# Streamlit versions whose internals these workarounds were read from and tested against: the
# oldest the app supports (requirements.in: the app's own calls need 1.65 for st.image(alt=),
# the test harness's protocol client needs 1.67) and the newest checked.
MIN_STREAMLIT = (1, 67)
CHECKED_STREAMLIT = (1, 67)

_warned: set[str] = set()


@functools.cache  # app.py and every page ask on each script run; the answer never changes
def streamlit_version() -> tuple[int, int]:
    """The installed Streamlit's (major, minor)."""
    major, minor = version("streamlit").split(".")[:2]
    return int(major), int(minor)


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def _check_version(workaround: str) -> None:
    found = streamlit_version()
    if found > CHECKED_STREAMLIT:
        _warn_once(
            f"{workaround}:newer",
            f"{workaround}: Streamlit {found[0]}.{found[1]} is newer than "
            f"{CHECKED_STREAMLIT[0]}.{CHECKED_STREAMLIT[1]}, the last version this workaround "
            "was checked on; run tests/test_compat.py and update CHECKED_STREAMLIT in ui/compat.py.",
        )
    elif found < MIN_STREAMLIT:
        _warn_once(
            f"{workaround}:older",
            f"{workaround}: Streamlit {found[0]}.{found[1]} is older than the app supports "
            f"({MIN_STREAMLIT[0]}.{MIN_STREAMLIT[1]}); install the versions in requirements.txt.",
        )


def keep_keras_state_between_reruns() -> bool:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Once Keras is imported, Streamlit's script runner clears the Keras session after each run
    of each session (`script_runner._clean_problem_modules`), meant for apps that build models
    inside the script. Here models are built and trained in worker threads, so that call
    would reset Keras' global state and TensorFlow's kernel cache under a running training,
    and its full garbage collection (a good part of a second of CPU once a model has been
    traced) runs after every live-chart refresh of every open tab: with 20 students the
    training thread got almost no CPU. This keeps the rest of that clean-up (closing
    matplotlib figures).

    Returns:
        True if the clean-up was replaced now; False if it already was, or if it cannot be
        (then a warning is logged: Streamlit renamed or removed the private function).
    """
    _check_version("keep_keras_state_between_reruns")
    from streamlit.runtime.scriptrunner import script_runner

    original = getattr(script_runner, "_clean_problem_modules", None)
    if original is _clean_problem_modules_except_keras:
        return False
    if original is None:
        _warn_once(
            "keras:missing",
            "keep_keras_state_between_reruns cannot apply: Streamlit "
            f"{st.__version__} has no streamlit.runtime.scriptrunner.script_runner."
            "_clean_problem_modules. If this Streamlit still clears the Keras session after "
            "each script run, live charts will slow trainings down and may reset them; see "
            "ui/compat.py and tests/test_compat.py.",
        )
        return False
    script_runner._clean_problem_modules = _clean_problem_modules_except_keras
    return True


def _clean_problem_modules_except_keras() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


# True while app.py's st.navigation runs the page (app_navigation); a page run without it was
# started by Streamlit's old multipage mode.
_IN_APP_NAVIGATION: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "in_app_navigation", default=False
)


@contextmanager
def app_navigation() -> Iterator[None]:
    """Mark this script run as app.py's: wrap `st.navigation(pages).run()` in it.

    require_app_navigation tells by this mark, per script run, whether the page it is called
    from runs inside app.py's navigation. The mark is a context variable: it holds for the
    page's code (run synchronously from app.py) and is gone when app.py's run ends, even by
    st.rerun or st.stop.
    """
    token = _IN_APP_NAVIGATION.set(True)
    try:
        yield
    finally:
        _IN_APP_NAVIGATION.reset(token)


def require_app_navigation() -> None:
    """Make sure this page runs inside app.py's st.navigation, not as a bare script.

    Call it first on every page. Until the first script run of a server process calls
    st.navigation, Streamlit treats a folder named `pages/` as an old-style multipage app
    (`PagesManager.uses_pages_directory`): a first visitor who opens a direct link such as
    /train would get pages/train.py run on its own, with a sidebar listing every file of the
    folder (the teacher's page and "app" included) and none of app.py's set-up. This switches
    that mode off and reruns, so app.py's navigation takes over (same URL, same page: the URL
    paths are the file stems, see LessonStep.url_path).

    Whether to rerun is decided per script run (the app_navigation mark), not by the mode's
    flag: when a class opens the link at the same moment, every session that started before
    the first one switched the mode off runs in the old mode too, and finds the flag already
    off. Reading the flag left all of those on the old page until their next click — and that
    click swapped the whole page, dropping what the student was typing.

    A page that is the server's main script itself (`streamlit run pages/train.py`) is left
    alone: there is no app.py to hand over to. AppTest resets the old mode before every run
    (and runs app.py's navigation itself), so under AppTest (the `global.appTest` option it
    sets) this does nothing either — a rerun there would drop the click being tested.
    """
    _check_version("require_app_navigation")
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        PagesManager = None  # noqa: N806
    if PagesManager is None or not hasattr(PagesManager, "uses_pages_directory"):
        _warn_once(
            "pages:missing",
            "require_app_navigation cannot apply: Streamlit "
            f"{st.__version__} has no PagesManager.uses_pages_directory. A direct link to a "
            "page on a fresh server may open it outside the app's navigation; see ui/compat.py "
            "and tests/test_compat.py.",
        )
        return
    if _IN_APP_NAVIGATION.get() or st.config.get_option("global.appTest"):
        return
    if _page_is_main_script():
        return
    PagesManager.uses_pages_directory = False
    log.info("a page ran in Streamlit's old multipage mode; rerunning it in app.py's navigation")
    st.rerun()


def _page_is_main_script() -> bool:
    """Whether this run's page is the server's main script (no app.py to hand over to)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:  # not in a script run (a bare import or call): nothing to rerun
        return True
    manager = getattr(ctx, "pages_manager", None)
    main_hash = getattr(manager, "main_script_hash", None)
    if main_hash is None:
        _warn_once(
            "pages:hash",
            "require_app_navigation cannot tell the page from the main script: Streamlit "
            f"{st.__version__} has no ScriptRunContext.pages_manager.main_script_hash; a "
            "direct link on a fresh server may open a page outside the app's navigation.",
        )
        return True
    return ctx.page_script_hash == main_hash


# --- CPython: ast.parse in two threads at once ---------------------------------------------------

# CPython gh-106905: until 3.11.8 and 3.12.2 (gh-113035) the AST constructor's recursion counter
# is one per interpreter, not one per call; when a garbage collection during one thread's
# ast.parse lets another thread parse, the counter ends wrong and a parse raises
# "SystemError: AST constructor recursion depth mismatch". Here Streamlit parses a page script
# (to add its "magic") in a script thread while a training thread's TensorFlow autograph parses
# the source of the functions it converts (hundreds of parses per run with augmentation) and
# numpy parses .npy headers: seen in CI on Python 3.11.7, a page failing with that error.
_AST_RACE_FIXED_IN = {(3, 11): (3, 11, 8), (3, 12): (3, 12, 2)}
_ORIGINAL_AST_PARSE = ast.parse
_AST_LOCK = threading.RLock()  # re-entrant: a collection during a parse may parse again


def ast_parse_is_racy(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> bool:
    """Whether this Python has the ast.parse race between threads (3.11.0–7, 3.12.0–1)."""
    fixed = _AST_RACE_FIXED_IN.get(tuple(version[:2]))
    return fixed is not None and tuple(version[:3]) < fixed


def _serialized_ast_parse(*args, **kwargs):
    with _AST_LOCK:
        return _ORIGINAL_AST_PARSE(*args, **kwargs)


def serialize_ast_parsing() -> bool:
    """On a Python with the ast.parse race, let one thread parse at a time (all callers).

    Replaces `ast.parse` (which `ast.literal_eval`, `inspect`, gast and Streamlit all call
    through the module) with the same function behind one process-wide lock; on a fixed
    Python it changes nothing. Parses are short (a page script, a converted function, an array
    header), so threads seldom wait.

    Returns:
        True if the lock was put in place now; False on a fixed Python, if it already was, or
        if it cannot be (then a warning is logged: something else replaced ast.parse).
    """
    if not ast_parse_is_racy() or ast.parse is _serialized_ast_parse:
        return False
    if ast.parse is not _ORIGINAL_AST_PARSE:
        _warn_once(
            "ast:replaced",
            "serialize_ast_parsing cannot apply: ast.parse was replaced by "
            f"{ast.parse!r}. On Python {sys.version.split()[0]} pages and trainings may fail "
            "now and then with 'SystemError: AST constructor recursion depth mismatch'; "
            "upgrade Python to 3.11.8 / 3.12.2 or newer (see ui/compat.py).",
        )
        return False
    ast.parse = _serialized_ast_parse
    _warn_once(
        "ast:applied",
        f"Python {sys.version.split()[0]} has a bug when threads parse Python source at once "
        "(CPython gh-106905, fixed in 3.11.8 and 3.12.2): ast.parse now runs one thread at a "
        "time. Upgrading Python removes the need.",
    )
    return True
