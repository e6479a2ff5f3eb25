"""ui/compat.py: each workaround of Streamlit internals, tested by what it is for, in a real server.

If a Streamlit upgrade renames what a workaround touches, these fail (and the app logs a
warning): a rerun during a training would reset its Keras state, or a direct link on a fresh
server would open a page outside the app's navigation.
"""

from __future__ import annotations

import asyncio
import logging
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.browser import (
    REPO,
    app_in_browser,
    app_navigation_text,
    is_app_navigation,
    launch_browser,
    open_app_page,
    streamlit_server,
    wait_for_app,
)
from harness.st_client import StClient
from tests.conftest import open_app, sample_dir
from ui import compat
from ui.common import LESSON_STEPS

pytest.importorskip("websockets")  # StClient's socket
playwright_api = pytest.importorskip("playwright.sync_api")

# A one-page app: a real Keras fit on real CIFAR-10 images runs in a thread (as the app's
# trainings do) and checks after every batch that Keras' global state still holds the marker
# it set at the start; Streamlit clears that state after a script run unless the workaround
# is on. The client reruns the script again and again while the fit runs.
PROBE_APP = textwrap.dedent(
    """
    import os, sys, threading
    sys.path.insert(0, {repo!r})
    import streamlit as st
    from ui import compat

    if os.environ.get("PROBE_WORKAROUND") == "1":
        compat.keep_keras_state_between_reruns()

    @st.cache_resource
    def training():
        import keras
        from keras.src.backend.common import global_state
        from cifar_core.data import load_local

        data = load_local(os.environ["CIFAR10_DIR"])
        state = {{"batches": 0, "lost": 0, "done": False}}

        class Probe(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                global_state.set_global_attribute("probe_marker", "kept")

            def on_train_batch_end(self, batch, logs=None):
                state["batches"] += 1
                if global_state.get_global_attribute("probe_marker") != "kept":
                    state["lost"] += 1
                    global_state.set_global_attribute("probe_marker", "kept")

        def fit():
            model = keras.Sequential([
                keras.Input((32, 32, 3)),
                keras.layers.Conv2D(8, 3, activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(10, activation="softmax"),
            ])
            model.compile("adam", "sparse_categorical_crossentropy")
            x, y = data.x_train[:2048] / 255.0, data.y_train[:2048]
            model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[Probe()])
            state["done"] = True

        threading.Thread(target=fit, daemon=True).start()
        return state

    state = training()
    st.button("again", key="again")
    st.write(f"batches={{state['batches']}} lost={{state['lost']}} done={{state['done']}}")
    """
)


async def rerun_until_done(base_url: str) -> tuple[int, int, int]:
    """Rerun the probe page until its fit ends: (batches, batches that lost the state, reruns)."""
    async with StClient(base_url, "", name="probe") as client:
        await client.wait_rendered()
        reruns = 0
        while True:
            [line] = [t for t in client.texts() if t.startswith("batches=")]
            fields = dict(part.split("=") for part in line.split())
            if fields["done"] == "True":
                return int(fields["batches"]), int(fields["lost"]), reruns
            await client.timed(client.click("again"))
            reruns += 1
            await asyncio.sleep(0.05)


def probe_in_server(tmp_path: Path, workaround: bool) -> tuple[int, int, int]:
    app = tmp_path / "probe_app.py"
    app.write_text(PROBE_APP.format(repo=str(REPO)))
    env = {"CIFAR10_DIR": str(sample_dir()), "PROBE_WORKAROUND": "1" if workaround else "0"}
    with streamlit_server(env, app=app) as base_url:
        return asyncio.run(asyncio.wait_for(rerun_until_done(base_url), timeout=300))


@pytest.mark.slow
def test_reruns_during_a_training_keep_its_keras_state(tmp_path: Path):
    batches, lost, reruns = probe_in_server(tmp_path, workaround=True)
    assert batches == 3 * 2048 // 16 and reruns >= 5, (batches, reruns)
    assert lost == 0, f"{lost} of {batches} batches found Keras' state cleared by a rerun"


