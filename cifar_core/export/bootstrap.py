"""Bootstrap confidence intervals for accuracies: overall, per class, and a train–test gap.

A percentile bootstrap over test images: draw as many images as there are, with replacement,
score the draw, repeat, and take the middle 95 % of the scores. An accuracy depends only on
how many drawn images fall in each (true class, right or wrong) cell, and those counts of a
resample with replacement follow a multinomial law with the cells' shares as probabilities.
So each resample is one multinomial draw of 20 counts instead of 10,000 image indices: the
same distribution as resampling the images one by one (tests/test_export_model_card.py
compares the two), at a cost that does not grow with the number of images.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from cifar_core.constants import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE_LEVEL


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile-bootstrap confidence interval.

    Attributes:
        estimate: the value on the images as they are (NaN without images).
        low, high: the interval's bounds (NaN without images).
        n: how many images the estimate rests on.
    """

    estimate: float
    low: float
    high: float
    n: int

    @property
    def known(self) -> bool:
        """True when there were images to estimate from."""
        return self.n > 0 and not math.isnan(self.estimate)


def _bounds(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds along axis 0, ignoring resamples where a statistic is undefined."""
    tail = 100 * (1 - level) / 2
    with warnings.catch_warnings():
        # A class without images is NaN in every resample: its NaN bound is the answer.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
    return low, high


def _resampled_counts(
    right: np.ndarray, total: np.ndarray, rng: np.random.Generator, resamples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Right answers and images per class in each resample: two (resamples, classes) arrays."""
    n = int(total.sum())
    cells = np.concatenate([right, total - right]).astype(np.float64)  # (2K,): right, wrong
    draws = rng.multinomial(n, cells / n, size=resamples)  # (B, 2K)
    k = len(total)
    return draws[:, :k], draws[:, :k] + draws[:, k:]


def accuracy_intervals(
    right: np.ndarray,
    total: np.ndarray,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = CONFIDENCE_LEVEL,
) -> tuple[Interval, list[Interval]]:
    """Overall and per-class accuracy with percentile-bootstrap intervals over the images.

    Args:
        right: (classes,) right answers per true class.
        total: (classes,) images per true class.
        resamples: bootstrap resamples.
        seed: seeds the numpy Generator, so the same counts give the same intervals.
        level: the interval's coverage (0.95: the 2.5th and 97.5th percentiles).

    Returns:
        The overall accuracy's interval, then one per class (NaN for a class without images;
        a resample without a class's images is left out of that class's percentiles).
    """
    right = np.asarray(right, dtype=np.int64)
    total = np.asarray(total, dtype=np.int64)
    n = int(total.sum())
    if n == 0:
        nan = Interval(math.nan, math.nan, math.nan, 0)
        return nan, [nan] * len(total)
    rng = np.random.default_rng(seed)
    hits, counts = _resampled_counts(right, total, rng, resamples)
    overall = hits.sum(axis=1) / n  # (B,)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)  # (B, K)
        estimates = np.where(total > 0, right / np.maximum(total, 1), np.nan)
    low, high = _bounds(np.column_stack([overall, per_class]), level)
    whole = Interval(float(right.sum() / n), float(low[0]), float(high[0]), n)
    classes = [
        Interval(float(estimates[c]), float(low[c + 1]), float(high[c + 1]), int(total[c]))
        if total[c] > 0
        else Interval(math.nan, math.nan, math.nan, 0)
        for c in range(len(total))
    ]
    return whole, classes


def gap_interval(
    train_right: int,
    train_n: int,
    test_right: int,
    test_n: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = CONFIDENCE_LEVEL,
) -> Interval:
    """Training minus test accuracy, both sets resampled independently (NaN if one is empty)."""
    if train_n <= 0 or test_n <= 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    rng = np.random.default_rng(seed)
    train = rng.binomial(train_n, train_right / train_n, size=resamples) / train_n
    test = rng.binomial(test_n, test_right / test_n, size=resamples) / test_n
    low, high = _bounds((train - test)[:, None], level)
    estimate = train_right / train_n - test_right / test_n
    return Interval(float(estimate), float(low[0]), float(high[0]), train_n + test_n)
