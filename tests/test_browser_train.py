"""Train page in a real browser: start a tiny run, watch it move, leave and come back, see the result."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.browser import (
    app_in_browser,
    open_app_page,
    set_slider,
    wait_for_app,
)

playwright_api = pytest.importorskip("playwright.sync_api")


def progress_text(page) -> str:
    bar = page.locator('[data-testid="stProgress"]')
    return bar.inner_text() if bar.count() else ""


@pytest.mark.browser
@pytest.mark.slow
def test_train_live_survives_a_page_switch_and_shows_the_result(tmp_path: Path):
    runs = tmp_path / "runs"
    expect = playwright_api.expect
    with app_in_browser(runs) as (base_url, browser):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_app_page(page, base_url, "train", "Train")  # a direct link on a fresh server
        set_slider(page, "train_size", 19)  # 100 + 19 × 100 = 2,000 images
        set_slider(page, "train_epochs", 2)  # 1 + 2 = 3 epochs
        expect(page.locator(".st-key-train_size")).to_contain_text("2000")
        page.locator(".st-key-train_start").get_by_role("button").click()

        # The live view: a progress bar whose batch count moves, and charts with data.
        expect(page.locator('[data-testid="stProgress"]')).to_contain_text("batch", timeout=90_000)
        first = progress_text(page)
        expect(page.locator('[data-testid="stProgress"]')).not_to_have_text(first, timeout=60_000)
        charts = page.locator('[data-testid="stVegaLiteChart"]')
        expect(charts.first).to_be_attached(timeout=30_000)  # loss and accuracy, live
        done_before_switch = int(re.search(r"batch (\d+)/", progress_text(page)).group(1))

        # Leave for the home page mid-run, then come back: the run kept going.
        page.get_by_test_id("stSidebarNav").get_by_text("Home").click()
        expect(page.get_by_role("heading", name="The lesson, step by step")).to_be_visible()
        page.wait_for_timeout(3000)
        page.get_by_test_id("stSidebarNav").get_by_text("Train").click()
        wait_for_app(page)

        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
        expect(metric).to_be_visible(timeout=240_000)
        assert re.search(r"\d+(\.\d)?%", metric.inner_text())
        expect(page.get_by_text("Finished.")).to_be_visible()
        expect(charts.nth(3)).to_be_attached(timeout=30_000)  # + confusion, per class

    (run,) = list(runs.iterdir())
    status = json.loads((run / "status.json").read_text())
    history = json.loads((run / "history.json").read_text())
    assert status["status"] == "finished"
    assert len(history["epochs"]) == 3 and history["batches"][-1]["step"] > done_before_switch
