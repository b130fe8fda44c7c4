"""Confidence intervals for rates and means, in pure Python so reports need no numpy.

Wilson's score interval is used for every proportion (acceptance, persistence, win rates):
unlike the normal approximation it stays inside [0, 1] and behaves at small n and at rates
near 0 or 1, which is where per-arm and per-contractor figures live. Means (stars, rubric
scores) get a percentile bootstrap with a fixed seed, so a report is reproducible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when there is nothing to divide by."""
    if denominator == 0:
        return None
    return numerator / denominator


def z_for(confidence: float) -> float:
    """Two-sided standard normal quantile: 1.959964 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: float, trials: float, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval for ``successes / trials``; ``None`` when there are no trials.

    ``successes`` may be fractional (a tie counted as half a win).
    """
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    z = z_for(confidence)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_interval(
    values: Sequence[float],
    statistic: Callable[[Sequence[float]], float] = fmean,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval | None:
    """Percentile bootstrap interval of ``statistic`` over ``values``; ``None`` if empty.

    Deterministic for a given ``seed``: the same data always gives the same interval.
    """
    if not values:
        return None
    generator = random.Random(seed)
    size = len(values)
    estimates = sorted(
        statistic([values[generator.randrange(size)] for _ in range(size)])
        for _ in range(resamples)
    )
    tail = (1 - confidence) / 2
    return Interval(
        _percentile(estimates, tail),
        _percentile(estimates, 1 - tail),
    )


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    return ordered[below] * (1 - weight) + ordered[above] * weight
