"""Fixtures shared by the IaC tests: running components and whole stacks under mocks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.plan import PlanResult, synthesize_stack
from infra.synth.recording import Synthesis, synthesize


@pytest.fixture
def run_program() -> Callable[..., Synthesis]:
    """Run a function that declares resources under mocks; return everything it registered."""

    def run(program: Callable[[], Any], config: dict[str, str] | None = None) -> Synthesis:
        return synthesize("test", config or {}, program)

    return run


_PLANS: dict[tuple[str, tuple[str, ...]], PlanResult] = {}


@pytest.fixture(scope="session")
def stack_plan() -> Callable[..., PlanResult]:
    """Synthesize a shipped stack (cached per session: stacks are pure functions of config)."""

    def plan(stack: str, *overrides: str) -> PlanResult:
        key = (stack, overrides)
        if key not in _PLANS:
            _PLANS[key] = synthesize_stack(stack, overrides)
        return _PLANS[key]

    return plan