@pytest.mark.slow
def test_without_the_workaround_streamlit_clears_keras_under_a_training(tmp_path: Path):
    # The probe is sensitive: this Streamlit does clear Keras' state after script runs. If this
    # fails, Streamlit stopped doing so and keep_keras_state_between_reruns can be removed.
    batches, lost, reruns = probe_in_server(tmp_path, workaround=False)
    assert reruns >= 5, reruns
    assert lost >= 1, f"{reruns} reruns during {batches} batches never cleared Keras' state"


def test_the_app_installs_the_keras_workaround_itself(app_env, monkeypatch):
    # app.py calls it on every run; the tests above call it from their own probe app.
    from streamlit.runtime.scriptrunner import script_runner

    cleaned: list[bool] = []  # Streamlit's own clean-up (clear_session) stands in here
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: cleaned.append(True))
    at = open_app()
    assert not at.exception, at.exception
    assert script_runner._clean_problem_modules is compat._clean_problem_modules_except_keras
    assert cleaned == []  # already the run that installed it ended with the patched clean-up


def test_a_missing_private_function_is_a_loud_warning(monkeypatch, caplog):
    from streamlit.runtime.scriptrunner import script_runner

    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    monkeypatch.setattr(compat, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="ui.compat"):
        assert compat.keep_keras_state_between_reruns() is False
    assert "cannot apply" in caplog.text and "_clean_problem_modules" in caplog.text


def test_a_missing_pages_flag_is_a_loud_warning(monkeypatch, caplog):
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.delattr(PagesManager, "uses_pages_directory")
    monkeypatch.setattr(compat, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="ui.compat"):
        compat.require_app_navigation()
    assert "cannot apply" in caplog.text and "uses_pages_directory" in caplog.text


def _ctx(page_hash: str, main_hash: str = "app-hash") -> SimpleNamespace:
    """What require_app_navigation reads of a script run's context."""
    return SimpleNamespace(
        page_script_hash=page_hash, pages_manager=SimpleNamespace(main_script_hash=main_hash)
    )


@pytest.fixture
def old_mode_run(monkeypatch):
    """A script run as Streamlit's old multipage mode starts it: a page, not app.py, is run.

    Returns a namespace: `.reruns` records st.rerun calls; `.ctx` is the run's context
    (default: pages/train.py picked by the old mode, app.py the main script), settable.
    """
    from streamlit.runtime import scriptrunner
    from streamlit.runtime.pages_manager import PagesManager

    state = SimpleNamespace(ctx=_ctx("train-hash"), reruns=[])
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: state.ctx)
    monkeypatch.setattr(compat.st, "rerun", lambda: state.reruns.append(True))
    get_option = compat.st.config.get_option  # AppTest, run earlier in this process, sets it
    monkeypatch.setattr(
        compat.st.config,
        "get_option",
        lambda key: False if key == "global.appTest" else get_option(key),
    )
    monkeypatch.setattr(PagesManager, "uses_pages_directory", True)
    return state


def test_a_page_run_by_the_old_mode_switches_it_off_and_reruns(old_mode_run):
    from streamlit.runtime.pages_manager import PagesManager

    compat.require_app_navigation()
    assert old_mode_run.reruns == [True]
    assert PagesManager.uses_pages_directory is False


def test_a_page_run_by_the_old_mode_reruns_though_another_session_switched_it_off(
    old_mode_run,
):
    # A class opening one link at once: the first session switched the mode off while this
    # one was already running the page on its own. The flag says "off"; this run is still old.
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    compat.require_app_navigation()
    assert old_mode_run.reruns == [True]


def test_a_page_inside_app_navigation_does_not_rerun(old_mode_run):
    with compat.app_navigation():
        compat.require_app_navigation()
    assert old_mode_run.reruns == []


