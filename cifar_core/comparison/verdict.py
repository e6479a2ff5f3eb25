"""Verdict: what a shallow-vs-deep comparison can and cannot conclude.

One pair of runs cannot say which design is better: a different seed alone moves a network's
test accuracy by several points at a classroom budget (measured on the CIFAR-10 sample, 3,000
images × 4 epochs: 3–7 points between seeds 7, 8 and 9). So a winner is named only when
several seeds were run at the same budget and the difference of the averages is larger than
the spread between seeds; otherwise the verdict says it cannot tell, and reports what the
runs do show (the overfitting gap). The two networks also differ in more than depth — the
deep one does about 4.7× more arithmetic, pools twice and has more dropout — so even a clear
win is a win of one design over the other, not of depth alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cifar_core.comparison.analysis import USABLE_STATUSES
from cifar_core.constants import GAP_POINTS
from cifar_core.models import count_mult_adds

BUDGET_KEYS: tuple[str, ...] = (
    "train_size",
    "epochs",
    "batch_size",
    "optimizer",
    "learning_rate",
    "val_split",
    "seed",
    "augment",
)


def budget_differences(config_a: Mapping, config_b: Mapping) -> list[str]:
    """The training settings in which two runs differ (a fair comparison has none)."""
    return [key for key in BUDGET_KEYS if config_a.get(key) != config_b.get(key)]


def budget_key(config: Mapping) -> str:
    """The budget of a run without its seed and network: runs with equal keys are seeds of
    one experiment."""
    return json.dumps({k: config.get(k) for k in BUDGET_KEYS if k != "seed"}, sort_keys=True)


def seed_accuracies(infos: Sequence, config: Mapping) -> dict[str, dict[int, float]]:
    """Test accuracy per network and seed of the saved runs at `config`'s budget.

    Args:
        infos: RunInfo-like objects (status, config, test_accuracy), newest first.
        config: the budget to match (its seed and network are ignored).

    Returns:
        network → {seed: test accuracy}; the newest run of a (network, seed) counts.
    """
    key = budget_key(config)
    out: dict[str, dict[int, float]] = {}
    for info in infos:
        if info.status not in USABLE_STATUSES or info.test_accuracy is None:
            continue
        if budget_key(info.config) != key:
            continue
        seeds = out.setdefault(str(info.config.get("model")), {})
        seeds.setdefault(int(info.config.get("seed", 0)), float(info.test_accuracy))
    return out


@dataclass(frozen=True)
class Verdict:
    """What a comparison concludes, in words, and whether it names a winner.

    Attributes:
        winner: "deep", "shallow" or None (cannot tell).
        text: Markdown sentences for the page.
    """

    winner: str | None
    text: str


def _points(value: float) -> str:
    return f"{value * 100:.1f} points"


def depth_verdict(
    shallow_acc: Sequence[float],
    deep_acc: Sequence[float],
    gaps: Mapping[str, float | None] | None = None,
    at_max_size: bool = False,
) -> Verdict:
    """The honest verdict of shallow vs deep at one budget.

    Args:
        shallow_acc: the shallow net's test accuracies, one per seed (the pair shown first).
        deep_acc: the deep net's, one per seed.
        gaps: final train − validation accuracy gap of the shown pair, per network.
        at_max_size: the training set is already all the images this server has (then the
            verdict does not suggest a bigger one).
    """
    if not shallow_acc or not deep_acc:
        return Verdict(None, "One of the runs has no test accuracy yet, so there is no verdict.")
    mean_s, mean_d = float(np.mean(shallow_acc)), float(np.mean(deep_acc))
    lead = mean_d - mean_s
    ahead = "deep" if lead > 0 else "shallow"
    parts: list[str] = []
    winner = None
    if min(len(shallow_acc), len(deep_acc)) < 2:
        parts.append(
            f"The {ahead} network scored {_points(abs(lead))} higher on this pair of runs — "
            "but with one seed each, that cannot tell which design is better: a different seed "
            "alone moves a network's test accuracy by several points at a classroom budget. "
            "Run both again with two other seeds (change **Seed**, press **Run both**): this "
            "verdict then compares the averages."
        )
    else:
        spread = max(float(np.ptp(shallow_acc)), float(np.ptp(deep_acc)))
        seeds = f"{len(shallow_acc)} and {len(deep_acc)} seeds"
        if abs(lead) > spread:
            winner = ahead
            parts.append(
                f"Over {seeds}, the {ahead} network is ahead by {_points(abs(lead))} on average "
                f"({mean_s:.1%} shallow, {mean_d:.1%} deep), more than the spread between seeds "
                f"({_points(spread)}): on this budget, the {ahead} design is better."
            )
        else:
            parts.append(
                f"Over {seeds}, the averages differ by {_points(abs(lead))} ({mean_s:.1%} "
                f"shallow, {mean_d:.1%} deep), less than the spread between seeds "
                f"({_points(spread)}): on this budget the two designs cannot be told apart."
            )
    parts.append(_gap_sentence(gaps or {}))
    parts.append(_budget_sentence(winner, at_max_size))
    return Verdict(winner, " ".join(p for p in parts if p))


def pair_verdict(
    summaries: Sequence, configs: Sequence[Mapping], infos: Sequence, at_max_size: bool
) -> Verdict | None:
    """The verdict of a shown pair: over every saved seed of its budget when both share one.

    Args:
        summaries: the two runs' scoreboard.RunSummary (model, test_accuracy, final_gap).
        configs: the two runs' configs.
        infos: every saved run (RunInfo-like), newest first: other seeds of the same budget.
        at_max_size: the training set is already every image this server has.

    Returns:
        None unless the pair is one shallow and one deep run.
    """
    models = {s.model: s for s in summaries}
    if set(models) != {"shallow", "deep"}:
        return None
    accuracies = {m: [s.test_accuracy] for m, s in models.items() if s.test_accuracy}
    if not budget_differences(configs[0], configs[1]):  # same budget: every saved seed counts
        seeds = seed_accuracies(infos, configs[0])
        accuracies = {m: list(seeds.get(m, {}).values()) or accuracies.get(m, []) for m in models}
    return depth_verdict(
        accuracies.get("shallow", []),
        accuracies.get("deep", []),
        gaps={m: s.final_gap for m, s in models.items()},
        at_max_size=at_max_size,
    )


def _gap_sentence(gaps: Mapping[str, float | None]) -> str:
    shallow, deep = gaps.get("shallow"), gaps.get("deep")
    if shallow is None or deep is None:
        return ""
    text = (
        f"Final train − validation gap: shallow {shallow * 100:+.1f}, deep {deep * 100:+.1f} points"
    )
    if abs(shallow - deep) * 100 < GAP_POINTS:
        return text + " — about the same overfitting."
    more = "shallow" if shallow > deep else "deep"
    return (
        f"{text}: the {more} network fits its training images much better than new ones — it "
        "overfits sooner, and that, not accuracy, is what this pair of runs clearly shows."
    )


def _budget_sentence(winner: str | None, at_max_size: bool) -> str:
    ratio = count_mult_adds("deep") / count_mult_adds("shallow")
    more = (
        "more epochs (and augmentation, against overfitting)"
        if at_max_size
        else "more images and epochs"
    )
    depth = (
        f"The two designs differ in more than depth: the deep one does {ratio:.1f}× more "
        "arithmetic per image, pools twice and has more dropout."
    )
    if winner == "deep":
        return depth
    return (
        f"{depth} The published figures for these designs come from 40,000–50,000 images and "
        "20–60 epochs (see Published results below: the shallow net 66.4% without "
        "augmentation, deep designs 64–79% with it — different budgets, so they do not isolate "
        f"depth either). To give depth its best chance here, try {more}."
    )
