"""The README's screenshots of "Why did it get that wrong?", made the same way every time.

    python -m harness.screenshots --out docs/

1. Trains ONE real run with the app's own code (the deep net on 4,000 images of the real
   sample, 8 epochs, seed fixed) into a temporary run store, and checks that it learned
   something (test accuracy well above the 10 % of guessing).
2. Serves the app on that store (`harness.browser.streamlit_server`) and opens the Train page
   in headless Chromium at 1400×1000.
3. Clicks a confusion-matrix cell with an interesting mistake (cat → dog when it holds a row
   of images, else the biggest off-diagonal cell), then "Where did it look?" under its first
   image, and saves:

   - explorer.png: from the heading "Why did it get that wrong?" down through the matrix and
     the clicked cell's images;
   - saliency.png: the "Where did it look? test image #N" section with its four maps.

   Streamlit's floating top bar is hidden in this browser (a style tag, nothing in the app),
   so a heading can sit at the very top of a shot. Same seed, same PNGs, byte for byte.

With `--teacher` it makes docs/teacher.png instead: the Teacher page of a class of four.

1. Trains four tiny real runs of one setting, four seeds, each for its own student (the
   shallow net on 2,000 images of the sample, 4 epochs: about 20 s each on 2 cores).
2. Serves the app on them with a teacher passcode (CIFAR_TEACHER_PASSCODE), opens the Teacher
   page in headless Chromium at 1280×720 (a projector's size), unlocks it and waits for
   "The class together" to draw its chart.
3. Saves teacher.png: from the page title through the class view, the class-together chart
   with its caption, and the leaderboard. The window is made taller for the shot only (the page lays out at
   1280 wide, as on the projector), so both fit in one picture.

Needs the sample ($CIFAR10_DIR or ../shared/…) and Chromium (see harness/browser.py); takes a
few minutes on 2 cores, most of it training.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_core.identity import COOKIE_NAME, owner_hash
from harness.browser import launch_browser, open_app_page, streamlit_server, wait_for_app
from harness.sample import sample_dir

VIEWPORT = {"width": 1400, "height": 1000}
# The run: learns enough in ~2 minutes on 2 cores for its mistakes to be worth explaining.
RUN = {"model": "deep", "train_size": 4_000, "epochs": 8, "seed": 7}
MIN_ACCURACY = 0.25  # 10 classes: guessing scores 0.10
TRAIN_TIMEOUT_S = 600.0
ROW_OF_IMAGES = 4  # ui.explain.image_choice_grid puts 4 images in a row
PREFERRED_CELL = ("cat", "dog")
PAD = 12  # pixels around a clipped region

# JavaScript run in the page ---------------------------------------------------------------
# Every <img> in the app has arrived and been decoded (st.image loads after the script ends).
IMAGES_LOADED = """() => {
    const imgs = [...document.querySelectorAll('[data-testid="stMain"] img')];
    return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""
# Streamlit's top bar (its menu and "Running…") floats over the page's top; in a screenshot it
# would hide the heading, so the screenshot browser leaves it out (presentation only).
HIDE_TOP_BAR = '[data-testid="stHeader"] { visibility: hidden; }'
# Scroll the app's scrolling container so that `el` sits at the top of the viewport.
SCROLL_TO_TOP = """(el) => {
    let box = el.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight
                    && /(auto|scroll)/.test(getComputedStyle(box).overflowY))) {
        box = box.parentElement;
    }
    box = box || document.scrollingElement;
    box.scrollTop += el.getBoundingClientRect().top - 16;
}"""


# The browser key of the student the screenshots show (a fixed, valid, made-up key).
STUDENT_KEY = "screenshot-students-browser-key0"

# --teacher: a class of four, one setting, four seeds, each run its own student's.
TEACHER_VIEWPORT = {"width": 1280, "height": 720}
TEACHER_RUN = {"model": "shallow", "train_size": 2_000, "epochs": 4}
TEACHER_SEEDS = (1, 2, 3, 4)
TEACHER_PASSCODE = "screenshot-teacher-passcode"  # only this throwaway server's
TEACHER_SHOT_HEIGHT = 1_900  # the window's height for the shot (its width stays 1280)


def class_student_key(seed: int) -> str:
    """A fixed, valid, made-up browser key per student of the --teacher class."""
    return f"screenshot-class-student-{seed:02d}-keys"


@dataclass(frozen=True)
class Trained:
    store_root: Path
    run_id: str
    accuracy: float
    seconds: float
    names: list[str]
    matrix: np.ndarray


def train_run(store_root: Path) -> Trained:
    """One real run of the app's training job into `store_root` (as tests' trained_store)."""
    from cifar_core.data import load_local
    from cifar_core.evaluation import confusion_matrix
    from cifar_core.runs import RunStore
    from cifar_core.training import TrainConfig, TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    data = load_local(sample_dir()).make_read_only()
    store = RunStore(store_root)
    config = TrainConfig(**RUN)
    start = time.monotonic()
    job = TrainingJob(config, data, store)
    job.add_owner(owner_hash(STUDENT_KEY))  # the screenshot's browser is this student's
    job = JobManager(1).submit(job)
    if not wait_for(job, timeout=TRAIN_TIMEOUT_S):
        raise SystemExit(f"training did not finish in {TRAIN_TIMEOUT_S:.0f} s")
    seconds = time.monotonic() - start
    snap = job.monitor.snapshot()
    if snap.status != "finished":
        raise SystemExit(f"training ended {snap.status}: {snap.message}")
    (info,) = store.list_runs()
    run = store.load(info.run_id)
    preds = run.predictions()
    labels = preds["test_labels"].astype(np.int64)
    predicted = preds["test_probs"].astype(np.float32).argmax(axis=1)
    names = list(run.result["class_names"])
    accuracy = float(run.result["test_accuracy"])
    if accuracy < MIN_ACCURACY:
        raise SystemExit(f"the run learned too little: test accuracy {accuracy:.1%}")
    matrix = confusion_matrix(labels, predicted, len(names))
    return Trained(store_root, info.run_id, accuracy, seconds, names, matrix)


def pick_cell(matrix: np.ndarray, names: list[str]) -> tuple[int, int, int]:
    """(true, predicted, count): cat → dog if it fills a row of images, else the biggest mistake."""
    true_class, pred_class = (names.index(n) for n in PREFERRED_CELL)
    if matrix[true_class, pred_class] < ROW_OF_IMAGES:
        off = matrix.copy()
        np.fill_diagonal(off, 0)
        true_class, pred_class = np.unravel_index(int(np.argmax(off)), off.shape)
    return int(true_class), int(pred_class), int(matrix[true_class, pred_class])


def _box(locator) -> dict:
    box = locator.bounding_box()
    if box is None:
        raise RuntimeError(f"not visible: {locator}")
    return box


def _clip(page, top: float, bottom: float) -> dict:
    """The main column's content (no sidebar) from `top` to `bottom`, padded, in the viewport."""
    main = page.get_by_test_id("stMainBlockContainer")
    box = _box(main)
    inset = main.evaluate("el => parseFloat(getComputedStyle(el).paddingLeft)")
    x = box["x"] + max(0.0, inset - 2 * PAD)
    y = max(0.0, top - PAD)
    bottom = min(float(VIEWPORT["height"]), bottom + PAD)
    return {"x": x, "y": y, "width": box["width"] - 2 * (x - box["x"]), "height": bottom - y}


def _settle(page) -> None:
    """The script is idle, no spinner shows, every image has loaded, and no tooltip is up."""
    wait_for_app(page, timeout_ms=180_000)
    page.get_by_test_id("stSpinner").first.wait_for(state="detached", timeout=180_000)
    page.wait_for_function(IMAGES_LOADED, timeout=60_000)
    page.mouse.move(VIEWPORT["width"] - 5, VIEWPORT["height"] - 5)  # off the chart: no tooltip
    page.wait_for_timeout(800)  # Vega's and Streamlit's last transitions


def take_screenshots(trained: Trained, out: Path) -> tuple[dict[str, Path], tuple, int]:
    """Drive the explorer in Chromium; returns the saved files, the clicked cell, image #."""
    from playwright.sync_api import expect, sync_playwright

    names = trained.names
    true_class, pred_class, count = pick_cell(trained.matrix, names)
    env = {
        "CIFAR10_DIR": str(sample_dir()),
        "CIFAR_RUNS_DIR": str(trained.store_root),
        "CIFAR_WARMUP": "0",  # no background TensorFlow calibration competing for the CPUs
    }
    saved: dict[str, Path] = {}
    with streamlit_server(env) as base_url, sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            # The student's browser key: the run is theirs, so Train's results list it.
            cookie = {"name": COOKIE_NAME, "value": STUDENT_KEY, "url": base_url}
            page.context.add_cookies([cookie])
            open_app_page(page, base_url, "train", "Train")
            page.add_style_tag(content=HIDE_TOP_BAR)
            heading = page.get_by_role("heading", name="Why did it get that wrong?")
            expect(heading).to_be_visible(timeout=120_000)

            # The cell: Vega draws one rect per cell, row by row of true classes.
            cells = page.locator(".st-key-result_mx_cm svg g.mark-rect.role-mark path")
            expect(cells).to_have_count(100, timeout=60_000)
            cells.nth(true_class * 10 + pred_class).click()
            wanted = (
                f"{count:,} test images of class {names[true_class]} that the network called "
                f"{names[pred_class]}"
            )
            expect(page.get_by_text(wanted)).to_be_visible(timeout=60_000)
            _settle(page)

            heading.evaluate(SCROLL_TO_TOP)
            page.wait_for_timeout(300)
            # Down to the last full row of the cell's images (with their buttons) in view.
            buttons = page.get_by_role("button", name="Where did it look?")
            boxes = [_box(buttons.nth(i)) for i in range(buttons.count())]
            ends = [b["y"] + b["height"] for b in boxes]
            in_view = [end for end in ends if end <= VIEWPORT["height"] - PAD]
            bottom = max(in_view) if in_view else VIEWPORT["height"]
            saved["explorer"] = out / "explorer.png"
            page.screenshot(path=saved["explorer"], clip=_clip(page, _box(heading)["y"], bottom))

            # Where did it look? at the first (most confident) image of the cell.
            first_caption = page.get_by_test_id("stImageCaption").first.inner_text()
            image_no = int(first_caption.rsplit("#", 1)[1].rstrip(")"))
            buttons.first.click()
            section = page.get_by_role("heading", name=f"Where did it look? test image #{image_no}")
            expect(section).to_be_visible(timeout=180_000)
            captions = page.get_by_test_id("stImageCaption")
            expect(captions.filter(has_text="Grad-CAM")).to_have_count(2, timeout=180_000)
            expect(captions.filter(has_text="Occlusion")).to_have_count(2, timeout=60_000)
            _settle(page)

            section.evaluate(SCROLL_TO_TOP)
            page.wait_for_timeout(300)
            # Down to the words under the maps that say what they show.
            note = page.get_by_test_id("stCaptionContainer").filter(has_text="Left pair:")
            note = note.locator("p").last
            nb = _box(note)
            saved["saliency"] = out / "saliency.png"
            page.screenshot(
                path=saved["saliency"], clip=_clip(page, _box(section)["y"], nb["y"] + nb["height"])
            )
        finally:
            browser.close()
    return saved, (true_class, pred_class, count), image_no


def train_class(store_root: Path) -> list[tuple[int, float]]:
    """TEACHER_RUN once per seed into `store_root`, one student each; (seed, test accuracy)."""
    from cifar_core.data import load_local
    from cifar_core.runs import RunStore
    from cifar_core.training import TrainConfig, TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    data = load_local(sample_dir()).make_read_only()
    store, manager = RunStore(store_root), JobManager(1)
    jobs = []
    for seed in TEACHER_SEEDS:
        job = TrainingJob(TrainConfig(**TEACHER_RUN, seed=seed), data, store)
        job.add_owner(owner_hash(class_student_key(seed)))
        jobs.append(manager.submit(job))
    for job in jobs:
        if not wait_for(job, timeout=TRAIN_TIMEOUT_S):
            raise SystemExit(f"training did not finish in {TRAIN_TIMEOUT_S:.0f} s")
        snap = job.monitor.snapshot()
        if snap.status != "finished":
            raise SystemExit(f"training ended {snap.status}: {snap.message}")
    return sorted((int(i.config["seed"]), float(i.test_accuracy)) for i in store.list_runs())


def take_teacher_screenshot(store_root: Path, out: Path) -> Path:
    """The Teacher page, unlocked, at 1280 wide: the class view and "The class together"."""
    from playwright.sync_api import expect, sync_playwright

    env = {
        "CIFAR10_DIR": str(sample_dir()),
        "CIFAR_RUNS_DIR": str(store_root),
        "CIFAR_WARMUP": "0",
        "CIFAR_TEACHER_PASSCODE": TEACHER_PASSCODE,
    }
    path = out / "teacher.png"
    with streamlit_server(env) as base_url, sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page(viewport=TEACHER_VIEWPORT)
            open_app_page(page, base_url, "teacher", "Teacher")
            page.add_style_tag(content=HIDE_TOP_BAR)
            page.locator('input[type="password"]').fill(TEACHER_PASSCODE)
            page.get_by_role("button", name="Unlock").click()
            expect(page.get_by_text(f"{len(TEACHER_SEEDS)} runs listed")).to_be_visible(
                timeout=60_000
            )
            section = page.get_by_role("heading", name="The class together")
            expect(section).to_be_visible(timeout=60_000)
            # The chart, drawn: its accessible label is the caption's "N runs … different seeds".
            chart = page.locator('[data-testid="stVegaLiteChart"][aria-label*="different seeds"]')
            expect(chart.locator("svg").first).to_be_visible(timeout=60_000)
            page.set_viewport_size({**TEACHER_VIEWPORT, "height": TEACHER_SHOT_HEIGHT})
            wait_for_app(page, timeout_ms=60_000)
            page.mouse.move(5, TEACHER_SHOT_HEIGHT - 5)  # off the charts: no tooltip
            page.wait_for_timeout(1_500)  # the chart re-laid out at the new size
            title = page.get_by_role("heading", name="Teacher", exact=True)
            title.evaluate(SCROLL_TO_TOP)
            page.wait_for_timeout(300)
            # Down to the leaderboard: the table after the word "Leaderboard" (the class view's
            # is the first one on the page).
            words = _box(page.get_by_text("Leaderboard", exact=False).first)
            tables = page.get_by_test_id("stDataFrame")
            board = next(
                b
                for b in (_box(tables.nth(i)) for i in range(tables.count()))
                if b["y"] > words["y"]
            )
            main = page.get_by_test_id("stMainBlockContainer")
            box = _box(main)
            inset = main.evaluate("el => parseFloat(getComputedStyle(el).paddingLeft)")
            x = box["x"] + max(0.0, inset - 2 * PAD)
            top = max(0.0, _box(title)["y"] - PAD)
            bottom = min(float(TEACHER_SHOT_HEIGHT), board["y"] + board["height"] + PAD)
            clip = {
                "x": x,
                "y": top,
                "width": box["width"] - 2 * (x - box["x"]),
                "height": bottom - top,
            }
            page.screenshot(path=path, clip=clip)
        finally:
            browser.close()
    return path


def teacher_main(out: Path) -> int:
    """--teacher: train the class's runs, then shoot the Teacher page."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cifar-screenshots-") as tmp:
        print(f"training {TEACHER_RUN} with seeds {TEACHER_SEEDS} …", flush=True)
        results = train_class(Path(tmp) / "runs")
        for seed, accuracy in results:
            print(f"seed {seed}: test accuracy {accuracy:.1%}", flush=True)
        print(f"trained in {time.monotonic() - start:.0f} s", flush=True)
        path = take_teacher_screenshot(Path(tmp) / "runs", out)
    print(f"saved {path} ({path.stat().st_size / 1024:.0f} KB)")
    print(f"done in {time.monotonic() - start:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder for the PNGs")
    parser.add_argument(
        "--teacher",
        action="store_true",
        help="make teacher.png (the Teacher page with a class of four runs) instead",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CIFAR_WARMUP", "0")
    if args.teacher:
        return teacher_main(args.out)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cifar-screenshots-") as tmp:
        print(f"training {RUN} on the sample at {sample_dir()} …", flush=True)
        trained = train_run(Path(tmp) / "runs")
        print(
            f"run {trained.run_id}: test accuracy {trained.accuracy:.1%} on "
            f"{int(trained.matrix.sum()):,} test images (chance: 10%), "
            f"trained in {trained.seconds:.0f} s",
            flush=True,
        )
        saved, (t, pr, n), image_no = take_screenshots(trained, args.out)
    names = trained.names
    print(f"clicked cell: true {names[t]} → predicted {names[pr]} ({n} images)")
    print(f"maps of test image #{image_no}")
    for path in saved.values():
        print(f"saved {path} ({path.stat().st_size / 1024:.0f} KB)")
    print(f"done in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
