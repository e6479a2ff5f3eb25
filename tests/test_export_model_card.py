"""Model card: sections and figures of a real run, bootstrap intervals, escaping, broken runs."""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from cifar_core.augmentation.params import LESSON_PRESET
from cifar_core.bias_privacy.content import reference_by_key
from cifar_core.evaluation import confusion_matrix
from cifar_core.export import card_text as T
from cifar_core.export.bootstrap import accuracy_intervals, gap_interval
from cifar_core.export.card_data import DataScope, caveats, describe_augmentation
from cifar_core.export.model_card import (
    ModelCard,
    card_html,
    card_markdown,
    class_counts,
    model_card,
)
from cifar_core.models import count_params
from cifar_core.runs import PREDICTIONS_FILE, Run, RunStore

SECTIONS = [
    ("model_details", "Model details"),
    ("training_data", "Training data"),
    ("metrics", "Metrics"),
    ("intended_use", "Intended use"),
    ("out_of_scope", "Out-of-scope uses"),
    ("caveats", "Caveats of the data"),
]
INJECTION = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def real_run(trained_store: RunStore) -> Run:
    (info,) = [i for i in trained_store.list_runs() if i.status == "finished"][:1]
    return trained_store.load(info.run_id)


def all_text(card: ModelCard) -> str:
    parts = [card.title, card.intro, *card.missing]
    for section in card.sections:
        parts += [section.title, *section.paragraphs, *section.bullets]
        parts += [f"{label}: {value}" for label, value in section.facts]
        if section.table is not None:
            parts += [" | ".join(row) for row in section.table.rows]
    return "\n".join(parts)


def fact(card: ModelCard, section: str, label: str) -> str:
    return dict(getattr(card, section).facts)[label]


# --- A real run --------------------------------------------------------------------------------


