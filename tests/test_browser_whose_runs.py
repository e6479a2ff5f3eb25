"""Whose runs, in a real browser: a student's run is still theirs after a reload, and another
student (another browser's cookie jar) does not see it.

This is what the per-browser key is for (ui.identity): the key is set as a cookie by a script
on the page, which only a real browser runs.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from cifar_core.identity import COOKIE_NAME, owner_hash, valid_key
from harness.browser import app_in_browser, open_app_page, set_slider

playwright_api = pytest.importorskip("playwright.sync_api")


def cookie_scripts(page) -> int:
    """How many elements of the page hold the script that sets the key."""
    return page.evaluate(
        "name => [...document.querySelectorAll('[data-testid=stHtml]')]"
        ".filter(e => e.innerHTML.includes(name + '=')).length",
        COOKIE_NAME,
    )


def key_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE_NAME), None)


@pytest.mark.browser
@pytest.mark.slow
def test_a_students_run_survives_a_reload_and_stays_theirs(tmp_path: Path):
    runs = tmp_path / "runs"
    expect = playwright_api.expect
    with app_in_browser(runs) as (base_url, browser):
        alice = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = alice.new_page()
        open_app_page(page, base_url, "train", "Train")
        expect(page.get_by_text("No saved runs yet")).to_be_visible()
        # The frame's script set the key on the app's own origin, as the app asked.
        deadline = time.monotonic() + 10
        while key_cookie(alice) is None and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        cookie = key_cookie(alice)
        assert cookie is not None and valid_key(cookie["value"]), cookie
        assert cookie_scripts(page) == 1  # the script that set it (takes no room)
        assert cookie["path"] == "/" and cookie["sameSite"] == "Lax"
        assert cookie["expires"] > time.time() + 300 * 24 * 3600  # kept for a school year
        assert cookie["domain"] in base_url and not cookie["httpOnly"]

        # A tiny run: 200 images, 1 epoch.
        set_slider(page, "train_size", 1)  # 100 + 1 × 100 = 200 images
        set_slider(page, "train_epochs", 0)  # 1 epoch
        expect(page.locator(".st-key-train_size")).to_contain_text("200")
        page.locator(".st-key-train_start").get_by_role("button").click()
        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
        expect(metric).to_be_visible(timeout=240_000)
        (run,) = list(runs.iterdir())
        owners = json.loads((run / "owners.json").read_text())["owners"]
        assert owners == [owner_hash(cookie["value"])]  # the hash, never the key itself

        # Reload: a new Streamlit session, which gets the key back from the cookie.
        page.reload()
        open_app_page(page, base_url, "train", "Train")
        picker = page.locator(".st-key-train_run_picker")
        expect(picker.get_by_role("combobox")).to_have_value(
            re.compile(r"deep · 1 ep · finished"), timeout=30_000
        )
        expect(metric).to_be_visible(timeout=60_000)  # its results, from the saved run
        expect(page.get_by_text("No saved runs yet")).to_have_count(0)
        assert cookie_scripts(page) == 0  # the cookie came back: the script is not sent
        assert key_cookie(alice)["value"] == cookie["value"]

        # Another student: a new cookie jar, a new key, none of Alice's runs.
        bob = browser.new_context(viewport={"width": 1400, "height": 1000})
        other = bob.new_page()
        open_app_page(other, base_url, "train", "Train")
        expect(other.get_by_text("No saved runs yet")).to_be_visible()
        expect(other.locator(".st-key-train_run_picker")).to_have_count(0)
        deadline = time.monotonic() + 10
        while key_cookie(bob) is None and time.monotonic() < deadline:
            other.wait_for_timeout(100)
        assert key_cookie(bob)["value"] != cookie["value"]
