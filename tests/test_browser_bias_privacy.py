"""Bias & privacy in a real browser: the threshold slider moves by keyboard and the rates follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from cifar_core import constants as C
from cifar_core.bias_privacy import analysis as E
from harness.browser import launch_browser, open_app_page, streamlit_server, wait_for_app
from tests.conftest import sample_dir
from ui.common import LESSON_STEPS

playwright_api = pytest.importorskip("playwright.sync_api")

STEP = next(step for step in LESSON_STEPS if step.path == "pages/bias_privacy.py")
FMR_LABEL = "Group A: false-match rate"
PRESSES = 3


@pytest.mark.browser
@pytest.mark.slow
def test_threshold_slider_by_keyboard_changes_the_false_match_rate(tmp_path: Path):
    env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(tmp_path / "runs")}
    with streamlit_server(env) as base_url, playwright_api.sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            open_app_page(page, base_url, STEP.url_path, STEP.title)
            expect = playwright_api.expect
            expect(page.get_by_role("heading", name="One threshold, two groups")).to_be_visible()

            metric = page.locator('[data-testid="stMetric"]').filter(has_text=FMR_LABEL)
            value = metric.locator('[data-testid="stMetricValue"]')
            params = E.DEFAULT_GROUPS["Group A"]
            before_rate = E.analytic_error_rates(params, C.DEFAULT_THRESHOLD).false_match_rate
            expect(value).to_have_text(E.describe_rate(before_rate, one_in=False))
            before = value.inner_text()

            # Streamlit gives a keyed widget the class st-key-<key>. Its slider thumb is an
            # <input type="range">: role "slider" by default, without a role attribute.
            threshold = page.locator(".st-key-bp_threshold")
            slider = threshold.get_by_role("slider")
            slider.focus()
            for _ in range(PRESSES):
                page.keyboard.press("ArrowRight")

            # One step is 0.01: three presses move 0.60 → 0.63, and the rate is recomputed.
            moved = C.DEFAULT_THRESHOLD + PRESSES * C.SCORE_STEP
            after_rate = E.analytic_error_rates(params, moved).false_match_rate
            expect(value).not_to_have_text(before, timeout=30_000)
            expect(value).to_have_text(E.describe_rate(after_rate, one_in=False), timeout=30_000)
            thumb = threshold.locator('[data-testid="stSliderThumbValue"]')
            expect(thumb).to_have_text(f"{moved:.2f}")
            wait_for_app(page)
        finally:
            browser.close()
