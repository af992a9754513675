"""The benchmark harness's arithmetic: percentiles, ratios and the linear fit (not timed)."""

from __future__ import annotations

import pytest

from benchmarks.stats import latency_summary, linear_fit, percentile, ratio


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 99) == pytest.approx(9.91)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 10.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # order of input does not matter


def test_percentile_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_latency_summary_reports_milliseconds() -> None:
    summary = latency_summary([0.001] * 98 + [0.010, 0.020])
    assert summary["count"] == 100
    assert summary["p50_ms"] == pytest.approx(1.0)
    assert summary["p99_ms"] == pytest.approx(10.1)
    assert summary["max_ms"] == pytest.approx(20.0)


def test_ratio_is_measured_over_baseline_and_none_without_a_baseline() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(1.0, 0.0) is None


def test_linear_fit_recovers_an_exact_line() -> None:
    fit = linear_fit([1, 10, 50, 100], [0.5 + 0.06 * x for x in (1, 10, 50, 100)])
    assert fit.slope == pytest.approx(0.06)
    assert fit.intercept == pytest.approx(0.5)
    assert fit.r2 == pytest.approx(1.0)


def test_linear_fit_r2_drops_for_quadratic_growth() -> None:
    xs = [1, 10, 50, 100]
    fit = linear_fit(xs, [x * x for x in xs])
    assert fit.r2 < 0.98  # what the synthesis benchmark calls non-linear


def test_linear_fit_needs_two_distinct_points() -> None:
    with pytest.raises(ValueError):
        linear_fit([5, 5], [1, 2])
    with pytest.raises(ValueError):
        linear_fit([1, 2], [1])
