"""Memory helpers: they work on this Linux machine and measure something real."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cifar_core import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_arena_limit_trim_and_rss():
    assert memory.limit_malloc_arenas(2) is True
    before = memory.rss_mb()
    block = np.ones(50 * 2**20, dtype=np.uint8)  # 50 MB, touched
    assert memory.rss_mb() >= before + 40
    del block
    memory.release_free_memory()
    assert memory.rss_mb() < before + 40


def test_freeze_imported_objects_freezes_once_and_new_garbage_is_still_collected():
    import gc
    import tomllib
    from pathlib import Path

    import keras  # noqa: F401 — the import whose objects we freeze

    memory.freeze_imported_objects()  # may have happened already (an AppTest ran app.py)
    assert memory.keras_imported() is True
    assert gc.get_freeze_count() > 100_000  # TensorFlow's import left ~10^5 objects there
    assert memory.freeze_imported_objects() is False  # only once

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a reference cycle created after the freeze
    del a, b
    assert gc.collect() >= 2  # still found and freed by the collector

    # And the app runs with Streamlit's after-every-run full collection switched off.
    config = tomllib.loads((Path(__file__).parents[1] / ".streamlit/config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_collect_frozen_garbage_frees_what_was_alive_at_the_freeze():
    import gc
    import weakref

    import keras  # noqa: F401

    memory.freeze_imported_objects()

    class Session:  # like a browser session's state: a cycle holding a watch token
        pass

    released = []
    session = Session()
    session.me = session
    weakref.finalize(session, released.append, "watch released")
    gc.freeze()  # the session was open when TensorFlow was first imported
    del session
    gc.collect()
    assert released == []  # frozen: an ordinary collection never sees it
    assert memory.collect_frozen_garbage() >= 1
    assert released == ["watch released"]
    assert gc.get_freeze_count() > 100_000  # and the import's objects are frozen again


def test_streamlit_no_longer_clears_the_keras_session_after_each_run():
    from keras.src.backend.common import global_state
    from streamlit.runtime.scriptrunner import script_runner

    from pages.ui_common import keep_keras_state_between_reruns

    keep_keras_state_between_reruns()  # app.py does this on every run (idempotent)
    assert keep_keras_state_between_reruns() is False
    global_state.set_global_attribute("cifar_probe", 42)
    script_runner._clean_problem_modules()  # what Streamlit calls after every script run
    assert global_state.get_global_attribute("cifar_probe") == 42  # Keras' state untouched
    global_state.set_global_attribute("cifar_probe", None)
