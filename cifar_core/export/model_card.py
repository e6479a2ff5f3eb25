"""Model card: a saved run described for its readers (Mitchell et al. 2019), from its own files.

`model_card` reads a `Run` and returns a `ModelCard` of sections; `card_markdown` and
`card_html` write the same sections as Markdown or as a standalone HTML page. A run without
results or predictions (failed, stopped early, interrupted) still gets a card saying what is
missing: nothing here raises for a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from cifar_core.constants import CLASS_NAMES, NUM_CLASSES
from cifar_core.evaluation import confusion_matrix
from cifar_core.explain.mistakes import predicted_classes
from cifar_core.export import card_data
from cifar_core.export import card_text as T
from cifar_core.export.bootstrap import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    Interval,
    accuracy_intervals,
    gap_interval,
)
from cifar_core.export.card_types import Figures, ModelCard, Section, Table
from cifar_core.runs import Run
from cifar_core.training.config import TrainConfig


def percent(value: float) -> str:
    """0.4231 → "42.3%"; NaN → "n/a"."""
    return "n/a" if math.isnan(value) else f"{100 * value:.1f}%"


def with_interval(interval: Interval) -> str:
    """ "42.3% (95% CI 39.3–45.3%)" for an interval of a fraction."""
    if not interval.known:
        return "n/a (no images)"
    low, high = (f"{100 * v:.1f}" for v in (interval.low, interval.high))
    return f"{percent(interval.estimate)} (95% CI {low}–{high}%)"


def _points(value: float) -> str:
    return f"{100 * value:+.1f}"


# --- Reading the run, defensively ----------------------------------------------------------------


def _config(run: Run, missing: list[str]) -> TrainConfig | None:
    try:
        return TrainConfig.from_dict(dict(run.config))
    except Exception as exc:  # noqa: BLE001 — a damaged config is reported, never raised
        missing.append(f"A readable training configuration ({type(exc).__name__}: {exc}).")
        return None


def _predictions(run: Run, result: dict, missing: list[str]) -> dict[str, np.ndarray]:
    try:
        return run.predictions()
    except Exception as exc:  # noqa: BLE001 — RunStoreError, or anything a stand-in run raises
        if result:  # without a result, the missing result already says the run was not scored
            missing.append(
                "Saved predictions, so there is no training accuracy and no train–test gap "
                f"({exc})."
            )
        return {}


def class_counts(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(right answers per true class, images per true class) of a confusion matrix."""
    matrix = np.asarray(matrix, dtype=np.int64)
    return np.diag(matrix), matrix.sum(axis=1)


