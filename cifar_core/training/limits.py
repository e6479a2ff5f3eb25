"""Limits: what the teacher sets for a shared server — per-run budget, time, queue, preset.

Read from the environment (on Community Cloud, top-level Secrets are environment variables);
the job manager enforces them and the Train forms show them before Train is pressed.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from cifar_core import constants as C
from cifar_core import settings
from cifar_core.training import TrainConfig

log = logging.getLogger(__name__)

# What students are told about a server setting that could not be read (the details, which
# name variables and values, go to the server log for the operator).
STUDENT_PRESET_NOTE = (
    "The class settings could not be read; the defaults are in use — tell your teacher."
)
STUDENT_SETTINGS_NOTE = (
    "Some of this server's settings could not be read; the defaults are in use — tell your teacher."
)

_reported: set[str] = set()
_reported_lock = threading.Lock()


def report_setting_problem(problem: str) -> bool:
    """Log a server-setting problem (warning) for the operator, once per process.

    Every page view of every student meets the same bad setting; the log says it once.

    Returns:
        True if it was logged now, False if it was already (or `problem` is empty).
    """
    if not problem:
        return False
    with _reported_lock:
        if problem in _reported:
            return False
        _reported.add(problem)
    log.warning("Server setting ignored, defaults in use: %s", problem)
    return True


class LimitError(ValueError):
    """A training request is over one of the server's limits; the message says which and why."""


def positive_number(raw: object, name: str) -> float:
    """A limit's value: a number above 0, from the environment's text or a teacher's form.

    Args:
        raw: the value as given (text or a number).
        name: what to call it in the message.

    Raises:
        ValueError: naming `name` and the value when it is not a number above 0.
    """
    if isinstance(raw, bool):  # JSON's true is no number of images
        raise ValueError(f"{name} must be a number, got {raw!r}.")
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}.") from exc
    if not value > 0 or value == float("inf"):  # NaN and infinity are no limits either
        raise ValueError(f"{name} must be above 0, got {raw!r}.")
    return value


def whole_number(raw: object, name: str) -> int:
    """A count limit's value (images × epochs, queued runs): a whole number of at least 1.

    Checked, never rounded: int() of 0.5 would be a limit of 0 that refuses every run.

    Args:
        raw: the value as given (text or a number; 6000.0 or "6e3" is the whole number 6000).
        name: what to call it in the message.

    Raises:
        ValueError: naming `name` and the value when it is not a whole number of 1 or more.
    """
    value = positive_number(raw, name)
    if not value.is_integer():
        fix = max(1, round(value))
        raise ValueError(
            f"{name} must be a whole number of 1 or more, got {raw!r}; set it to e.g. {fix}."
        )
    return int(value)


def _env_number(setting: settings.Setting, default: float) -> float:
    raw = settings.raw(setting)
    return positive_number(raw, setting.name) if raw else default


def _env_whole(setting: settings.Setting, default: int) -> int:
    raw = settings.raw(setting)
    return whole_number(raw, setting.name) if raw else default


def training_slots() -> tuple[int, str]:
    """How many trainings may run at once: $CIFAR_MAX_TRAININGS, else the default.

    Returns:
        (slots, problem): problem names a setting that is not a whole number above 0 (the
        default is in use then); "" when the setting is fine or unset.
    """
    raw = settings.raw(settings.MAX_TRAININGS)
    valid = raw.isdigit() and int(raw) > 0
    slots = int(raw) if valid else C.DEFAULT_MAX_TRAININGS
    problem = (
        f"{settings.MAX_TRAININGS.name} must be a whole number above 0, got {raw!r}; using "
        f"{C.DEFAULT_MAX_TRAININGS}."
        if raw and not valid
        else ""
    )
    return slots, problem


