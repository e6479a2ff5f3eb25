"""Lesson settings in a real browser: the teacher changes the preset's epochs and locks them on
the teacher page, without a restart; a student's next Train page shows the value, disabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.browser import app_in_browser, open_app_page, set_slider, wait_for_app

playwright_api = pytest.importorskip("playwright.sync_api")

PASSCODE = "a lesson test passcode"


@pytest.mark.browser
@pytest.mark.slow
def test_the_teacher_locks_epochs_and_the_students_next_page_follows(tmp_path: Path):
    expect = playwright_api.expect
    env = {"CIFAR_TEACHER_PASSCODE": PASSCODE, "CIFAR_PRESET": ""}
    with app_in_browser(tmp_path / "runs", env) as (base_url, browser):
        teacher = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        open_app_page(teacher, base_url, "teacher", "Teacher")
        teacher.locator('input[type="password"]').fill(PASSCODE)
        teacher.get_by_role("button", name="Unlock").click()
        expect(teacher.get_by_text("Lesson settings", exact=True)).to_be_visible(timeout=30_000)

        set_slider(teacher, "lesson_epochs", 2)  # 1 + 2 = 3 epochs
        locked = teacher.locator(".st-key-lesson_locked").get_by_role("combobox")
        locked.click()
        locked.fill("Epochs")
        teacher.keyboard.press("Enter")
        teacher.keyboard.press("Escape")
        teacher.get_by_role("button", name="Apply").click()
        expect(teacher.get_by_text("Applied: students see it", exact=False)).to_be_visible(
            timeout=30_000
        )
        expect(teacher.get_by_text("epochs=3", exact=False)).to_be_visible()  # the lesson link

        # A student, in another browser context (another session), loads Train afterwards.
        student = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        open_app_page(student, base_url, "train", "Train")
        wait_for_app(student)
        thumb = student.locator(".st-key-train_epochs").get_by_role("slider")
        expect(thumb).to_be_disabled()  # a locked slider is a disabled range input
        expect(thumb).to_have_attribute("aria-valuetext", "3")
        expect(student.get_by_text("Set by your teacher.", exact=False).first).to_be_visible()
        # An open control stays open.
        size = student.locator(".st-key-train_size").get_by_role("slider")
        expect(size).to_be_enabled()

        # A lesson link: good values fill the form, a bad one is named, the lock still wins.
        linked = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        linked.goto(f"{base_url}/train?seed=11&epochs=9&batch_size=100")
        wait_for_app(linked)
        expect(linked.get_by_text("The link's batch_size='100' cannot be used")).to_be_visible(
            timeout=30_000
        )
        seed = linked.locator(".st-key-train_seed").locator("input")
        expect(seed).to_have_value("11")
        epochs = linked.locator(".st-key-train_epochs").get_by_role("slider")
        expect(epochs).to_have_attribute("aria-valuetext", "3")
