"""The shallow-vs-deep verdict names a winner only when several seeds say so."""

from __future__ import annotations

from types import SimpleNamespace

from cifar_core.comparison import verdict as V


def test_one_seed_each_cannot_name_a_winner_even_with_a_big_lead():
    result = V.depth_verdict([0.40], [0.52])
    assert result.winner is None
    assert "one seed each" in result.text and "12.0 points higher" in result.text
    assert "depth, not size" not in result.text  # the old claim is gone


def test_several_seeds_name_a_winner_only_beyond_the_seed_spread():
    clear = V.depth_verdict([0.40, 0.41, 0.42], [0.50, 0.52, 0.51])
    assert clear.winner == "deep" and "more than the spread between seeds" in clear.text
    # The deep design also does more arithmetic: a win is a design's, not depth's alone.
    assert "more arithmetic" in clear.text
    close = V.depth_verdict([0.40, 0.46], [0.43, 0.47])
    assert close.winner is None and "cannot be told apart" in close.text
    shallow_wins = V.depth_verdict([0.48, 0.49], [0.40, 0.41])
    assert shallow_wins.winner == "shallow"


def test_the_overfitting_gap_is_reported_when_accuracy_does_not_decide():
    text = V.depth_verdict([0.42], [0.37], gaps={"shallow": 0.093, "deep": 0.006}).text
    assert "shallow +9.3, deep +0.6 points" in text and "overfits sooner" in text
    level = V.depth_verdict([0.42], [0.37], gaps={"shallow": 0.05, "deep": 0.04}).text
    assert "about the same overfitting" in level


def test_no_bigger_training_set_is_suggested_when_it_is_already_all_the_images():
    assert "more images and epochs" in V.depth_verdict([0.4], [0.3]).text
    at_max = V.depth_verdict([0.4], [0.3], at_max_size=True).text
    assert "more images" not in at_max and "more epochs" in at_max


def test_no_verdict_without_accuracies():
    assert V.depth_verdict([], [0.3]).winner is None


def info(model: str, seed: int, acc: float | None, status: str = "finished", **budget):
    config = {"model": model, "seed": seed, "train_size": 1000, "epochs": 5, **budget}
    return SimpleNamespace(status=status, config=config, test_accuracy=acc)


def test_seed_accuracies_collect_the_runs_of_one_budget():
    infos = [
        info("deep", 1, 0.31),
        info("deep", 1, 0.99),  # an older run of the same seed: the newest counts
        info("deep", 2, 0.33),
        info("shallow", 1, 0.40),
        info("shallow", 3, 0.41, epochs=6),  # another budget
        info("shallow", 4, None),  # not scored
        info("shallow", 5, 0.2, status="failed"),
    ]
    got = V.seed_accuracies(infos, {"model": "shallow", "seed": 9, "train_size": 1000, "epochs": 5})
    assert got == {"deep": {1: 0.31, 2: 0.33}, "shallow": {1: 0.40}}


def test_budget_differences():
    base = {"model": "shallow", "train_size": 1000, "epochs": 5, "seed": 1, "augment": None}
    assert V.budget_differences(base, {**base, "model": "deep"}) == []
    assert V.budget_differences(base, {**base, "epochs": 6, "seed": 2}) == ["epochs", "seed"]
