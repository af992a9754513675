"""Bad configurations are refused before any resource is registered, naming the key, the bad
value and what is allowed — all problems at once."""

from __future__ import annotations

import json

import pytest

from stacks.config.errors import ConfigError
from stacks.config.loader import apply_override, merged_config, stack_config
from stacks.config.validation import validate


def problems(stack: str, *overrides: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        stack_config(stack, overrides)
    return {p.key: str(p) for p in caught.value.problems}


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "expected"),
    [
        (
            "uae-onprem",
            ["onprem.site.country=DE"],
            "onprem.site.country",
            "outside the UAE; allowed: 'AE'",
        ),
        ("uae-cloud", ["aws.region=eu-west-1"], "aws.region", "allowed: me-central-1"),
        ("uae-cloud", ["aws.zoneIds=[use1-az1, mec1-az2]"], "aws.zoneIds", "mec1-az1"),
        (
            "uae-cloud",
            ["aws.addonVersions={karpenter: v1.0.0-eksbuild.1}"],
            "aws.addonVersions",
            "allowed: coredns, kube-proxy, vpc-cni",
        ),
        (
            "uae-cloud",
            ["aws.addonVersions={coredns: latest}"],
            "aws.addonVersions",
            "v<major>.<minor>.<patch>-eksbuild.<n>",
        ),
        (
            "uae-cloud-azure",
            ["azure.location=westeurope"],
            "azure.location",
            "uaenorth, uaecentral",
        ),
        (
            "uae-cloud-azure",
            ["azure.drLocation=uaenorth"],
            "azure.drLocation",
            "must differ",
        ),
        # uaecentral is restricted: used only once Microsoft's access approval is acknowledged
        (
            "uae-cloud-azure",
            ["azure.restrictedRegionAccess=[]"],
            "azure.restrictedRegionAccess",
            "must acknowledge uaecentral (azure.drLocation)",
        ),
        (
            "uae-cloud-azure",
            [
                "azure.location=uaecentral",
                "azure.drLocation=uaenorth",
                "azure.restrictedRegionAccess=[]",
            ],
            "azure.restrictedRegionAccess",
            "must acknowledge uaecentral (azure.location)",
        ),
        (
            "uae-cloud-azure",
            ["azure.restrictedRegionAccess=[{location: uaenorth}]"],
            "azure.restrictedRegionAccess[0].location",
            "not a restricted location; allowed: uaecentral",
        ),
        (
            "uae-cloud-azure",
            ["azure.restrictedRegionAccess=[{location: uaecentral}, {location: uaecentral}]"],
            "azure.restrictedRegionAccess",
            "listed twice",
        ),
        (
            "uae-cloud-azure",
            ["azure.restrictedRegionAccess=[{location: uaecentral, supportRequest: ask-bob}]"],
            "azure.restrictedRegionAccess[0].supportRequest",
            "match pattern",
        ),
        ("uae-onprem", ["registry.mirror=docker.io/library"], "registry.mirror", "public registry"),
        (
            "uae-cloud",
            ["registry.mirror=111122223333.dkr.ecr.eu-west-1.amazonaws.com/x"],
            "registry.mirror",
            "outside the UAE",
        ),
        ("uae-onprem", ["tags.residency=eu"], "tags.residency", "allowed: 'uae'"),
        ("uae-onprem", ["kafka.brokers=two"], "kafka.brokers", "valid integer"),
        (
            "uae-onprem",
            ["kafka.replicationFactor=5"],
            "kafka.replicationFactor",
            "exceeds kafka.brokers",
        ),
        ("uae-onprem", ["kafka.controllers=2"], "kafka.controllers", "must be odd"),
        ("uae-onprem", ["kafka.mode=managed"], "kafka.mode", "needs target 'cloud'"),
        ("uae-onprem", ["kafka.bogus=1"], "kafka.bogus", "unknown key"),
        (
            "uae-onprem",
            ["tenants[0].quota.gpu=-1"],
            "tenants[0].quota.gpu",
            "too small; allowed: at least 0",
        ),
        (
            "uae-onprem",
            ["tenants[0].quota.gpu=99"],
            "tenants[0].quota.gpu",
            "exceeds the GPU pools' capacity (28 GPUs)",
        ),
        (
            "uae-onprem",
            ["tenants[0].quota.memory=lots"],
            "tenants[0].quota.memory",
            "not a Kubernetes quantity",
        ),
        ("uae-onprem", ["tenants[1].name=risk"], "tenants[1].name", "more than one tenant"),
        # who signs in as a tenant (issue 13.6): one group and role per tenant, in the form the
        # target's cluster sees it
        (
            "uae-cloud-azure",
            ["tenants[0].idpGroup=ml-risk-engineers"],
            "tenants[0].idpGroup",
            "must be the Entra ID group's object ID on cloud azure",
        ),
        (
            "uae-onprem",
            ["tenants[1].idpGroup=cn=ml-risk,ou=groups,dc=bank,dc=ae"],
            "tenants[1].idpGroup",
            "more than one tenant",
        ),
        (
            "uae-cloud",
            ["tenants[1].awsRoleArn=null"],
            "tenants[1].awsRoleArn",
            "is required on cloud aws: the IAM role group 7e1f5a39",
        ),
        (
            "uae-cloud",
            ["tenants[1].awsRoleArn=arn:aws:iam::999988887777:role/ml-marketing"],
            "tenants[1].awsRoleArn",
            "not a role of aws.accountId 111122223333",
        ),
        (
            "uae-cloud",
            ["tenants[1].awsRoleArn=arn:aws:iam::111122223333:role/ml-risk-engineers"],
            "tenants[1].awsRoleArn",
            "more than one tenant",
        ),
        (
            "uae-cloud",
            ["tenants[0].awsRoleArn=arn:aws:iam::111122223333:role/platform-admins"],
            "tenants[0].awsRoleArn",
            "cluster administrator",
        ),
        ("uae-cloud", ["tenants[0].awsRoleArn=ml-risk"], "tenants[0].awsRoleArn", "IAM role ARN"),
        ("uae-onprem", ["tenants[0].name=Risk_Team"], "tenants[0].name", "not a DNS label"),
        (
            "uae-cloud",
            ["gpuPools[0].minSize=3", "gpuPools[0].maxSize=1", "gpuPools[0].desiredSize=1"],
            "gpuPools[0].minSize",
            "must not exceed maxSize",
        ),
        ("uae-cloud", ["gpuPools[1].desiredSize=9"], "gpuPools[1].desiredSize", "between minSize"),
        (
            "uae-cloud",
            ["gpuPools[0].instanceType=m5.large"],
            "gpuPools[0].instanceType",
            "not an approved GPU type on aws",
        ),
        (
            "uae-cloud",
            ["gpuPools[0].gpusPerNode=4"],
            "gpuPools[0].gpusPerNode",
            "p5.48xlarge, which has 8",
        ),
        (
            "uae-onprem",
            ["gpuPools[1].nodes=[gpu-h100-01]"],
            "gpuPools[1].nodes",
            "already in another pool",
        ),
        (
            "uae-onprem",
            ["onprem.objectStore.endpoint=http://s3.dc1.example.ae"],
            "onprem.objectStore.endpoint",
            "https://",
        ),
        (
            "uae-onprem",
            ["onprem.postgres.mode=existing"],
            "onprem.postgres.existing",
            "is required",
        ),
        (
            "uae-onprem",
            ["sampleWorkloads.tenant=nobody"],
            "sampleWorkloads.tenant",
            "allowed: risk, marketing",
        ),
        (
            "uae-onprem",
            ["sampleWorkloads.gpus=5", "tenants[0].quota.gpu=4"],
            "sampleWorkloads.gpus",
            "GPU quota (4)",
        ),
        ("uae-onprem", ["tenants[0].dpiaRef=null"], "tenants[0].dpiaRef", "PDPL Art. 21"),
        (
            "uae-cloud",
            ["state.url=https://api.pulumi.com"],
            "state.url",
            "not an in-country backend",
        ),
        (
            "uae-cloud",
            ["state.secretsProvider=awskms://alias/x?region=eu-central-1"],
            "state.secretsProvider",
            "me-central-1",
        ),
        (
            "uae-onprem",
            ["kubernetes.version=1.20"],
            "kubernetes.version",
            "must be a quoted string",
        ),
        (
            "uae-onprem",
            ["kubernetes.version='1.29'"],
            "kubernetes.version",
            "allowed: 1.32, 1.33, 1.34, 1.35",
        ),
        ("uae-onprem", ["onprem.site.emirate=paris"], "onprem.site.emirate", "is not an emirate"),
        ("uae-onprem", ["target=gcp"], "target", "'onprem' or 'cloud'"),
        ("uae-cloud", ["aws.vpcCidr=10.40.0.0/24"], "aws.vpcCidr", "allowed: /20 or larger"),
        ("uae-cloud", ["aws.vpcCidr=8.8.0.0/16"], "aws.vpcCidr", "private (RFC 1918)"),
        (
            "uae-cloud",
            ["aws.adminRoleArns=[]"],
            "aws.adminRoleArns",
            "too few items; allowed: at least 1",
        ),
        (
            "uae-cloud",
            ["aws.adminRoleArns=[admins]"],
            "aws.adminRoleArns[0]",
            "not an IAM role ARN",
        ),
        ("uae-cloud-azure", ["azure.vnetCidr=10.50.0.0/22"], "azure.vnetCidr", "/19"),
        # an Azure stack keeps its state and secrets in Azure: the AWS file cannot be switched
        ("uae-cloud", ["cloud=azure"], "state.url", "Pulumi.uae-cloud-azure.yaml"),
        ("uae-cloud", ["cloud=azure"], "state.secretsProvider", "Pulumi.uae-cloud-azure.yaml"),
        (
            "uae-cloud-azure",
            ["state.url=s3://mlplatform-pulumi-state-111122223333?region=me-central-1"],
            "state.url",
            "is S3 state, which an Azure stack cannot vouch for",
        ),
        (
            "uae-cloud-azure",
            ["state.secretsProvider=awskms://alias/mlplatform-pulumi-secrets?region=me-central-1"],
            "state.secretsProvider",
            "is an AWS KMS key, which an Azure stack cannot vouch for",
        ),
    ],
)
def test_bad_config_is_refused_naming_the_key(stack, overrides, key, expected):
    found = problems(stack, *overrides)
    assert key in found, f"expected a problem at {key}, got {list(found)}"
    assert expected in found[key]
    assert found[key].startswith(f"mlplatform:{key} = ")