def test_card_of_a_real_run_has_every_section_and_figure(real_run: Run) -> None:
    card = model_card(real_run, n_available=5_085)
    assert [(s.key, s.title) for s in card.sections] == SECTIONS
    assert card.missing == ()
    result, figures = real_run.result, card.figures
    # Test figures: the app's own numbers (from the run's confusion matrix), with intervals.
    assert figures.test.estimate == pytest.approx(result["test_accuracy"])
    assert figures.test.n == result["n_test"] == 1_017
    assert [iv.estimate for iv in figures.per_class] == pytest.approx(
        result["per_class_accuracy"], nan_ok=True
    )
    for iv in (figures.test, *figures.per_class, figures.train, figures.gap):
        assert iv.low <= iv.estimate <= iv.high
    # Training accuracy from the saved training predictions; the gap is their difference.
    preds = real_run.predictions()
    train = float((preds["train_probs"].argmax(axis=1) == preds["train_labels"]).mean())
    assert figures.train.estimate == pytest.approx(train)
    assert figures.train.n == len(preds["train_labels"])
    assert figures.gap.estimate == pytest.approx(train - result["test_accuracy"])
    # The figures as the card prints them.
    assert f"{100 * result['test_accuracy']:.1f}% (95% CI" in fact(card, "metrics", "Test accuracy")
    assert "percentage points" in fact(card, "metrics", "Train–test gap")
    assert len(card.metrics.table.rows) == 10
    # Model details from the config, the layer table and what the run recorded.
    assert fact(card, "model_details", "Run") == real_run.run_id
    assert fact(card, "model_details", "Parameters") == "1,676,842"
    assert fact(card, "model_details", "Parameters") == f"{count_params('deep'):,}"
    assert "4 convolutional" in fact(card, "model_details", "Layers")
    assert fact(card, "model_details", "Batch size") == "64"
    assert fact(card, "model_details", "Epochs") == "1 configured, 1 completed"
    assert fact(card, "model_details", "Seed") == "1"
    assert "TensorFlow 2." in fact(card, "model_details", "Software")
    assert fact(card, "model_details", "Precision").startswith(result["precision"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", fact(card, "model_details", "Created"))


def test_without_a_saved_matrix_the_card_counts_the_saved_predictions(real_run: Run) -> None:
    # The run's matrix was counted from its saved float16 predictions: counting them again
    # must give the same figures, to the last digit.
    result = {k: v for k, v in real_run.result.items() if k != "confusion_matrix"}
    counted = model_card(dataclasses.replace(real_run, result=result), n_available=5_085)
    assert counted.figures == model_card(real_run, n_available=5_085).figures
    assert counted.missing == ()


def test_training_data_says_which_images(real_run: Run) -> None:
    card = model_card(real_run, n_available=5_085)
    assert fact(card, "training_data", "Training subset") == (
        "300 images drawn at random (seed 1) from the 5,085 training images of the sample "
        "the server loaded"
    )
    assert fact(card, "training_data", "Used for training") == "240 images"
    assert fact(card, "training_data", "Held out for validation").startswith("60 images (0.2")
    assert "1,017 of CIFAR-10's 10,000 test images (a sample)" in fact(
        card, "training_data", "Test images"
    )
    assert fact(card, "training_data", "Data source") == real_run.result["data_source"]
    assert fact(card, "training_data", "Augmentation").startswith("none")
    # Without the UI's count the card does not invent one.
    bare = model_card(real_run)
    assert "its size was not recorded" in fact(bare, "training_data", "Training subset")
    # A count that cannot be the run's data set (fewer images than it drew) is ignored.
    assert "5,085" not in fact(
        model_card(real_run, n_available=200), "training_data", "Training subset"
    )


def test_data_source_not_recorded_falls_back_to_the_uis(real_run: Run) -> None:
    result = {k: v for k, v in real_run.result.items() if k != "data_source"}
    run = dataclasses.replace(real_run, result=result)
    assert fact(model_card(run), "training_data", "Data source") == "not recorded"
    told = fact(model_card(run, data_source="local files in /data"), "training_data", "Data source")
    assert told.startswith("local files in /data (what the app has loaded now")
    # Keras' download is the full set: the card says so without being told a count.
    full = {**result, "data_source": "Keras' download", "n_test": 10_000}
    keras = dataclasses.replace(real_run, result=full)
    subset = fact(model_card(keras), "training_data", "Training subset")
    assert "full CIFAR-10 training split (50,000 images)" in subset
    # A count for another data set than the run's is not used.
    other = model_card(real_run, data_source="Keras' download", n_available=5_085)
    assert "5,085" not in fact(other, "training_data", "Training subset")


def _scope(**changes: object) -> DataScope:
    sample = DataScope("local files", 5_085, False, 240, 60, 1_017, True, ())
    return dataclasses.replace(sample, **changes)


def test_caveats_tell_a_test_sample_and_a_small_training_pool_apart(real_run: Run) -> None:
    fixed = len(T.CAVEATS)
    # The real run: a test sample and a training subset of the server's reduced sample.
    own = model_card(real_run, n_available=5_085).caveats.bullets
    assert own[fixed:] == (
        "This run was tested on 1,017 of CIFAR-10's 10,000 test images: its test figures are "
        "less certain than on the full test set; their 95% confidence intervals (Metrics) show "
        "by how much.",
        "This run trained on 240 images, 0.5% of CIFAR-10's 50,000 training images, drawn "
        "from a reduced sample of 5,085 training images that the server loaded.",
    )
    # The full test set but a small training pool: nothing about a test sample, and the
    # training bullet still says the images came from the reduced sample.
    pool_only = caveats(_scope(n_test=10_000)).bullets[fixed:]
    assert not any("test images" in bullet or "certain" in bullet for bullet in pool_only)
    assert pool_only == (own[fixed + 1],)
    # The size of the split unknown: the small pool is still said.
    (unsized,) = caveats(_scope(n_test=10_000, n_train=None, n_val=None)).bullets[fixed:]
    assert unsized == (
        "This run's training images were drawn from a reduced sample of 5,085 training images "
        "that the server loaded, not from all of CIFAR-10's 50,000."
    )
    # A test sample drawn with the full training pool: only the test bullet is about samples.
    full_pool = caveats(_scope(pool=50_000, n_train=40_000, n_test=2_000)).bullets[fixed:]
    assert full_pool[0].startswith("This run was tested on 2,000 of CIFAR-10's 10,000")
    assert (
        full_pool[1]
        == "This run trained on 40,000 images, 80% of CIFAR-10's 50,000 training images."
    )
    # The full CIFAR-10 for both: no caveat of this run's.
    assert caveats(_scope(pool=50_000, full=True, n_train=50_000, n_test=10_000)).bullets == (
        T.CAVEATS
    )


def test_benchmark_claims_give_the_runs_own_size(real_run: Run, tmp_store: RunStore) -> None:
    bullets = model_card(real_run).out_of_scope.bullets
    assert bullets[:-1] == T.OUT_OF_SCOPE
    assert bullets[-1] == (
        "Benchmark claims: this is one training run with one seed (240 training images, "
        "1 epoch completed), made in a lesson, not a benchmark result: another seed would "
        "train another model, with other figures."
    )
    assert "short" not in bullets[-1] and "subset" not in bullets[-1]
    # A run that recorded nothing: its configured size, said to be configured.
    run_id = tmp_store.new_run_id()
    tmp_store.create(run_id, {"model": "deep", "train_size": 50_000, "epochs": 30})
    tmp_store.set_status(run_id, "failed", "stopped")
    failed = model_card(tmp_store.load(run_id)).out_of_scope.bullets[-1]
    assert "(40,000 training images configured, 30 epochs configured)" in failed


def test_the_privacy_sources_are_the_bias_privacy_pages() -> None:
    known = reference_by_key()
    assert T.SHOKRI is known["Shokri et al. 2017"] and T.YEOM is known["Yeom et al. 2018"]
    assert T.REFERENCES[-2:] == (T.SHOKRI, T.YEOM)


def test_every_citation_resolves_and_every_source_is_cited(real_run: Run) -> None:
    card = model_card(real_run)
    text = all_text(card)
    keys = {ref.key for ref in card.references}
    cited = set(re.findall(r"\(([A-Z][^()]*? (?:et al\. )?\d{4})", text))
    cited |= {key for key in keys if key in text}
    assert keys <= cited
    for needed in ("Shokri et al. 2017", "Yeom et al. 2018", "Barz & Denzler 2020"):
        assert needed in text
    assert "3.3% of the CIFAR-10 test images" in text
    assert "https://labelerrors.com" in text and "Northcutt et al. 2021" in text
    assert "https://doi.org/10.3390/jimaging6060041" in {ref.url for ref in card.references}
    assert "one of airplane, automobile" in text and "none of these" in text


def test_describe_augmentation_in_words() -> None:
    words = describe_augmentation(LESSON_PRESET)
    for part in (
        "rotated by up to ±40°",
        "20% of the width sideways",
        "20% of the height up or down",
        "between 0.8 and 1.2",
        "mirrored left–right",
        "nearest edge pixel",
    ):
        assert part in words, part
    assert describe_augmentation(None).startswith("none")


# --- The bootstrap -----------------------------------------------------------------------------


def _fake_predictions(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    wrong = rng.random(n) < 0.4
    predicted = np.where(wrong, (labels + rng.integers(1, 10, n)) % 10, labels)
    return labels, predicted


def test_interval_contains_the_estimate_and_narrows_with_more_images() -> None:
    right, total = class_counts(confusion_matrix(*_fake_predictions(1_000)))
    small, small_classes = accuracy_intervals(right, total)
    large, large_classes = accuracy_intervals(right * 16, total * 16)  # same accuracy, 16× images
    assert small.estimate == pytest.approx(large.estimate)
    for iv in (small, large, *small_classes, *large_classes):
        assert iv.low <= iv.estimate <= iv.high
    assert large.high - large.low < 0.5 * (small.high - small.low)  # ~1/4: the 1/√n law
    for a, b in zip(small_classes, large_classes, strict=True):
        assert b.high - b.low < a.high - a.low
    again = accuracy_intervals(right, total)[0]
    assert again == small  # seeded: the same card every time


def test_count_bootstrap_matches_resampling_the_images() -> None:
    labels, predicted = _fake_predictions(2_000)
    overall, per_class = accuracy_intervals(
        *class_counts(confusion_matrix(labels, predicted)), resamples=2_000
    )
    rng = np.random.default_rng(5)
    draws = rng.integers(0, len(labels), (2_000, len(labels)))  # the textbook way
    accs = (labels[draws] == predicted[draws]).mean(axis=1)
    low, high = np.percentile(accs, [2.5, 97.5])
    assert overall.low == pytest.approx(low, abs=0.006) and overall.high == pytest.approx(
        high, abs=0.006
    )
    mine = labels[draws] == 3
    cls = ((labels[draws] == predicted[draws]) & mine).sum(axis=1) / mine.sum(axis=1)
    low, high = np.percentile(cls, [2.5, 97.5])
    assert per_class[3].low == pytest.approx(low, abs=0.02)
    assert per_class[3].high == pytest.approx(high, abs=0.02)


def test_bootstrap_of_10000_test_images_takes_well_under_a_second() -> None:
    labels, predicted = _fake_predictions(10_000)
    start = time.perf_counter()
    accuracy_intervals(*class_counts(confusion_matrix(labels, predicted)))
    gap_interval(800, 1_000, int((labels == predicted).sum()), 10_000)
    assert time.perf_counter() - start < 1.0


def test_a_class_without_images_and_an_empty_test_set() -> None:
    right = np.array([5, 0, *[3] * 8])
    total = np.array([10, 0, *[6] * 8])
    overall, per_class = accuracy_intervals(right, total)
    assert overall.known and not per_class[1].known and np.isnan(per_class[1].low)
    empty, classes = accuracy_intervals(np.zeros(10), np.zeros(10))
    assert not empty.known and not any(c.known for c in classes)
    assert not gap_interval(0, 0, 5, 10).known


# --- Escaping ----------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        self.attrs |= {name for name, _ in attrs}


def test_nothing_from_a_run_can_inject_html_or_markdown(real_run: Run) -> None:
    run = dataclasses.replace(
        real_run,
        run_id=INJECTION,
        config={**real_run.config, "augment": {"fill_mode": INJECTION}},  # refused by the config
        status={**real_run.status, "message": "done | <b>bold</b> [link](javascript:x)"},
    )
    card = model_card(run, data_source="<img src=x onerror=alert(1)>")
    assert any("<script>" in item for item in card.missing)  # the config error, quoted
    page = card_html(card)
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>" not in page
    assert "&lt;script&gt;" in page
    parser = _Tags()
    parser.feed(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "p", "div"}
    allowed |= {"strong", "ul", "ol", "li", "section", "table", "thead", "tbody", "tr", "th"}
    allowed |= {"td", "em", "a"}
    assert parser.tags <= allowed
    assert "onerror" not in parser.attrs
    assert page.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in page
    markdown = card_markdown(card)
    assert "<script" not in markdown and "&lt;script&gt;" in markdown
    assert not re.search(r"(?<!\\)\]\(", markdown)  # brackets escaped: no link
    status_row = next(line for line in markdown.splitlines() if line.startswith("| **Status**"))
    assert status_row.count(" | ") == 1  # the message's "|" cannot add a table column


# --- Runs that did not finish ------------------------------------------------------------------


def test_a_failed_run_gets_a_card_that_says_what_is_missing(tmp_store: RunStore) -> None:
    run_id = tmp_store.new_run_id()
    tmp_store.create(run_id, {"model": "deep", "train_size": 500, "epochs": 2})
    tmp_store.set_status(run_id, "failed", "MemoryError: out of memory")
    card = model_card(tmp_store.load(run_id))
    assert card.figures.test is None and card.figures.per_class == ()
    assert any("never scored" in item for item in card.missing)
    assert "No test results" in card.metrics.paragraphs[0]
    assert fact(card, "model_details", "Status") == "failed: MemoryError: out of memory"
    assert fact(card, "training_data", "Used for training") == (
        "400 images (as configured; the run recorded no sizes)"
    )
    assert "Missing from this run" in card_markdown(card) and "Missing from this run" in card_html(
        card
    )


def test_a_run_without_predictions_keeps_its_test_figures(real_run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "runs" / real_run.run_id
    shutil.copytree(real_run.path, folder)
    (folder / PREDICTIONS_FILE).unlink()
    card = model_card(RunStore(tmp_path / "runs").load(real_run.run_id))
    assert card.figures.test.estimate == pytest.approx(real_run.result["test_accuracy"])
    assert card.figures.train is None and card.figures.gap is None
    assert any("Saved predictions" in item for item in card.missing)
    assert "Training accuracy" not in dict(card.metrics.facts)


def test_garbage_in_a_run_never_raises(tmp_path: Path) -> None:
    run = Run(
        run_id="20260101-000000-abcdef",
        path=tmp_path / "gone",
        config={"model": "resnet"},
        status="not a dict",  # type: ignore[arg-type]
        history={},
        result={"confusion_matrix": "garbage", "versions": 3, "created": "x"},
    )
    card = model_card(run)
    assert card.missing and len(card.sections) == 6
    assert card_markdown(card) and card_html(card)
