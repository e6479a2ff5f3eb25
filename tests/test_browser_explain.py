"""Why did it get that wrong? in a real browser: confusion cell → its images → saliency maps.

A real run trained here (the deep net on the real sample) is copied into the server's run
store; on the Train page's results a student clicks a confusion-matrix cell, sees the test
images behind it, and asks where the network looked at one of them: three clicks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from cifar_core.evaluation import confusion_matrix
from cifar_core.identity import COOKIE_NAME
from cifar_core.runs import RunStore
from harness.browser import app_in_browser, open_app_page, wait_for_app
from tests.conftest import TEST_OWNER_KEY

playwright_api = pytest.importorskip("playwright.sync_api")


def mistake_cell(store: RunStore, run_id: str) -> tuple[int, int, int]:
    """A non-empty off-diagonal cell (true, predicted, count) that is not the biggest one.

    The explorer opens at the biggest mistake by itself, so clicking another cell shows that
    the click, not the default, chose the images.
    """
    preds = store.load(run_id).predictions()
    y = preds["test_labels"].astype(np.int64)
    matrix = confusion_matrix(y, preds["test_probs"].argmax(axis=1))
    np.fill_diagonal(matrix, 0)
    order = np.argsort(matrix, axis=None)[::-1]
    cells = [np.unravel_index(i, matrix.shape) for i in order if matrix.flat[i] > 0]
    assert len(cells) >= 2, matrix
    true_class, pred_class = cells[1]
    return int(true_class), int(pred_class), int(matrix[true_class, pred_class])


@pytest.mark.browser
@pytest.mark.slow
def test_three_clicks_from_a_confusion_cell_to_a_saliency_map(tmp_path: Path, trained_store):
    runs = tmp_path / "runs"
    shutil.copytree(trained_store.root, runs)
    store = RunStore(runs)
    (info,) = store.list_runs()
    names = store.load(info.run_id).result["class_names"]
    true_class, pred_class, count = mistake_cell(store, info.run_id)
    expect = playwright_api.expect
    with app_in_browser(runs) as (base_url, browser):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # The browser of the student whose run it is (the trained_store run's owner).
        page.context.add_cookies([{"name": COOKIE_NAME, "value": TEST_OWNER_KEY, "url": base_url}])
        open_app_page(page, base_url, "train", "Train")
        heading = page.get_by_role("heading", name="Why did it get that wrong?")
        expect(heading).to_be_visible(timeout=60_000)

        # Click 1: the cell (true, predicted) of the clickable confusion matrix. Vega
        # draws one rect per cell, in the data's order: row by row of true classes.
        chart = page.locator(".st-key-result_mx_cm")
        cells = chart.locator("svg g.mark-rect.role-mark path")
        expect(cells).to_have_count(100, timeout=30_000)
        cells.nth(true_class * 10 + pred_class).click()
        wait_for_app(page)
        wanted = (
            f"{count:,} test images of class {names[true_class]} that the network called "
            f"{names[pred_class]}"
        )
        expect(page.get_by_text(wanted)).to_be_visible(timeout=30_000)

        # Click 2: the images of that cell are there, most confident first; ask where the
        # network looked at the first one.
        captions = page.get_by_test_id("stImageCaption")
        expect(captions.first).to_contain_text(f"✗ {names[pred_class]}")
        expect(captions.first).to_contain_text(f"true: {names[true_class]}")
        page.get_by_role("button", name="Where did it look?").first.click()
        wait_for_app(page, timeout_ms=120_000)

        # Click 3 (the maps are drawn): Grad-CAM and occlusion, for the predicted class and
        # the true class, over the image.
        expect(page.get_by_role("heading", name="Where did it look?")).to_be_visible(
            timeout=120_000
        )
        maps = page.get_by_test_id("stImageCaption").filter(has_text="Grad-CAM")
        expect(maps).to_have_count(2, timeout=60_000)
        expect(maps.first).to_contain_text(names[pred_class])
        expect(maps.nth(1)).to_contain_text(names[true_class])
        occlusions = page.get_by_test_id("stImageCaption").filter(has_text="Occlusion")
        expect(occlusions).to_have_count(2)
        shot = os.environ.get("EXPLORER_SCREENSHOT")
        if shot:  # how the README's screenshot is made (see README, "Screenshots")
            heading.scroll_into_view_if_needed()
            page.screenshot(path=shot, full_page=False)