def test_every_problem_is_reported_at_once():
    found = problems(
        "uae-cloud", "aws.region=eu-west-1", "kafka.brokers=x", "tags.residency=eu", "surprise=1"
    )
    assert {"aws.region", "kafka.brokers", "tags.residency", "surprise"} <= set(found)


def test_semantic_problems_are_all_reported_together():
    found = problems(
        "uae-onprem", "kafka.controllers=2", "tenants[0].quota.gpu=99", "kafka.replicationFactor=9"
    )
    assert {"kafka.controllers", "tenants[0].quota.gpu", "kafka.replicationFactor"} <= set(found)


def test_message_format_names_key_value_and_allowed():
    found = problems("uae-cloud", "aws.region=eu-west-1")
    assert found["aws.region"] == (
        "mlplatform:aws.region = 'eu-west-1' is outside the UAE; allowed: me-central-1"
    )


def test_sections_for_the_other_target_are_refused():
    raw, _ = merged_config("uae-onprem")
    raw["aws"] = {
        "accountId": "111122223333",
        "adminRoleArns": ["arn:aws:iam::111122223333:role/admins"],
    }
    with pytest.raises(ConfigError) as caught:
        validate(raw)
    assert any(p.key == "aws" for p in caught.value.problems)


def test_missing_target_section_is_named():
    raw, _ = merged_config("uae-onprem")
    del raw["onprem"]
    with pytest.raises(ConfigError) as caught:
        validate(raw)
    assert "mlplatform:onprem = <missing> is required when the stack targets 'onprem'" in str(
        caught.value
    )


