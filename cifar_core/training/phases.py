"""Phases: where the time of one run goes, from the Train click to the saved result.

A run's result keeps `phases`, seconds per phase in order, so the run's details can show
how much of the student's wait was training and how much was everything around it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

# In the order a run goes through them, with what each one covers.
PHASES: dict[str, str] = {
    "queue": "waiting for a free training slot",
    "import": "loading TensorFlow and Keras (once per server)",
    "precision": "choosing float32 or bfloat16 for this CPU (once per server)",
    "data": "choosing the images and building the input pipeline",
    "build": "building and compiling the network, creating the run folder",
    "first_batch": "the first batch, which also compiles the training step",
    "training": "every other training batch",
    "validation": "scoring the validation images after each epoch",
    "test_scoring": "scoring the test split and the privacy sample",
    "saving": "writing the model, weights, predictions and curves",
}
# Phases that are the training itself; the others are the time around it.
TRAINING_PHASES = frozenset({"first_batch", "training", "validation"})


class PhaseClock:
    """Adds up seconds per phase; `time("x")` times a block, `add("x", s)` adds a figure."""

    def __init__(self, clock=time.perf_counter) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = {}

    def add(self, phase: str, seconds: float) -> None:
        if phase not in PHASES:
            raise ValueError(f"Unknown phase {phase!r}")
        self.seconds[phase] = self.seconds.get(phase, 0.0) + max(0.0, seconds)

    @contextmanager
    def time(self, phase: str) -> Iterator[None]:
        start = self.clock()
        try:
            yield
        finally:
            self.add(phase, self.clock() - start)

    def as_dict(self) -> dict[str, float]:
        """Seconds per phase in PHASES order (phases that did not happen are left out)."""
        return {p: round(self.seconds[p], 3) for p in PHASES if p in self.seconds}


def phase_rows(phases: dict) -> list[dict]:
    """Rows for a table: phase, what it covers, seconds and share of the total."""
    known = {p: float(s) for p, s in phases.items() if p in PHASES and isinstance(s, int | float)}
    total = sum(known.values()) or 1.0
    return [
        {"phase": p.replace("_", " "), "what": PHASES[p], "seconds": s, "share": s / total}
        for p, s in known.items()
    ]


def around_training_share(phases: dict) -> float | None:
    """Share of a run's time spent outside training itself (None without phases)."""
    known = {p: float(s) for p, s in phases.items() if p in PHASES and isinstance(s, int | float)}
    total = sum(known.values())
    if not total:
        return None
    return sum(s for p, s in known.items() if p not in TRAINING_PHASES) / total
