"""The pack under CrossGuard's own API, without starting its gRPC server.

Policies are built as `policies/__main__.py` builds them and called the way pulumi-policy's tests
do: with hand-built `ResourceValidationArgs` / `StackValidationArgs`, props wrapped in the
engine's unknown-checking proxy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies.crossguard import crossguard_policies
from policies.registry import ALL_POLICIES, CATALOGUE_ORDER

ROOT = Path(__file__).resolve().parents[2]
STACK = "urn:pulumi:prod::mlplatform"


def opts(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def aws_provider(region: str = "me-central-1") -> PolicyProviderResource:
    return PolicyProviderResource(
        "pulumi:providers:aws",
        unknown_checking_proxy({"region": region}),
        f"{STACK}::pulumi:providers:aws::aws",
        "aws",
    )


def args(
    type_: str, name: str, props: dict, provider=None, config=None, protect=False
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(props),
        f"{STACK}::{type_}::{name}",
        name,
        opts(protect),
        provider,
        config,
    )


def policy(name: str):
    return next(p for p in crossguard_policies() if p.name == name)


def run(name: str, validation_args) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    policy(name).validate(validation_args, lambda message, urn=None: found.append((message, urn)))
    return found


def test_pack_holds_at_least_30_policies_with_metadata() -> None:
    built = crossguard_policies()
    ids = {p.name.removesuffix("-stack") for p in built}
    assert len(ALL_POLICIES) >= 30 and len(ids) == len(ALL_POLICIES)
    for p in built:
        assert p.name.removesuffix("-stack") in CATALOGUE_ORDER
        assert p.severity in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM)
        assert (
            p.framework is not None
            and p.framework.name == "ISO/IEC 27001:2022"
            and p.framework.reference
        )
        assert p.remediation_steps and p.description and p.display_name
        mandatory = p.severity in (Severity.CRITICAL, Severity.HIGH)
        assert p.enforcement_level == (
            EnforcementLevel.MANDATORY if mandatory else EnforcementLevel.ADVISORY
        )
        assert p.config_schema is not None and "exemptions" in p.config_schema.properties
    kinds = {type(p) for p in built}
    assert kinds == {ResourceValidationPolicy, StackValidationPolicy}
    # every domain of the catalogue is covered
    assert {p.domain for p in ALL_POLICIES} >= {
        "residency",
        "keys",
        "encryption",
        "network",
        "logging",
        "identity",
        "kubernetes",
        "governance",
        "resilience",
        "compute",
        "change",
        "supply-chain",
    }


def test_pack_project_files_describe_a_python_pack() -> None:
    project = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    requirements = (ROOT / "policies" / "requirements.txt").read_text().split()
    assert "pulumi-policy==1.21.0" in requirements and "pulumi==3.272.0" in requirements
    main = (ROOT / "policies" / "__main__.py").read_text()
    assert "PolicyPack(" in main and "sys.path.insert" in main


def test_resource_policy_reports_violation_with_remediation() -> None:
    key = args("aws:kms/key:Key", "data", {"enableKeyRotation": False}, aws_provider())
    [(message, urn)] = run("UAE-KEY-002", key)
    assert "Key 'data'" in message and "enableKeyRotation" in message and "Remediation:" in message
    assert urn is None
    assert (
        run(
            "UAE-KEY-002",
            args("aws:kms/key:Key", "ok", {"enableKeyRotation": True}, aws_provider()),
        )
        == []
    )


def test_provider_region_comes_from_args_provider() -> None:
    bucket = args("aws:s3/bucket:Bucket", "artifacts", {"bucket": "a"}, aws_provider("eu-west-1"))
    [(message, _)] = run("UAE-RES-001", bucket)
    assert "eu-west-1" in message and "aws" in message


def test_unknown_values_during_preview_are_undecided_never_a_silent_pass() -> None:
    sse = args(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "artifacts-sse",
        {
            "bucket": UNKNOWN_STRING_VALUE,
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": UNKNOWN_STRING_VALUE,
                    }
                }
            ],
        },
        aws_provider(),
    )
    # the engine turns UnknownValueError into "can't run policy ... during preview" (advisory)
    with pytest.raises(UnknownValueError) as key:
        run("UAE-KEY-001", sse)
    assert key.value.message.endswith("kmsMasterKeyId can't be known during preview")
    with pytest.raises(UnknownValueError) as residency:
        run("UAE-RES-001", sse)
    assert residency.value.message.endswith("can't be known during preview")
    known = args(sse.resource_type, "artifacts-sse", {"bucket": "b", "rules": []}, aws_provider())
    assert run("UAE-KEY-001", known), "a known violation is still reported"


def test_policy_config_reaches_the_rule() -> None:
    group = {"retentionInDays": 90, "kmsKeyId": "arn:aws:kms:me-central-1:111122223333:key/k"}
    short = args(
        "aws:cloudwatch/logGroup:LogGroup",
        "eks",
        group,
        aws_provider(),
        config={"log_retention_days": 400},
    )
    assert len(run("UAE-LOG-003", short)) == 1
    lenient = args(
        "aws:cloudwatch/logGroup:LogGroup",
        "eks",
        group,
        aws_provider(),
        config={"log_retention_days": 30},
    )
    assert run("UAE-LOG-003", lenient) == []


def test_exemptions_from_config_suppress_the_violation() -> None:
    props = {
        "metadata": {
            "name": "gpu-operator",
            "labels": {"pod-security.kubernetes.io/enforce": "privileged"},
        }
    }
    default = args("kubernetes:core/v1:Namespace", "gpu-ns", props)
    assert run("UAE-K8S-001", default) == []  # the pack's default, reasoned exemption
    none = args("kubernetes:core/v1:Namespace", "gpu-ns", props, config={"exemptions": []})
    assert len(run("UAE-K8S-001", none)) == 1


def resource(type_: str, name: str, props: dict, provider=None) -> PolicyResource:
    return PolicyResource(
        type_,
        unknown_checking_proxy(props),
        f"{STACK}::{type_}::{name}",
        name,
        opts(),
        provider,
        None,
        [],
        {},
    )


def test_stack_policy_reports_the_resource_urn() -> None:
    bucket = resource(
        "aws:s3/bucket:Bucket",
        "artifacts",
        {"bucket": "artifacts", "id": "artifacts"},
        aws_provider(),
    )
    found = run("UAE-KEY-001-stack", StackValidationArgs([bucket]))
    [(message, urn)] = found
    assert urn == bucket.urn and "BucketServerSideEncryptionConfiguration" in message
    trail_missing = run(
        "UAE-LOG-004",
        StackValidationArgs([resource("pulumi:providers:aws", "aws", {"region": "me-central-1"})]),
    )
    assert trail_missing and "CloudTrail" in trail_missing[0][0]
    # the stack's AWS resources alone say it uses AWS, whether or not providers are listed
    only_bucket = run("UAE-LOG-004", StackValidationArgs([bucket]))
    assert only_bucket and only_bucket[0][1] == bucket.urn


@pytest.mark.parametrize("name", ["UAE-NET-004-stack", "UAE-RES-004", "UAE-LOG-005"])
def test_stack_policies_accept_an_empty_stack(name: str) -> None:
    assert run(name, StackValidationArgs([])) == []
