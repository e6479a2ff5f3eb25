"""Bench: a class of N watching ONE shared run vs the same run watched by one session.

The app shares a run when sessions press Train with identical settings (JobManager.start
attaches them), so a class on the teacher's settings costs one training — if watching it is
cheap. This measures what N watchers add. Per scenario, two phases, each on a FRESH
`streamlit run` (127.0.0.1) with an empty runs folder, so the run is trained, not reused:

* alone: one headless Chromium tab opens /train and presses Train with the form's defaults;
* class: the same tab plus N-1 light clients (harness/st_client.py: Streamlit's own websocket
  protocol, polling `run_every` fragments on the frontend's timer, so they load the server
  like tabs; 29 Chromium tabs would measure Chromium on 2 cores) open /train; all press Train
  at about the same moment with the same defaults (they attach to the tab's run) and keep
  polling until their result is on screen.

Timed: click → the result on screen in the tab ("Finished." in the Training section and the
"Test accuracy" metric, as harness/classroom_load.py's page watcher sees it), split at the run
folder's status.json times (created, saved), and the saved run's `train_seconds`
(result.json). Measured: the server's CPU seconds from the click to the last result (the run
is the same in both phases, so the difference is what watching costs), its peak RSS (VmHWM),
messages and bytes per session per second, and the clients' own CPU.

Scenarios (settings through CIFAR_PRESET, so every session's form starts at them and a plain
Train click suffices; "default" sets none):
  default — the app's defaults on the real sample: deep, 5,000 images (4,000 train + 1,000
            validation), 5 epochs, batch 128, RMSprop 0.001, seed 42;
  long    — the full-size tiled set (harness/fullsize.py, 50,000 + 10,000): 10,000 images
            (8,000 + 2,000), 2 epochs, batch 32.
--quick shrinks both (default: 1,000 images × 2 epochs; long: 2,000 × 1, batch 32).

Prints per scenario both phases and a summary; the LAST line is
`watchers=<N> slowdown=<class time / alone time>` of the worse scenario (the line before says
which). Target ≤ 1.15. Bounded by a global deadline; always stops servers and the browser.
Figures are noisy on a shared 2-core machine: the machine's busy share is printed.

Run from the repo root: `python -m bench.classroom_watch [--watchers 30] [--scenario
default|long|both] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.browser import launch_browser, peak_rss_mb, streamlit_process, wait_for_app
from harness.classroom_load import WATCHER_JS, server_errors
from harness.fullsize import fullsize_dir
from harness.proc import descendants, machine_busy_ticks, process_cpu
from harness.sample import sample_dir
from harness.st_client import ClientError, LoopThread, Stats, StClient, TabFrames, run_in_loop

TARGET = 1.15
MAX_WATCHERS = 60
VIEWPORT = {"width": 1200, "height": 900}
TAB_POLL_MS = 500
OPEN_TIMEOUT_S = 180.0
FAILED = ("Training failed", "Failed.", "Stopped early", "Cancelled before", "was stopped")


@dataclass(frozen=True)
class Scenario:
    name: str
    data: str  # "sample" or "fullsize"
    preset: dict  # CIFAR_PRESET ({}: the app's defaults)
    label: str


SCENARIOS = {
    "default": Scenario(
        "default",
        "sample",
        {},
        "app defaults on the sample: deep, 4,000+1,000 images, 5 epochs, batch 128",
    ),
    "long": Scenario(
        "long",
        "fullsize",
        {"train_size": 10_000, "epochs": 2, "batch_size": 32},
        "full-size set: deep, 8,000+2,000 images, 2 epochs, batch 32",
    ),
}
QUICK = {
    "default": Scenario(
        "default", "sample", {"train_size": 1000, "epochs": 2}, "quick: 800+200 images, 2 epochs"
    ),
    "long": Scenario(
        "long",
        "fullsize",
        {"train_size": 2000, "epochs": 1, "batch_size": 32},
        "quick, full-size set: 1,600+400 images, 1 epoch, batch 32",
    ),
}


@dataclass
class Phase:
    """One phase (alone or class) of a scenario."""

    name: str
    watchers: int
    tab_s: float | None = None  # the Chromium tab's click → result
    light_s: list[float] = field(default_factory=list)  # each light client's click → result
    train_seconds: float | None = None
    runs_saved: int = 0
    accuracy: str = ""
    run_started_s: float | None = None  # click → the run folder created (status "created")
    run_saved_s: float | None = None  # click → the run saved as finished (status "updated")
    server_cpu_s: float = 0.0  # first click → last result
    window_s: float = 0.0
    peak_rss_mb: float = 0.0
    tab_traffic: tuple[float, float, float] = (0.0, 0.0, 0.0)  # msgs/s in, bytes/s in, msgs/s out
    light_traffic: tuple[float, float, float] = (0.0, 0.0, 0.0)  # mean over light clients
    bench_cpu_s: float = 0.0  # this process (light clients) during the window
    browser_cpu_s: float = 0.0
    machine_busy: float = 0.0
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        light = ""
        if self.light_s:
            light = (
                f"; light clients {len(self.light_s)} results, median "
                f"{statistics.median(self.light_s):.1f} s, max {max(self.light_s):.1f} s"
            )
        fmt = lambda v: "—" if v is None else f"{v:.1f} s"  # noqa: E731
        return [
            f"  {self.name} ({self.watchers} watching): tab click→result {fmt(self.tab_s)}, "
            f"train_seconds {fmt(self.train_seconds)}, runs saved {self.runs_saved}, "
            f"test accuracy {self.accuracy or '—'}{light}",
            f"    click → run folder created {fmt(self.run_started_s)} → run saved "
            f"{fmt(self.run_saved_s)} → result on the tab's screen {fmt(self.tab_s)}",
            f"    server: CPU {self.server_cpu_s:.1f} s over {self.window_s:.0f} s, peak RSS "
            f"{self.peak_rss_mb:.0f} MB; machine {self.machine_busy:.0%} busy; clients: "
            f"bench process {self.bench_cpu_s:.1f} s CPU, Chromium {self.browser_cpu_s:.1f} s",
            f"    per session: tab {self.tab_traffic[0]:.1f} msg/s {self.tab_traffic[1] / 1e3:.1f} "
            f"kB/s in, {self.tab_traffic[2]:.2f} msg/s out"
            + (
                f"; light clients {self.light_traffic[0]:.1f} msg/s "
                f"{self.light_traffic[1] / 1e3:.1f} kB/s in, {self.light_traffic[2]:.2f} msg/s out"
                if self.light_s
                else ""
            ),
            *(f"    ERROR {e}" for e in self.errors),
        ]


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def data_dir(scenario: Scenario) -> Iterator[Path]:
    if scenario.data == "fullsize":
        with fullsize_dir() as folder:
            yield folder
    else:
        yield sample_dir()


def saved_runs(runs_dir: Path) -> list[dict]:
    """status, config and result of each run folder."""
    runs = []
    for folder in sorted(runs_dir.glob("*/")) if runs_dir.is_dir() else []:
        entry = {"id": folder.name}
        for name in ("status", "config", "result"):
            try:
                entry[name] = json.loads((folder / f"{name}.json").read_text())
            except (OSError, ValueError):
                entry[name] = {}
        runs.append(entry)
    return runs


def light_done(c: StClient) -> bool:
    """The result is on screen: "Finished." in the Training section and the test accuracy."""
    training = c.section("Training", "Results")
    finished = any("Finished." in n.text for n in training)
    return finished and bool(c.find(type="metric", text="Test accuracy"))


def light_failed(c: StClient) -> str:
    return next((n.text for n in c.section("Training", "Results") if n.text.startswith(FAILED)), "")


async def light_until_result(c: StClient, timeout: float) -> float:
    return await c.wait_for(lambda c: light_done(c) or light_failed(c) or c.errors, timeout)


def traffic(stats: Stats, seconds: float) -> tuple[float, float, float]:
    s = max(seconds, 1e-9)
    return stats.msgs_in / s, stats.bytes_in / s, stats.msgs_out / s


def browser_cpu() -> float:
    total = 0.0
    for pid in descendants(os.getpid()):
        try:
            if b"chrom" in Path(f"/proc/{pid}/cmdline").read_bytes():
                total += process_cpu(pid)
        except OSError:
            continue
    return total


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- one phase -------------------------------------------------------------------------------


def run_phase(
    name: str,
    browser,
    loop: LoopThread,
    env: dict[str, str],
    watchers: int,
    deadline: float,
    log,
) -> Phase:
    """A fresh server and runs folder; one tab (+ watchers-1 light clients) press Train."""
    phase = Phase(name, watchers)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"watch-{name}-")))
        runs_dir, log_path = tmp / "runs", tmp / "server.log"
        base_url, proc = stack.enter_context(
            streamlit_process({**env, "CIFAR_RUNS_DIR": str(runs_dir)}, log_path=log_path)
        )
        context = browser.new_context(viewport=VIEWPORT)
        stack.callback(context.close)
        context.add_init_script(WATCHER_JS)
        page = context.new_page()
        page.on("pageerror", lambda exc: phase.errors.append(f"tab page error: {exc}"[:200]))
        frames = TabFrames(page)
        page.goto(f"{base_url}/train", timeout=OPEN_TIMEOUT_S * 1000)
        wait_for_app(page, timeout_ms=OPEN_TIMEOUT_S * 1000)
        page.wait_for_selector(".st-key-train_start", timeout=OPEN_TIMEOUT_S * 1000)
        clients = [StClient(base_url, "train", name=f"light{i}") for i in range(1, watchers)]

        async def open_all() -> None:
            await asyncio.gather(*(c.connect() for c in clients))
            await asyncio.gather(*(c.wait_rendered(OPEN_TIMEOUT_S) for c in clients))

        async def close_all() -> None:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

        stack.callback(lambda: loop.run(close_all(), timeout=60))
        if clients:
            loop.run(open_all(), timeout=OPEN_TIMEOUT_S + 30)
            log(f"  {name}: the tab and {len(clients)} light clients show /train")
        # A full rerun of each session just happened; let it settle before measuring.
        page.wait_for_timeout(1000)
        busy0, cpu0, bench0, browser0 = (
            machine_busy_ticks(), process_cpu(proc.pid), self_cpu(), browser_cpu()
        )  # fmt: skip
        frames0 = frames.counts()

        click_at = time.time()
        page.locator(".st-key-train_start").get_by_role("button").click()

        async def click_all() -> list[tuple[float, Stats]]:
            async def one(c: StClient) -> tuple[float, Stats]:
                return await c.click("train_start"), c.stats.copy()

            return await asyncio.gather(*(one(c) for c in clients))

        clicked = loop.run(click_all(), timeout=60) if clients else []
        remaining = max(1.0, deadline - time.monotonic())
        futures = [
            asyncio.run_coroutine_threadsafe(light_until_result(c, remaining), loop.loop)
            for c in clients
        ]
        tab_done_at = None
        tab_stats = None
        while time.monotonic() < deadline:
            watch = page.evaluate("() => window.__load || {}") or {}
            note = f"tab exception: {(watch.get('exception') or '')[:200]}"
            if watch.get("exception") and note not in phase.errors:
                phase.errors.append(note)
            if watch.get("result") and tab_done_at is None:
                tab_done_at = watch["result"] / 1000
                phase.accuracy = watch.get("accuracy") or ""
                tab_stats = frames.counts()
            elif watch.get("final") and watch["final"] != "finished" and tab_done_at is None:
                phase.errors.append(f"tab: run {watch['final']}: {watch.get('finalText')}")
                break
            if tab_done_at is not None and all(f.done() for f in futures):
                break
            page.wait_for_timeout(TAB_POLL_MS)
        else:
            phase.errors.append("deadline passed before every session showed its result")
        end = time.time()
        phase.window_s = end - click_at
        phase.server_cpu_s = process_cpu(proc.pid) - cpu0
        phase.bench_cpu_s = self_cpu() - bench0
        phase.browser_cpu_s = browser_cpu() - browser0
        busy1 = machine_busy_ticks()
        phase.machine_busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
        phase.peak_rss_mb = peak_rss_mb(proc.pid)
        if tab_done_at is not None:
            phase.tab_s = tab_done_at - click_at
            counts = [b - a for a, b in zip(frames0, tab_stats or frames.counts(), strict=False)]
            phase.tab_traffic = (
                counts[0] / phase.tab_s,
                counts[1] / phase.tab_s,
                counts[2] / phase.tab_s,
            )
        per_client = []
        for client, (sent_at, before), future in zip(clients, clicked, futures, strict=True):
            try:
                done_at = future.result(timeout=1)
            except (ClientError, TimeoutError, Exception) as exc:  # noqa: BLE001
                future.cancel()
                phase.errors.append(f"{client.name}: {str(exc)[:200]}")
                continue
            if light_failed(client) or client.errors or client.exceptions:
                phase.errors.append(
                    f"{client.name}: {light_failed(client)} {client.errors} {client.exceptions}"[
                        :300
                    ]
                )
                continue
            phase.light_s.append(done_at - sent_at)
            per_client.append(traffic(client.stats.minus(before), done_at - sent_at))
        if per_client:
            phase.light_traffic = tuple(statistics.mean(t[i] for t in per_client) for i in range(3))
        runs = saved_runs(runs_dir)
        finished = [r for r in runs if r["status"].get("status") == "finished"]
        phase.runs_saved = len(finished)
        if len(runs) != 1:
            phase.errors.append(
                f"{len(runs)} run folders, expected ONE shared run: {[r['id'] for r in runs]}"
            )
        if finished:
            phase.train_seconds = finished[0]["result"].get("train_seconds")
            status = finished[0]["status"]
            if status.get("created"):
                phase.run_started_s = status["created"] - click_at
            if status.get("updated"):
                phase.run_saved_s = status["updated"] - click_at
        phase.errors += [
            f"server: {line}" for line in server_errors(log_path, log_path.stat().st_size)
        ]
        log(f"  {name}: done in {end - click_at:.0f} s")
    return phase


@dataclass
class Outcome:
    scenario: Scenario
    alone: Phase
    crowd: Phase

    @property
    def slowdown(self) -> float:
        if self.alone.tab_s and self.crowd.tab_s:
            return self.crowd.tab_s / self.alone.tab_s
        return float("nan")

    def lines(self) -> list[str]:
        train = "—"
        if self.alone.train_seconds and self.crowd.train_seconds:
            train = f"{self.crowd.train_seconds / self.alone.train_seconds:.2f}"
        extra_cpu = self.crowd.server_cpu_s - self.alone.server_cpu_s
        after_save = [
            f"{ph.tab_s - ph.run_saved_s:.1f} s"
            for ph in (self.alone, self.crowd)
            if ph.tab_s is not None and ph.run_saved_s is not None
        ]
        return [
            f"scenario {self.scenario.name}: {self.scenario.label}",
            *self.alone.lines(),
            *self.crowd.lines(),
            f"  => alone {self.alone.tab_s or float('nan'):.1f} s, class {self.crowd.tab_s or float('nan'):.1f} s, "
            f"slowdown {self.slowdown:.2f} (train_seconds ratio {train}); the class cost the "
            f"server {extra_cpu:+.1f} CPU s more (the same run: that is the watching), "
            f"{extra_cpu / max(1, self.crowd.window_s) / max(1, self.crowd.watchers - 1) * 1000:.0f} "
            "ms per extra watcher per second",
            f"  => run saved → result on the tab's screen: alone / class "
            f"{' / '.join(after_save) or '—'}",
        ]


def run_scenario(scenario: Scenario, watchers: int, deadline: float, log) -> Outcome:
    from playwright.sync_api import sync_playwright

    log(f"scenario {scenario.name}: {scenario.label}; {watchers} watchers in the class phase")
    with data_dir(scenario) as folder, run_in_loop() as loop, sync_playwright() as p:
        env = {
            "CIFAR10_DIR": str(folder),
            "CIFAR_PRESET": json.dumps(scenario.preset) if scenario.preset else "",
        }
        browser = launch_browser(p)
        try:
            alone = safe_phase("alone", browser, loop, env, 1, deadline, log)
            crowd = safe_phase("class", browser, loop, env, watchers, deadline, log)
        finally:
            browser.close()
    return Outcome(scenario, alone, crowd)


def safe_phase(name: str, browser, loop, env, watchers: int, deadline: float, log) -> Phase:
    """run_phase, with a failure reported as the phase's error instead of ending the bench."""
    try:
        return run_phase(name, browser, loop, env, watchers, deadline, log)
    except Exception as exc:  # noqa: BLE001 — the other phases and scenarios still run
        phase = Phase(name, watchers)
        phase.errors.append(f"phase failed: {type(exc).__name__}: {str(exc)[:300]}")
        return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=30, help="sessions in the class phase")
    parser.add_argument("--scenario", choices=("default", "long", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small runs: checks the machinery")
    parser.add_argument("--timeout-min", type=float, default=60.0, help="global deadline")
    args = parser.parse_args()
    if not 1 <= args.watchers <= MAX_WATCHERS:
        parser.error(f"--watchers must be 1–{MAX_WATCHERS}")
    log = lambda line: print(line, flush=True)  # noqa: E731
    deadline = time.monotonic() + args.timeout_min * 60
    table = QUICK if args.quick else SCENARIOS
    names = ("default", "long") if args.scenario == "both" else (args.scenario,)
    outcomes = []
    for name in names:
        outcome = run_scenario(table[name], args.watchers, deadline, log)
        outcomes.append(outcome)
        for line in outcome.lines():
            log(line)
    valid = [o for o in outcomes if o.slowdown == o.slowdown]  # not NaN
    worst = max(valid, key=lambda o: o.slowdown) if valid else outcomes[-1]
    errors = sum(len(o.alone.errors) + len(o.crowd.errors) for o in outcomes)
    log(
        f"the last line is the {'worse of the scenarios: ' if len(outcomes) > 1 else 'scenario '}"
        f"{worst.scenario.name}{' (quick)' if args.quick else ''}; target ≤ {TARGET}; errors={errors}"
    )
    log(f"watchers={args.watchers} slowdown={worst.slowdown:.2f}")


if __name__ == "__main__":
    main()
