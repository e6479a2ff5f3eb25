"""Precision: train in float32 or in mixed bfloat16, whichever this server's CPU runs faster.

Some CPUs multiply bfloat16 numbers in hardware (AVX512_BF16 on AMD Zen 4 and Intel Cooper
Lake, AMX on Intel Xeon 4th generation and later); there Keras' `mixed_bfloat16` policy —
bfloat16 arithmetic, float32 weights — trains the lesson's deep net faster (bench.precision,
2 cores: 2.18× on an Intel Xeon with AMX, 1.68× on an AMD EPYC with AVX512_BF16; README).
Elsewhere bfloat16 is emulated and can be slower, so it is never assumed: on first use in a
process a short calibration trains a few batches of each network in both precisions, on
random data, and the faster one is kept for the life of the process. A CPU that advertises
no bfloat16 instructions keeps float32 without measuring.

The teacher can force a precision with $CIFAR_PRECISION (`float32`, `bfloat16`, or `auto`,
the default). The network's last layers (logits and softmax) always compute in float32, for
a numerically stable softmax and loss, and the saved model is float32 whatever trained it.

No TensorFlow is imported by this module itself: pages read decisions without loading it.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cifar_core import constants as C
from cifar_core import settings
from cifar_core.constants import CALIBRATION_STEPS, MIN_SPEEDUP

FLOAT32 = "float32"
BFLOAT16 = "bfloat16"
PRECISIONS: tuple[str, ...] = (FLOAT32, BFLOAT16)
AUTO = "auto"
# The Keras dtype policy of each precision.
KERAS_POLICY = {FLOAT32: "float32", BFLOAT16: "mixed_bfloat16"}
# CPU flags (Linux /proc/cpuinfo) that mean bfloat16 matrix arithmetic in hardware.
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})

# A function that measures images/s per precision for one network: (model) → {precision: ips}.
Measure = Callable[[str], dict[str, float]]


@dataclass(frozen=True)
class Decision:
    """The precision one network trains in on this server, and why.

    Attributes:
        model: "shallow" or "deep".
        precision: "float32" or "bfloat16".
        reason: "measured", "forced" ($CIFAR_PRECISION) or "no-bf16-cpu".
        speeds: images/s per precision from the calibration ({} when not measured).
    """

    model: str
    precision: str
    reason: str
    speeds: dict[str, float]

    @property
    def speedup(self) -> float | None:
        """bfloat16 images/s over float32 images/s, when both were measured."""
        fp32, bf16 = self.speeds.get(FLOAT32), self.speeds.get(BFLOAT16)
        return bf16 / fp32 if fp32 and bf16 else None

    @property
    def keras_policy(self) -> str:
        return KERAS_POLICY[self.precision]

    def sentence(self) -> str:
        """One line for the Train page, e.g. "…trains the deep net in bfloat16: about 2.3× faster"."""
        net = f"the {self.model} net"
        if self.reason == "forced":
            return (
                f"This server trains {net} in {self.precision} (set by {settings.PRECISION.name})."
            )
        if self.reason == "no-bf16-cpu":
            return f"This server's CPU has no bfloat16 arithmetic, so it trains {net} in float32."
        speedup = self.speedup or 1.0
        if self.precision == BFLOAT16:
            return (
                f"This server's CPU trains {net} in bfloat16: about {speedup:.1f}× faster than "
                "float32 (measured on this server)."
            )
        return (
            f"This server's CPU trains {net} in float32: bfloat16 was not at least "
            f"{MIN_SPEEDUP - 1:.0%} faster here "
            f"({speedup:.2f}× float32's speed, measured on this server)."
        )


def setting(value: str | None = None) -> tuple[str, str]:
    """($CIFAR_PRECISION as auto|float32|bfloat16, a problem sentence or "").

    A bad value keeps "auto" and says so, for the pages that show server-setting problems.
    """
    raw = (settings.raw(settings.PRECISION) if value is None else value).strip().lower()
    if raw in ("", AUTO):
        return AUTO, ""
    if raw in PRECISIONS:
        return raw, ""
    return AUTO, (
        f"{settings.PRECISION.name} must be auto, float32 or bfloat16, got {raw!r}; the server measures "
        "which is faster instead."
    )


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """True/False when the CPU's flags say whether it has bfloat16 arithmetic; None: unknown."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None  # not Linux: only a measurement can tell
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86 / ARM
            return bool(BF16_CPU_FLAGS & set(value.split()))
    return None


