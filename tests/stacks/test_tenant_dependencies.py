"""What a tenant's resources wait for: their own tenant's, never every tenant's.

Each dependency edge is checked for cycles by the Pulumi SDK against the target's transitive
dependencies, at `pulumi up` as under the mocks. A per-tenant resource that waited on a
component holding every tenant's children (the whole MLflow component, every tenant's Feast
config) made the edges grow with tenants² (issue 17.4: 100 on-prem tenants, 114,000 edges →
35,000, synthesis 13.4 s → 10.5 s). These tests pin the narrow edges per tenant.
"""

from __future__ import annotations

import pytest

from infra.synth.recording import Resource

STACKS = ("uae-onprem", "uae-cloud")


def _by_name(resources: list[Resource]) -> dict[str, Resource]:
    return {r.name: r for r in resources}


def _depends(resource: Resource, index: dict[str, Resource]) -> set[str]:
    """Names of the resources `resource` depends on explicitly."""
    urns = {r.urn: r.name for r in index.values()}
    return {urns[u] for u in resource.options.get("dependsOn", []) if u in urns}


@pytest.mark.parametrize("stack", STACKS)
def test_each_tenant_feast_server_waits_on_its_own_config_only(stack_plan, stack):
    plan = stack_plan(stack)
    index = _by_name(plan.synthesis.resources)
    tenants = [t.name for t in plan.config.tenants]
    assert len(tenants) >= 2, "needs two tenants to tell their dependencies apart"
    configs = {n for n in index if n.startswith("feast-config")}
    for tenant in tenants:
        server = index[f"feast-online-{tenant}"]
        assert _depends(server, index) & configs == {f"feast-config-{tenant}"}
        for companion in (f"feast-online-{tenant}-svc", f"feast-online-{tenant}-pdb"):
            assert not _depends(index[companion], index) & configs, companion
    # the permissions Job applies every project's Permissions: it alone waits on every config
    assert configs <= _depends(index["feast-permissions-job"], index)


@pytest.mark.parametrize("stack", STACKS)
def test_a_tenants_ml_access_never_waits_on_another_tenants_mlflow_user(stack_plan, stack):
    plan = stack_plan(stack)
    index = _by_name(plan.synthesis.resources)
    tenants = [t.name for t in plan.config.tenants]
    passwords = {f"mlflow-user-{t}" for t in tenants} & set(index)
    assert passwords, "no MLflow user passwords in the plan"
    for tenant in tenants:
        prefix = f"ml-access-{tenant}"
        grant = [r for r in index.values() if r.name.startswith(prefix)]
        assert grant, f"no ml access for {tenant}"
        for resource in grant:
            others = _depends(resource, index) & (passwords - {f"mlflow-user-{tenant}"})
            assert not others, f"{resource.name} waits on {sorted(others)}"
        # still ordered after the MLflow server and its users Job
        assert {"mlflow-deployment", "mlflow-users-job"} <= _depends(grant[0], index) | {
            n for r in grant for n in _depends(r, index)
        }
