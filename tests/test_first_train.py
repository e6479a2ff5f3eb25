"""Issue 10: the first Train after a server start must not freeze the other students.

A real `streamlit run app.py`, started with the repository's own .streamlit/config.toml (no
command-line override, unlike harness.browser.streamlit_process, which turns the file
watcher off and so could never see this), driven by three sessions over the real websocket
(harness/st_client.py, no Chromium): one student on the Augmentation lab moving the rotation
slider back and forth, one pressing Train on a fresh server, and one pressing Train a moment
later, while TensorFlow imports. From the first click until the run is saved (TensorFlow's
import, the model build, the first fit steps, the checkpoint, evaluation, saving) every lab
preview, each click and the server's health check must answer within LIMIT_S.

What froze everyone: Streamlit's file watcher (server.fileWatcherType, default "auto")
rescans every module in sys.modules (realpath and isfile of each) on the server's one event
loop, after every script run of every session, whenever sys.modules changed since that
session's last scan. Importing Keras adds ~3,500 modules (0.4 s of CPU per scan, per session,
again and again while the import goes on), and imports later in the training (the first
checkpoint) start it over: here lab previews took up to 4.1 s, the Train click 2.8 s, the
health check 2 s. With `fileWatcherType = "none"` the worst preview is ~0.35–0.4 s: TensorFlow's
first extension module holds the GIL ~0.3 s while its libraries load, once per process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cifar_core.runs import RunStore
from harness.browser import REPO, free_port, is_streamlit_server, wait_for_health
from harness.st_client import StClient
from tests.conftest import sample_dir

pytest.importorskip("websockets")  # StClient's socket

TARGET_S = 0.5  # the target for a slider preview of the Augmentation lab
# Asserted: the target plus room for scheduling noise on a shared 2-core machine (under a load
# average of 4 from other work, previews reached 0.56–0.73 s with the fix; 2–4 s without).
LIMIT_S = 1.0
TRAINING_TIMEOUT_S = 240.0
PAUSE_S = 0.2  # between two slider moves, as a student dragging in steps
ROTATION = "aug_rotation_range"
# A short first training (still the deep net): long enough to cover every phase once.
PRESET = {"model": "deep", "train_size": 1000, "epochs": 2}


@contextmanager
def app_server(env_overrides: dict[str, str]) -> Iterator[str]:
    """`streamlit run app.py` as a deployment starts it: only the repository's config."""
    env = {**os.environ, **env_overrides}
    env.pop("STREAMLIT_SERVER_FILE_WATCHER_TYPE", None)  # the config file decides
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            wait_for_health(base_url, proc, log)
            assert is_streamlit_server(proc.pid)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


class HealthProbe:
    """Times /_stcore/health every 50 ms from a thread: the event loop's responsiveness."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "/_stcore/health"
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=35)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=30) as response:
                    response.read()
            except OSError:
                pass  # no answer in 30 s counts as a 30 s stall
            self.latencies.append(time.perf_counter() - start)
            self._stop.wait(0.05)


def saved_status(runs: Path) -> str | None:
    """The status of the first run in the store (None before the run folder exists)."""
    folders = {p.name for p in runs.iterdir()} if runs.is_dir() else set()
    infos = RunStore(runs).list_runs(active_ids=folders)  # the server's job is alive
    return infos[0].status if infos else None


async def first_training(base_url: str, runs: Path) -> dict:
    async with (
        StClient(base_url, "augmentation_lab", name="lab") as lab,
        StClient(base_url, "train", name="first") as first,
        StClient(base_url, "train", name="second") as second,
    ):
        sessions = (lab, first, second)
        for session in sessions:  # each page's first run (requested on connecting)
            await session.wait_rendered()
        values = [15.0, 0.0]  # the slider goes back and forth

        async def rotate(value: float) -> float:
            """Seconds from the slider move until the server finished that rerun."""
            move = lab.set_widget(ROTATION, double_array_value={"data": [value]})  # a list
            return await lab.timed(move)

        async def preview() -> float:
            seconds = await rotate(values[len(previews) % 2])
            assert lab.find(type="imgs"), lab.texts()
            return seconds

        previews: list[tuple[float, float]] = []
        before = [await rotate(values[i % 2]) for i in range(4)]
        with HealthProbe(base_url) as health:
            start = time.perf_counter()
            first_click = await first.timed(first.click("train_start"))
            second_click = None
            status = None
            while True:
                elapsed = time.perf_counter() - start
                status = saved_status(runs)
                if status not in (None, "running") or elapsed > TRAINING_TIMEOUT_S:
                    break
                if second_click is None and elapsed > 1.0:  # while TensorFlow imports
                    second_click = await second.timed(second.click("train_start"))
                previews.append((round(elapsed, 1), await preview()))
                await asyncio.sleep(PAUSE_S)
        return {
            "before": before,
            "previews": previews,
            "first_click": first_click,
            "second_click": second_click,
            "health": health.latencies,
            "status": status,
            "seconds": time.perf_counter() - start,
            "errors": {
                s.name: s.errors + s.exceptions for s in sessions if s.errors or s.exceptions
            },
        }


@pytest.mark.slow
def test_first_train_does_not_freeze_the_augmentation_lab(tmp_path: Path):
    runs = tmp_path / "runs"
    env = {
        "CIFAR10_DIR": str(sample_dir()),
        "CIFAR_RUNS_DIR": str(runs),
        "CIFAR_PRESET": json.dumps(PRESET),
    }
    with app_server(env) as base_url:
        r = asyncio.run(first_training(base_url, runs))

    assert not r["errors"], r["errors"]  # pages raised, the socket closed, media went missing
    assert r["status"] == "finished", (
        f"the first training ended {r['status']!r} after {r['seconds']:.0f} s"
    )
    previews = r["previews"]
    assert len(previews) >= 10, previews
    assert r["second_click"] is not None, "the second session never pressed Train"
    worst = max(s for _, s in previews)
    over = [(at, round(s, 2)) for at, s in previews if s > TARGET_S]
    stalls = {
        "slowest lab preview": worst,
        "first Train click": r["first_click"],
        "second Train click (while TensorFlow imported)": r["second_click"],
        "slowest health check (the event loop)": max(r["health"]),
    }
    too_slow = {what: round(seconds, 2) for what, seconds in stalls.items() if seconds > LIMIT_S}
    assert not too_slow, (
        f"over {LIMIT_S} s during the first training: {too_slow}; {len(over)} of "
        f"{len(previews)} previews over {TARGET_S} s ((seconds after the click, duration): "
        f"{over}); before the click: {[round(s, 2) for s in r['before']]}"
    )