def _counted(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # As the run's own matrix was counted (evaluation.summarize_predictions): from the saved
    # float16 probabilities, the first class on a tie, so the card agrees with it exactly.
    return class_counts(confusion_matrix(labels, predicted_classes(probs), NUM_CLASSES))


def _test_counts(result: dict, preds: dict) -> tuple[np.ndarray, np.ndarray] | None:
    # The confusion matrix first: it is the one the app's pages show (runs saved before
    # 2026-11-30 counted it from the float32 probabilities, not the float16 ones saved).
    matrix = result.get("confusion_matrix")
    if matrix is not None:
        return class_counts(matrix)
    if "test_probs" in preds and "test_labels" in preds:
        return _counted(preds["test_probs"], preds["test_labels"])
    return None


def _figures(result: dict, preds: dict) -> Figures:
    counts = _test_counts(result, preds)
    if counts is None:
        return Figures()
    test, per_class = accuracy_intervals(*counts)
    train = gap = None
    if len(preds.get("train_labels", ())) > 0:
        labels = preds["train_labels"]
        right, total = _counted(preds["train_probs"], labels)
        train = accuracy_intervals(right, total)[0]
        gap = gap_interval(int(right.sum()), len(labels), int(counts[0].sum()), test.n)
    return Figures(test, tuple(per_class), train, gap)


def _safe(key: str, title: str, build: Callable[[], Section]) -> Section:
    """A section, or one that says it could not be written: a card never raises."""
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 — whatever a damaged run holds, the card is written
        problem = (
            f"This section could not be written from the run's files ({type(exc).__name__}: {exc})."
        )
        return Section(key, title, paragraphs=(problem,))


# --- The sections ---------------------------------------------------------------------------------


def _class_names(result: dict) -> tuple[str, ...]:
    names = result.get("class_names")
    return tuple(names) if isinstance(names, list) and len(names) == NUM_CLASSES else CLASS_NAMES


def _metrics(result: dict, figures: Figures, status: str, n_seen_of: int | None) -> Section:
    title = "Metrics"
    if figures.test is None:
        return Section(
            "metrics",
            title,
            paragraphs=(
                f"No test results: {_unscored(status)}, so this card reports no accuracy.",
            ),
        )
    facts = [("Test accuracy", f"{with_interval(figures.test)}, on {figures.test.n:,} test images")]
    if isinstance(result.get("test_loss"), int | float):
        facts.append(("Test loss", f"{result['test_loss']:.3f} (categorical cross-entropy)"))
    best, epoch = result.get("best_val_accuracy"), result.get("best_epoch")
    if isinstance(best, int | float) and isinstance(epoch, int):
        facts.append(("Best validation accuracy", f"{percent(best)}, after epoch {epoch}"))
    paragraphs = [T.BOOTSTRAP_NOTE.format(resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)]
    if figures.train is not None and figures.gap is not None:
        of = f" of the {n_seen_of:,} it trained on" if n_seen_of else ""
        facts.append(
            (
                "Training accuracy",
                f"{with_interval(figures.train)}, on {figures.train.n:,} training images{of}, "
                "drawn at random and scored after training (no augmentation, no dropout)",
            )
        )
        gap = figures.gap
        facts.append(
            (
                "Train–test gap",
                f"{_points(gap.estimate)} percentage points "
                f"(95% CI {_points(gap.low)} to {_points(gap.high)})",
            )
        )
        paragraphs.append(_gap_reading(gap))
        paragraphs.append(T.PRIVACY)
    if any(iv.known and iv.low == iv.high for iv in figures.per_class):
        paragraphs.insert(1, T.EDGE_NOTE)
    rows = tuple(
        (name, f"{iv.n:,}", percent(iv.estimate), _ci(iv))
        for name, iv in zip(_class_names(result), figures.per_class, strict=True)
    )
    table = Table(("Class", "Test images", "Accuracy", "95% CI"), rows)
    return Section("metrics", title, tuple(facts), table, tuple(paragraphs))


def _unscored(status: str) -> str:
    if status == "running":  # still training, or cut off by a server restart (interrupted)
        return "the run is still running, or was cut off, and has not been scored yet"
    return f"the run is {status} and was never scored on the test images"


def _ci(interval: Interval) -> str:
    if not interval.known:
        return "n/a (no images)"
    return f"{100 * interval.low:.1f}–{100 * interval.high:.1f}%"


def _gap_reading(gap: Interval) -> str:
    if gap.low > 0:
        return (
            "The model is more accurate on images it trained on than on new ones, by more "
            "than the choice of images alone explains: it has overfitted."
        )
    if gap.high < 0:
        return (
            "The model does better on the test images than on those it trained on: no sign "
            "of overfitting at this scale."
        )
    return (
        "The gap is within what the choice of images alone can produce: no clear sign of "
        "overfitting."
    )


def _model_details(run: Run, cfg: TrainConfig | None, result: dict) -> Section:
    facts = [
        ("Run", run.run_id),
        ("Created", card_data.created(run.status)),
        ("Status", card_data.status_text(run.status)),
    ]
    table = None
    if cfg is not None:
        facts += card_data.model_facts(cfg, result)
        table = Table(*card_data.layer_rows(cfg.model))
    facts += card_data.environment_facts(result)
    paragraphs = ("Model card format: Mitchell et al. 2019.",)
    return Section("model_details", "Model details", tuple(facts), table, paragraphs)


def model_card(
    run: Run, data_source: str | None = None, n_available: int | None = None
) -> ModelCard:
    """The model card of a saved run; never raises for a run's content.

    Args:
        run: a run from `RunStore.load` (or any object with its attributes).
        data_source: where the data the server has loaded now comes from (the UI's
            `Cifar10.source`); used when the run did not record its own data source.
        n_available: how many training images that data set holds (the UI's
            `len(data.x_train)`); used only when it fits the run (same source, enough images).

    Returns:
        The card: six sections, the sources, what the run lacks and the measured figures.
    """
    missing: list[str] = []
    result = run.result if isinstance(run.result, dict) else {}
    status = run.status if isinstance(run.status, dict) else {}
    word = str(status.get("status", "of unknown status"))
    if not result:
        missing.append(f"Test results: {_unscored(word)}.")
    cfg = _config(run, missing)
    preds = _predictions(run, result, missing)
    try:
        figures = _figures(result, preds)
    except Exception as exc:  # noqa: BLE001 — garbled arrays: the card says so
        missing.append(f"Readable test results ({type(exc).__name__}: {exc}).")
        figures = Figures()
    scope = card_data.DataScope.of(cfg, result, preds, data_source, n_available)
    model = cfg.model if cfg is not None else "unknown"
    intro = T.FORMAT_NOTE
    if missing:
        intro += " This run is incomplete, so parts of the card are empty: see below."
    return ModelCard(
        run_id=str(run.run_id),
        title=T.TITLE.format(model=model, run_id=run.run_id),
        intro=intro,
        model_details=_safe(
            "model_details", "Model details", lambda: _model_details(run, cfg, result)
        ),
        training_data=_safe(
            "training_data", "Training data", lambda: card_data.training_data(cfg, scope)
        ),
        metrics=_safe("metrics", "Metrics", lambda: _metrics(result, figures, word, scope.n_train)),
        intended_use=Section("intended_use", "Intended use", paragraphs=T.INTENDED_USE),
        out_of_scope=Section(
            "out_of_scope",
            "Out-of-scope uses",
            bullets=(*T.OUT_OF_SCOPE, card_data.benchmark_claims(cfg, result, scope)),
        ),
        caveats=_safe("caveats", "Caveats of the data", lambda: card_data.caveats(scope)),
        references=T.REFERENCES,
        missing=tuple(missing),
        figures=figures,
    )


# The renderers live in their own module; they are part of this one's API.
from cifar_core.export.card_render import card_html as card_html  # noqa: E402
from cifar_core.export.card_render import card_markdown as card_markdown  # noqa: E402
