"""Bias and privacy: per-class gaps, threshold error rates and membership inference (numpy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cifar_core.constants import CHANCE_QUANTILE, CHANCE_SHUFFLES, CONFIDENCE_BINS, SMALL_MEAN_GAP

# --- The "one threshold, two groups" demo: default groups ---------------------------------------


@dataclass(frozen=True)
class ScoreParams:
    """Match-score distributions of one (synthetic) group: two normal curves.

    Attributes:
        genuine_mean, genuine_sd: scores of pairs showing the same person.
        impostor_mean, impostor_sd: scores of pairs showing two different people.
    """

    genuine_mean: float
    genuine_sd: float
    impostor_mean: float
    impostor_sd: float


# Two illustrative groups. Not data from any real system: B's impostor scores sit higher and
# spread wider, so one threshold treats the groups differently (their impostor tails cross only
# below a score of 0; the sliders can move the crossing into view).
DEFAULT_GROUPS: dict[str, ScoreParams] = {
    "Group A": ScoreParams(
        genuine_mean=0.75, genuine_sd=0.08, impostor_mean=0.35, impostor_sd=0.08
    ),
    "Group B": ScoreParams(
        genuine_mean=0.70, genuine_sd=0.10, impostor_mean=0.45, impostor_sd=0.10
    ),
}


@dataclass(frozen=True)
class ClassGap:
    """How unequal a model is across classes.

    Attributes:
        ranking: (class name, accuracy) pairs, best first; classes with no test images left out.
        best_name, best_accuracy, worst_name, worst_accuracy: the two ends of the ranking.
        gap: best_accuracy − worst_accuracy (a fraction, 0.25 = 25 percentage points).
        error_ratio: how many times as often the worst class is wrong as the best class;
            None when the best class made no mistakes at all.
    """

    ranking: tuple[tuple[str, float], ...]
    best_name: str
    best_accuracy: float
    worst_name: str
    worst_accuracy: float
    gap: float
    error_ratio: float | None


@dataclass(frozen=True)
class ErrorRates:
    """The two ways a match decision goes wrong, as fractions of comparisons.

    Attributes:
        false_match_rate: impostor pairs scored at or above the threshold (wrongly "same person").
        false_non_match_rate: genuine pairs scored below the threshold (wrongly "different").
    """

    false_match_rate: float
    false_non_match_rate: float


@dataclass(frozen=True)
class ConfidenceGap:
    """Confidence in the true class on training images (members) vs test images (non-members).

    Attributes:
        member_mean, nonmember_mean, member_median, nonmember_median: the summaries.
        mean_gap, median_gap: member minus non-member.
        n_members, n_nonmembers: how many images each summary is over.
    """

    member_mean: float
    nonmember_mean: float
    member_median: float
    nonmember_median: float
    mean_gap: float
    median_gap: float
    n_members: int
    n_nonmembers: int


@dataclass(frozen=True)
class AttackResult:
    """The best "guess member if confidence ≥ t" rule.

    Attributes:
        threshold: the best t (inf means "never guess member").
        accuracy: balanced accuracy, the mean of the hit rate on members and on non-members,
            so 0.5 is a coin flip however unequal the two sets are.
        member_hit_rate: members guessed as members at that t.
        nonmember_hit_rate: non-members guessed as non-members at that t.
    """

    threshold: float
    accuracy: float
    member_hit_rate: float
    nonmember_hit_rate: float


# The student's model: the gap between the best and the worst class, like a demographic gap.
def per_class_gap(accuracies: Sequence[float], class_names: Sequence[str]) -> ClassGap:
    """Rank classes by accuracy and measure the best–worst gap.

    Args:
        accuracies: one accuracy (0–1) per class; NaN for a class with no test images.
        class_names: the names, in the same order.

    Returns:
        The ranking and the gap.

    Raises:
        ValueError: if the lengths differ or no class has a finite accuracy.
    """
    if len(accuracies) != len(class_names):
        raise ValueError(f"{len(accuracies)} accuracies for {len(class_names)} class names.")
    pairs = [
        (str(name), float(acc))
        for name, acc in zip(class_names, accuracies, strict=True)
        if acc is not None and math.isfinite(float(acc))
    ]
    if not pairs:
        raise ValueError("No class has an accuracy (no test images?).")
    ranking = tuple(sorted(pairs, key=lambda p: (-p[1], p[0])))
    (best_name, best), (worst_name, worst) = ranking[0], ranking[-1]
    best_error, worst_error = 1.0 - best, 1.0 - worst
    ratio = worst_error / best_error if best_error > 0 else None
    return ClassGap(ranking, best_name, best, worst_name, worst, best - worst, ratio)


def normal_cdf(x: float, mean: float, sd: float) -> float:
    """P(X ≤ x) for X ~ Normal(mean, sd), from math.erf (no scipy)."""
    if sd <= 0:
        raise ValueError(f"sd must be positive, got {sd}.")
    return 0.5 * (1.0 + math.erf((x - mean) / (sd * math.sqrt(2.0))))


def normal_pdf(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """The bell curve's height at x (for drawing)."""
    z = (np.asarray(x, dtype=np.float64) - mean) / sd
    return np.exp(-0.5 * z * z) / (sd * math.sqrt(2.0 * math.pi))


