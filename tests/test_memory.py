"""Memory helpers: they work on this Linux machine and measure something real."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

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


def test_no_full_collection_after_every_script_run():
    # Streamlit's after-every-run gc.collect(2) is switched off (see .streamlit/config.toml).
    config = tomllib.loads((Path(__file__).parents[1] / ".streamlit/config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
