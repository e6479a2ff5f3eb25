"""A real server and a real browser: `streamlit run` on a free port, Debian's headless Chromium.

Used by the tests marked `browser` (and by the benches):

    with streamlit_server({"CIFAR_RUNS_DIR": str(tmp_path)}) as base_url, sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page()
        page.goto(f"{base_url}/bias-privacy")
        wait_for_app(page)

Without Chromium, tests marked `browser` are skipped with the install hint, but fail under
CI (`CI=true`): tests/conftest.py calls `require_chromium` before each of them.

Benches that measure the server itself use `streamlit_process`, which also yields the server's
`subprocess.Popen`, and read its memory with `rss_mb` / `peak_rss_mb` (Linux /proc).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "app.py"

# Debian's chromium (apt-get install -y chromium); `playwright install` cannot download here.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_HINT = "`apt-get install -y chromium`, or set CHROMIUM_PATH to a Chromium binary"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)

HEALTH_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
START_ATTEMPTS = 3  # a free port can be taken between choosing it and Streamlit binding it
NAV_SETTLE_S = 10.0
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


class ServerError(RuntimeError):
    """`streamlit run` exited or never answered its health check."""


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read_log(log: IO[bytes], limit: int = 4000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-limit:]


def _stop(proc: subprocess.Popen) -> None:
    # Only the server this helper started: ask it to stop, then insist.
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def wait_for_health(
    base_url: str,
    proc: subprocess.Popen,
    log: IO[bytes],
    timeout: float = HEALTH_TIMEOUT_S,
    poll_s: float = 0.25,
) -> None:
    """Poll `/_stcore/health` every `poll_s` seconds until it answers "ok".

    Raises:
        ServerError: if the process exits first or the timeout passes (with its output).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"streamlit exited with {proc.returncode}:\n{_read_log(log)}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(poll_s)
    raise ServerError(f"no health answer from {base_url} in {timeout:.0f} s:\n{_read_log(log)}")


