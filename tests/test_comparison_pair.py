"""comparison.pair and verdict.pair_verdict: what Shallow vs deep shows, computed outside the page."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cifar_core.comparison import pair as P
from cifar_core.comparison import verdict as V
from cifar_core.comparison.scoreboard import RunSummary
from cifar_core.constants import CLASS_NAMES


def one_hot(answers: list[int]) -> np.ndarray:
    probs = np.full((len(answers), 10), 0.01, dtype=np.float32)
    probs[np.arange(len(answers)), answers] = 0.91
    return probs


def make_pair(y, a, b) -> P.ComparedPair:
    preds = [{"test_labels": np.asarray(y), "test_probs": one_hot(p)} for p in (a, b)]
    results = [{"test_accuracy": 0.5}] * 2
    histories = [{"epochs": []}] * 2
    return P.compare(["shallow", "deep"], preds, results, histories, list(CLASS_NAMES))


def test_agreement_counts_and_captions_by_hand():
    y = [0, 1, 2, 3, 4]
    pair = make_pair(y, a=[0, 1, 9, 9, 4], b=[0, 9, 2, 9, 9])
    assert pair.agreement() == {
        "total": 5,
        "both_right": 1,  # image 0
        "both_wrong": 1,  # image 3
        "a_only": 2,  # images 1 and 4
        "b_only": 1,  # image 2
    }
    assert pair.disagreements().a_only.tolist() == [1, 4]
    assert pair.caption(1) == "automobile · shallow ✓ · deep: truck ✗"
    assert pair.caption(3) == "cat · shallow: truck ✗ · deep: truck ✗"
    assert pair.matrices[0][2, 9] == 1 and pair.matrices[1][2, 2] == 1
    rows = pair.per_class_rows()
    assert {"class": "airplane", "model": "deep", "accuracy": 1.0} in rows


def test_images_are_shown_only_for_the_test_split_both_were_scored_on():
    y = [0, 1, 2]
    pair = make_pair(y, [0, 1, 2], [0, 1, 1])
    assert pair.same_test
    assert pair.shows_images_of(np.array(y))
    assert not pair.shows_images_of(np.array([0, 1, 3]))  # another data set
    assert not pair.shows_images_of(np.array([0, 1]))
    assert not pair.shows_images_of(None)
    preds = [
        {"test_labels": np.array(y), "test_probs": one_hot([0, 1, 2])},
        {"test_labels": np.array([2, 1, 0]), "test_probs": one_hot([0, 1, 2])},
    ]
    other = P.compare(["a", "b"], preds, [{}] * 2, [{}] * 2, list(CLASS_NAMES))
    assert not other.same_test and not other.shows_images_of(np.array(y))


def test_a_comparison_needs_exactly_two_runs():
    preds = {"test_labels": np.array([0]), "test_probs": one_hot([0])}
    with pytest.raises(ValueError, match="exactly two"):
        P.compare(["a"], [preds], [{}], [{}], list(CLASS_NAMES))


def summary(model: str, acc: float, gap: float = 0.05) -> RunSummary:
    return RunSummary(model, model, None, None, None, None, None, acc, gap, 1000, 3)


def test_pair_verdict_counts_every_seed_of_the_same_budget():
    config = {"train_size": 1000, "epochs": 3, "seed": 1, "model": "shallow"}
    infos = [
        SimpleNamespace(
            status="finished",
            config={**config, "model": model, "seed": seed},
            test_accuracy=acc,
        )
        for model, seed, acc in (
            ("shallow", 1, 0.40),
            ("shallow", 2, 0.41),
            ("deep", 1, 0.50),
            ("deep", 2, 0.51),
        )
    ]
    configs = [config, {**config, "model": "deep"}]
    verdict = V.pair_verdict(
        [summary("shallow", 0.40), summary("deep", 0.50)], configs, infos, False
    )
    assert verdict is not None and verdict.winner == "deep"
    assert "Over 2 and 2 seeds" in verdict.text
    # Different budgets: only the pair itself counts (one seed each: no winner named).
    other = [config, {**config, "model": "deep", "epochs": 5}]
    alone = V.pair_verdict([summary("shallow", 0.40), summary("deep", 0.50)], other, infos, False)
    assert alone is not None and alone.winner is None
    # Two deep runs: no depth verdict at all.
    assert (
        V.pair_verdict([summary("deep", 0.4), summary("deep", 0.5)], configs, infos, False) is None
    )