def test_stack_file_secrets_provider_must_match_state_config():
    with pytest.raises(ConfigError) as caught:
        stack_config(
            "uae-cloud", ["state.secretsProvider=awskms://alias/other?region=me-central-1"]
        )
    assert "differs from the stack file's secretsprovider" in str(caught.value)


def test_unknown_stack_lists_known_stacks():
    with pytest.raises(ConfigError) as caught:
        stack_config("uae-mars")
    assert "uae-cloud, uae-cloud-azure, uae-onprem" in str(caught.value)


@pytest.mark.parametrize("assignment", ["noequals", "a..b=1", "=1", "tenants[x]=1"])
def test_malformed_overrides_are_usage_errors(assignment):
    with pytest.raises(ConfigError) as caught:
        apply_override({}, assignment)
    assert f"--set {assignment!r} is not KEY=VALUE" in str(caught.value)


def test_overrides_reach_nested_lists_and_parse_yaml_values():
    raw: dict = {"tenants": [{"name": "a", "quota": {"gpu": 1}}]}
    apply_override(raw, "tenants[0].quota.gpu=3")
    apply_override(raw, "kafka.brokers=5")
    apply_override(raw, "mlplatform:cloud=azure")
    assert raw == {
        "tenants": [{"name": "a", "quota": {"gpu": 3}}],
        "kafka": {"brokers": 5},
        "cloud": "azure",
    }


