"""Augmentation lab in a real browser: a slider moved by keyboard redraws the grid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pages.ui_common import LESSON_STEPS
from tests.browser_util import launch_browser, open_app_page, streamlit_server, wait_for_app
from tests.conftest import sample_dir

playwright_api = pytest.importorskip("playwright.sync_api")

STEP = next(step for step in LESSON_STEPS if step.path == "pages/augmentation_lab.py")
PRESSES = 3  # rotation steps of 5°: 0 → 15°


@pytest.mark.browser
@pytest.mark.slow
def test_rotation_slider_by_keyboard_changes_the_grid(tmp_path: Path):
    env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(tmp_path / "runs")}
    expect = playwright_api.expect
    with streamlit_server(env) as base_url, playwright_api.sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_app_page(page, base_url, STEP.url_path, STEP.title)
            expect(page.get_by_role("heading", name="Augmentation lab")).to_be_visible()

            # The grid is one <img> inside the keyed container (class st-key-aug_grid).
            grid = page.locator(".st-key-aug_grid img")
            expect(grid).to_have_count(1)
            expect(grid).to_have_attribute("alt", re.compile(r"^Grid of 8 rows"))
            before = grid.get_attribute("src")
            assert before and (grid.evaluate("img => img.naturalWidth") or 0) > 0

            # Keyboard only: focus the thumb of the rotation slider and step it right.
            rotation = page.locator(".st-key-aug_rotation_range")
            rotation.get_by_role("slider").focus()
            for _ in range(PRESSES):
                page.keyboard.press("ArrowRight")
            thumb = rotation.locator('[data-testid="stSliderThumbValue"]')
            expect(thumb).to_have_text("15", timeout=30_000)

            # The script reruns and the grid picture is replaced by a new one that loads.
            expect(grid).not_to_have_attribute("src", before, timeout=30_000)
            wait_for_app(page)
            after = grid.get_attribute("src")
            assert after != before
            expect(grid).to_have_js_property("complete", True)
            assert grid.evaluate("img => img.naturalWidth") > 0
        finally:
            browser.close()
