"""Confidence intervals against published values and their defining properties."""

from __future__ import annotations

import pytest

from edittrace.collector.stats import bootstrap_interval, ratio, wilson_interval, z_for


def test_z_for_95_percent() -> None:
    assert z_for(0.95) == pytest.approx(1.959964, abs=1e-6)
    with pytest.raises(ValueError, match="between 0 and 1"):
        z_for(1.5)


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Textbook values of the Wilson score interval at 95% (e.g. Newcombe 1998, table I).
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_matches_published_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=1e-4)


def test_wilson_takes_half_successes_and_refuses_nonsense() -> None:
    half = wilson_interval(1.5, 2)
    assert half is not None and half.low < 0.75 < half.high
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError, match="outside"):
        wilson_interval(3, 2)


def test_wilson_narrows_as_trials_grow() -> None:
    small, large = wilson_interval(5, 10), wilson_interval(500, 1000)
    assert small is not None and large is not None
    assert large.high - large.low < small.high - small.low


def test_bootstrap_is_reproducible_and_sensible() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 4.0, 3.0]
    first = bootstrap_interval(values, seed=7)
    assert first == bootstrap_interval(values, seed=7)
    assert first is not None and 1.0 <= first.low < 3.375 < first.high <= 5.0
    constant = bootstrap_interval([4.0] * 6)
    assert constant is not None and (constant.low, constant.high) == (4.0, 4.0)
    assert bootstrap_interval([]) is None


def test_ratio_has_no_value_without_a_denominator() -> None:
    assert ratio(3, 4) == 0.75
    assert ratio(3, 0) is None
