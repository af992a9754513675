"""Every shipped stack and variant passes the pack: no mandatory violation.

Advisory findings are allowed (and reported in the compliance report); the exemptions that
apply are exactly the ones the components record, each with its reason.
"""

from __future__ import annotations

import pytest

from components.namespace import PSS_EXEMPTIONS
from infra import plan as planning


@pytest.mark.parametrize("variant", planning.VARIANTS, ids=[v.name for v in planning.VARIANTS])
def test_shipped_variant_has_no_mandatory_violation(variant: planning.Variant, stack_plan) -> None:
    result = stack_plan(variant.stack, *variant.overrides)
    report = planning.evaluate_policies(result)
    problems = [f"{f.policy_id} {f.urn}: {f.message}" for f in report.mandatory]
    assert not problems, "\n".join(problems)
    applied = {(e.policy_id, e.reason) for r in report.results for e in r.exemptions}
    assert applied <= {(e.control, e.reason) for e in PSS_EXEMPTIONS}
    assert len(report.results) >= 30
