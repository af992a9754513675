"""The bootstrap phase (stacks/bootstrap.py): only the registry and its keys, declared exactly
as the platform phase declares them, so the platform's `pulumi up` on the same stack keeps them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.plan import PlanResult, identity_for
from infra.synth.recording import Synthesis, synthesize
from stacks.bootstrap import build_bootstrap
from stacks.config.loader import from_runtime, stack_config
from version_catalogue import BUILD_IMAGES, CHARTS, IMAGES

ECR = "aws:ecr/repository:Repository"


def _bootstrap(stack: str) -> Synthesis:
    config, flat = stack_config(stack, ())
    return synthesize(
        stack, flat, lambda: build_bootstrap(from_runtime(stack)), identity_for(config)
    )


def _comparable(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if k != "__defaults"}


@pytest.mark.parametrize("stack", ["uae-cloud", "uae-cloud-azure"])
def test_bootstrap_is_a_subset_of_the_platform_the_platform_up_keeps(
    stack: str, stack_plan: Callable[..., PlanResult]
) -> None:
    platform = {r.urn: r for r in stack_plan(stack).synthesis.resources}
    boot = _bootstrap(stack)
    assert boot.resources
    for resource in boot.resources:
        assert resource.urn in platform, f"{resource.urn} is not declared by the platform phase"
        assert _comparable(resource.inputs) == _comparable(platform[resource.urn].inputs), (
            resource.urn
        )
    assert boot.outputs["phase"] == "bootstrap"


def test_aws_bootstrap_creates_the_ecr_mirror_and_nothing_of_the_cluster() -> None:
    boot = _bootstrap("uae-cloud")
    types = {r.type for r in boot.resources}
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
