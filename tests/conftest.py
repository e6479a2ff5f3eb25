"""Shared fixtures: the real CIFAR-10 sample, run stores, and one tiny real training run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cifar_core.data import Cifar10, load_local
from cifar_core.identity import owner_hash
from cifar_core.runs import RunStore
from harness.sample import sample_dir

REPO = Path(__file__).resolve().parents[1]
# No background warm-up (cifar_core/training/warmup.py) in the test process and the servers it starts:
# it would import TensorFlow and calibrate while other tests time things. The tests of the
# warm-up turn it on for their own server.
os.environ.setdefault("CIFAR_WARMUP", "0")

# The per-browser key (cifar_core.identity) of the student the tests play: `open_app` sessions
# have it unless a test gives another, and the `trained_store` run is theirs, so pages list it.
# A second student in a test gets their own (identity.new_key()).
TEST_OWNER_KEY = "the-test-students-browser-key-01"


@pytest.fixture(scope="session")
def cifar_dir() -> Path:
    path = sample_dir()
    if not path.exists():
        pytest.fail(f"The CIFAR-10 sample is missing at {path}; set CIFAR10_DIR.")
    return path


@pytest.fixture(scope="session")
def sample_data(cifar_dir: Path) -> Cifar10:
    """The real sample (5,085 train / 1,017 test images), read-only like in the app."""
    return load_local(cifar_dir).make_read_only()


@pytest.fixture(scope="session")
def cifar_sample_images(sample_data: Cifar10):
    """The first 16 real test images (uint8, (16, 32, 32, 3)) and their labels."""
    return sample_data.x_test[:16], sample_data.y_test[:16]


@pytest.fixture()
def tmp_store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory, sample_data: Cifar10) -> RunStore:
    """A run store holding one finished run: the deep model, 300 real images, 1 epoch."""
    from cifar_core.training import TrainConfig, TrainingJob
    from cifar_core.training.queue import JobManager, wait_for

    store = RunStore(tmp_path_factory.mktemp("trained") / "runs")
    config = TrainConfig(model="deep", train_size=300, epochs=1, batch_size=64, seed=1)
    job = TrainingJob(config, sample_data, store)
    job.add_owner(owner_hash(TEST_OWNER_KEY))  # the test student's run (see open_app)
    job = JobManager(1).submit(job)
    assert wait_for(job, timeout=300), "the tiny training did not finish in 5 minutes"
    assert job.monitor.snapshot().status == "finished", job.monitor.snapshot().message
    return store


@pytest.fixture()
def app_env(monkeypatch: pytest.MonkeyPatch, cifar_dir: Path, tmp_path: Path) -> Path:
    """Point the app at the real sample and an empty runs folder; returns the runs folder."""
    runs = tmp_path / "app-runs"
    monkeypatch.setenv("CIFAR10_DIR", str(cifar_dir))
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(runs))
    return runs


def open_app(page: str | None = None, timeout: float = 60, session_state: dict | None = None):
    """An AppTest of app.py, run once, switched to `page` (e.g. "pages/train.py") if given.

    Args:
        session_state: values put into the session before the first run. The session's
            per-browser key (ui.common.OWNER_KEY) is TEST_OWNER_KEY unless given here.
    """
    from streamlit.testing.v1 import AppTest

    from ui.common import OWNER_KEY

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    for key, value in {OWNER_KEY: TEST_OWNER_KEY, **(session_state or {})}.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `browser` need Chromium: skipped without it, failed under CI=true.

    Before any fixture, so no server starts for a test that cannot run.
    """
    if item.get_closest_marker("browser") is not None:
        from harness.browser import require_chromium

        require_chromium()


def wait_until(predicate, timeout: float = 120.0, every: float = 0.05) -> None:
    """Poll `predicate` until it is true; fail the test after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def chart_values(at) -> list[list[dict]]:
    """The data rows of every Vega-Lite chart on an AppTest page (Streamlit ships them as Arrow)."""
    import json

    import pyarrow as pa

    charts = []
    for element in at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart"):
        proto = element.proto
        rows: list[dict] = []
        if proto.data.data:
            rows += pa.ipc.open_stream(proto.data.data).read_all().to_pylist()
        for named in proto.datasets:
            rows += pa.ipc.open_stream(named.data.data).read_all().to_pylist()
        rows += json.loads(proto.spec).get("data", {}).get("values", [])
        charts.append(rows)
    return charts
