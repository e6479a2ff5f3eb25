"""Warm-up: get TensorFlow, the data set and the precision ready before the first Train click.

Without it the first student to press Train waits for `import tensorflow` (~3 s), the data
and the precision calibration (~5 s) before a single batch. The app starts this once per
server process, a few seconds after the first page has been drawn — so the home page itself
never waits for TensorFlow and does not load it — in a background thread that does what the
first training would do anyway. A training that starts meanwhile simply waits for the same
locks (Python's import lock, the data set's, the calibration's) instead of doing it twice.

Off with $CIFAR_WARMUP=0 (the test suite's in-process app tests turn it off).
"""

from __future__ import annotations

import logging
import threading
import time

from cifar_core import constants as C
from cifar_core import settings
from cifar_core.constants import WARMUP_DELAY_S

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_started = False
# What the warm-up did, for tests and the server log: step → seconds, or "error: …".
steps: dict[str, float | str] = {}
done = threading.Event()


def enabled() -> bool:
    return settings.value(settings.WARMUP).lower() not in ("0", "false", "no", "off")


def start(delay_s: float = WARMUP_DELAY_S) -> bool:
    """Start the warm-up once per process (after `delay_s`); True if this call started it."""
    global _started
    if not enabled():
        return False
    with _LOCK:
        if _started:
            return False
        _started = True
    timer = threading.Timer(delay_s, warm_up)
    timer.name, timer.daemon = "warm-up", True
    timer.start()
    return True


def _step(name: str, action) -> None:
    start = time.perf_counter()
    try:
        action()
    except Exception as exc:  # noqa: BLE001 — a failed warm-up only means a slower first run
        steps[name] = f"error: {type(exc).__name__}: {exc}"
        log.warning("Warm-up step %s failed (the first run will do it): %s", name, exc)
    else:
        steps[name] = round(time.perf_counter() - start, 3)


def warm_up() -> None:
    """Import TensorFlow and Keras, load the data set (if no download is needed), calibrate."""
    from cifar_core import data
    from cifar_core.training import precision

    try:
        _step("import", lambda: __import__("keras"))
        if not data.needs_download():  # never download 170 MB for someone who may not train
            _step("data", data.shared_data)
        _step("precision", lambda: [precision.precision_for(m) for m in C.MODEL_NAMES])
        log.info("Warm-up done: %s", steps)
    finally:
        done.set()