@dataclass(frozen=True)
class Limits:
    """What one student may ask of a shared server; the teacher sets them (environment or Secrets).

    Attributes:
        max_image_epochs: training-set size × epochs of one run ($CIFAR_MAX_IMAGE_EPOCHS):
            the work a run asks for, whatever the batch size.
        max_run_minutes: wall-clock limit of one run's training ($CIFAR_MAX_RUN_MINUTES); at
            the limit the run stops after its current batch and is saved as stopped.
        max_queue: runs that may wait for a slot ($CIFAR_MAX_QUEUE); joining a run that is
            already queued or running (identical settings) never counts.
        per_session: queued or running requests per browser session (a Shallow vs deep pair
            is one request).
    """

    max_image_epochs: int = C.DEFAULT_MAX_IMAGE_EPOCHS
    max_run_minutes: float = C.DEFAULT_MAX_RUN_MINUTES
    max_queue: int = C.DEFAULT_MAX_QUEUE
    per_session: int = 1

    @classmethod
    def from_env(cls) -> Limits:
        """The limits from the environment, defaults where unset; ValueError names a bad one.

        CIFAR_MAX_IMAGE_EPOCHS and CIFAR_MAX_QUEUE are whole numbers of at least 1 (0.5 is
        refused, not cut to 0); CIFAR_MAX_RUN_MINUTES any number above 0.
        """
        return cls(
            max_image_epochs=_env_whole(settings.MAX_IMAGE_EPOCHS, C.DEFAULT_MAX_IMAGE_EPOCHS),
            max_run_minutes=_env_number(settings.MAX_RUN_MINUTES, C.DEFAULT_MAX_RUN_MINUTES),
            max_queue=_env_whole(settings.MAX_QUEUE, C.DEFAULT_MAX_QUEUE),
        )

    @classmethod
    def checked(
        cls, max_image_epochs: object, max_run_minutes: object, max_queue: object
    ) -> Limits:
        """Limits from a teacher's values, by the environment's rules; ValueError names a bad one.

        The image-epoch budget and the queue are whole numbers of at least 1; the minutes any
        number above 0.
        """
        return cls(
            max_image_epochs=whole_number(max_image_epochs, settings.MAX_IMAGE_EPOCHS.name),
            max_run_minutes=positive_number(max_run_minutes, settings.MAX_RUN_MINUTES.name),
            max_queue=whole_number(max_queue, settings.MAX_QUEUE.name),
        )

    def check_config(self, config: TrainConfig) -> str | None:
        """Why this config is over the per-run budget, with what to change; None if it fits."""
        work = config.train_size * config.epochs
        if work <= self.max_image_epochs:
            return None
        fit_epochs = self.max_image_epochs // config.train_size
        fit_size = self.max_image_epochs // config.epochs // C.TRAIN_SIZE_STEP * C.TRAIN_SIZE_STEP
        options = []
        if fit_epochs >= C.EPOCHS_MIN:
            options.append(f"at most {fit_epochs} epochs with {config.train_size:,} images")
        if fit_size >= C.TRAIN_SIZE_MIN:
            options.append(f"at most {fit_size:,} images with {config.epochs} epochs")
        fix = f" Choose {' or '.join(options)}." if options else ""
        return (
            f"This run asks for {config.train_size:,} images × {config.epochs} epochs = "
            f"{work:,} image-passes; this server allows {self.max_image_epochs:,} per run so "
            f"that everyone gets a turn.{fix}"
        )


def load_preset(value: str | None = None) -> dict:
    """The teacher's preset: default Train settings for everyone on this server.

    Set the environment variable CIFAR_PRESET to a JSON object, or to the path of a JSON
    file, with any TrainConfig fields, e.g. {"model": "deep", "train_size": 2000, "epochs": 3}.

    Args:
        value: the setting (default: $CIFAR_PRESET).

    Returns:
        The preset's fields ({} when unset), checked by TrainConfig.

    Raises:
        ValueError: naming what is wrong with the preset.
    """
    value = (settings.raw(settings.PRESET) if value is None else value).strip()
    if not value:
        return {}
    source = "CIFAR_PRESET"
    if not value.startswith("{"):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(f"CIFAR_PRESET points to {path}, which is not a file.")
        source, value = str(path), path.read_text()
    try:
        preset = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source} is not valid JSON: {exc}") from exc
    return check_preset(preset, source)


def check_preset(preset: object, source: str = "CIFAR_PRESET") -> dict:
    """A preset's fields, checked as CIFAR_PRESET's are (the one check of a preset).

    Args:
        preset: the parsed preset (untrusted: anything JSON can hold).
        source: where it came from, for the message.

    Returns:
        The preset as a dict of TrainConfig fields.

    Raises:
        ValueError: naming what is wrong with it.
    """
    if not isinstance(preset, dict):
        raise ValueError(f"{source} must be a JSON object of Train settings.")
    unknown = set(preset) - set(TrainConfig().to_dict())
    if unknown:
        raise ValueError(f"{source} has unknown settings: {', '.join(sorted(map(str, unknown)))}.")
    try:
        TrainConfig(**preset)  # raises a clear ValueError for a bad value
    except TypeError as exc:  # a value of the wrong kind (a list for a number, …)
        raise ValueError(f"{source} has a value of the wrong kind: {exc}") from exc
    return dict(preset)


def preset_or_defaults(value: str | None = None) -> tuple[dict, bool]:
    """The teacher's preset, or {} when it cannot be used (the reason logged once).

    Args:
        value: the setting (default: $CIFAR_PRESET).

    Returns:
        (preset, ok): ok is False when a preset was set but is wrong, so the pages can say
        that the defaults are in use (STUDENT_PRESET_NOTE) without the details.
    """
    try:
        return load_preset(value), True
    except ValueError as exc:
        report_setting_problem(f"{settings.PRESET.name} is ignored: {exc}")
        return {}, False
