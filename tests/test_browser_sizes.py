"""Projector and phone in a real browser: chart text, live-chart size, the lab's preview, no overflow.

At 1280×720 (a classroom projector) every chart's text must read from the back of the room
(≥ constants.PROJECTOR_LABEL_PX, computed in Chromium, so Streamlit's theme is accounted for)
and the live loss and accuracy charts must be big. At 390×844 (a phone) the Augmentation lab's
preview must sit within one screen of the slider being moved, and no page may scroll sideways
or draw a chart or image past the screen's edge. Screenshots of both sizes go to the test's
tmp dir (their paths are printed), for a person to look at.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from cifar_core import constants as C
from cifar_core.identity import COOKIE_NAME
from harness.browser import app_in_browser, open_app_page, set_slider, wait_for_app
from tests.conftest import TEST_OWNER_KEY
from tests.test_page_shallow_vs_deep import two_runs  # noqa: F401 — the fixture

playwright_api = pytest.importorskip("playwright.sync_api")

PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
# The app's background, the pinned preview column's, and its heading's text colour.
PINNED_COLOURS = """() => {
  const column = [...document.querySelectorAll('[data-testid="stColumn"]')]
    .find(c => c.querySelector('.st-key-aug_preview'));
  const colour = (e, key) => getComputedStyle(e)[key];
  return {app: colour(document.querySelector('.stApp'), 'backgroundColor'),
          pinned: colour(column, 'backgroundColor'),
          heading: colour(column.querySelector('h2'), 'color')};
}"""
CHARTS = '[data-testid="stVegaLiteChart"]'
# A live chart side by side with its twin at 1280 px (main area about 820 px, sidebar open).
LIVE_MIN_WIDTH = 380
# The preview must be on the same screen as the slider: at most one phone screen between them.
PREVIEW_MAX_DISTANCE = PHONE["height"]

# Every chart's rendered text: (its text, computed font size in px).
FONT_SIZES_JS = f"""() => [...document.querySelectorAll('{CHARTS} svg text')]
    .filter(t => t.textContent.trim())
    .map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize)])"""
# What sticks out past the right edge of the screen, and the page's scroll width.
OVERFLOW_JS = f"""() => {{
    const right = window.innerWidth;
    const wide = [...document.querySelectorAll('{CHARTS} svg, {CHARTS} canvas, img')]
        .map(e => [e.tagName, e.getBoundingClientRect().right,
                   (e.querySelector && e.querySelector('text')?.textContent) || e.src || ''])
        .filter(([, r]) => r > right + 1);
    return {{scroll: document.documentElement.scrollWidth, inner: right, wide}};
}}"""


def shoot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def small_text(page) -> list:
    return [(text, px) for text, px in page.evaluate(FONT_SIZES_JS) if px < C.PROJECTOR_LABEL_PX]


def assert_fits(page, where: str) -> None:
    found = page.evaluate(OVERFLOW_JS)
    assert found["scroll"] <= found["inner"], (where, found)
    assert not found["wide"], (where, found)


def wait_for_charts(page, count: int, timeout_s: float = 90) -> None:
    charts = page.locator(f"{CHARTS} svg")
    deadline = time.monotonic() + timeout_s
    while charts.count() < count and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert charts.count() >= count, charts.count()
    page.wait_for_timeout(1000)  # Vega draws the text after the frame


@pytest.mark.browser
@pytest.mark.slow
def test_projector_text_and_live_charts_and_the_phone_layout(tmp_path: Path, trained_store):
    runs = tmp_path / "runs"
    shutil.copytree(trained_store.root, runs)
    expect = playwright_api.expect
    with app_in_browser(runs) as (base_url, browser):
        page = browser.new_page(viewport=PROJECTOR)
        page.context.add_cookies([{"name": COOKIE_NAME, "value": TEST_OWNER_KEY, "url": base_url}])

        # Projector: the saved run's charts on Train (curves, per class, confusion matrix).
        open_app_page(page, base_url, "train", "Train")
        wait_for_charts(page, 4)
        assert page.evaluate(FONT_SIZES_JS)
        assert not small_text(page), small_text(page)
        shoot(page, tmp_path, "train_1280")

        # Bias & privacy's three charts (per class of the saved run, scores, confidences).
        open_app_page(page, base_url, "bias_privacy", "Bias & privacy")
        wait_for_charts(page, 3)
        assert not small_text(page), small_text(page)
        shoot(page, tmp_path, "bias_privacy_1280")

        # A small run's live charts: big enough for the back of the room, text too. (200
        # images train in two batches, done before a poll shows them: 2,000 images, 1 epoch.)
        open_app_page(page, base_url, "train", "Train")
        set_slider(page, "train_size", 19)  # 100 + 19 × 100 = 2,000 images
        set_slider(page, "train_epochs", 0)  # 1 epoch
        page.locator(".st-key-train_start").get_by_role("button").click()
        expect(page.locator('[data-testid="stProgress"]')).to_contain_text("batch", timeout=90_000)
        # The live pair sits in the Training section, above the saved run's four charts.
        wait_for_charts(page, 6, timeout_s=120)
        live = page.locator(f"{CHARTS} svg")
        assert "Loss" in live.nth(0).inner_html() and "Accuracy" in live.nth(1).inner_html()
        boxes = [live.nth(i).bounding_box() for i in range(2)]
        print(f"live charts at 1280×720: {boxes}")
        for box in boxes:
            assert box["width"] >= LIVE_MIN_WIDTH and box["height"] >= C.LIVE_CHART_HEIGHT, boxes
        assert not small_text(page), small_text(page)
        shoot(page, tmp_path, "train_live_1280")
        page.close()

        # Phone: the lab's preview right by the slider being moved. A phone in dark mode, as
        # at night: the app stays light, and the pinned preview is as opaque as the app.
        page = browser.new_page(viewport=PHONE, color_scheme="dark")
        page.context.add_cookies([{"name": COOKIE_NAME, "value": TEST_OWNER_KEY, "url": base_url}])
        open_app_page(page, base_url, "augmentation_lab", "Augmentation lab")
        for presses, slider in ((12, "aug_rotation_range"), (3, "aug_zoom_range")):
            # Scrolled as a student would: the slider at the bottom of the screen, under the
            # pinned preview.
            to_bottom = "e => e.scrollIntoView({block: 'end'})"
            wait_for_app(page)
            page.locator(f".st-key-{slider}").evaluate(to_bottom)
            set_slider(page, slider, presses)
            page.wait_for_timeout(500)  # the new grid drawn; a late box above may move things
            page.locator(f".st-key-{slider}").evaluate(to_bottom)
            moved = page.locator(f".st-key-{slider}").bounding_box()
            grid = page.locator(".st-key-aug_grid").bounding_box()
            print(
                f"390×844: {slider} at y={moved['y']:.0f}, preview {grid['height']:.0f} px tall "
                f"at y={grid['y']:.0f}: {moved['y'] - grid['y']:.0f} px apart"
            )
            assert 0 <= moved["y"] - grid["y"] <= PREVIEW_MAX_DISTANCE, (moved, grid)
            # Both on the screen at once, the preview not over the slider.
            assert grid["y"] >= 0 and moved["y"] + moved["height"] <= PHONE["height"] + 1, (
                moved,
                grid,
            )
            assert grid["y"] + grid["height"] <= moved["y"], (moved, grid)
        assert_fits(page, "augmentation_lab")
        shoot(page, tmp_path, "augmentation_lab_390")
        colours = page.evaluate(PINNED_COLOURS)
        print(f"390×844 in dark mode: {colours}")
        assert colours["app"] == colours["pinned"] == "rgb(255, 255, 255)", colours
        assert colours["heading"] != colours["pinned"], colours

        # Phone: no page scrolls sideways, no chart or image is cut off.
        for url_path, label, charts in (
            ("train", "Train", 4),
            ("bias_privacy", "Bias & privacy", 3),
            ("shallow_vs_deep", "Shallow vs deep", 0),
            ("", "Home", 0),
        ):
            if url_path:
                open_app_page(page, base_url, url_path, label)
            else:
                page.goto(base_url)
                wait_for_app(page)
            if charts:
                wait_for_charts(page, charts)
            assert_fits(page, url_path or "home")
            shoot(page, tmp_path, f"{url_path or 'home'}_390")


@pytest.mark.browser
@pytest.mark.slow
def test_shallow_vs_deep_with_two_runs_reads_on_a_projector_and_fits_a_phone(
    tmp_path: Path,
    two_runs,  # noqa: F811 — the fixture imported above
):
    # The comparison (curves, scoreboard, published results, per class, both confusion
    # matrices, the explorer) only shows with two finished runs: check its charts at both sizes.
    runs = tmp_path / "runs"
    shutil.copytree(two_runs.root, runs)
    with app_in_browser(runs) as (base_url, browser):
        for name, viewport in (("projector", PROJECTOR), ("phone", PHONE)):
            page = browser.new_page(viewport=viewport)
            page.context.add_cookies(
                [{"name": COOKIE_NAME, "value": TEST_OWNER_KEY, "url": base_url}]
            )
            open_app_page(page, base_url, "shallow_vs_deep", "Shallow vs deep")
            wait_for_charts(page, 6)  # curves ×2, published results, per class, matrices ×2
            shoot(page, tmp_path, f"shallow_vs_deep_{name}")
            if viewport is PROJECTOR:
                assert not small_text(page), small_text(page)[:10]
            else:
                assert_fits(page, "shallow_vs_deep with two runs")
            page.close()
