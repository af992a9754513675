"""A policy id leads to its file: UAE-<PREFIX>-NNN lives in rules/<RULE_MODULES[PREFIX]>.py,
and tests/policies/test_rules_<module>.py tests it."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from policies.registry import ALL_POLICIES, RULE_MODULES, collect, prefix
from policies.rules import kubernetes, residency

TESTS = Path(__file__).parent


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=lambda p: p.id)
def test_the_id_prefix_names_the_module_that_defines_the_policy(policy) -> None:
    module = RULE_MODULES[prefix(policy.id)]
    assert policy in module.POLICIES
    for check in (policy.check, policy.stack_check):
        if check is not None:
            assert check.__module__ == module.__name__, (
                f"{policy.id}: {check.__name__} is defined in {check.__module__}, "
                f"not in {module.__name__}"
            )


@pytest.mark.parametrize("key", sorted(RULE_MODULES))
def test_each_rule_module_has_its_mirror_test_naming_each_of_its_ids(key: str) -> None:
    module = RULE_MODULES[key]
    short = module.__name__.rsplit(".", 1)[-1]
    mirror = TESTS / f"test_rules_{short}.py"
    assert mirror.is_file(), f"{module.__name__} has no {mirror.name}"
    text = mirror.read_text()
    untested = [p.id for p in module.POLICIES if p.id not in text]
    assert not untested, f"{mirror.name} never names {untested}"


def test_a_misfiled_policy_is_refused_with_its_module_and_id() -> None:
    misfiled = types.ModuleType("policies.rules.kubernetes")
    misfiled.POLICIES = (*kubernetes.POLICIES, residency.POLICIES[0])  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match=r"policies\.rules\.kubernetes holds \['UAE-RES-001'\]"):
        collect({"K8S": misfiled})


def test_a_duplicate_id_is_refused() -> None:
    twice = types.ModuleType("policies.rules.residency")
    twice.POLICIES = (residency.POLICIES[0], residency.POLICIES[0])  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match=r"duplicate policy ids: .*UAE-RES-001"):
        collect({"RES": twice})
