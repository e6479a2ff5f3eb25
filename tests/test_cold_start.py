"""Cold start in a real browser: the home page renders without TensorFlow in the server.

`import tensorflow` costs ~2.5 s and ~550 MB; a student who only opens the lesson must not
pay for it (`python -m bench.cold_start` times the whole cold start). Afterwards the server's
warm-up gets TensorFlow, the data and the precision ready in the background, before anyone
clicks Train (`python -m bench.click_to_result` times what that saves).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.browser import (
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
def test_home_page_renders_without_tensorflow_then_the_server_warms_up(tmp_path: Path):
    env = {
        "CIFAR10_DIR": str(sample_dir()),
        "CIFAR_RUNS_DIR": str(tmp_path / "runs"),
        "CIFAR_WARMUP": "1",  # as deployed
        "CIFAR_PRECISION": "",
    }
    with streamlit_process(env) as (base_url, proc), playwright_api.sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page()
            page.goto(f"{base_url}/")
            title = page.wait_for_selector(f"{APP_IDLE} h1", state="visible", timeout=60_000)
            assert "CIFAR-10" in title.inner_text()
            loaded = maps_contain(proc.pid, "libtensorflow")
            memory = rss_mb(proc.pid)
            assert not loaded, f"the home page imported TensorFlow (server RSS {memory:.0f} MB)"
            assert memory < 400, f"server RSS {memory:.0f} MB after the home page alone"

            # Nobody trains, yet the warm-up loads TensorFlow and measures the precision…
            deadline = time.monotonic() + 60
            while not maps_contain(proc.pid, "libtensorflow"):
                assert time.monotonic() < deadline, "the warm-up never loaded TensorFlow"
                time.sleep(0.5)
            # …so the Train page soon says how this server trains, before the first click.
            expect, said = playwright_api.expect, page.get_by_text("🔢 This server")
            deadline = time.monotonic() + 120
            while True:
                page.goto(f"{base_url}/train")
                page.wait_for_selector(APP_IDLE, timeout=60_000)
                if said.count() or time.monotonic() > deadline:
                    break
                page.wait_for_timeout(2000)
            expect(said.first).to_contain_text("trains the deep net in")
        finally:
            browser.close()