@pytest.mark.parametrize(
    ("stack", "overrides", "platform"),
    [
        ("uae-onprem", (), "onprem"),
        ("uae-cloud", (), "aws"),
        ("uae-cloud-azure", (), "azure"),
        ("uae-cloud-azure", ("kafka.mode=managed",), "azure"),
        ("uae-cloud", ("kafka.mode=managed",), "aws"),
    ],
)
def test_shipped_stacks_validate(stack, overrides, platform):
    config, flat = stack_config(stack, overrides)
    assert config.platform == platform
    assert flat["mlplatform:target"] == config.target
    # structured values travel as JSON strings, exactly as the engine hands them over
    assert flat["mlplatform:tags"].startswith("{")


def test_the_shipped_azure_stack_acknowledges_its_restricted_dr_location():
    stack, overrides = "uae-cloud-azure", ()
    config, _ = stack_config(stack, overrides)
    assert config.azure.dr_location == "uaecentral"
    assert [a.location for a in config.azure.restricted_region_access] == ["uaecentral"]
    # the approving support request, when given, is kept as evidence
    config, _ = stack_config(
        stack,
        (
            *overrides,
            "azure.restrictedRegionAccess="
            "[{location: uaecentral, supportRequest: '2412050010001234'}]",
        ),
    )
    assert config.azure.restricted_region_access[0].support_request == "2412050010001234"


def test_an_unused_azure_section_needs_no_acknowledgement():
    """An AWS plan deploys nothing to Azure: an azure section there is not checked."""
    raw, _ = merged_config("uae-cloud-azure", ())
    azure = {**raw["azure"], "restrictedRegionAccess": []}
    config, _ = stack_config("uae-cloud", (f"azure={json.dumps(azure)}",))
    assert config.platform == "aws" and config.azure.restricted_region_access == []
