"""The plan benchmark's figures from its workers' rows (not timed): the with/without ratio of
plan --all against its 1.3x target, and the tenant growth's R² and 500-tenant value from the
fitted line, named as extrapolated."""

from __future__ import annotations

from typing import Any

from benchmarks.plan import _all_variants, _tenants
from benchmarks.runner import BENCHMARKS


def _row(name: str, a: float, b: float) -> dict[str, Any]:
    steps = {"render": 1.0, "simulate": 0.5, "tenancy": 0.5, "checkov_and_report": b - 2.0 - 4}
    return {
        "variant": name,
        "A": {"total": a, "checkov_and_report": a - 4},
        "B": {"total": b, **steps},
    }


def test_plan_all_reports_the_ratio_against_its_target() -> None:
    details, figures = _all_variants("warm", [_row("x", 10.0, 14.0), _row("y", 10.0, 12.0)])
    ratio = next(f for f in figures if f.unit == "x")
    assert ratio.value == 1.3 and ratio.met is True
    seconds = next(f for f in figures if f.unit == "s")
    assert seconds.baselines[0].value == 20.0 and seconds.baselines[0].ratio == 1.3
    assert details["tenancy_step_s"] == 1.0 and details["checkov_and_report_s"] == {
        "A": 12.0,
        "B": 14.0,
    }
    _, slower = _all_variants("warm", [_row("x", 10.0, 14.0)])
    assert next(f for f in slower if f.unit == "x").met is False  # 1.4x


def _point(tenants: int, total: float) -> dict[str, Any]:
    return {
        "tenants": tenants,
        "total": total,
        "synthesis": total / 2,
        "policies": 0.1,
        "render": 1.0,
        "simulate": 0.1,
        "tenancy": 0.1,
    }


def test_tenant_growth_is_fitted_and_500_is_read_off_the_line() -> None:
    linear = [_point(n, 2.0 + 0.05 * n) for n in (1, 50, 100, 200)]
    details, figures = _tenants("uae-onprem", linear)
    r2 = next(f for f in figures if "R²" in f.name)
    at_500 = next(f for f in figures if f.name.startswith("500 tenants"))
    assert r2.value > 0.999 and r2.met is True
    assert abs(at_500.value - 27.0) < 1e-6 and at_500.met is True
    assert "extrapolated" in at_500.note and details["at_500_s"] == 27.0
    quadratic = [_point(n, 2.0 + 0.002 * n * n) for n in (1, 50, 100, 200)]  # R² 0.92
    _, bent = _tenants("uae-onprem", quadratic)
    assert next(f for f in bent if "R²" in f.name).met is False


def test_make_bench_runs_the_plan_benchmark() -> None:
    assert {"plan", "plan-tenants"} <= set(BENCHMARKS)


def test_the_arms_without_the_preview_are_reported_beside_the_goal_not_against_it() -> None:
    _, figures = _all_variants("warm, no preview", [_row("x", 10.0, 14.0)], goal=False)
    assert figures and all(f.target is None and f.met is None for f in figures)
    assert "before" in next(f for f in figures if f.unit == "x").note
