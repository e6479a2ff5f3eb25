"""Cold start in a real browser: the home page renders without TensorFlow in the server.

`import tensorflow` costs ~2.5 s and ~550 MB; a student who only opens the lesson must not
pay for it (bench/cold_start.py times the whole cold start).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_util import (
    APP_IDLE,
    launch_browser,
    maps_contain,
    rss_mb,
    streamlit_process,
)
from tests.conftest import sample_dir

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.mark.browser
@pytest.mark.slow
def test_home_page_renders_without_loading_tensorflow(tmp_path: Path):
    env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(tmp_path / "runs")}
    with streamlit_process(env) as (base_url, proc), playwright_api.sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page()
            page.goto(f"{base_url}/")
            title = page.wait_for_selector(f"{APP_IDLE} h1", state="visible", timeout=60_000)
            assert "CIFAR-10" in title.inner_text()
            loaded = maps_contain(proc.pid, "libtensorflow")
            memory = rss_mb(proc.pid)
        finally:
            browser.close()
    assert not loaded, f"the home page imported TensorFlow (server RSS {memory:.0f} MB)"
    assert memory < 400, f"server RSS {memory:.0f} MB after the home page alone"