# Exact rates: the area of each curve on the wrong side of the threshold.
def analytic_error_rates(params: ScoreParams, threshold: float) -> ErrorRates:
    """False-match and false-non-match rates of one group at a threshold, from normal CDFs.

    A pair is declared a match when its score is ≥ threshold.
    """
    fmr = 1.0 - normal_cdf(threshold, params.impostor_mean, params.impostor_sd)
    fnmr = normal_cdf(threshold, params.genuine_mean, params.genuine_sd)
    return ErrorRates(fmr, fnmr)


# Where one threshold treats both groups' impostors alike: the upper tails of their curves cross.
def equal_false_match_threshold(a: ScoreParams, b: ScoreParams) -> float | None:
    """The threshold at which two groups' false-match rates are equal, if there is exactly one.

    FMR(t) = 1 − Φ((t − μ)/σ), so the rates are equal where (t − μA)/σA = (t − μB)/σB, i.e.
    t = (μA·σB − μB·σA) / (σB − σA). Above t the group with the wider impostor curve has more
    false matches, below t the narrower one. The false-non-match rates at t generally differ.

    Args:
        a, b: the two groups' score distributions (only the impostor curves matter).

    Returns:
        t (possibly outside the score range), or None when the spreads are equal: then the
        curves are either identical (equal rates at every t) or shifted (never equal).
    """
    mu_a, sd_a, mu_b, sd_b = a.impostor_mean, a.impostor_sd, b.impostor_mean, b.impostor_sd
    if math.isclose(sd_a, sd_b, rel_tol=0.0, abs_tol=1e-12):
        return None
    return (mu_a * sd_b - mu_b * sd_a) / (sd_b - sd_a)


# Measured rates: count the mistakes, as an evaluation on real comparisons would.
def empirical_error_rates(
    genuine_scores: np.ndarray, impostor_scores: np.ndarray, threshold: float
) -> ErrorRates:
    """False-match and false-non-match rates counted from score arrays.

    Args:
        genuine_scores: scores of same-person pairs.
        impostor_scores: scores of different-person pairs.
        threshold: a pair is a match when its score is ≥ threshold.

    Returns:
        The two rates (NaN for an empty array).
    """
    genuine = np.asarray(genuine_scores, dtype=np.float64)
    impostor = np.asarray(impostor_scores, dtype=np.float64)
    fmr = float(np.mean(impostor >= threshold)) if impostor.size else float("nan")
    fnmr = float(np.mean(genuine < threshold)) if genuine.size else float("nan")
    return ErrorRates(fmr, fnmr)


def sample_scores(
    params: ScoreParams, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw n genuine and n impostor scores from a group's normal curves.

    Returns:
        (genuine, impostor), each of shape (n,).
    """
    genuine = rng.normal(params.genuine_mean, params.genuine_sd, n)
    impostor = rng.normal(params.impostor_mean, params.impostor_sd, n)
    return genuine, impostor


def rate_ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero (or not finite)."""
    if not math.isfinite(denominator) or denominator <= 0 or not math.isfinite(numerator):
        return None
    return numerator / denominator


def describe_rate(rate: float, one_in: bool = True) -> str:
    """A rate as a percentage, plus "1 in N" unless one_in is False: '0.62% (about 1 in 160)'."""
    if not math.isfinite(rate):
        return "—"
    if rate <= 0:
        return "0%"
    percent = f"{rate:.4%}" if rate < 0.0001 else f"{rate:.2%}"
    if rate >= 0.5:
        return f"{rate:.1%}"
    return f"{percent} (about 1 in {_round_count(1 / rate):,})" if one_in else percent


def format_ratio(ratio: float) -> str:
    """'2.9×' below ten, '75×' from ten up (a decimal adds nothing there)."""
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:,.0f}×"


def _round_count(n: float) -> int:
    # Two significant figures: "1 in 1,100" reads better than "1 in 1,124".
    digits = max(0, int(math.floor(math.log10(n))) - 1)
    return int(round(n / 10**digits) * 10**digits)


