"""Lesson settings: the teacher's class preset, limits and locked or hidden Train controls, live.

The server starts with the environment's settings (CIFAR_PRESET and the limit variables). From
the teacher page the teacher changes them while the server runs: the change applies at once
to every new page view and to the job queue, and is kept in `lesson.json` in the run store's
folder so that a restart keeps the lesson. That file is read back as untrusted input, by the
run store's JSON reader: a bad one is logged, the environment's settings apply, and the teacher
page says why (`LessonSettings.problem`).

A Train control (a field of the one training form) is open, locked (shown, disabled, at the
preset's value) or hidden (not shown; the preset's value applies), like the hidden controls
of TensorFlow Playground. A lesson link (`link_query`) opens the Train page with given values;
`parse_link` checks it by the form's own rules.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

from cifar_core import constants as C
from cifar_core.export.card_render import markdown_text
from cifar_core.runs import default_root
from cifar_core.runs.checks import Damage
from cifar_core.runs.files import read_object
from cifar_core.training import TrainConfig
from cifar_core.training.limits import Limits, check_preset, preset_or_defaults

log = logging.getLogger(__name__)

LESSON_FILE = "lesson.json"  # in the run store's folder
# The Train form's controls, by their TrainConfig field (the validation split has no control).
CONTROLS: tuple[str, ...] = (
    "model",
    "train_size",
    "epochs",
    "batch_size",
    "optimizer",
    "learning_rate",
    "seed",
    "augment",
)
LINK_FIELDS = CONTROLS[:-1]  # a link carries plain values; augmentation is set in the lab
OPEN, LOCKED, HIDDEN = "open", "locked", "hidden"


@dataclass(frozen=True)
class Lesson:
    """One state of the lesson settings (checked when made: `make_lesson`).

    Attributes:
        preset: the class preset's TrainConfig fields (the form's starting values).
        limits: the per-run budget, time and queue cap.
        locked: controls shown disabled at the preset's value.
        hidden: controls left out of the form; the preset's value applies.
        share_class: the students see the class's runs together (anonymously) too.
        by_teacher: True when the teacher set these (else the environment's settings).
        preset_ok: False when the environment's preset was wrong (the defaults are in use).
        version: counts the teacher's changes in this process (pages can tell it changed).
    """

    preset: Mapping = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    locked: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    share_class: bool = False
    by_teacher: bool = False
    preset_ok: bool = True
    version: int = 0

    def values(self) -> dict:
        """Every TrainConfig field: the preset's value, else the default."""
        return {**TrainConfig().to_dict(), **self.preset}

    def state(self, control: str) -> str:
        """OPEN, LOCKED or HIDDEN."""
        return HIDDEN if control in self.hidden else LOCKED if control in self.locked else OPEN

    def to_json(self) -> dict:
        """What lesson.json holds."""
        return {
            "preset": dict(self.preset),
            "limits": {
                "max_image_epochs": self.limits.max_image_epochs,
                "max_run_minutes": self.limits.max_run_minutes,
                "max_queue": self.limits.max_queue,
            },
            "locked": sorted(self.locked),
            "hidden": sorted(self.hidden),
            "share_class": self.share_class,
        }


def _controls(names: object, what: str) -> frozenset[str]:
    if not isinstance(names, list | tuple | set | frozenset):
        raise ValueError(f"The {what} controls must be a list of names.")
    unknown = sorted(str(n) for n in names if n not in CONTROLS)
    if unknown:
        raise ValueError(
            f"Unknown {what} controls: {', '.join(unknown)} (known: {', '.join(CONTROLS)})."
        )
    return frozenset(names)


def make_lesson(
    preset: object,
    limits: object,
    locked: Iterable[str] = (),
    hidden: Iterable[str] = (),
    share_class: object = False,
) -> Lesson:
    """A teacher's lesson settings, checked by the rules of the environment's settings.

    Args:
        preset: TrainConfig fields (checked as CIFAR_PRESET is).
        limits: a Limits, or a mapping of max_image_epochs, max_run_minutes, max_queue
            (each a number above 0, as the environment's limits).
        locked, hidden: control names (CONTROLS); a control is not both.
        share_class: True or False: whether students see the class's runs together.

    Raises:
        ValueError: naming what is wrong.
    """
    preset = check_preset(preset, "The class preset")
    if not isinstance(limits, Limits):
        if not isinstance(limits, Mapping):
            raise ValueError("The limits must be max_image_epochs, max_run_minutes, max_queue.")
        try:
            limits = Limits.checked(
                limits["max_image_epochs"], limits["max_run_minutes"], limits["max_queue"]
            )
        except KeyError as exc:
            raise ValueError(f"The limits lack {exc.args[0]}.") from exc
    locked_set, hidden_set = _controls(locked, "locked"), _controls(hidden, "hidden")
    both = locked_set & hidden_set
    if both:
        raise ValueError(
            f"A control is either locked or hidden, not both: {', '.join(sorted(both))}."
        )
    if not isinstance(share_class, bool):
        raise ValueError("Whether students see the class's runs must be true or false.")
    return Lesson(preset, limits, locked_set, hidden_set, share_class, by_teacher=True)


def read_lesson_file(path: Path) -> tuple[Lesson | None, str]:
    """The lesson saved in `path`, checked, and why it cannot be used ("" when it can).

    The file is untrusted (anyone with access to the folder could have written it). It is
    read by the run store's reader of JSON files (`runs.files.read_object`), so a damaged
    lesson.json is treated as any damaged JSON file of the store: a pipe or a device, a file
    that is too large, not UTF-8, not JSON, nested too deeply or not a valid lesson is logged
    and ignored, never raised. None when there is no file or it cannot be used.
    """
    try:
        if not path.exists():
            return None, ""
        size = path.stat().st_size  # stat only (never opens: a pipe is refused by the reader)
        if size > C.LESSON_FILE_MAX_BYTES:
            raise Damage(
                f"{path.name} is too large ({size:,} bytes; a lesson is at most "
                f"{C.LESSON_FILE_MAX_BYTES:,})"
            )
        data = read_object(path)
        lesson = make_lesson(
            data.get("preset", {}),
            data.get("limits"),
            data.get("locked", []),
            data.get("hidden", []),
            data.get("share_class", False),
        )
        return lesson, ""
    except (OSError, Damage, ValueError, TypeError) as exc:
        problem = (
            f"The saved lesson settings ({path}) were ignored and the server's settings "
            f"apply: {exc}"
        )
        log.warning("Lesson settings in %s ignored, the server's settings apply: %s", path, exc)
        return None, problem


def write_lesson_file(path: Path, lesson: Lesson) -> None:
    """Save the lesson atomically (a reader sees the old file or the new one, never half).

    Raises:
        OSError: when the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lesson-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(lesson.to_json(), out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def environment_lesson() -> Lesson:
    """The server's own settings: CIFAR_PRESET and the limit variables (defaults where wrong).

    Read at every call, as before lesson settings existed, so a changed environment applies;
    what is wrong was logged once and is shown by the pages (limits, queue).
    """
    preset, ok = preset_or_defaults()
    try:
        limits = Limits.from_env()
    except ValueError:
        limits = Limits()  # the job manager names the problem (setting_problem)
    return Lesson(preset, limits, preset_ok=ok)


class LessonSettings:
    """The live lesson settings of one run store's folder, shared by every session and thread.

    Args:
        folder: the run store's folder (lesson.json is kept there).
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LESSON_FILE
        self._lock = threading.Lock()
        # The teacher's, from before a restart; why it was ignored when it is damaged.
        self._saved, self._problem = read_lesson_file(self.path)
        self._version = 0

    @property
    def problem(self) -> str:
        """Why the saved lesson file was ignored at start ("" when it was fine or absent).

        Cleared when the teacher applies or resets the settings (the file is replaced then).
        """
        with self._lock:
            return self._problem

    @property
    def version(self) -> int:
        """How many times the teacher changed the settings in this process."""
        with self._lock:
            return self._version

    def current(self) -> Lesson:
        """The settings in force now: the teacher's, else the environment's."""
        with self._lock:
            saved, version = self._saved, self._version
        lesson = saved or environment_lesson()
        return replace(lesson, version=version)

    def limits(self) -> Limits:
        """The limits in force now (what the job queue checks)."""
        with self._lock:
            saved = self._saved
        if saved:
            return saved.limits
        try:
            return Limits.from_env()
        except ValueError:
            return Limits()

    def apply(
        self,
        preset: object,
        limits: object,
        locked: Iterable[str] = (),
        hidden: Iterable[str] = (),
        share_class: object = False,
    ) -> str:
        """Check and apply the teacher's settings now, and save them for a restart.

        Returns:
            "" when saved, else why they apply only until the server restarts.

        Raises:
            ValueError: naming what is wrong; nothing changes then.
        """
        lesson = make_lesson(preset, limits, locked, hidden, share_class)
        with self._lock:
            self._saved = lesson
            self._version += 1
            self._problem = ""
            try:
                write_lesson_file(self.path, lesson)
            except OSError as exc:
                log.warning("Lesson settings not saved to %s: %s", self.path, exc)
                return "They could not be saved, so they apply until the server restarts."
        log.info("Lesson settings changed by the teacher: %s", lesson.to_json())
        return ""

    def reset(self) -> None:
        """Back to the server's own settings (the environment's), now and after a restart."""
        with self._lock:
            self._saved = None
            self._version += 1
            self._problem = ""
            try:
                self.path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("Lesson settings file %s not removed: %s", self.path, exc)
        log.info("Lesson settings reset to the server's settings.")


_SHARED: dict[Path, LessonSettings] = {}
_SHARED_LOCK = threading.Lock()


def shared_lesson(folder: Path | None = None) -> LessonSettings:
    """THE lesson settings of a run store's folder (default: $CIFAR_RUNS_DIR), one per process."""
    key = Path(folder or default_root()).resolve()
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = LessonSettings(key)
        return _SHARED[key]


# --- lesson links ---

# In an echoed link value, the characters that let Markdown (GitHub's flavour, as st.warning
# renders it) make a link of plain text: a URL's "://", a "www." address, an e-mail address.
_AUTOLINK_CHARS = re.compile(r"([:.@])")


def _shown(raw: str) -> str:
    """A link's value as a message echoes it: its first 40 characters, quoted, as plain text.

    The message is shown as Markdown (st.warning), and the value is anyone's text: its markup
    is escaped (the model card's escaper), and so are the characters of an automatic link, so
    `?model=[Log in](https://evil.x)` shows as that text, never as a link.
    """
    return _AUTOLINK_CHARS.sub(r"\\\1", markdown_text(repr(raw[:40])))


def _link_value(name: str, raw: str, n_available: int) -> object:
    """One link value by the form's rules; ValueError says what is allowed."""
    if name == "model":
        if raw not in C.MODEL_NAMES:
            raise ValueError(f"one of {', '.join(C.MODEL_NAMES)}")
        return raw
    if name == "optimizer":
        if raw not in C.OPTIMIZERS:
            raise ValueError(f"one of {', '.join(C.OPTIMIZERS)}")
        return raw
    if name in ("batch_size", "learning_rate"):
        options = C.BATCH_SIZES if name == "batch_size" else C.LEARNING_RATES
        allowed = f"one of {', '.join(str(o) for o in options)}"
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(allowed) from None
        match = [o for o in options if abs(o - value) <= 1e-12 * max(1.0, abs(o))]
        if not match:
            raise ValueError(allowed)
        return match[0]
    low, high, step = {
        "train_size": (C.TRAIN_SIZE_MIN, n_available, C.TRAIN_SIZE_STEP),
        "epochs": (C.EPOCHS_MIN, C.EPOCHS_MAX, 1),
        "seed": (0, C.MAX_SEED, 1),
    }[name]
    allowed = f"a whole number from {low} to {high}" + (f" in steps of {step}" if step > 1 else "")
    if not raw.isdigit() or not low <= int(raw) <= high or int(raw) % step:
        raise ValueError(allowed)
    return int(raw)


def parse_link(params: Mapping[str, object], n_available: int) -> tuple[dict, dict[str, str]]:
    """A lesson link's Train values, checked by the form's rules; unknown names are ignored.

    Args:
        params: the link's query parameters (a repeated one: its last value).
        n_available: training images in the data set (the largest training size).

    Returns:
        (values, problems): the good values by field; by each bad value's field, a message
        naming it and what is allowed (the usual value is used for it). A message is
        Markdown for st.warning: the echoed value is escaped (`_shown`), so it shows as text.
    """
    values, problems = {}, {}
    for name in LINK_FIELDS:
        if name not in params:
            continue
        raw = params[name]
        raw = str(raw[-1] if isinstance(raw, list | tuple) and raw else raw).strip()
        try:
            values[name] = _link_value(name, raw, n_available)
        except ValueError as exc:
            problems[name] = (
                f"The link's {name}={_shown(raw)} cannot be used: it must be {exc}. "
                "The usual value is used instead."
            )
    return values, problems


def link_query(lesson: Lesson) -> str:
    """The query string of a link that opens the Train form with this lesson's preset."""
    return urlencode({k: lesson.preset[k] for k in LINK_FIELDS if k in lesson.preset})
