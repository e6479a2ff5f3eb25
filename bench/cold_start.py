"""Bench: cold start — a fresh `streamlit run` until a student sees the rendered home page.

Each repeat starts a new server (127.0.0.1, the real CIFAR-10 sample, an empty runs folder),
polls its health check every 20 ms, and as soon as it answers opens the home page in a new
context of an already running headless Chromium (cold browser cache). The page counts as
rendered when the script has finished (`stApp` "notRunning") and the home page's h1 is
visible. Right then the server's RSS is read and /proc/<pid>/maps is searched for
libtensorflow: the home page must not import TensorFlow (~550 MB, ~2.5 s).

Prints each repeat and the medians of: process start → health ok, process start → first
render, navigation start → rendered; the last line is `first_render_s=<median>` (target ≤ 3).

Run from the repo root: `python -m bench.cold_start [--repeats N]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.browser import APP_IDLE, launch_browser, maps_contain, rss_mb, streamlit_process
from harness.sample import sample_dir

HEALTH_POLL_S = 0.02
RENDER_TIMEOUT_MS = 60_000
MAX_REPEATS = 10
RENDERED = f"{APP_IDLE} h1"  # the script finished and the page's title is on screen


@dataclass(frozen=True)
class ColdStart:
    """One fresh start, in seconds from `Popen` (process start) unless said otherwise."""

    health_s: float
    first_render_s: float
    page_load_s: float  # navigation start → rendered
    rss_mb: float  # the server right after the first render
    tensorflow_loaded: bool
    title: str


def cold_start(browser, env: dict[str, str]) -> ColdStart:
    """Start a fresh server, open the home page as soon as it is healthy, time both."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        start = time.monotonic()
        with streamlit_process(env, health_poll_s=HEALTH_POLL_S) as (base_url, proc):
            healthy = time.monotonic()
            page.goto(f"{base_url}/", wait_until="commit")
            title = page.wait_for_selector(RENDERED, state="visible", timeout=RENDER_TIMEOUT_MS)
            rendered = time.monotonic()
            memory, tensorflow = rss_mb(proc.pid), maps_contain(proc.pid, "libtensorflow")
            return ColdStart(
                health_s=healthy - start,
                first_render_s=rendered - start,
                page_load_s=rendered - healthy,
                rss_mb=memory,
                tensorflow_loaded=tensorflow,
                title=title.inner_text(),
            )
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    repeats = max(1, min(MAX_REPEATS, args.repeats))
    results = []
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp, sync_playwright() as p:
        env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(Path(tmp) / "runs")}
        browser = launch_browser(p)
        try:
            browser.new_page().close()  # Chromium itself is warm, as a student's browser is
            for i in range(repeats):
                r = cold_start(browser, env)
                results.append(r)
                print(
                    f"start {i + 1}: health {r.health_s:.2f} s, first render {r.first_render_s:.2f} s,"
                    f" page load {r.page_load_s:.2f} s, server RSS {r.rss_mb:.0f} MB, "
                    f"TensorFlow {'LOADED' if r.tensorflow_loaded else 'not loaded'}, "
                    f"h1 {r.title!r}",
                    flush=True,
                )
        finally:
            browser.close()
    median = lambda name: statistics.median(getattr(r, name) for r in results)  # noqa: E731
    print(f"process_start_to_health_s={median('health_s'):.2f}")
    print(f"page_load_s={median('page_load_s'):.2f}  (navigation start → rendered)")
    print(f"server_rss_at_first_render_mb={median('rss_mb'):.0f}")
    print(f"tensorflow_loaded_by_home={sum(r.tensorflow_loaded for r in results)}/{len(results)}")
    print(f"first_render_s={median('first_render_s'):.2f}")


if __name__ == "__main__":
    main()