# Membership inference: a model that is surer of its training images gives them away.
def true_class_confidence(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The probability the model gave to the correct class, per image.

    Args:
        probs: (N, C) softmax outputs (any float dtype).
        labels: (N,) integer labels.

    Returns:
        (N,) float64.
    """
    probs = np.asarray(probs)
    labels = np.asarray(labels).astype(np.int64)
    if probs.ndim != 2 or labels.shape != (probs.shape[0],):
        raise ValueError(f"probs {probs.shape} and labels {labels.shape} do not match.")
    return probs[np.arange(len(labels)), labels].astype(np.float64)


def confidence_gap(member_conf: np.ndarray, nonmember_conf: np.ndarray) -> ConfidenceGap:
    """Mean and median confidence of members vs non-members, and their differences."""
    members = np.asarray(member_conf, dtype=np.float64)
    others = np.asarray(nonmember_conf, dtype=np.float64)
    if members.size == 0 or others.size == 0:
        raise ValueError("Both sets need at least one confidence value.")
    m_mean, o_mean = float(members.mean()), float(others.mean())
    m_median, o_median = float(np.median(members)), float(np.median(others))
    return ConfidenceGap(
        member_mean=m_mean,
        nonmember_mean=o_mean,
        member_median=m_median,
        nonmember_median=o_median,
        mean_gap=m_mean - o_mean,
        median_gap=m_median - o_median,
        n_members=int(members.size),
        n_nonmembers=int(others.size),
    )


def best_threshold_attack(member_conf: np.ndarray, nonmember_conf: np.ndarray) -> AttackResult:
    """The simplest membership-inference attack, with the best possible threshold.

    Guess "member" when confidence ≥ t. Every distinct confidence value (and +inf, "never
    guess member") is tried as t; the one with the highest balanced accuracy wins (the
    smallest such t on ties). Choosing t with the answers known makes this an upper bound
    for this one rule.

    Args:
        member_conf: confidences on images the model trained on.
        nonmember_conf: confidences on images it never saw.

    Returns:
        The best threshold and its balanced accuracy.
    """
    members = np.sort(np.asarray(member_conf, dtype=np.float64))
    others = np.sort(np.asarray(nonmember_conf, dtype=np.float64))
    if members.size == 0 or others.size == 0:
        raise ValueError("Both sets need at least one confidence value.")
    candidates = np.append(np.unique(np.concatenate([members, others])), np.inf)
    # For each t: members with conf ≥ t, non-members with conf < t (binary search, O(n log n)).
    member_hits = (members.size - np.searchsorted(members, candidates, side="left")) / members.size
    other_hits = np.searchsorted(others, candidates, side="left") / others.size
    balanced = 0.5 * (member_hits + other_hits)
    best = int(np.argmax(balanced))
    return AttackResult(
        threshold=float(candidates[best]),
        accuracy=float(balanced[best]),
        member_hit_rate=float(member_hits[best]),
        nonmember_hit_rate=float(other_hits[best]),
    )


def attack_chance_level(
    member_conf: np.ndarray,
    nonmember_conf: np.ndarray,
    rng: np.random.Generator,
    n_shuffles: int = CHANCE_SHUFFLES,
    quantile: float = CHANCE_QUANTILE,
) -> float:
    """How well the best-threshold attack does by luck alone, on sets of these sizes.

    The member/non-member labels are shuffled (so there is nothing to find) and the attack
    is rerun; picking the best threshold still lands above 50%, more so for small sets.

    Args:
        member_conf, nonmember_conf: the real confidences (only pooled and reshuffled).
        rng: randomness for the shuffles.
        n_shuffles: how many shuffles.
        quantile: which quantile of the shuffled accuracies to return.

    Returns:
        A balanced accuracy the real attack has to beat to mean anything.
    """
    pooled = np.concatenate([np.asarray(member_conf), np.asarray(nonmember_conf)])
    n_members = len(member_conf)
    scores = []
    for _ in range(n_shuffles):
        shuffled = rng.permutation(pooled)
        scores.append(best_threshold_attack(shuffled[:n_members], shuffled[n_members:]).accuracy)
    return float(np.quantile(scores, quantile))


def membership_gap_is_small(gap: ConfidenceGap, attack: AttackResult, chance: float) -> bool:
    """True when seen and unseen images are not told apart (e.g. after a 1-epoch run).

    The gap is an average over many images: it measures overfitting, which a threshold
    attack exploits, not which individual images the model memorized.

    Args:
        gap: the confidence gap.
        attack: the best-threshold attack.
        chance: the attack's chance level (attack_chance_level).
    """
    return gap.mean_gap < SMALL_MEAN_GAP or attack.accuracy <= chance


def confidence_histogram(
    conf: np.ndarray, bins: int = CONFIDENCE_BINS
) -> tuple[np.ndarray, np.ndarray]:
    """Share of images per confidence bin on [0, 1].

    Returns:
        (edges of shape (bins + 1,), fractions of shape (bins,) summing to 1).
    """
    values = np.clip(np.asarray(conf, dtype=np.float64), 0.0, 1.0)
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    return edges, counts / max(1, values.size)
