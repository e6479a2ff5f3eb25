"""Bench: the light client (harness/st_client.py) loads the server like a Chromium tab.

`python -m bench.st_client_check` (compare()) starts a server and a long training on the
full-size set, then, in turns, lets nobody, one Chromium tab and one light client watch it
(each opens /train and presses Train, so it attaches to the run and polls the live panel), and
prints for each 30 s window the server's CPU outside the training threads (ServingCpu), the
fragment runs served and the traffic. On 2 cores shared with other work (3 rounds, Streamlit
1.67, the app as of commit 991f75f, when this was bench/st_client.py):

    serving CPU with no watcher: 0.99 s/min
    chromium tab: +0.77 s/min serving CPU, 1.00 fragment runs/s, 16.0 msg/s and 53.6 kB/s in, 1.00 BackMsg/s
    light client: +0.71 s/min serving CPU, 1.00 fragment runs/s, 16.0 msg/s and 40.5 kB/s in, 1.01 BackMsg/s
    light/tab serving CPU ratio=0.92

(an earlier 20 s run on the sample: +0.69 and +0.69 s/min). Captured side by side in the same
seconds, a tab and a light client received the same messages with the same sizes for every
delta path; kB/s differ between windows because the live charts change size as the run goes
and because a chart the client already holds comes as a small `ref_hash` (the light client got
a few more of those hits than the tab: its cache ageing may keep an entry a run longer). The
script work per poll — what costs the server — is the same.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.proc import process_cpu, thread_cpu
from harness.st_client import StClient, TabFrames, run_in_loop

STALL_CORES = 0.3  # a training server below this over 10 s is not training


class ServingCpu:
    """The server's CPU outside its training threads, over a window.

    Training threads are those that appeared after `baseline()` (taken before any Train
    press) and are alive at both ends of the window: the job's thread and TensorFlow's pools.
    Everything else — the event loop (websocket, BackMsg parsing, sending), the short-lived
    script-runner threads that run each rerun, media requests — is what sessions cost.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before_training: set[int] = set()
        self.trace: list[tuple[float, float]] = []  # (monotonic s, process CPU s), each second
        self.last_span = (0.0, 0.0)  # the monotonic start and end of the last stop()
        self._stop = threading.Event()

    def baseline(self) -> None:
        """Note the threads before training, and start tracing the CPU each second."""
        self.before_training = set(thread_cpu(self.pid))
        threading.Thread(target=self._sample, name="cpu-trace", daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.trace.append((time.monotonic(), process_cpu(self.pid)))
            except OSError:
                return  # the server is gone

    def close(self) -> None:
        self._stop.set()

    def slowest(self, start: float, end: float, span: float = 10.0) -> float:
        """The least CPU (in cores) the whole server used over any `span` s in [start, end]."""
        points = [(t, c) for t, c in self.trace if start <= t <= end]
        rates = [
            (c1 - c0) / (t1 - t0)
            for i, (t0, c0) in enumerate(points)
            for t1, c1 in points[i + 1 :]
            if span <= t1 - t0 < span + 1.5
        ]
        return min(rates, default=float("nan"))

    def start(self) -> tuple[float, float, dict[int, float]]:
        return time.monotonic(), process_cpu(self.pid), thread_cpu(self.pid)

    def stop(self, start: tuple[float, float, dict[int, float]]) -> tuple[float, float, float]:
        """(wall s, serving CPU s, training CPU s) since `start`."""
        t0, cpu0, threads0 = start
        threads1, cpu1 = thread_cpu(self.pid), process_cpu(self.pid)
        self.last_span = (t0, time.monotonic())
        training = sum(
            threads1[t] - threads0[t]
            for t in threads1
            if t in threads0 and t not in self.before_training
        )
        return time.monotonic() - t0, (cpu1 - cpu0) - training, training


@dataclass
class Window:
    """One measured stretch of the comparison."""

    who: str
    wall_s: float
    serving_cpu_s: float
    training_cpu_s: float
    msgs_in: int
    bytes_in: int
    msgs_out: int
    fragment_runs: int
    refs_in: int = 0  # ref_hash messages (deltas the client had cached)
    cached_reported: int = 0  # hashes listed in the last rerun BackMsg
    slowest_cores: float = float("nan")  # the server's least CPU use over 10 s in the window

    def line(self) -> str:
        per_min = 60 / self.wall_s
        return (
            f"{self.who:12} {self.wall_s:5.0f} s: serving CPU {self.serving_cpu_s * per_min:5.2f} s/min, "
            f"training CPU {self.training_cpu_s * per_min:5.1f} s/min, "
            f"fragment runs {self.fragment_runs / self.wall_s:4.2f}/s, "
            f"in {self.msgs_in / self.wall_s:5.1f} msg/s {self.bytes_in / self.wall_s / 1e3:6.1f} kB/s, "
            f"out {self.msgs_out / self.wall_s:4.2f} msg/s, refs {self.refs_in}, "
            f"cached hashes reported {self.cached_reported}, slowest 10 s of the server "
            f"{self.slowest_cores:.2f} cores{' STALLED' if self.stalled else ''}"
        )

    @property
    def stalled(self) -> bool:
        """The training stood still for 10 s or more (the server nearly idle): not comparable."""
        return self.slowest_cores < STALL_CORES


def compare(
    window_s: float = 30.0, rounds: int = 2, settle_s: float = 4.0, log=print
) -> list[Window]:
    """One long training; nobody / a Chromium tab / a light client polls it, in turns.

    A driver session (a light client that does not poll) presses Train with a long preset;
    then, `rounds` times: a window with no watcher, one with a Chromium tab that opened /train
    and pressed Train with the same settings (so it attaches and polls the live panel), one
    with a light client doing the same. Each watcher is closed before the next window.
    """
    import json
    import tempfile

    from playwright.sync_api import sync_playwright

    from harness.browser import launch_browser, streamlit_process, wait_for_app
    from harness.fullsize import fullsize_dir

    # On the full-size set: 16,000 × 30 image-passes outlast the comparison (each window
    # checks that the run is still training). The windows start in epoch 2: the end of the
    # first epoch of a big run idled the whole server for ~40 s here (an app issue, reported).
    preset = {"train_size": 20_000, "epochs": 30}
    windows: list[Window] = []
    with (
        tempfile.TemporaryDirectory(prefix="st-client-compare-") as tmp,
        fullsize_dir() as data_dir,
    ):
        runs_dir = Path(tmp) / "runs"
        env = {
            "CIFAR10_DIR": str(data_dir),
            "CIFAR_RUNS_DIR": str(runs_dir),
            "CIFAR_PRESET": json.dumps(preset),
            "CIFAR_MAX_IMAGE_EPOCHS": str(10**9),  # the app's per-run limits, where it has them
            "CIFAR_MAX_RUN_MINUTES": "600",
        }
        with (
            streamlit_process(env) as (base_url, proc),
            run_in_loop() as loop,
            sync_playwright() as p,
        ):
            browser = launch_browser(p)
            serving = ServingCpu(proc.pid)
            try:
                driver = StClient(base_url, "train", name="driver")
                loop.run(driver.connect())
                loop.run(driver.wait_rendered())
                serving.baseline()
                loop.run(driver.click("train_start"))
                loop.run(driver.wait_for(lambda c: c.find(type="progress", text="epoch 2/"), 600))
                driver.stop_polling()  # it only started the job; it does not watch
                log(f"training {preset} started; windows of {window_s:.0f} s")

                def nobody() -> Window:
                    start = serving.start()
                    time.sleep(window_s)
                    wall, cpu, training = serving.stop(start)
                    return Window("nobody", wall, cpu, training, 0, 0, 0, 0)

                def tab() -> Window:
                    context = browser.new_context(viewport={"width": 1200, "height": 900})
                    try:
                        page = context.new_page()
                        frames = TabFrames(page)
                        page.goto(f"{base_url}/train")
                        wait_for_app(page)
                        page.locator(".st-key-train_start").get_by_role("button").click()
                        page.wait_for_selector('[data-testid="stProgress"]', timeout=60_000)
                        page.wait_for_timeout(settle_s * 1000)
                        start, counts = serving.start(), frames.counts()
                        page.wait_for_timeout(window_s * 1000)  # Playwright delivers frame events
                        wall, cpu, training = serving.stop(start)
                        diff = [b - a for a, b in zip(counts, frames.counts(), strict=True)]
                        return Window("chromium tab", wall, cpu, training, *diff,
                                      frames.cached_reported)  # fmt: skip
                    finally:
                        context.close()

                def light() -> Window:
                    client = StClient(base_url, "train", name="light")
                    try:
                        loop.run(client.connect())
                        loop.run(client.wait_rendered())
                        loop.run(client.click("train_start"))
                        loop.run(client.wait_for(lambda c: c.find(type="progress"), 60))
                        time.sleep(settle_s)
                        start, before = serving.start(), client.stats.copy()
                        time.sleep(window_s)
                        wall, cpu, training = serving.stop(start)
                        d = client.stats.minus(before)
                        return Window("light client", wall, cpu, training, d.msgs_in, d.bytes_in,
                                      d.msgs_out, d.fragment_runs, d.refs_in,
                                      len(client.cache.messages))  # fmt: skip
                    finally:
                        loop.run(client.close())

                def still_training() -> bool:
                    statuses = [
                        json.loads(f.read_text()).get("status")
                        for f in runs_dir.glob("*/status.json")
                    ]
                    return statuses == ["running"]

                for i in range(rounds):  # alternate the order: the live charts grow over time
                    for measure in (nobody, tab, light) if i % 2 == 0 else (nobody, light, tab):
                        window = measure()
                        window.slowest_cores = serving.slowest(*serving.last_span)
                        if not still_training():
                            log(f"{window.who}: the run ended during the window; stopped here")
                            break
                        windows.append(window)
                        log(window.line())
                        time.sleep(2)  # let the closed session's last messages drain
                    else:
                        continue
                    break
                loop.run(driver.close())
            finally:
                serving.close()
                browser.close()
    return windows


def summarize(windows: list[Window]) -> list[str]:
    """Per watcher: serving CPU per minute above the no-watcher windows, and traffic."""

    stalled = [w for w in windows if w.stalled]
    windows = [w for w in windows if not w.stalled]

    def mean(who: str, attr: str, per_s: bool = True) -> float:
        rows = [w for w in windows if w.who == who]
        return sum(getattr(w, attr) / (w.wall_s if per_s else 1) for w in rows) / max(1, len(rows))

    base = mean("nobody", "serving_cpu_s") * 60
    lines = [f"windows left out, the training stood still in them: {len(stalled)}"]
    lines.append(f"serving CPU with no watcher: {base:.2f} s/min")
    for who in ("chromium tab", "light client"):
        lines.append(
            f"{who}: +{mean(who, 'serving_cpu_s') * 60 - base:.2f} s/min serving CPU, "
            f"{mean(who, 'fragment_runs'):.2f} fragment runs/s, {mean(who, 'msgs_in'):.1f} msg/s "
            f"and {mean(who, 'bytes_in') / 1e3:.1f} kB/s in, {mean(who, 'msgs_out'):.2f} BackMsg/s"
        )
    tab = mean("chromium tab", "serving_cpu_s") * 60 - base
    light = mean("light client", "serving_cpu_s") * 60 - base
    lines.append(f"light/tab serving CPU ratio={light / tab if tab > 0 else float('nan'):.2f}")
    return lines


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Compare a light client with a Chromium tab.")
    parser.add_argument("--window-s", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    windows = compare(args.window_s, args.rounds, log=lambda s: print(s, flush=True))
    for line in summarize(windows):
        print(line, flush=True)


if __name__ == "__main__":
    main()
