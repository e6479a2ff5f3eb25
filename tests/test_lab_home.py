"""Home page claims (issue 12, "Teaching truth"): true, sourced, and in step with the data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cifar_core import constants as C
from cifar_core.comparison.references import NOTEBOOKS, REFERENCE_RESULTS, reference_rows
from cifar_core.models import count_mult_adds
from tests.conftest import open_app

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def home_text(app_env) -> str:
    at = open_app()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.startswith("Your first convolutional network")
    return "\n".join(m.value for m in at.markdown)


def test_the_false_claims_are_gone(home_text):
    for claim in (
        "yet it learns better",
        "Since Keras 2 the third number",
        "augmented nothing",
        "exactly the transforms you saw",
        "are gone from Keras 3",
    ):
        assert claim not in home_text, claim


def test_conv2d_history_is_told_with_its_source(home_text):
    for fact in (
        "Keras 1",
        "standalone Keras 2.0–2.3",
        "kernel_size=(3, 3)",
        "Update\n  your `Conv2D` call to the Keras 2 API",
        "keras/legacy/interfaces.py",
        "samples_per_epoch",
        "conv4 had stride 1",
        "Keras 2.4",
        "`strides=3`, silently",
    ):
        assert fact in home_text, fact


def test_augmentation_loop_and_training_are_told_right(home_text):
    for fact in (
        "did apply the generator, but it was mis-indented",
        "the notebooks' own code",
        "notebook 000 augmented only the last image, 5 times",
        "`num_aug` is never incremented",
        "never used",
        "did augment",
        "training draws *new* random transforms from the same settings with the same maths",
    ):
        assert fact in home_text, fact


def test_the_augmented_notebook_run_is_the_one_in_the_reference_table(home_text):
    from pages.home import NOTEBOOK_AUGMENTED_RUN

    assert f"25-epoch run that printed {NOTEBOOK_AUGMENTED_RUN}" in home_text
    assert any(
        r.source == NOTEBOOKS
        and r.value_text == NOTEBOOK_AUGMENTED_RUN
        and "25 epochs" in r.budget
        and "augmentation" in r.budget
        for r in REFERENCE_RESULTS
    )


def test_legacy_image_data_generator_is_deprecated_not_gone(home_text):
    assert "`tensorflow.keras.preprocessing.image.ImageDataGenerator`" in home_text
    assert "TensorFlow 2.16–2.21 as a deprecated legacy class" in home_text
    assert "needs scipy" in home_text and "`fit_generator` is gone" in home_text
    # The claim, checked on the installed TensorFlow.
    pytest.importorskip("scipy")
    from tensorflow.keras.preprocessing.image import ImageDataGenerator  # noqa: F401


def test_depth_claim_gives_the_costs_and_both_sides(home_text):
    ratio = count_mult_adds("deep") / count_mult_adds("shallow")
    assert 4.6 < ratio < 4.8
    assert f"{ratio:.1f}× more arithmetic" in home_text
    assert "pools twice" in home_text and "pools once" in home_text
    assert "3 dropout layers against 2" in home_text
    assert "**When depth wins.**" in home_text and "**When it does not.**" in home_text
    assert "the two networks are\nclose, and either can win" in home_text


def test_every_reference_result_is_listed_with_its_source_and_budget(home_text):
    lines = [line for line in home_text.splitlines() if line.startswith("* **")]
    for row in reference_rows():
        assert any(
            f"**{row['value_text']}**" in line and row["source"] in line and row["budget"] in line
            for line in lines
        ), row["label"]


def test_when_depth_wins_matches_the_reference_data():
    # The home page says: the deep design comes out ahead only with tens of thousands of images
    # and 25 epochs or more, and not in every such run.
    best_shallow = max(r.value for r in REFERENCE_RESULTS if r.model == "shallow")
    deep = [r for r in REFERENCE_RESULTS if r.model != "shallow"]
    winners = [r for r in deep if r.value > best_shallow]
    assert winners
    for r in winners:
        epochs = int(re.search(r"(\d+) epochs", r.budget).group(1))
        images = int(re.search(r"(\d{2},\d{3}) images", r.budget).group(1).replace(",", ""))
        assert epochs >= 25 and images >= 10_000, r
    assert any(r.value <= best_shallow for r in deep)  # "not in every such run"


def test_measured_budgets_are_the_train_pages_defaults(home_text):
    from pages.home import APP_MEASURED

    budget, shallow, deep = APP_MEASURED[0]
    train = round(C.DEFAULT_TRAIN_SIZE * (1 - C.DEFAULT_VAL_SPLIT))
    val = C.DEFAULT_TRAIN_SIZE - train
    assert budget.startswith(f"{train:,} training + {val:,} validation images")
    assert f"{C.DEFAULT_EPOCHS} epochs (the Train page's defaults)" in budget
    assert shallow > deep  # the default budget: the shallow net can win
    assert any(d > s for _, s, d in APP_MEASURED)  # …and so can the deep one
    for budget, shallow, deep in APP_MEASURED:
        assert f"{budget}: shallow **{shallow:.1%}**, deep **{deep:.1%}**" in home_text


@pytest.mark.parametrize(
    ("page", "experiments"),
    [
        ("pages/home.py", ["above_chance"]),
        ("pages/augmentation_lab.py", ["augmentation_narrows_gap"]),
        ("pages/shallow_vs_deep.py", ["shallow_overfits_more"]),
    ],
)
def test_each_training_claim_offers_its_experiment_where_it_is_made(app_env, page, experiments):
    from cifar_core.lessons import EXPERIMENTS, NOT_SHOWN_HERE

    at = open_app(None if page == "pages/home.py" else page)
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    for key in experiments:
        assert f"**See it: run this.** {EXPERIMENTS[key].claim}" in text
        assert any(b.key == f"see_it_run_{key}" for b in at.button)
    assert "about about" not in text  # the estimate says "about" once
    assert re.search(r"runs?, about \d+ (min|s) on this server", text), text
    if page != "pages/augmentation_lab.py":  # what the sample cannot show, said where claimed
        assert NOT_SHOWN_HERE["deep_overtakes"] in text