@contextmanager
def streamlit_process(
    env_overrides: Mapping[str, str] | None = None,
    *,
    app: Path = APP,
    extra_args: Sequence[str] = (),
    timeout: float = HEALTH_TIMEOUT_S,
    log_path: Path | None = None,
    health_poll_s: float = 0.25,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `streamlit run app` headless on a free port; yield its URL and process; always stop it.

    The process is `python -m streamlit run …` itself (started without a shell), so its pid is
    the server's: `rss_mb(proc.pid)` is the server's memory.

    Args:
        env_overrides: environment variables to set for the server (e.g. CIFAR_RUNS_DIR).
        app: the script to serve.
        extra_args: more `streamlit run` options, e.g. ("--server.maxUploadSize", "5").
        timeout: seconds to wait for the health check.
        log_path: keep the server's output in this file (default: a temporary file).
        health_poll_s: seconds between health checks (smaller for cold-start timing).

    Yields:
        ("http://127.0.0.1:<port>", the server's Popen).

    Raises:
        ServerError: if the server does not come up (its output is in the message).
    """
    env = {**os.environ, **(env_overrides or {})}
    last_error: ServerError | None = None
    for _ in range(START_ATTEMPTS):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(app),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--server.port", str(port),
            "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false",
            *extra_args,
        ]  # fmt: skip
        with open(log_path, "w+b") if log_path else tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
            try:
                try:
                    wait_for_health(base_url, proc, log, timeout, health_poll_s)
                except ServerError as exc:
                    last_error = exc
                    if "already in use" in str(exc):
                        continue  # lost the port race: try another port
                    raise
                if not is_streamlit_server(proc.pid):  # e.g. a wrapper script in between
                    raise ServerError(f"pid {proc.pid} is not `streamlit run`")
                yield base_url, proc
                return
            finally:
                _stop(proc)
    raise last_error or ServerError("streamlit did not start")


@contextmanager
def streamlit_server(
    env_overrides: Mapping[str, str] | None = None,
    *,
    app: Path = APP,
    extra_args: Sequence[str] = (),
    timeout: float = HEALTH_TIMEOUT_S,
) -> Iterator[str]:
    """Run `streamlit run app` headless on a free port; yield its base URL; always stop it.

    Args:
        env_overrides: environment variables to set for the server (e.g. CIFAR_RUNS_DIR).
        app: the script to serve.
        extra_args: more `streamlit run` options, e.g. ("--server.maxUploadSize", "5").
        timeout: seconds to wait for the health check.

    Yields:
        "http://127.0.0.1:<port>".

    Raises:
        ServerError: if the server does not come up (its output is in the message).
    """
    server = streamlit_process(env_overrides, app=app, extra_args=extra_args, timeout=timeout)
    with server as (base_url, _proc):
        yield base_url


def _status_mb(pid: int, field: str) -> float:
    # /proc/<pid>/status reports memory in kB, e.g. "VmRSS:\t  123456 kB".
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise ProcessLookupError(f"no {field} for pid {pid} (a kernel thread or a zombie?)")


def rss_mb(pid: int) -> float:
    """Resident memory of a process right now (VmRSS), in MB.

    Raises:
        OSError: if the process is gone.
    """
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process since it started (VmHWM), in MB.

    Raises:
        OSError: if the process is gone.
    """
    return _status_mb(pid, "VmHWM")


def maps_contain(pid: int, needle: str) -> bool:
    """True if a file whose path contains `needle` is mapped into the process.

    E.g. `maps_contain(pid, "libtensorflow")` tells whether TensorFlow was imported there.

    Raises:
        OSError: if the process is gone.
    """
    with open(f"/proc/{pid}/maps") as maps:
        return any(needle in line for line in maps)


def is_streamlit_server(pid: int) -> bool:
    """True if the process runs `… streamlit run …` (its command line, from /proc)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"streamlit" in b" ".join(args) and b"run" in args


def on_ci(env: Mapping[str, str] | None = None) -> bool:
    """True under CI: $CI is "true" (GitHub, GitLab and most others set it), "1" or "yes"."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() in ("true", "1", "yes")


def chromium_missing(path: str | Path | None = None) -> str | None:
    """Why the browser tests cannot run here (with how to fix it), or None if they can."""
    path = Path(CHROMIUM if path is None else path)
    if path.is_file() and os.access(path, os.X_OK):
        return None
    return f"No Chromium at {path}: {CHROMIUM_HINT}."


def require_chromium(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> None:
    """For tests marked `browser` (tests/conftest.py calls it before each): skip the test when
    Chromium is missing, with the install hint; under CI (`on_ci`) fail it instead, so a CI
    machine without Chromium never passes by skipping every browser test.

    Args:
        path: the Chromium binary (default CHROMIUM, i.e. $CHROMIUM_PATH or /usr/bin/chromium).
        env: the environment to read $CI from (default os.environ).
    """
    import pytest

    problem = chromium_missing(path)
    if problem is None:
        return
    if on_ci(env):
        pytest.fail(f"{problem} Under CI (CI=true) the browser tests must run.", pytrace=False)
    pytest.skip(problem)


def launch_browser(playwright: Any, **kwargs: Any) -> Any:
    """Headless Debian Chromium through Playwright's sync API.

    Raises:
        FileNotFoundError: if Chromium is not installed (with how to install it).
    """
    problem = chromium_missing()
    if problem:
        raise FileNotFoundError(problem)
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), headless=True, **kwargs
    )


@contextmanager
def app_in_browser(
    runs: Path | str,
    env_overrides: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[tuple[str, Any]]:
    """The app on the real sample with `runs` as its run store, and a headless Chromium.

    What every browser test starts with: `streamlit run` (CIFAR10_DIR = the sample,
    CIFAR_RUNS_DIR = runs, plus env_overrides; extra_args for `streamlit run`, e.g. a secrets
    file), Playwright, and Chromium, all stopped after.

    Yields:
        (base URL of the server, the Playwright browser).
    """
    from playwright.sync_api import sync_playwright

    from harness.sample import sample_dir

    env = {"CIFAR10_DIR": str(sample_dir()), "CIFAR_RUNS_DIR": str(runs), **(env_overrides or {})}
    with (
        streamlit_server(env, extra_args=extra_args) as base_url,
        sync_playwright() as playwright,
    ):
        browser = launch_browser(playwright)
        try:
            yield base_url, browser
        finally:
            browser.close()


def wait_for_app(page: Any, timeout_ms: float = 60_000) -> None:
    """Wait until the Streamlit script has finished running in the page."""
    page.wait_for_selector(APP_IDLE, timeout=timeout_ms)


def open_app_page(page: Any, base_url: str, url_path: str, nav_label: str) -> None:
    """Open one page of the app by its direct link, as a shared link would, and check it.

    On a fresh server Streamlit could treat the `pages/` folder as an old-style multipage
    app (a "Page not found" modal, or the page run without app.py and a sidebar listing every
    file); ui/compat.require_app_navigation prevents that. This asserts it stays so:
    no modal, the URL kept, and the sidebar showing app.py's navigation with this page.

    Args:
        page: a Playwright page.
        base_url: from streamlit_server.
        url_path: the page's url_path, e.g. "bias_privacy".
        nav_label: the page's title in the sidebar navigation, e.g. "Bias & privacy".
    """
    page.goto(f"{base_url}/{url_path}")
    wait_for_app(page)
    text = app_navigation_text(page, nav_label)
    wait_for_app(page)
    assert page.get_by_role("dialog").count() == 0, page.get_by_role("dialog").first.inner_text()
    assert page.url.rstrip("/").endswith(f"/{url_path}"), page.url
    assert is_app_navigation(text, nav_label), text


def is_app_navigation(nav_text: str, nav_label: str = "Home") -> bool:
    """Whether a sidebar's text is app.py's navigation (the old multipage mode says "home")."""
    return nav_label in nav_text and "Home" in nav_text


def app_navigation_text(page: Any, nav_label: str = "Home") -> str:
    """The sidebar navigation's text once it is app.py's, or as it is after NAV_SETTLE_S.

    A page opened in Streamlit's old multipage mode hands over to app.py's navigation in one
    rerun (ui/compat.require_app_navigation); on a busy machine the page can look idle for a
    moment in between, so this gives app.py's navigation a few seconds to arrive.
    """
    nav = page.locator('[data-testid="stSidebarNav"]')
    deadline = time.monotonic() + NAV_SETTLE_S
    while True:
        text = nav.inner_text() if nav.count() else "(no sidebar navigation)"
        if is_app_navigation(text, nav_label) or time.monotonic() > deadline:
            return text
        page.wait_for_timeout(250)


def set_slider(page: Any, key: str, presses_from_min: int) -> None:
    """Move a keyed slider to its minimum, then `presses_from_min` steps right (keyboard only)."""
    thumb = page.locator(f".st-key-{key}").get_by_role("slider")
    thumb.focus()
    page.keyboard.press("Home")
    for _ in range(presses_from_min):
        page.keyboard.press("ArrowRight")
    wait_for_app(page)