def measure_speeds(model: str, batch_size: int = C.DEFAULT_BATCH_SIZE) -> dict[str, float]:
    """Images/s of one network in each precision: a few training batches on random data.

    Both models are traced first, then their timed batches alternate, so a change in the
    machine's load during the calibration affects both precisions alike; the median batch of
    each counts.
    """
    import keras
    import numpy as np

    from cifar_core.training import TrainConfig, build_compiled

    rng = np.random.default_rng(0)
    x = rng.random((batch_size, *C.IMAGE_SHAPE), dtype=np.float32)
    y = np.eye(C.NUM_CLASSES, dtype=np.float32)[rng.integers(0, C.NUM_CLASSES, batch_size)]
    config = TrainConfig(model=model, batch_size=batch_size)
    nets = {p: build_compiled(config, precision=p) for p in PRECISIONS}
    for net in nets.values():
        net.train_on_batch(x, y)  # traces the training step
    seconds: dict[str, list[float]] = {p: [] for p in PRECISIONS}
    for _ in range(CALIBRATION_STEPS):
        for precision, net in nets.items():
            start = time.perf_counter()
            net.train_on_batch(x, y)  # returns the loss as a number: the batch is done
            seconds[precision].append(time.perf_counter() - start)
    del nets, keras  # the models go; Keras' global state is left alone (other runs use it)
    return {p: batch_size / statistics.median(s) for p, s in seconds.items()}


def decide(
    model: str,
    forced: str = AUTO,
    has_bf16: bool | None = None,
    measure: Measure = measure_speeds,
) -> Decision:
    """The precision for one network: forced, float32 without bfloat16 hardware, else measured."""
    if forced in PRECISIONS:
        return Decision(model, forced, "forced", {})
    if has_bf16 is False:
        return Decision(model, FLOAT32, "no-bf16-cpu", {})
    speeds = measure(model)
    faster = speeds[BFLOAT16] >= MIN_SPEEDUP * speeds[FLOAT32]
    return Decision(model, BFLOAT16 if faster else FLOAT32, "measured", speeds)


_LOCK = threading.Lock()  # one calibration at a time; callers wait for it
_decisions: dict[str, Decision] = {}


def precision_for(model: str, measure: Measure | None = None) -> Decision:
    """This process's decision for `model`, calibrating every network on first use.

    All networks are calibrated together, under one lock, so that no calibration runs while
    a training it would slow down (and be slowed by) is already going.

    Args:
        measure: what measures the speeds (default: measure_speeds, looked up at call time so
            a test can force the calibration's outcome).
    """
    forced, _ = setting()
    if forced in PRECISIONS:  # read at every use: a forced setting needs no calibration
        return decide(model, forced)
    with _LOCK:
        if model not in _decisions:
            has_bf16 = cpu_has_bf16()
            for name in C.MODEL_NAMES:
                if name not in _decisions:
                    _decisions[name] = decide(name, AUTO, has_bf16, measure or measure_speeds)
        return _decisions[model]


def known(model: str) -> Decision | None:
    """The decision if it was already made (never calibrates: for pages)."""
    forced, _ = setting()
    return decide(model, forced) if forced in PRECISIONS else _decisions.get(model)


def forget() -> None:
    """Drop this process's decisions (tests; the next use calibrates again)."""
    with _LOCK:
        _decisions.clear()
