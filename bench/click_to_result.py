"""Bench: the default run from the Train click to the saved result, in a real browser.

A fresh `streamlit run` (the real CIFAR-10 sample, an empty runs folder, the warm-up on, as
deployed) and headless Chromium. Each repeat opens the Train page in a new browser context,
keeps the default settings (only the seed changes per repeat, so no repeat joins the
previous finished run), clicks Train and stops the clock when the result's "Test accuracy"
is on screen.

- cold: the click comes as soon as a fresh server has drawn the Train page (the warm-up has
  not finished: TensorFlow, data and precision are on this click's clock);
- warm: the server's warm-up has finished (the page says which precision it trains in).

Then the same training in plain Keras in this process — the same images, split, network,
precision (the one the app used), optimizer, batch size, epochs and validation data — timed
around `model.fit` alone, repeated and alternated with nothing else running.

Prints the phases the app measured, each figure and, last, `click_to_result_ratio=<warm
click-to-result / plain fit>` (target ≤ 1.3).

Run from the repo root: `python -m bench.click_to_result [--repeats N]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from harness.browser import launch_browser, open_app_page, streamlit_process
from harness.sample import sample_dir

RESULT_TIMEOUT_MS = 600_000
WARM_TIMEOUT_S = 180


def click_and_wait(browser, base_url: str, seed: int | None) -> float:
    """Open Train, optionally set the seed, click Train; seconds until the result shows."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        open_app_page(page, base_url, "train", "Train")
        if seed is not None:
            box = page.locator(".st-key-train_seed input")
            box.fill(str(seed))
            box.press("Enter")
            page.wait_for_timeout(300)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        button = page.locator(".st-key-train_start").get_by_role("button")
        start = time.monotonic()
        button.click()
        # The live panel's success line comes with the rerun that shows the new run's results
        # (an earlier run's results may be on screen before: the Results section lists them).
        done = page.get_by_text("Its curves and results are in")
        done.wait_for(state="visible", timeout=RESULT_TIMEOUT_MS)
        page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy").wait_for()
        return time.monotonic() - start
    finally:
        context.close()


def wait_until_warm(browser, base_url: str) -> float:
    """Reload the Train page until it says which precision this server trains in."""
    context = browser.new_context()
    start = time.monotonic()
    try:
        page = context.new_page()
        while time.monotonic() - start < WARM_TIMEOUT_S:
            open_app_page(page, base_url, "train", "Train")
            if page.get_by_text("🔢 This server").count():  # the precision is decided
                return time.monotonic() - start
            page.wait_for_timeout(2000)
        raise TimeoutError("the server did not finish its warm-up")
    finally:
        context.close()


def newest_result(runs: Path) -> dict:
    newest = max(runs.iterdir(), key=lambda p: p.stat().st_mtime)
    return {
        "config": json.loads((newest / "config.json").read_text()),
        "result": json.loads((newest / "result.json").read_text()),
    }


def plain_fit_seconds(config: dict, precision: str) -> float:
    """The same training in plain Keras: numpy arrays in, model.fit timed alone."""
    import keras
    import numpy as np

    from cifar_core.data import load_local
    from cifar_core.training import TrainConfig, build_compiled, split_indices

    cfg = TrainConfig.from_dict(config)
    data = load_local(sample_dir())
    train_idx, val_idx = split_indices(len(data.x_train), cfg)
    x, y = data.x_train.astype("float32") / 255.0, keras.utils.to_categorical(data.y_train, 10)
    model = build_compiled(cfg, precision)
    start = time.perf_counter()
    model.fit(
        x[train_idx],
        y[train_idx],
        validation_data=(x[val_idx], y[val_idx]),
        batch_size=cfg.batch_size,
        epochs=cfg.epochs,
        shuffle=True,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    del model, np
    keras.backend.clear_session()  # this process only times plain fits: start each afresh
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm repeats")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    warm, cold, phases = [], None, []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = launch_browser(p)
        for label in ("cold", "warm"):
            runs = Path(tmp) / label
            env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(runs),
                   "CIFAR_WARMUP": "1", "CIFAR_PRECISION": ""}  # fmt: skip
            with streamlit_process(env) as (base_url, _proc):
                if label == "cold":
                    cold = click_and_wait(browser, base_url, seed=None)
                    saved = newest_result(runs)
                    print(f"cold click_to_result_s={cold:.1f}", flush=True)
                    print(f"cold phases: {saved['result'].get('phases')}", flush=True)
                    continue
                print(f"warm-up took {wait_until_warm(browser, base_url):.1f} s", flush=True)
                for i in range(args.repeats):
                    seconds = click_and_wait(browser, base_url, seed=None if i == 0 else 100 + i)
                    warm.append(seconds)
                    saved = newest_result(runs)
                    phases.append(saved["result"].get("phases"))
                    print(f"warm {i + 1}: click_to_result_s={seconds:.1f}", flush=True)
                    print(f"  phases: {phases[-1]}", flush=True)
        browser.close()

    config, precision = saved["config"], saved["result"]["precision"]
    print(f"default run: {config['model']}, {config['train_size']} images, "
          f"{config['epochs']} epochs, batch {config['batch_size']}, {precision}")  # fmt: skip
    plain = []
    for i in range(args.repeats):
        plain.append(plain_fit_seconds(config, precision))
        print(f"plain fit {i + 1}: {plain[-1]:.1f} s", flush=True)
    fit = statistics.median(plain)
    warm_s = statistics.median(warm)
    print(f"plain_fit_s={fit:.1f}")
    print(f"click_to_result_cold_s={cold:.1f}")
    print(f"click_to_result_warm_s={warm_s:.1f}")
    print(f"click_to_result_cold_ratio={cold / fit:.2f}")
    print(f"click_to_result_ratio={warm_s / fit:.2f}")


if __name__ == "__main__":
    main()
