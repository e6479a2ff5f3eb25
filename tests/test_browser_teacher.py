"""Teacher page in a real browser: no page without a passcode; with one (set as a Secret), the
teacher unlocks it, sees a student's running run and stops it, and the student's page says so."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.browser import (
    app_in_browser,
    launch_browser,
    open_app_page,
    set_slider,
    streamlit_server,
    wait_for_app,
)
from tests.conftest import sample_dir

playwright_api = pytest.importorskip("playwright.sync_api")

PASSCODE = "a test passcode, only in this test's secrets file"


def server_env(tmp_path: Path) -> dict[str, str]:
    # CIFAR_TEACHER_PASSCODE empty: the server's own environment does not set a passcode.
    return {
        "CIFAR10_DIR": str(sample_dir()),
        "CIFAR_RUNS_DIR": str(tmp_path / "runs"),
        "CIFAR_TEACHER_PASSCODE": "",
    }


@contextmanager
def teacher_server(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The app with a teacher passcode set as a Secret, and a headless Chromium.

    Yields:
        (base URL of the server, the Playwright browser).
    """
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'CIFAR_TEACHER_PASSCODE = "{PASSCODE}"\n')
    # No passcode from the server's own environment: only the Secret's.
    with app_in_browser(
        tmp_path / "runs", {"CIFAR_TEACHER_PASSCODE": ""}, ("--secrets.files", str(secrets))
    ) as server:
        yield server


@pytest.mark.browser
@pytest.mark.slow
def test_without_a_passcode_the_direct_link_shows_no_teacher_page(tmp_path: Path):
    with streamlit_server(server_env(tmp_path)) as base_url, playwright_api.sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base_url}/teacher")
            wait_for_app(page)
            page.wait_for_timeout(2000)  # the navigation's hand-over rerun, if any
            wait_for_app(page)
            body = page.locator("body").inner_text()
            nav = page.get_by_test_id("stSidebarNav").inner_text()
            assert "Teacher" not in nav and "Home" in nav, nav
            assert page.locator('input[type="password"]').count() == 0
            for leak in ("Teacher passcode", "training now", "Stop for everyone", "Run store"):
                assert leak not in body, body
            # What the visitor sees instead: Streamlit opens the default page (Home) at the
            # app's root URL, without a word about a teacher page.
            assert not page.url.rstrip("/").endswith("/teacher"), page.url
            assert page.get_by_role("heading", name="The lesson, step by step").is_visible()
            assert "teacher page" not in body.lower(), body
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_teacher_unlocks_sees_a_students_run_and_stops_it(tmp_path: Path):
    expect = playwright_api.expect
    with teacher_server(tmp_path) as (base_url, browser):
        # A student starts a small run that outlasts the teacher's clicks.
        student = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        open_app_page(student, base_url, "train", "Train")
        set_slider(student, "train_size", 5)  # 100 + 5 × 100 = 600 images
        set_slider(student, "train_epochs", 29)  # 30 epochs
        student.locator(".st-key-train_start").get_by_role("button").click()
        expect(student.locator('[data-testid="stProgress"]')).to_contain_text(
            "batch", timeout=120_000
        )

        # The teacher, in another browser context (another session, no shared cookies).
        teacher = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        open_app_page(teacher, base_url, "teacher", "Teacher")
        teacher.locator('input[type="password"]').fill("not it")
        teacher.get_by_role("button", name="Unlock").click()
        expect(teacher.get_by_text("That passcode is not right.")).to_be_visible()
        teacher.locator('input[type="password"]').fill(PASSCODE)
        teacher.get_by_role("button", name="Unlock").click()
        expect(teacher.get_by_text("1 training now")).to_be_visible(timeout=30_000)
        # The row to act on: the student's run, by an anonymous label.
        picker = teacher.locator(".st-key-teacher_choice").get_by_role("combobox")
        expect(picker).to_have_value(re.compile(r"^Student \w{4} · deep, 600 images × 30 epochs"))
        teacher.locator(".st-key-teacher_stop").get_by_role("button").click()
        # The server is busy training (the same two cores run the student's run), so the
        # click's rerun can take longer than Playwright's default 5 s.
        expect(teacher.get_by_text("Stopping it after its current batch.")).to_be_visible(
            timeout=30_000
        )

        # The student's page: the run ended, and it says who stopped it.
        expect(student.get_by_text("Stopped by the teacher.", exact=False).first).to_be_visible(
            timeout=120_000
        )
        expect(teacher.get_by_text("0 training now")).to_be_visible(timeout=30_000)
        # Below the class view, the same page shows the class's runs together.
        expect(teacher.get_by_role("heading", name="The class together")).to_be_visible()


@pytest.mark.browser
@pytest.mark.slow
def test_the_class_together_draws_every_seed_on_a_projector_and_a_phone(
    tmp_path: Path, trained_store
):
    """Three seeds of one setting (copies of a real run): the chart draws a line per seed and
    the median, with text at projector size, and fits a 390 px phone."""
    from tests.test_browser_sizes import PHONE, PROJECTOR, assert_fits, small_text
    from tests.test_class_results import seed_copies

    seeds = {"20260101-090000-aaaaaa": 2, "20260101-100000-bbbbbb": 3, "20260101-110000-cccccc": 4}
    seed_copies(trained_store, tmp_path / "runs", seeds)
    expect = playwright_api.expect
    with teacher_server(tmp_path) as (base_url, browser):
        for viewport in (PROJECTOR, PHONE):
            page = browser.new_context(viewport=viewport).new_page()
            open_app_page(page, base_url, "teacher", "Teacher")
            page.locator('input[type="password"]').fill(PASSCODE)
            page.get_by_role("button", name="Unlock").click()
            expect(page.get_by_role("heading", name="The class together")).to_be_visible(
                timeout=30_000
            )
            chart = page.locator('[data-testid="stVegaLiteChart"]').filter(
                has_text="The class together:"
            )
            expect(chart.locator("svg g.mark-line path").first).to_be_attached(timeout=30_000)
            page.wait_for_timeout(1000)  # Vega draws the text after the frame
            lines = chart.locator("svg g.mark-line path").count()
            box = chart.bounding_box()
            print(f"{viewport['width']} px: {lines} line paths, chart {box}")
            assert lines >= len(seeds) + 1, lines  # one per seed, and the median
            assert box["height"] >= 200 and box["x"] + box["width"] <= viewport["width"]
            if viewport is PROJECTOR:
                assert not small_text(page), small_text(page)[:10]
            else:
                assert_fits(page, "teacher page, the class together")
            page.context.close()