def test_the_app_navigation_mark_ends_with_apps_run_even_by_an_exception(old_mode_run):
    with pytest.raises(RuntimeError), compat.app_navigation():
        raise RuntimeError("st.rerun or st.stop leave app.py's run by an exception")
    compat.require_app_navigation()  # a later run without app.py is seen as one
    assert old_mode_run.reruns == [True]


def test_a_page_that_is_the_main_script_is_left_alone(old_mode_run):
    # `streamlit run pages/train.py`: no app.py to hand over to, so a rerun would loop.
    old_mode_run.ctx = _ctx("app-hash")
    compat.require_app_navigation()
    assert old_mode_run.reruns == []


def test_outside_a_script_run_nothing_reruns(old_mode_run):
    old_mode_run.ctx = None
    compat.require_app_navigation()
    assert old_mode_run.reruns == []


def test_app_py_runs_its_pages_inside_the_mark():
    # The mark is what tells app.py's runs from the old mode's, so app.py must set it.
    source = (REPO / "app.py").read_text()
    assert "with app_navigation():" in source
    assert source.index("with app_navigation():") < source.index("st.navigation(pages).run()")


def test_a_streamlit_newer_than_checked_is_named_in_a_warning(monkeypatch, caplog):
    newer = (compat.CHECKED_STREAMLIT[0], compat.CHECKED_STREAMLIT[1] + 1)
    monkeypatch.setattr(compat, "streamlit_version", lambda: newer)
    monkeypatch.setattr(compat, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="ui.compat"):
        compat.keep_keras_state_between_reruns()
        compat.keep_keras_state_between_reruns()
    assert caplog.text.count("newer than") == 1, caplog.text  # once per process
    assert f"{newer[0]}.{newer[1]}" in caplog.text


def test_the_installed_streamlit_is_one_the_workarounds_were_checked_on():
    assert compat.MIN_STREAMLIT <= compat.streamlit_version() <= compat.CHECKED_STREAMLIT


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("step", LESSON_STEPS, ids=lambda s: s.url_path)
def test_a_direct_link_on_a_fresh_server_opens_the_page_in_the_apps_navigation(step, tmp_path):
    env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(tmp_path / "runs")}
    with streamlit_server(env) as base_url, playwright_api.sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            open_app_page(page, base_url, step.url_path, step.title)
            nav = page.get_by_test_id("stSidebarNav").inner_text()
            # app.py's navigation: every lesson title as written there (the old multipage
            # mode would list file names such as "augmentation lab" instead).
            for title in ("Home", *(s.title for s in LESSON_STEPS)):
                assert title in nav, nav
            assert page.locator("h1").first.is_visible()
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_class_opening_one_link_at_once_on_a_fresh_server_all_get_the_apps_navigation(
    tmp_path,
):
    # Every session that started before the first one switched the old multipage mode off
    # ran the page on its own (its sidebar listing "app", "teacher" and the file names); their
    # next click swapped the whole page and dropped what the student was typing. Before the
    # fix, 1 to 5 of 6 sessions opened that way on this machine.
    sessions = 6
    with app_in_browser(tmp_path / "runs") as (base_url, browser):
        pages = [browser.new_context().new_page() for _ in range(sessions)]
        for page in pages:  # at about the same moment, as a class following a link
            page.goto(f"{base_url}/train", wait_until="commit", timeout=60_000)
        navs = []
        for page in pages:
            wait_for_app(page)
            page.wait_for_selector("h1")
            navs.append(app_navigation_text(page, "Train"))
        wrong = [nav for nav in navs if not is_app_navigation(nav, "Train")]
        assert not wrong, f"{len(wrong)} of {sessions} outside app.py's navigation: {wrong}"
        for page in pages:  # and the page they got is the Train page, ready to use
            assert page.locator(".st-key-train_start").count() == 1
