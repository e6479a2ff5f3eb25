"""Settings: every environment variable the app reads, read here and nowhere else.

A teacher or operator sets them in the shell, or on Streamlit Community Cloud at the top level
of the app's Secrets (top-level secrets are set as environment variables too: `streamlit run`
reads the Secrets — Community Cloud's, or a local `.streamlit/secrets.toml` — when it starts
and copies every top-level string into the environment, before any page runs). Each module that
uses a setting asks this one for its text and decides what it means (limits.py for the limits,
precision.py for CIFAR_PRECISION, …), so a wrong value gets that module's own message. The
README's "Server settings" table lists exactly these (tests/test_settings.py checks both: the
table, and that no other module reads the environment).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name and the value used when it is unset or empty."""

    name: str
    default: str


CIFAR10_DIR = Setting("CIFAR10_DIR", "")  # a local copy of the data set: no download
KERAS_HOME = Setting("KERAS_HOME", "~/.keras")  # Keras' own cache (the downloaded data set)
RUNS_DIR = Setting("CIFAR_RUNS_DIR", "runs")
RUNS_MAX_MB = Setting("CIFAR_RUNS_MAX_MB", "2000")  # run-store budget: size of the runs folder
RUNS_MAX_COUNT = Setting("CIFAR_RUNS_MAX_COUNT", "100")  # run-store budget: number of runs
MAX_TRAININGS = Setting("CIFAR_MAX_TRAININGS", "1")  # trainings at once per server process
MAX_IMAGE_EPOCHS = Setting("CIFAR_MAX_IMAGE_EPOCHS", "200000")  # per run: images × epochs
MAX_RUN_MINUTES = Setting("CIFAR_MAX_RUN_MINUTES", "15")  # per run: training wall-clock limit
MAX_QUEUE = Setting("CIFAR_MAX_QUEUE", "8")  # runs that may wait for a training slot
PRESET = Setting("CIFAR_PRESET", "")  # the teacher's default Train settings (JSON or a file)
PRECISION = Setting("CIFAR_PRECISION", "auto")  # auto (measure), float32 or bfloat16
WARMUP = Setting("CIFAR_WARMUP", "1")  # 0: no background warm-up after the first page view
# The teacher page's passcode; empty: no teacher page at all. Never logged, never in the repo.
TEACHER_PASSCODE = Setting("CIFAR_TEACHER_PASSCODE", "")

ALL = (
    CIFAR10_DIR,
    KERAS_HOME,
    RUNS_DIR,
    RUNS_MAX_MB,
    RUNS_MAX_COUNT,
    MAX_TRAININGS,
    MAX_IMAGE_EPOCHS,
    MAX_RUN_MINUTES,
    MAX_QUEUE,
    PRESET,
    PRECISION,
    WARMUP,
    TEACHER_PASSCODE,
)


def raw(setting: Setting, environ: Mapping[str, str] | None = None) -> str:
    """The setting as set, without surrounding spaces; "" when unset or blank.

    Args:
        setting: one of this module's settings.
        environ: where to look (default: this process's environment).
    """
    return (os.environ if environ is None else environ).get(setting.name, "").strip()


def value(setting: Setting, environ: Mapping[str, str] | None = None) -> str:
    """The setting as set, or its default when unset or blank."""
    return raw(setting, environ) or setting.default
