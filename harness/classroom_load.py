"""The classroom load runner: N students open the app at once, K of them press Train.

Starts `streamlit run` on 127.0.0.1 with the real CIFAR-10 sample and an empty runs folder,
then opens N sessions as browser contexts of ONE headless Chromium (each context is a
separate Streamlit session, like a student's laptop). K of them set a tiny config on the
Train page with the keyboard and press Train: half with identical settings (same seed), half
with their own seed. The others open one page each (Home and the lesson's pages in turn) and
stay. Every page carries a small watcher script that timestamps, in the page itself, when it
rendered, its first live training point, its result, and any exception, so the Python side
only reads those records round-robin and a slow poll does not blur the timings.

`run_load` measures it once; `report` prints a per-session table and summary lines, the last
one `lost=<runs requested but not finished or saved> errors=<n> peak_rss_mb=<server peak>`.
Bounded: at most MAX_SESSIONS sessions and a global deadline; always closes the browser and
stops the server. `python -m bench.classroom_load` runs a full class (20 sessions by
default); tests/test_classroom_load.py a small one.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cifar_core import constants as C
from harness.browser import (
    APP_IDLE,
    app_navigation_text,
    is_app_navigation,
    launch_browser,
    peak_rss_mb,
    rss_mb,
    set_slider,
    streamlit_process,
    wait_for_app,
)
from harness.proc import descendants, machine_busy_ticks, process_cpu, pss_mb
from harness.sample import sample_dir

MAX_SESSIONS = 40  # one Chromium on 2 cores: beyond this the browser, not the app, is measured
SAME_SEED = 7  # the identical config's seed; the others get DIFF_SEED_BASE + i
DIFF_SEED_BASE = 1000
RSS_EVERY_S = 0.5
BROWSER_EVERY_S = 2.0
POLL_EVERY_S = 1.0  # one round-robin pass over the sessions still training
IDLE_CHECK_EVERY_S = 10.0
OPEN_TIMEOUT_S = 120.0
CLICK_SEEN_TIMEOUT_S = 60.0  # the Training section must appear this soon after the click
CONNECTION_LOST_TICKS = 40  # 40 × 250 ms = 10 s showing "connecting" after rendering: an error
VIEWPORT = {"width": 1200, "height": 900}

# Runs in every page (each context): timestamps what the student would see, 4 times a second.
WATCHER_JS = r"""
(() => {
  if (window.__load) return;
  const s = (window.__load = {
    rendered: null, trainingSeen: null, firstPoint: null, result: null, accuracy: null,
    final: null, finalText: null, exception: null, dialog: null, maxQueue: 0, shared: false,
    state: "", connTicks: 0,
  });
  const CHART = '[data-testid="stVegaLiteChart"]';
  const heading = (text) =>
    [...document.querySelectorAll("h2")].find((h) => h.textContent.trim().startsWith(text));
  const inSection = (el, start, end) =>
    (start.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) &&
    (!end || end.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING);
  const check = () => {
    if (!document.body) return;
    const now = Date.now();
    if (!s.rendered && document.querySelector('APP_IDLE') && document.querySelector("h1"))
      s.rendered = now;
    const exc = document.querySelector('[data-testid="stException"]');
    if (exc && !s.exception) s.exception = exc.textContent.slice(0, 300);
    const dialog = document.querySelector('[role="dialog"]');
    if (dialog && !s.dialog) s.dialog = dialog.textContent.slice(0, 200);
    if (s.rendered && document.querySelector('[data-testid="stConnectionStatus"]')) s.connTicks += 1;
    const toast = document.querySelector('[data-testid="stToast"]');
    if (toast && /joined that run/.test(toast.textContent)) s.shared = true;
    const start = heading("Training");
    if (!start) return;
    s.trainingSeen = s.trainingSeen || now;
    const end = heading("Results");
    const within = (sel) =>
      [...document.querySelectorAll(sel)].filter((el) => inSection(el, start, end));
    const text = within('[data-testid="stElementContainer"]').map((el) => el.textContent).join("\n");
    if (/Shared run/.test(text)) s.shared = true;
    const queue = text.match(/number (\d+) in the queue/);
    if (queue) s.maxQueue = Math.max(s.maxQueue, Number(queue[1]));
    const bar = within('[data-testid="stProgress"]')[0];
    const batch = bar && bar.textContent.match(/batch (\d+)\//);
    s.state = queue ? `queued #${queue[1]}` : batch ? `batch ${batch[1]}` :
      /Preparing/.test(text) ? "preparing" : /scoring/.test(text) ? "evaluating" :
      /Saving/.test(text) ? "saving" : "started";
    if (!s.firstPoint && ((batch && Number(batch[1]) >= 1) || within(CHART).length))
      s.firstPoint = now;
    if (!s.final) {
      if (/Training failed|Failed\./.test(text)) s.final = "failed";
      else if (/Stopped early/.test(text)) s.final = "stopped";
      else if (/Cancelled before/.test(text)) s.final = "cancelled";
      if (s.final) s.finalText = text.slice(-300);
    }
    const metric = [...document.querySelectorAll('[data-testid="stMetric"]')].find((m) =>
      m.textContent.includes("Test accuracy"));
    if (!s.result && /Finished\./.test(text) && metric) {
      s.result = now;
      s.final = "finished";
      const value = metric.querySelector('[data-testid="stMetricValue"]');
      s.accuracy = (value || metric).textContent.trim();
      s.firstPoint = s.firstPoint || now;
    }
  };
  setInterval(check, 250);
})();
""".replace("APP_IDLE", APP_IDLE.replace("'", '"'))


@dataclass(frozen=True)
class Phase:
    """One step of the test: wall time, and CPU seconds the server and the browser used."""

    name: str
    wall_s: float
    server_cpu_s: float
    browser_cpu_s: float

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.wall_s:.0f} s wall, server CPU {self.server_cpu_s:.0f} s, "
            f"browser CPU {self.browser_cpu_s:.0f} s"
        )


@dataclass
class Session:
    """One student: a browser context, what it does, and what it saw (times in s)."""

    index: int
    role: str  # "same" / "diff" (pressed Train) or "idle"
    url_path: str
    title: str
    seed: int | None = None
    page: object = field(default=None, repr=False)
    goto_at: float | None = None  # wall clock (time.time()), comparable with Date.now()
    click_at: float | None = None
    open_s: float | None = None
    first_point_s: float | None = None
    result_s: float | None = None
    accuracy: str = ""
    final: str = ""
    max_queue: int = 0
    state: str = ""  # what the Training section showed last (queued #n, batch k, …)
    shared: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def trains(self) -> bool:
        return self.role != "idle"


@dataclass
class LoadResult:
    """What one load test measured."""

    sessions: list[Session]
    train_size: int
    epochs: int
    saved: Saved  # the runs folder at the end
    lost: int
    errors: int
    peak_rss_mb: float  # the server's VmHWM (≥ every sampled VmRSS)
    max_sampled_rss_mb: float
    rss_at_idle_mb: float  # after every page opened, before any Train
    server_cpu_s: float
    browser_cpu_s: float
    browser_peak_pss_mb: float
    machine_busy: float  # fraction of all cores busy during the test
    wall_s: float
    server_errors: list[str]
    phases: list[Phase]

    @property
    def train_sessions(self) -> list[Session]:
        return [s for s in self.sessions if s.trains]

    @property
    def saved_seeds(self) -> set[int]:
        """Seeds of the finished runs saved (each requested config's seed should be here)."""
        return self.saved.seeds


# --- sampling the server and the browser ----------------------------------------------------


class Sampler(threading.Thread):
    """Samples the server's VmRSS every RSS_EVERY_S and the browser's PSS and CPU now and then."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.server_pid = server_pid
        self.stop_event = threading.Event()
        self.max_rss = 0.0
        self.browser_pss = 0.0
        self.browser_cpu: dict[int, float] = {}  # pid → latest CPU seconds (kept when it exits)
        self.phases: list[Phase] = []
        self._lock = threading.Lock()
        self._last_mark: tuple[float, float, float] | None = None

    def run(self) -> None:
        next_browser = 0.0
        while not self.stop_event.wait(RSS_EVERY_S):
            try:
                self.max_rss = max(self.max_rss, rss_mb(self.server_pid))
            except OSError:
                return  # the server is gone
            if time.monotonic() >= next_browser:
                next_browser = time.monotonic() + BROWSER_EVERY_S
                self.sample_browser()

    def sample_browser(self) -> None:
        """Add up the PSS and CPU time of this process's Chromium processes."""
        pss, cpu = 0.0, {}
        for pid in descendants(os.getpid()):
            try:
                if b"chrom" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                pss += pss_mb(pid)
                cpu[pid] = process_cpu(pid)
            except OSError:
                continue
        with self._lock:
            self.browser_cpu.update(cpu)
            self.browser_pss = max(self.browser_pss, pss)

    def cpu_now(self) -> tuple[float, float]:
        """(server CPU s, browser CPU s) so far."""
        self.sample_browser()
        with self._lock:
            browser = sum(self.browser_cpu.values())
        try:
            return process_cpu(self.server_pid), browser
        except OSError:
            return (self._last_mark or (0.0, 0.0, 0.0))[1], browser

    def mark(self, name: str) -> Phase:
        """Close the phase that ended now: its wall time and who used the CPU during it."""
        now, (server, browser) = time.monotonic(), self.cpu_now()
        start = self._last_mark or (now, server, browser)
        phase = Phase(name, now - start[0], server - start[1], browser - start[2])
        self._last_mark = (now, server, browser)
        if name:
            self.phases.append(phase)
        return phase


# --- the sessions ---------------------------------------------------------------------------


def plan_sessions(sessions: int, train_sessions: int) -> list[Session]:
    """Who does what: the first K press Train (identical seed first), the rest idle on pages."""
    from ui.common import available_steps

    pages = [("", "Home")] + [(step.url_path, step.title) for step in available_steps()]
    n_same = (train_sessions + 1) // 2
    plan = []
    for i in range(sessions):
        if i < train_sessions:
            same = i < n_same
            seed = SAME_SEED if same else DIFF_SEED_BASE + i
            plan.append(Session(i, "same" if same else "diff", "train", "Train", seed))
        else:
            url_path, title = pages[(i - train_sessions) % len(pages)]
            plan.append(Session(i, "idle", url_path, title))
    return plan


def read_watch(session: Session) -> dict:
    """The page's watcher record, or {} (with an error noted) when the page cannot answer."""
    try:
        return session.page.evaluate("() => window.__load || {}") or {}
    except Exception as exc:  # noqa: BLE001 — a crashed or closed page is a finding, not a crash
        message = f"page unreadable: {type(exc).__name__}: {str(exc)[:120]}"
        if message not in session.errors:
            session.errors.append(message)
        return {}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def update(session: Session, watch: dict) -> None:
    """Copy the watcher's timestamps (ms since epoch) into the session as seconds."""
    if watch.get("rendered") and session.goto_at and session.open_s is None:
        session.open_s = watch["rendered"] / 1000 - session.goto_at
    if session.click_at:
        if watch.get("firstPoint") and session.first_point_s is None:
            session.first_point_s = max(0.0, watch["firstPoint"] / 1000 - session.click_at)
        if watch.get("result") and session.result_s is None:
            session.result_s = max(0.0, watch["result"] / 1000 - session.click_at)
    session.accuracy = watch.get("accuracy") or session.accuracy
    session.final = watch.get("final") or session.final
    session.max_queue = max(session.max_queue, watch.get("maxQueue") or 0)
    session.state = watch.get("final") or watch.get("state") or session.state
    session.shared = session.shared or bool(watch.get("shared"))
    for key, label in (("exception", "exception"), ("dialog", "dialog")):
        if watch.get(key):
            note = f"{label}: {_one_line(watch[key])[:160]}"
            if note not in session.errors:
                session.errors.append(note)
    if (watch.get("connTicks") or 0) >= CONNECTION_LOST_TICKS:
        note = "connection to the server lost for ≥ 10 s"
        if note not in session.errors:
            session.errors.append(note)
    if watch.get("final") in ("failed", "stopped", "cancelled"):
        note = f"run {watch['final']}: {_one_line(watch.get('finalText') or '')[-160:]}"
        if note not in session.errors:
            session.errors.append(note)


def open_all(browser, base_url: str, plan: list[Session], deadline: float) -> None:
    """Every student opens their page at about the same moment, then each waits to render."""
    for session in plan:
        context = browser.new_context(viewport=VIEWPORT)
        context.add_init_script(WATCHER_JS)
        page = context.new_page()
        page.on("pageerror", lambda exc, s=session: s.errors.append(f"page error: {exc}"[:200]))
        session.page = page
        session.goto_at = time.time()
        try:
            page.goto(f"{base_url}/{session.url_path}", wait_until="commit", timeout=60_000)
        except Exception as exc:  # noqa: BLE001
            session.errors.append(f"open failed: {type(exc).__name__}: {str(exc)[:120]}")
    for session in plan:
        if session.errors:
            continue
        timeout_ms = 1000 * max(1.0, min(OPEN_TIMEOUT_S, deadline - time.monotonic()))
        try:
            wait_for_app(session.page, timeout_ms=timeout_ms)
            session.page.wait_for_selector("h1", timeout=timeout_ms)
        except Exception as exc:  # noqa: BLE001
            session.errors.append(f"open timeout: {type(exc).__name__}")
        else:  # a page left in Streamlit's old multipage mode is swapped on the next click
            nav = app_navigation_text(session.page, session.title)
            if not is_app_navigation(nav, session.title):
                session.errors.append(f"outside app.py's navigation: {_one_line(nav)[:120]}")
        update(session, read_watch(session))


def configure(session: Session, train_size: int, epochs: int) -> None:
    """Set the tiny config with the keyboard, as a student would (deep model is the default)."""
    page = session.page
    page.wait_for_selector(".st-key-train_start", timeout=OPEN_TIMEOUT_S * 1000)
    deep = page.locator(".st-key-train_model").get_by_text(C.MODEL_LABELS["deep"])
    if not page.locator(".st-key-train_model input[type=radio]").nth(1).is_checked():
        deep.click()
        wait_for_app(page)
    set_slider(page, "train_size", (train_size - C.TRAIN_SIZE_MIN) // C.TRAIN_SIZE_STEP)
    set_slider(page, "train_epochs", epochs - C.EPOCHS_MIN)
    seed_box = page.locator(".st-key-train_seed input")
    seed_box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(session.seed))
    page.keyboard.press("Enter")
    wait_for_app(page)
    for key, want in (("train_size", train_size), ("train_epochs", epochs)):
        got = (
            page.locator(f".st-key-{key}").get_by_role("slider").input_value()
        )  # <input type=range>
        if got != str(want):
            raise RuntimeError(f"{key} is {got}, not {want}: a key press was lost")
    if seed_box.input_value() != str(session.seed):
        raise RuntimeError(f"seed not applied: {seed_box.input_value()!r}")


@dataclass
class Saved:
    """What the runs folder holds at the end."""

    finished: int = 0
    seeds: set[int] = field(default_factory=set)
    accuracy: dict[int, list[float]] = field(default_factory=dict)  # seed → test accuracies
    problems: list[str] = field(default_factory=list)


def count_saved(runs_dir: Path, train_size: int, epochs: int) -> Saved:
    """Finished runs in the runs folder; a run with other settings than requested is a problem."""
    saved = Saved()
    for folder in sorted(runs_dir.glob("*/")) if runs_dir.is_dir() else []:
        try:
            status = json.loads((folder / "status.json").read_text())
            config = json.loads((folder / "config.json").read_text())
            result_file = folder / "result.json"
            result = json.loads(result_file.read_text()) if result_file.exists() else {}
        except (OSError, ValueError) as exc:
            saved.problems.append(f"run {folder.name} unreadable: {exc}")
            continue
        if status.get("status") != "finished":
            if status.get("status") != "running":  # still running at the deadline: counted as lost
                saved.problems.append(
                    f"run {folder.name} {status.get('status')}: {status.get('message')}"
                )
            continue
        got = (config.get("model"), config.get("train_size"), config.get("epochs"))
        if got != ("deep", train_size, epochs):
            saved.problems.append(
                f"run {folder.name} trained {got}, not deep/{train_size}/{epochs}"
            )
        seed = int(config.get("seed", -1))
        saved.finished += 1
        saved.seeds.add(seed)
        saved.accuracy.setdefault(seed, []).append(result.get("test_accuracy", float("nan")))
    return saved


def server_errors(log_path: Path, upto: int) -> list[str]:
    """Tracebacks the server printed in its first `upto` bytes of output (each one's last line).

    Output after the browser closed is left out: a server still sending to the closed pages
    logs WebSocketDisconnected there, which says nothing about the app.
    """
    with open(log_path, "rb") as log:
        text = log.read(upto).decode(errors="replace")
    found = []
    for block in text.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in block.splitlines() if line and not line.startswith(" ")]
        found.append(lines[0][:200] if lines else "Traceback")
    return found


def run_load(
    sessions: int = 20,
    train_sessions: int = 10,
    timeout_min: float = 15.0,
    train_size: int = 300,
    epochs: int = 1,
    log=print,
) -> LoadResult:
    """Run the classroom load test once; see the module docstring.

    Args:
        sessions: browser sessions (students), at most MAX_SESSIONS.
        train_sessions: how many of them press Train (half identical, half different seeds).
        timeout_min: global deadline for the whole test, in minutes.
        train_size, epochs: the tiny config every Train press uses (deep model).
        log: where progress lines go (print by default).

    Returns:
        The measurements; `lost`, `errors` and `peak_rss_mb` are the headline figures.
    """
    from playwright.sync_api import sync_playwright

    if not 1 <= sessions <= MAX_SESSIONS or not 0 <= train_sessions <= sessions:
        raise ValueError(f"need 1 ≤ train sessions ≤ sessions ≤ {MAX_SESSIONS}")
    if train_size % C.TRAIN_SIZE_STEP or train_size < C.TRAIN_SIZE_MIN:
        raise ValueError(f"train size must be a multiple of {C.TRAIN_SIZE_STEP}")
    deadline = time.monotonic() + timeout_min * 60
    started = time.monotonic()
    plan = plan_sessions(sessions, train_sessions)
    with tempfile.TemporaryDirectory(prefix="classroom-") as tmp:
        runs_dir, log_path = Path(tmp) / "runs", Path(tmp) / "server.log"
        env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(runs_dir)}
        with streamlit_process(env, log_path=log_path) as (base_url, proc):
            sampler = Sampler(proc.pid)
            busy_before = machine_busy_ticks()
            sampler.start()
            try:
                with sync_playwright() as p:
                    browser = launch_browser(p)
                    try:
                        rss_at_idle = drive(
                            browser, base_url, sampler, plan, (train_size, epochs), deadline, log
                        )
                    finally:
                        log_cut = log_path.stat().st_size  # what follows is teardown noise
                        browser.close()
                sampler.sample_browser()
                peak = peak_rss_mb(proc.pid)
                server_cpu = process_cpu(proc.pid)
            finally:
                sampler.stop_event.set()
                sampler.join(timeout=5)
            busy_after = machine_busy_ticks()
        saved = count_saved(runs_dir, train_size, epochs)
        for session in plan:  # the accuracy a student saw must be the saved run's of their config
            shown = {f"{a:.1%}" for a in saved.accuracy.get(session.seed, [])}
            if session.accuracy and shown and session.accuracy not in shown:
                session.errors.append(f"shows {session.accuracy}, its run saved {sorted(shown)}")
        errors_in_log = server_errors(log_path, log_cut)
    busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
    lost = sum(1 for s in plan if s.trains and (s.result_s is None or s.seed not in saved.seeds))
    errors = sum(len(s.errors) for s in plan) + len(errors_in_log) + len(saved.problems)
    return LoadResult(
        sessions=plan,
        train_size=train_size,
        epochs=epochs,
        saved=saved,
        lost=lost,
        errors=errors,
        peak_rss_mb=max(peak, sampler.max_rss),
        max_sampled_rss_mb=sampler.max_rss,
        rss_at_idle_mb=rss_at_idle,
        server_cpu_s=server_cpu,
        browser_cpu_s=sum(sampler.browser_cpu.values()),
        browser_peak_pss_mb=sampler.browser_pss,
        machine_busy=busy,
        wall_s=time.monotonic() - started,
        server_errors=errors_in_log,
        phases=sampler.phases,
    )


