"""Augmentation lab in a real browser: a slider moved by keyboard redraws the grid; uploads."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cifar_core.augmentation import preview as V
from cifar_core.augmentation.params import LESSON_PRESET
from cifar_core.constants import AUGMENT_LIMITS, MAX_UPLOAD_MB
from cifar_core.images import MAX_UPLOAD_BYTES
from harness.browser import launch_browser, open_app_page, streamlit_server, wait_for_app
from tests.conftest import sample_dir
from tests.test_images import encode, noise_image
from ui.common import LESSON_STEPS

playwright_api = pytest.importorskip("playwright.sync_api")

STEP = next(step for step in LESSON_STEPS if step.path == "pages/augmentation_lab.py")
PRESSES = 3  # rotation steps of 5°: the lesson's 40° → 55°
ROTATION_AFTER = LESSON_PRESET.rotation_range + PRESSES * AUGMENT_LIMITS["rotation_range"][2]


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
            expect(thumb).to_have_text(f"{ROTATION_AFTER:.0f}", timeout=30_000)

            # The script reruns and the grid picture is replaced by a new one that loads.
            expect(grid).not_to_have_attribute("src", before, timeout=30_000)
            wait_for_app(page)
            after = grid.get_attribute("src")
            assert after != before
            expect(grid).to_have_js_property("complete", True)
            assert grid.evaluate("img => img.naturalWidth") > 0
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.slow
def test_a_too_large_upload_is_explained_and_the_last_photo_stays(tmp_path: Path):
    # Streamlit's box refuses a file over the limit in the browser (it never reaches the
    # script), so the page must have said beforehand what that looks like and what to do.
    env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(tmp_path / "runs")}
    expect = playwright_api.expect
    good = encode(noise_image((64, 64)), "PNG")
    too_big = b"\x89PNG" + os.urandom(MAX_UPLOAD_BYTES + 1024 * 1024)
    with streamlit_server(env) as base_url, playwright_api.sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_app_page(page, base_url, STEP.url_path, STEP.title)
            page.get_by_text("Your own photo").click()
            wait_for_app(page)
            rules = page.get_by_text(V.upload_rules(MAX_UPLOAD_MB))
            expect(rules).to_be_visible()
            box = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
            box.set_input_files({"name": "first.png", "mimeType": "image/png", "buffer": good})
            first = page.get_by_text("Your photo first.png (64×64 pixels), the last one accepted")
            expect(first).to_be_visible(timeout=30_000)

            box.set_input_files({"name": "huge.png", "mimeType": "image/png", "buffer": too_big})
            uploader = page.locator('[data-testid="stFileUploader"]')
            expect(uploader).to_contain_text(f"File must be {MAX_UPLOAD_MB:.1f}MB or smaller")
            wait_for_app(page)
            # What the rules said: nothing else changed, the last photo accepted is still shown.
            expect(rules).to_be_visible()
            expect(first).to_be_visible()
            expect(page.locator(".st-key-aug_grid img")).to_have_attribute(
                "alt", re.compile(r"^Grid of 1 rows \(your photo\)")
            )
        finally:
            browser.close()
