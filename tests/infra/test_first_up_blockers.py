"""Issue 12's blockers of a first `pulumi up` that need component/stack changes, each as the test
that fails before its fix (/work/notes/day0-blockers-pending.md). Those not fixed yet are strict
xfails: the day the fix lands the xfail turns into a failure, and the marker must go."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import plan as planning
from stacks.config.errors import ConfigError
from stacks.config.loader import stack_config
from tests.support.schemas import require_crds

ROOT = Path(__file__).resolve().parents[2]
PENDING = "issue 12 item 4: waits for the components/stacks restructuring (arch-core-done)"


@pytest.fixture(scope="module")
def aws_plan() -> planning.PlanResult:
    return planning.synthesize_stack("uae-cloud")


@pytest.fixture(scope="module")
def azure_plan() -> planning.PlanResult:
    return planning.synthesize_stack("uae-cloud-azure")


def _policy(resource: Any) -> dict[str, Any]:
    document = resource.inputs["policy"]
    return yaml.safe_load(document) if isinstance(document, str) else document


def test_ecr_layer_downloads_are_not_conditioned_on_the_callers_account(aws_plan) -> None:
    """ECR serves image layers from its own S3 bucket through URLs it presigns with its own
    credentials: an aws:PrincipalAccount condition on that statement 403s every pull through the
    gateway endpoint, and with no NAT the nodes never become Ready."""
    (gateway,) = [
        r
        for r in aws_plan.synthesis.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if r.inputs.get("vpcEndpointType") == "Gateway"
    ]
    statements = _policy(gateway)["Statement"]
    layers = next(s for s in statements if "starport-layer-bucket" in str(s["Resource"]))
    assert "aws:PrincipalAccount" not in str(layers.get("Condition", {}))


def _immutable_trainjob_fields() -> list[str]:
    """spec fields of the Trainer CRD guarded by `self == oldSelf` (field is immutable)."""
    crd = yaml.safe_load((require_crds() / "trainer-trainjobs.yaml").read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    frozen = []
    for name, field in spec["properties"].items():
        rules = [r.get("rule") for r in field.get("x-kubernetes-validations", [])]
        if "self == oldSelf" in rules:
            frozen.append(f"spec.{name}")
    return frozen


def test_train_job_is_replaced_when_its_immutable_spec_changes(aws_plan) -> None:
    """spec.trainer and spec.runtimeRef (and every other field the CRD's CEL rules freeze) are
    immutable: a changed image, args, env or GPU count must replace the TrainJob, not patch it."""
    immutable = _immutable_trainjob_fields()
    assert {"spec.trainer", "spec.runtimeRef"} <= set(immutable)
    jobs = [r for r in aws_plan.synthesis.resources if r.inputs.get("kind") == "TrainJob"]
    assert jobs
    for job in jobs:
        paths = job.options.get("replaceOnChanges", [])
        for field in immutable:
            assert any(field == p or field.startswith(p + ".") for p in paths), (job.urn, field)
        assert job.options["deleteBeforeReplace"], "a fixed name needs delete-before-replace"


def test_acr_reaches_its_firewalled_key_vault_as_a_trusted_service(azure_plan) -> None:
    """Microsoft: with a Key Vault firewall, the registry reaches the key with its system-assigned
    identity through the trusted-services bypass; a user-assigned identity is refused."""
    (registry,) = azure_plan.synthesis.of_type("azure-native:containerregistry:Registry")
    assert "SystemAssigned" in str(registry.inputs["identity"]["type"])
    assert registry.inputs["encryption"]["keyVaultProperties"]["identity"] == "system"
    principal = registry.outputs["identity"]["principalId"]
    grants = [
        g
        for g in azure_plan.synthesis.of_type("azure-native:authorization:RoleAssignment")
        if g.inputs.get("principalId") == principal
    ]
    assert [g.inputs["roleDefinitionId"].rsplit("/", 1)[1] for g in grants] == [
        "e147488a-f6f5-4113-8e2d-b22465e65bf6"  # Key Vault Crypto Service Encryption User
    ]
    assert "/keys/" in grants[0].inputs["scope"]  # the key, not the vault
    vaults = azure_plan.synthesis.of_type("azure-native:keyvault:Vault")
    assert vaults and all(
        v.inputs["properties"]["networkAcls"]["bypass"] == "AzureServices" for v in vaults
    )


def _stack_copy(tmp_path: Path, stack: str, edit: Any) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    edit(data)
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


def test_malformed_hashivault_url_is_refused(tmp_path: Path) -> None:
    old = "hashivault://vault.dc1.example.ae/transit/keys/pulumi-uae-onprem"

    def malformed(data: dict[str, Any]) -> None:
        data["secretsprovider"] = old
        data["config"]["mlplatform:state"]["secretsProvider"] = old

    root = _stack_copy(tmp_path, "uae-onprem", malformed)
    with pytest.raises(ConfigError, match=r"state\.secretsProvider.*hashivault://<key>"):
        stack_config("uae-onprem", (), root)


def test_a_restricted_region_needs_its_access_request_acknowledged(tmp_path: Path) -> None:
    """uaecentral opens to a subscription only on an approved support request: without the
    stack's acknowledgement the first `pulumi up` would fail half-way, so validation refuses it,
    naming the key and the fix."""

    def unacknowledged(data: dict[str, Any]) -> None:
        data["config"]["mlplatform:azure"].pop("restrictedRegionAccess")

    root = _stack_copy(tmp_path, "uae-cloud-azure", unacknowledged)
    with pytest.raises(ConfigError, match=r"azure\.restrictedRegionAccess") as caught:
        stack_config("uae-cloud-azure", (), root)
    (problem,) = caught.value.problems
    assert "uaecentral (azure.drLocation)" in str(problem)
    assert "- location: uaecentral" in str(problem)


def test_every_user_of_an_identity_waits_for_its_role_assignments(azure_plan) -> None:
    """A resource that uses a managed identity (CMK encryption, AKS, the disk encryption set,
    workload identities) is created only after every role assignment of that identity: ARM would
    otherwise check a permission that does not exist yet. Propagation beyond ARM's acceptance is
    the documented retry (README "Before the first `pulumi up`")."""
    resources = azure_plan.synthesis.resources
    assignments: dict[str, list[str]] = {}
    identities: dict[str, str] = {}
    for r in resources:
        component = r.parent or ""
        if r.type == "azure-native:authorization:RoleAssignment" and "ManagedIdentity" in component:
            assignments.setdefault(component, []).append(r.urn)
        if r.type == "azure-native:managedidentity:UserAssignedIdentity":
            identities[str(r.outputs.get("id") or r.id)] = component
    assert identities and assignments
    checked = 0
    for r in resources:
        if r.type.startswith("azure-native:authorization") or r.parent in identities.values():
            continue
        text = str(r.inputs)
        for identity_id, component in identities.items():
            if identity_id in text:
                checked += 1
                missing = set(assignments.get(component, [])) - set(r.options["dependsOn"])
                assert not missing, f"{r.urn} uses {identity_id} before {sorted(missing)}"
    assert checked >= 5


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("hashivault://pulumi-uae-onprem", False),
        ("hashivault://pulumi-uae-onprem?engine=transit-dc1", False),
        ("hashivault://pulumi-uae-onprem?namespace=x", True),  # the keeper refuses other params
        ("hashivault://", True),
        ("awskms://alias/x?region=me-central-1", False),
    ],
)
def test_hashivault_url_forms(url: str, refused: bool) -> None:
    from stacks.config.loader import _secrets_provider_problems

    assert bool(_secrets_provider_problems(url)) is refused