def drive(browser, base_url, sampler, plan, config, deadline, log) -> float:
    """Open every session, configure and press Train in the trainers, poll until done.

    Returns:
        The server's RSS (MB) with every page open and configured, just before Train.
    """
    t0, server_pid = time.monotonic(), sampler.server_pid
    sampler.mark("")  # phases are measured from here
    open_all(browser, base_url, plan, deadline)
    log(f"phase {sampler.mark(f'open {len(plan)} pages')}")
    trainers = [s for s in plan if s.trains and not s.errors]
    for session in trainers:
        if time.monotonic() > deadline:
            session.errors.append("timeout: deadline passed before configuring")
            continue
        try:
            configure(session, *config)
        except Exception as exc:  # noqa: BLE001
            session.errors.append(f"configure failed: {type(exc).__name__}: {str(exc)[:160]}")
    rss_at_idle = rss_mb(server_pid)
    log(f"phase {sampler.mark(f'configure {len(trainers)} trainers')}")
    # Everyone presses Train at about the same moment (clicks only, no waiting in between).
    for session in trainers:
        if session.errors:
            continue
        try:
            session.click_at = time.time()
            session.page.locator(".st-key-train_start").get_by_role("button").click()
        except Exception as exc:  # noqa: BLE001
            session.errors.append(f"click failed: {type(exc).__name__}: {str(exc)[:120]}")
    log(f"pressed Train in {sum(1 for s in trainers if s.click_at)} sessions")
    pending = [s for s in trainers if s.click_at and not s.errors]
    next_idle_check = time.monotonic() + IDLE_CHECK_EVERY_S
    while pending and time.monotonic() < deadline:
        round_start = time.monotonic()
        for session in list(pending):
            watch = read_watch(session)
            update(session, watch)
            no_section = not watch.get("trainingSeen")
            if no_section and time.time() - session.click_at > CLICK_SEEN_TIMEOUT_S:
                session.errors.append("Train press not registered (no Training section)")
            if session.final or session.errors:
                pending.remove(session)
        if time.monotonic() >= next_idle_check:
            next_idle_check = time.monotonic() + IDLE_CHECK_EVERY_S
            for session in plan:
                if not session.trains:
                    update(session, read_watch(session))
            log(f"  {time.monotonic() - t0:5.0f} s: {progress_line(trainers, server_pid)}")
        time.sleep(max(0.0, POLL_EVERY_S - (time.monotonic() - round_start)))
    for session in pending:
        session.errors.append("timeout: no result before the deadline")
    log(f"phase {sampler.mark('train until all results')}")
    for session in plan:  # a last look at every page
        update(session, read_watch(session))
    return rss_at_idle


