"""Bench: peak memory of training the deep model on a full-size (50,000-image) data set.

`--train-size 10000 --queued 3` measures issue 6's budget case: one deep training on a
10,000-image subset with three more jobs queued behind it.

A synthetic uint8 set the size of CIFAR-10 (50,000 train + 10,000 test, random pixels and
labels) goes through the app's own pipeline: TrainingJob, tf.data gather-by-index, live
monitor, evaluation and saving. Training is stopped after `--steps` batches through the
app's Stop mechanism. The last line is `peak_rss_mb=<n>` (target ≤ 1200).

`--server` measures the whole server instead: a real `streamlit run` of the app (Streamlit,
the pages, the warm-up, TensorFlow) on the sample tiled to the full 50,000 + 10,000 images
(harness/fullsize.py), a headless Chromium that opens the Train page, sets the training-set
size and presses Train; after `--steps` batches the server's peak resident memory (VmHWM of
its process) is read. Last line: `server_peak_rss_mb=<n>` (target ≤ 1200).

Run from the repo root: `python -m bench.memory_full [--server] [--steps N] [--train-size N]
[--queued N]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from cifar_core.constants import CLASS_NAMES
from cifar_core.data import Cifar10
from cifar_core.runs import RunStore
from cifar_core.training import TrainConfig, TrainingJob
from cifar_core.training.queue import JobManager, wait_for
from harness.measure import peak_rss_mb


def server_peak_mb(train_size: int, steps: int) -> float:
    """Peak RSS of a real app server training the deep net on the full-size set (see --server)."""
    import re

    from playwright.sync_api import sync_playwright

    from cifar_core import constants as C
    from harness.browser import launch_browser, open_app_page, set_slider, streamlit_process
    from harness.browser import peak_rss_mb as process_peak_mb
    from harness.fullsize import fullsize_dir

    with fullsize_dir() as folder, tempfile.TemporaryDirectory() as runs:
        env = {"CIFAR10_DIR": str(folder), "CIFAR_RUNS_DIR": runs, "CIFAR_WARMUP": "1"}
        with streamlit_process(env) as (base_url, proc), sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_app_page(page, base_url, "train", "Train")
            set_slider(page, "train_size", (train_size - C.TRAIN_SIZE_MIN) // C.TRAIN_SIZE_STEP)
            page.wait_for_timeout(500)
            page.locator(".st-key-train_start").get_by_role("button").click()
            bar = page.locator('[data-testid="stProgress"]')
            deadline = time.monotonic() + 1800
            done = 0
            while done < steps and time.monotonic() < deadline:
                found = re.search(r"batch (\d+)/", bar.inner_text() if bar.count() else "")
                done = int(found.group(1)) if found else done
                page.wait_for_timeout(1000)
            peak = process_peak_mb(proc.pid)
            print(f"server: {done} batches of the deep net on {train_size:,} images; "
                  f"data set {folder}")  # fmt: skip
            browser.close()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--server", action="store_true", help="measure a real app server")
    parser.add_argument("--train-size", type=int, default=50_000)
    parser.add_argument(
        "--queued", type=int, default=0, help="more jobs (other seeds) waiting behind the first"
    )
    args = parser.parse_args()
    if args.server:
        size = min(args.train_size, 40_000)  # the Train slider's top on the full set: 50,000
        print(f"server_peak_rss_mb={server_peak_mb(size, args.steps):.0f}")
        return

    rng = np.random.default_rng(0)
    data = Cifar10(
        rng.integers(0, 256, (50_000, 32, 32, 3), dtype=np.uint8),
        rng.integers(0, 10, 50_000),
        rng.integers(0, 256, (10_000, 32, 32, 3), dtype=np.uint8),
        rng.integers(0, 10, 10_000),
        CLASS_NAMES,
        source="synthetic, full size",
    ).make_read_only()
    print(f"data set in memory: {data.nbytes / 2**20:.0f} MB; RSS so far {peak_rss_mb():.0f} MB")
    config = TrainConfig(model="deep", train_size=args.train_size, epochs=1, batch_size=128)
    with tempfile.TemporaryDirectory() as tmp:
        manager = JobManager(1)
        job = manager.submit(TrainingJob(config, data, RunStore(tmp)))
        waiting = [
            manager.submit(
                TrainingJob(TrainConfig(**{**config.to_dict(), "seed": s}), data, RunStore(tmp))
            )
            for s in range(1, args.queued + 1)
        ]
        start = time.perf_counter()
        while (
            job.monitor.snapshot().steps_done < args.steps and not job.monitor.snapshot().is_final
        ):
            time.sleep(0.2)
        job.monitor.request_stop()
        assert wait_for(job, 1800)
        snap = job.monitor.snapshot()
        print(
            f"status={snap.status} steps={snap.steps_done} seconds={time.perf_counter() - start:.0f}"
        )
        print(f"images_per_s={snap.images_per_second:.0f}")
        for other in waiting:  # they waited in the queue the whole time; cancel them now
            other.monitor.request_stop()
            assert wait_for(other, 60)
        if waiting:
            print(f"queued_jobs={len(waiting)} (waited, then cancelled)")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")


if __name__ == "__main__":
    main()
