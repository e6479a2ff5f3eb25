"""Shallow vs deep in a real browser: Run both on a tiny budget, then both curves and the scoreboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.browser import app_in_browser, set_slider, wait_for_app

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.mark.browser
@pytest.mark.slow
def test_run_both_shows_both_curves_and_the_scoreboard(tmp_path: Path):
    runs = tmp_path / "runs"
    expect = playwright_api.expect
    with app_in_browser(runs) as (base_url, browser):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # From the home page through the sidebar, as a student would. (A direct link on a
        # fresh server is open_app_page's job; it is covered by the Train page's test.)
        page.goto(base_url)
        wait_for_app(page)
        page.get_by_test_id("stSidebarNav").get_by_text("Shallow vs deep").click()
        wait_for_app(page)
        expect(page.get_by_text("No finished runs to compare yet")).to_be_visible()
        set_slider(page, "svd_train_size", 1)  # 100 + 1 × 100 = 200 images
        set_slider(page, "svd_epochs", 0)  # 1 epoch
        expect(page.locator(".st-key-svd_train_size")).to_contain_text("200")
        page.locator(".st-key-svd_start").get_by_role("button").click()

        # While they run: one network trains, the other waits its turn in the queue.
        expect(page.get_by_text("in the queue").first).to_be_visible(timeout=60_000)

        # When both are done the page compares them: scoreboard and both curves.
        scoreboard = page.get_by_role("heading", name="Scoreboard")
        expect(scoreboard).to_be_visible(timeout=240_000)
        wait_for_app(page)
        table = page.locator('[data-testid="stMarkdown"] table').filter(has_text="Final gap")
        expect(table).to_contain_text("shallow")
        expect(table).to_contain_text("deep")
        expect(table).to_contain_text("4,200,842")
        expect(table).to_contain_text("Test accuracy")
        assert "🏆" in table.inner_text()

        curves = page.locator('.st-key-svd_curves [data-testid="stVegaLiteChart"]')
        expect(curves).to_have_count(2)  # loss and accuracy
        for i in range(2):
            drawing = curves.nth(i).locator("svg.marks")
            expect(drawing).to_be_visible(timeout=30_000)
            legend = drawing.text_content() or ""
            assert "shallow" in legend and "deep" in legend, legend
            assert "validation" in legend  # train vs validation, told apart by dash

    folders = sorted(runs.iterdir())
    models = {json.loads((f / "config.json").read_text())["model"] for f in folders}
    assert models == {"shallow", "deep"}
    assert all(json.loads((f / "status.json").read_text())["status"] == "finished" for f in folders)