def progress_line(trainers: list[Session], server_pid: int) -> str:
    """E.g. '3/10 results; waiting: queued #2 ×4, batch 1 ×1; server 1040 MB'."""
    done = sum(1 for s in trainers if s.result_s is not None)
    states: dict[str, int] = {}
    for s in trainers:
        if s.result_s is None:
            states[s.state or "?"] = states.get(s.state or "?", 0) + 1
    waiting = ", ".join(f"{k} ×{v}" for k, v in sorted(states.items()))
    try:
        memory = f"{rss_mb(server_pid):.0f} MB"
    except OSError:
        memory = "gone"
    return f"{done}/{len(trainers)} results; others: {waiting or '-'}; server {memory}"


# --- report ---------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values):.1f} s, max {max(values):.1f} s (n={len(values)})"


def report(result: LoadResult, log=print) -> None:
    """The per-session table and the summary lines (the last one is the key figure)."""
    log(f"{'#':>2} {'role':5} {'page':17} {'seed':>5} {'open_s':>6} {'first_s':>7} "
        f"{'result_s':>8} {'queue':>5} {'shared':6} {'accuracy':8} {'last':10} errors")  # fmt: skip
    for s in result.sessions:
        log(f"{s.index:>2} {s.role:5} {s.title[:17]:17} {s.seed if s.seed is not None else '':>5} "
            f"{_fmt(s.open_s):>6} {_fmt(s.first_point_s):>7} {_fmt(s.result_s):>8} "
            f"{s.max_queue or '':>5} {'yes' if s.shared else '':6} {s.accuracy:8} {s.state[:10]:10} "
            f"{'; '.join(s.errors)}")  # fmt: skip
    trainers = result.train_sessions
    n_same = sum(1 for s in trainers if s.role == "same")
    distinct = len({s.seed for s in trainers})
    log(f"config: deep, {result.train_size} images, {result.epochs} epoch(s); "
        f"{len(result.sessions)} sessions, {len(trainers)} pressed Train "
        f"({n_same} identical, {len(trainers) - n_same} different)")  # fmt: skip
    log(f"open page: {_spread([s.open_s for s in result.sessions if s.open_s is not None])}")
    log(
        f"first chart point after Train: {_spread([s.first_point_s for s in trainers if s.first_point_s is not None])}"
    )
    log(f"result after Train: {_spread([s.result_s for s in trainers if s.result_s is not None])}")
    saved = result.saved
    log(f"runs saved finished: {saved.finished} for {distinct} distinct configs requested by "
        f"{len(trainers)} sessions (job sharing would make these equal)")  # fmt: skip
    by_seed = "; ".join(
        f"{seed}: {'/'.join(f'{a:.1%}' for a in accs)}"
        for seed, accs in sorted(saved.accuracy.items())
    )
    log(f"saved test accuracy by seed: {by_seed or '-'}")
    for seed, accs in sorted(saved.accuracy.items()):
        if len(set(accs)) > 1:
            log(f"NOT REPRODUCIBLE: seed {seed} gave {accs} with identical settings")
    for problem in saved.problems:
        log(f"run problem: {problem}")
    log(f"server: peak RSS (VmHWM) {result.peak_rss_mb:.0f} MB, max sampled VmRSS "
        f"{result.max_sampled_rss_mb:.0f} MB, RSS with all pages open before Train "
        f"{result.rss_at_idle_mb:.0f} MB, CPU {result.server_cpu_s:.0f} s")  # fmt: skip
    log(f"browser (one Chromium, {len(result.sessions)} contexts): peak PSS "
        f"{result.browser_peak_pss_mb:.0f} MB, CPU {result.browser_cpu_s:.0f} s; machine "
        f"{result.machine_busy:.0%} busy over {result.wall_s:.0f} s on {os.cpu_count()} cores")  # fmt: skip
    for phase in result.phases:
        log(f"phase {phase}")
    for line in result.server_errors:
        log(f"server traceback: {line}")
    log(f"lost={result.lost} errors={result.errors} peak_rss_mb={result.peak_rss_mb:.0f}")
