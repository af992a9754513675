"""The bootstrap phase (stacks/bootstrap.py): only the registry and its keys, declared exactly
as the platform phase declares them, so the platform's `pulumi up` on the same stack keeps them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.mirror import needed_charts
from infra.plan import PlanResult, identity_for
from infra.synth.recording import Synthesis, synthesize
from stacks.bootstrap import build_bootstrap, next_steps
from stacks.config.loader import ROOT, from_runtime, stack_config
from tests.support.charts import requires_charts
from version_catalogue import BUILD_IMAGES, CHARTS, IMAGES

ECR = "aws:ecr/repository:Repository"
ACR = "azure-native:containerregistry:Registry"
TRAIL = "aws:cloudtrail/trail:Trail"
CLOUD_STACKS = ["uae-cloud", "uae-cloud-azure"]


def _bootstrap(stack: str) -> Synthesis:
    config, flat = stack_config(stack, ())
    return synthesize(
        stack, flat, lambda: build_bootstrap(from_runtime(stack)), identity_for(config)
    )


def _comparable(resource: Any) -> dict[str, Any]:
    """What the platform's `pulumi up` must find unchanged: inputs, provider (its URN: the id
    is the engine's), options (dependsOn orders creation, it changes nothing). The trail alone
    gains the data buckets' events (an in-place update): the buckets do not exist yet; ACR's
    encryption switches to its system identity (tested below)."""
    skip = {"__defaults", *({"eventSelectors"} if resource.type == TRAIL else set())}
    inputs = {k: v for k, v in resource.inputs.items() if k not in skip}
    if resource.type == ACR:
        key = {k: v for k, v in inputs["encryption"]["keyVaultProperties"].items()}
        key.pop("identity")
        inputs["encryption"] = {**inputs["encryption"], "keyVaultProperties": key}
    return {
        "inputs": inputs,
        "provider": (resource.provider or "").rpartition("::")[0],
        "options": {k: v for k, v in resource.options.items() if k != "dependsOn"},
    }


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_bootstrap_is_a_subset_of_the_platform_the_platform_up_keeps(
    stack: str, stack_plan: Callable[..., PlanResult]
) -> None:
    platform = {r.urn: r for r in stack_plan(stack).synthesis.resources}
    boot = _bootstrap(stack)
    assert len(boot.resources) > 10
    for resource in boot.resources:
        assert resource.urn in platform, f"{resource.urn} is not declared by the platform phase"
        assert _comparable(resource) == _comparable(platform[resource.urn]), resource.urn
    assert boot.outputs["phase"] == "bootstrap"


def test_the_platform_changes_only_the_trails_data_events(
    stack_plan: Callable[..., PlanResult],
) -> None:
    """The one input the platform phase changes: the trail gains the two data buckets."""
    [boot] = [r for r in _bootstrap("uae-cloud").resources if r.type == TRAIL]
    [full] = [r for r in stack_plan("uae-cloud").synthesis.resources if r.type == TRAIL]
    assert boot.urn == full.urn
    [boot_selector] = boot.inputs["eventSelectors"]
    [full_selector] = full.inputs["eventSelectors"]
    assert boot_selector["includeManagementEvents"] is True  # audited from the first resource
    assert not boot_selector.get("dataResources")
    [data] = full_selector["dataResources"]
    assert len(data["values"]) == 2  # the artifacts and offline buckets
    rest = {k: v for k, v in full_selector.items() if k != "dataResources"}
    assert rest == {k: v for k, v in boot_selector.items() if k != "dataResources"}


def test_the_platform_switches_acr_encryption_to_the_registrys_system_identity(
    stack_plan: Callable[..., PlanResult],
) -> None:
    """Microsoft: ACR enables a CMK only at creation, and then with a user-assigned identity;
    behind the vault's firewall it must reach the key as a trusted service, with its system
    identity. So the bootstrap creates it with the CMK identity and grants the system identity
    the key; the platform's `pulumi up` switches encryption to it (ACR's client ID `system`)."""
    boot = _bootstrap("uae-cloud-azure")
    [created] = [r for r in boot.resources if r.type == ACR]
    [switched] = [r for r in stack_plan("uae-cloud-azure").synthesis.resources if r.type == ACR]
    assert created.inputs["identity"] == switched.inputs["identity"]
    assert created.inputs["identity"]["type"] == "SystemAssigned, UserAssigned"
    [cmk_identity] = [
        r
        for r in boot.resources
        if r.type == "azure-native:managedidentity:UserAssignedIdentity"
        and r.inputs["resourceName"].endswith("cmk")
    ]
    at_creation = created.inputs["encryption"]["keyVaultProperties"]["identity"]
    assert at_creation == cmk_identity.outputs["clientId"]
    assert switched.inputs["encryption"]["keyVaultProperties"]["identity"] == "system"
    principal = created.outputs["identity"]["principalId"]
    [grant] = [
        r
        for r in boot.resources
        if r.type == "azure-native:authorization:RoleAssignment"
        and r.inputs.get("principalId") == principal
    ]
    assert grant.inputs["roleDefinitionId"].endswith("/e147488a-f6f5-4113-8e2d-b22465e65bf6")


def test_aws_bootstrap_creates_the_ecr_mirror_and_nothing_of_the_cluster() -> None:
    boot = _bootstrap("uae-cloud")
    types = {r.type for r in boot.resources}
    assert TRAIL in types  # audited from the first resource (the pack's UAE-LOG-004)
    assert not any(t.startswith(("aws:eks", "aws:ec2", "aws:rds", "kubernetes:")) for t in types)
    repos = {r.inputs["name"]: r.inputs for r in boot.resources if r.type == ECR}
    wanted = {f"mlplatform/{i.path}" for i in IMAGES.values()}
    wanted |= {f"mlplatform/charts/{c.name}" for c in CHARTS.values()}
    assert wanted <= set(repos)
    for name, inputs in repos.items():
        assert inputs["imageTagMutability"] == "IMMUTABLE", name
        assert inputs["imageScanningConfiguration"] == {"scanOnPush": True}, name
        assert inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS", name
    assert boot.outputs["mirror"] == "111122223333.dkr.ecr.me-central-1.amazonaws.com/mlplatform"


def test_aws_bootstrap_creates_a_repository_for_each_build_base() -> None:
    repos = {r.inputs["name"] for r in _bootstrap("uae-cloud").resources if r.type == ECR}
    assert {f"mlplatform/{i.path}" for i in BUILD_IMAGES.values()} <= repos


def test_azure_bootstrap_creates_acr_premium_with_its_cmk_and_no_cluster() -> None:
    boot = _bootstrap("uae-cloud-azure")
    [acr] = [r for r in boot.resources if r.type == "azure-native:containerregistry:Registry"]
    assert acr.inputs["sku"] == {"name": "Premium"}
    assert acr.inputs["encryption"]["status"] == "enabled"
    assert not any("containerservice" in r.type for r in boot.resources)


def test_onprem_bootstrap_declares_nothing() -> None:
    boot = _bootstrap("uae-onprem")
    assert boot.resources == [] or all(r.type == "pulumi:pulumi:Stack" for r in boot.resources)
    assert boot.outputs["mirror"] == "harbor.dc1.example.ae/mlplatform"


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_phase_bootstrap_plans_only_the_registry_and_passes_the_pack(
    stack: str, tmp_path: Path
) -> None:
    args = ["plan", "--stack", stack, "--set", "phase=bootstrap", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--skip-checkov"])
    assert result.exit_code == 0, result.output
    plan = tmp_path / stack
    by_type = json.loads((plan / "summary.json").read_text())["byType"]
    if stack == "uae-cloud":
        assert by_type[ECR] > 40
    else:
        assert by_type["azure-native:containerregistry:Registry"] == 1
    cluster = ("aws:eks", "aws:rds", "aws:msk", "azure-native:containerservice", "kubernetes:")
    assert not any(t.startswith(cluster) for t in by_type), sorted(by_type)
    report = json.loads((plan / "policy-report.json").read_text())
    assert report["summary"]["mandatoryViolations"] == 0
    # No tenant contract before the platform: what the mirror is and what to run next.
    outputs = json.loads((plan / "outputs.json").read_text())
    assert outputs == {
        "phase": "bootstrap",
        "mirror": stack_config(stack, ())[0].image_registry,
        "next": next_steps(stack),
    }


def test_an_unknown_phase_is_refused_naming_the_key() -> None:
    result = CliRunner().invoke(app, ["check", "--stack", "uae-cloud", "--set", "phase=boot"])
    assert result.exit_code == 2
    assert "mlplatform:phase = 'boot': Input should be 'bootstrap' or 'platform'" in " ".join(
        result.output.split()
    )


@requires_charts  # `mirror list` renders with the default chart cache
def test_the_mirror_lists_the_platforms_needs_while_the_stack_is_in_bootstrap(
    stack_plan: Callable[..., PlanResult],
) -> None:
    """`mlplatform mirror` runs right after the bootstrap's `pulumi up`, with the stack file
    still saying bootstrap: it must list the platform's charts, not the bootstrap's none."""
    args = ["mirror", "list", "--stack", "uae-cloud", "--set", "phase=bootstrap", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout[result.stdout.index("{") :])
    resources = [r.to_json() for r in stack_plan("uae-cloud").synthesis.resources]
    wanted = {n.key for n in needed_charts(resources)}
    assert len(wanted) > 5
    assert {c["chart"] for c in listed["charts"]} == wanted
    assert len(listed["images"]) > 20


def test_readme_day_0_is_the_bootstrap_then_the_sequence_the_bootstrap_prints() -> None:
    """README's "Day 0" commands, in order: set the phase, plan, up — then exactly the `next`
    output the bootstrap stack exports (mirror, builds, lock, back to the platform, up)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Day 0: bootstrap, mirror, platform", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block
    commands = [ln for ln in block.group(1).splitlines() if ln and not ln.startswith("#")]
    assert commands == [
        "pulumi config set -s uae-cloud mlplatform:phase bootstrap",
        "mlplatform plan --stack uae-cloud",
        "pulumi up -s uae-cloud --policy-pack policies "
        "--policy-pack-config build/uae-cloud/policy-config.json",
        *next_steps("uae-cloud"),
    ]
