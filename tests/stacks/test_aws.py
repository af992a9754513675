"""The AWS foundation of `uae-cloud`, synthesized on its own under mocks.

What a reviewer of the AWS target checks: one provider pinned to me-central-1 and the stack's
account, every resource and ARN in-region, governance tags everywhere, CMKs on every store,
no internet path, GPU groups tainted, and the Foundation handed to the platform layer.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from components import conventions as c
from components.kafka import PLATFORM_TOPICS
from infra.plan import identity_for
from infra.synth.recording import SECRET, Synthesis, redact, synthesize, unwrap
from stacks.build import build_foundation
from stacks.config import StackConfig
from stacks.config.errors import ConfigError
from stacks.config.loader import stack_config
from stacks.contract import cluster_facts
from stacks.foundation import Foundation, ManagedKafka
from stacks.targets import aws as aws_target
from tests.components.aws.aws_fixtures import (
    MANDATORY_TAGS,
    arn_regions,
    by_sid,
    inputs,
    one,
    policy,
    principals,
    taggable,
)
from version_catalogue import CHARTS, IMAGES

REGION = "me-central-1"
STATEFUL = (
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:msk/cluster:Cluster",
    "aws:eks/cluster:Cluster",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudtrail/trail:Trail",
    "aws:ecr/repository:Repository",
)


@dataclass
class Planned:
    config: StackConfig
    synthesis: Synthesis
    foundation: Foundation

    @property
    def outputs(self) -> dict[str, Any]:
        return unwrap(self.synthesis.outputs)


def _plan(*overrides: str) -> Planned:
    config, flat = stack_config("uae-cloud", overrides)
    holder: dict[str, Foundation] = {}

    def program() -> None:
        foundation, _ = build_foundation(config)
        holder["foundation"] = foundation
        store = foundation.object_store
        pulumi.export("artifact_uri", store.artifact_uri)
        pulumi.export("offline_store_uri", store.offline_store_uri)
        pulumi.export("postgres_host", foundation.postgres.host)
        pulumi.export("postgres_password", foundation.postgres.credentials.password)
        pulumi.export("redis_host", foundation.redis.host)
        pulumi.export("key_refs", foundation.key_refs)
        pulumi.export("annotations", store.service_account_annotations)
        pulumi.export("facts", cluster_facts(foundation))
        if foundation.kafka is not None:
            pulumi.export("kafka_bootstrap", foundation.kafka.bootstrap)

    synthesis = synthesize("uae-cloud", flat, program, identity=identity_for(config))
    return Planned(config, synthesis, holder["foundation"])


@pytest.fixture(scope="module")
def planned() -> Planned:
    return _plan()


@pytest.fixture(scope="module")
def managed() -> Planned:
    return _plan("kafka.mode=managed")


@pytest.fixture(scope="module")
def ephemeral() -> Planned:
    return _plan("ephemeral=true")


def _aws_resources(synthesis: Synthesis):
    return [r for r in synthesis.resources if r.type.startswith("aws:")]


# --------------------------------------------------------------------------- residency


def test_one_provider_pinned_to_the_uae_region_and_the_stack_account(planned):
    (provider,) = planned.synthesis.of_type("pulumi:providers:aws")
    i = inputs(provider)
    assert i["region"] == REGION and i["stsRegion"] == REGION
    assert i["allowedAccountIds"] == '["111122223333"]'
    assert i["skipRegionValidation"] == "false"
    assert '"residency": "uae"' in i["defaultTags"]


@pytest.mark.parametrize("variant", ["planned", "managed"])
def test_every_aws_resource_uses_the_pinned_provider_and_region(variant, request):
    plan: Planned = request.getfixturevalue(variant)
    (provider,) = plan.synthesis.of_type("pulumi:providers:aws")
    for resource in _aws_resources(plan.synthesis):
        assert resource.provider and resource.provider.startswith(provider.urn), resource.name
        assert inputs(resource).get("region") in (None, REGION), resource.name
    assert arn_regions(plan.synthesis) <= {"", REGION}


def test_subnets_span_the_configured_zone_ids(planned):
    zones = {
        inputs(s)["availabilityZoneId"] for s in planned.synthesis.of_type("aws:ec2/subnet:Subnet")
    }
    assert zones == set(planned.config.aws.zone_ids)


@pytest.mark.parametrize("variant", ["planned", "managed"])
def test_nothing_copies_data_out_or_opens_a_path_to_the_internet(variant, request):
    plan: Planned = request.getfixturevalue(variant)
    forbidden = (
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "aws:ecr/replicationConfiguration:ReplicationConfiguration",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:iam/accessKey:AccessKey",
        "aws:iam/user:User",
        "aws:cloudfront/distribution:Distribution",
    )
    assert not [r.type for r in plan.synthesis.resources if r.type in forbidden]


# --------------------------------------------------------------------------- governance


@pytest.mark.parametrize("variant", ["planned", "managed"])
def test_every_taggable_resource_carries_the_mandatory_tags(variant, request):
    plan: Planned = request.getfixturevalue(variant)
    missing = []
    for resource in _aws_resources(plan.synthesis):
        if not taggable(resource.type):
            continue
        tags = inputs(resource).get("tags") or {}
        if not all(tags.get(k) for k in (*MANDATORY_TAGS, "dpia-ref")):
            missing.append(resource.name)
    assert not missing


def test_stateful_resources_are_protected(planned, ephemeral):
    for resource in _aws_resources(planned.synthesis):
        if resource.type in STATEFUL:
            assert resource.options["protect"] is True, resource.name
    for resource in _aws_resources(ephemeral.synthesis):
        assert resource.options["protect"] is False, resource.name


def test_ephemeral_stacks_can_be_torn_down(ephemeral):
    s = ephemeral.synthesis
    assert inputs(one(s, "aws:eks/cluster:Cluster"))["deletionProtection"] is False
    assert inputs(one(s, "aws:rds/instance:Instance"))["deletionProtection"] is False
    lock = inputs(one(s, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"))
    assert lock["rule"]["defaultRetention"]["mode"] == "GOVERNANCE"
    for key in s.of_type("aws:kms/key:Key"):
        assert inputs(key)["deletionWindowInDays"] == 30


# --------------------------------------------------------------------------- keys & stores


def test_every_key_rotates_with_a_30_day_window_and_no_wildcard_principal(planned):
    keys = planned.synthesis.of_type("aws:kms/key:Key")
    assert len(keys) == 3
    for key in keys:
        assert inputs(key)["enableKeyRotation"] is True
        assert inputs(key)["deletionWindowInDays"] == 30
        assert "*" not in set(principals(policy(key)))


@pytest.mark.parametrize("variant", ["planned", "managed"])
def test_every_store_is_encrypted_with_one_of_the_stack_cmks(variant, request):
    plan: Planned = request.getfixturevalue(variant)
    s = plan.synthesis
    cmks = {k.outputs["arn"] for k in s.of_type("aws:kms/key:Key")}
    used = [
        inputs(one(s, "aws:rds/instance:Instance"))["kmsKeyId"],
        inputs(one(s, "aws:elasticache/replicationGroup:ReplicationGroup"))["kmsKeyId"],
        inputs(one(s, "aws:eks/cluster:Cluster"))["encryptionConfig"]["provider"]["keyArn"],
        inputs(one(s, "aws:cloudtrail/trail:Trail"))["kmsKeyId"],
    ]
    used += [inputs(g)["kmsKeyId"] for g in s.of_type("aws:cloudwatch/logGroup:LogGroup")]
    used += [
        inputs(r)["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
        for r in s.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
    ]
    used += [
        inputs(r)["encryptionConfigurations"][0]["kmsKey"]
        for r in s.of_type("aws:ecr/repository:Repository")
    ]
    used += [
        inputs(lt)["blockDeviceMappings"][0]["ebs"]["kmsKeyId"]
        for lt in s.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    ]
    if variant == "managed":
        msk = inputs(one(s, "aws:msk/cluster:Cluster"))
        used.append(msk["encryptionInfo"]["encryptionAtRestKmsKeyArn"])
    assert used and set(used) <= cmks


def test_data_stores_are_private(planned):
    s = planned.synthesis
    assert inputs(one(s, "aws:rds/instance:Instance"))["publiclyAccessible"] is False
    for block in s.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        assert all(inputs(block)[k] is True for k in ("blockPublicAcls", "restrictPublicBuckets"))
    for rule in s.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert inputs(rule).get("cidrIpv4") in (None, planned.config.aws.vpc_cidr)


def test_logs_keep_the_configured_retention(planned):
    days = planned.config.logging.retention_days
    for group in planned.synthesis.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert inputs(group)["retentionInDays"] == days


def test_credentials_are_secrets(planned):
    db = one(planned.synthesis, "aws:rds/instance:Instance")
    cache = one(planned.synthesis, "aws:elasticache/replicationGroup:ReplicationGroup")
    assert redact(db.inputs)["password"] == SECRET
    assert redact(cache.inputs)["authToken"] == SECRET
    # What the platform copies into consumer namespaces is that same generated value.
    assert planned.outputs["postgres_password"] == unwrap(db.inputs)["password"]


# --------------------------------------------------------------------------- cluster


def test_cluster_is_private_encrypted_audited_and_versioned_from_config(planned):
    cluster = inputs(one(planned.synthesis, "aws:eks/cluster:Cluster"))
    assert cluster["vpcConfig"]["endpointPublicAccess"] is False
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert {"api", "audit", "authenticator"} <= set(cluster["enabledClusterLogTypes"])
    assert cluster["version"] == planned.config.kubernetes.version
    entries = planned.synthesis.of_type("aws:eks/accessEntry:AccessEntry")
    tenants = [t.aws_role_arn for t in planned.config.tenants]  # namespace-scoped, see below
    principals = [inputs(e)["principalArn"] for e in entries]
    # one entry per admin and per tenant role; registration order follows Output resolution
    assert sorted(principals) == sorted([*planned.config.aws.admin_role_arns, *tenants])


def test_one_tainted_nvidia_group_per_gpu_pool_and_a_system_group(planned):
    groups = {
        inputs(g)["nodeGroupName"]: inputs(g)
        for g in planned.synthesis.of_type("aws:eks/nodeGroup:NodeGroup")
    }
    pools = planned.config.gpu_pools
    assert set(groups) == {"mlplatform-prod-system"} | {
        f"mlplatform-prod-gpu-{p.name}" for p in pools
    }
    for pool in pools:
        group = groups[f"mlplatform-prod-gpu-{pool.name}"]
        assert group["amiType"] == "AL2023_x86_64_NVIDIA"
        assert group["instanceTypes"] == [pool.instance_type]
        assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"} in group[
            "taints"
        ]
        assert group["labels"][c.GPU_POOL_LABEL] == pool.name
        assert group["scalingConfig"]["maxSize"] == pool.max_size
    assert groups["mlplatform-prod-system"]["taints"] == []
    for template in planned.synthesis.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert inputs(template)["metadataOptions"]["httpTokens"] == "required"


def test_autoscaler_image_matches_the_cluster_minor(planned):
    (autoscaler,) = [
        r
        for r in planned.synthesis.of_type("kubernetes:helm.sh/v3:Release")
        if inputs(r)["name"] == "cluster-autoscaler"
    ]
    values = inputs(autoscaler)["values"]
    minor = planned.config.kubernetes.version
    assert values["image"]["tag"].startswith(f"v{minor}.")
    assert values["image"]["repository"].startswith(planned.config.image_registry)


def test_registry_holds_every_catalogued_image_and_chart(planned):
    repos = {inputs(r)["name"] for r in planned.synthesis.of_type("aws:ecr/repository:Repository")}
    assert {f"mlplatform/{i.path}" for i in IMAGES.values()} <= repos
    assert {f"mlplatform/charts/{ch.name}" for ch in CHARTS.values()} <= repos


# --------------------------------------------------------------------------- the Foundation


def test_foundation_points_the_platform_at_aws_services(planned):
    f, out = planned.foundation, planned.outputs
    assert f.platform == "aws" and f.location == REGION
    assert f.storage_class == aws_target.STORAGE_CLASS
    assert f.gpu_driver_preinstalled is True
    assert f.kafka is None  # Strimzi on EKS
    assert out["artifact_uri"].startswith("s3://mlplatform-prod-mlflow-artifacts-")
    assert out["artifact_uri"].endswith("/mlflow")
    assert out["offline_store_uri"].endswith("/feast")
    assert f.object_store.kind == "s3" and f.object_store.credentials is None
    assert out["postgres_host"].endswith(f".{REGION}.rds.amazonaws.com")
    # without aws.databaseCaBundle the RDS identity cannot be verified (a declared exception)
    assert f.postgres.ssl_mode == "require" and f.postgres.ca_pem is None and f.redis.tls is True
    assert set(out["key_refs"]) == {"data", "secrets", "logs"}
    assert all(f":kms:{REGION}:" in arn for arn in out["key_refs"].values())
    assert set(out["annotations"]) == {c.SA_MLFLOW, c.SA_FEAST}
    assert out["facts"]["cluster_name"] == "mlplatform-prod"
    assert out["facts"]["workload_identity_egress"] == {"cidr": "169.254.170.23/32", "port": 80}
    pools = {p.name: p for p in f.gpu_pools}
    assert pools["train"].capacity == 16 and pools["train"].product == "nvidia-h100-80gb"
    ready = {r._name for r in f.ready}
    assert "nodes-gpu-train-group" in ready and "nodes-system-group" in ready


def test_mlflow_and_feast_get_pod_identity_for_their_own_prefix(planned):
    associations = {
        (inputs(a)["namespace"], inputs(a)["serviceAccount"])
        for a in planned.synthesis.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    assert {(c.NS_MLFLOW, c.SA_MLFLOW), (c.NS_FEAST, c.SA_FEAST)} <= associations
    policies = {
        inputs(p)["name"]: policy(p)
        for p in planned.synthesis.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    mlflow = policies["mlplatform-prod-mlflow-access"]["Statement"]
    (objects,) = [s for s in mlflow if s["Sid"] == "ReadWriteOwnPrefix"]
    assert objects["Resource"] == [
        "arn:aws:s3:::mlplatform-prod-mlflow-artifacts-111122223333/mlflow/*"
    ]


def test_managed_kafka_is_msk_with_iam_and_tenant_roles(managed):
    f, out = managed.foundation, managed.outputs
    assert isinstance(f.kafka, ManagedKafka)
    assert f.kafka.kind == "msk" and f.kafka.sasl_mechanism == "AWS_MSK_IAM"
    assert f.kafka.security_protocol == "SASL_SSL"
    assert all(b.endswith(":9098") for b in out["kafka_bootstrap"].split(","))
    tenants = {t.name for t in managed.config.tenants}
    assert set(out["facts"]["kafka_tenant_roles"]) == tenants
    topics = {inputs(t)["name"] for t in managed.synthesis.of_type("aws:msk/topic:Topic")}
    tenant_topics = {
        f"{t.name}.{topic}"
        for t in managed.config.tenants
        for topic in managed.config.tenant_topics(t)  # with the sample tenant's ML loop's
    }
    assert topics == tenant_topics | set(PLATFORM_TOPICS.values())
    brokers = inputs(one(managed.synthesis, "aws:msk/cluster:Cluster"))["numberOfBrokerNodes"]
    assert brokers % len(managed.config.aws.zone_ids) == 0


def test_names_too_long_for_aws_are_refused_before_anything_is_declared():
    """A DNS-label environment can still be too long for AWS names: validation says so (it
    used to raise inside the program, after other resources were declared)."""
    with pytest.raises(ConfigError) as refused:
        stack_config("uae-cloud", ("environment=" + "x" * 40,))
    (problem,) = refused.value.problems
    assert problem.key == "environment" and "too long" in problem.message
    assert "mlplatform-xxxx" in problem.message  # names the names that would not fit


# --------------------------------------------------------------------------- whole stack


def test_whole_cloud_stack_runs_on_the_eks_cluster(stack_plan):
    synthesis = stack_plan("uae-cloud").synthesis
    (eks,) = synthesis.of_type("pulumi:providers:kubernetes")
    kube = [r for r in synthesis.resources if r.type.startswith("kubernetes:")]
    assert kube and all(r.provider and r.provider.startswith(eks.urn) for r in kube)
    assert synthesis.of_type("kubernetes:kafka.strimzi.io/v1:Kafka")  # Strimzi on EKS
    assert not synthesis.of_type("aws:msk/cluster:Cluster")
    assert arn_regions(synthesis) <= {"", REGION}


def test_managed_kafka_reaches_the_tenant_contract_without_strimzi(stack_plan):
    synthesis = stack_plan("uae-cloud", "kafka.mode=managed").synthesis
    assert not [r for r in synthesis.resources if "strimzi" in r.type]
    tenants = unwrap(synthesis.outputs)["tenants"]
    kafka = tenants["risk"]["kafka"]
    assert kafka["principal"] == "arn:aws:iam::111122223333:role/mlplatform-prod-tenant-risk-kafka"
    assert kafka["saslMechanism"] == "AWS_MSK_IAM"
    # its own topics, then its ML loop's (stacks.config.ml_loop)
    assert kafka["topics"][:3] == ["risk.transactions", "risk.scores", "risk.transactions.dlq"]
    assert kafka.get("credentialsSecret") is None  # Pod Identity, nothing in the namespace


def test_key_use_is_limited_to_the_services_of_each_purpose(planned):
    keys = {
        k.name.removeprefix("keys-"): policy(k)
        for k in planned.synthesis.of_type("aws:kms/key:Key")
    }
    via = {
        purpose: {
            s
            for st in document["Statement"]
            for s in st.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService", [])
        }
        for purpose, document in keys.items()
    }
    assert via["secrets"] == {f"eks.{REGION}.amazonaws.com"}
    assert via["logs"] == {f"s3.{REGION}.amazonaws.com"}
    assert (
        f"s3.{REGION}.amazonaws.com" in via["data"] and f"ec2.{REGION}.amazonaws.com" in via["data"]
    )
    assert all(service.endswith(f".{REGION}.amazonaws.com") for s in via.values() for service in s)


def test_keys_name_their_administrators_and_the_roles_the_stack_creates(planned):
    """Issue 13: administration by aws.adminRoleArns (not the account); the data key used only
    by roles that exist in the plan (MLflow, Feast, the EBS CSI controller), by exact ARN."""
    admins = list(planned.config.aws.admin_role_arns)
    roles = {inputs(r)["name"] for r in planned.synthesis.of_type("aws:iam/role:Role")}
    account = planned.config.aws.account_id
    for key in planned.synthesis.of_type("aws:kms/key:Key"):
        statements = {s["Sid"]: s for s in policy(key)["Statement"]}
        assert statements["KeyAdministration"]["Principal"] == {"AWS": admins}
        root = f"arn:aws:iam::{account}:root"
        for st in statements.values():
            if root in principals({"Statement": [st]}):
                named = st["Condition"]["ArnEquals"]["aws:PrincipalArn"]
                assert named and not any("*" in arn for arn in named), st["Sid"]
    (data,) = [k for k in planned.synthesis.of_type("aws:kms/key:Key") if k.name == "keys-data"]
    users = by_sid(policy(data))["UseThroughRegionalServices"]["Condition"]["ArnEquals"]
    named = {arn.rsplit("/", 1)[-1] for arn in users["aws:PrincipalArn"]}
    assert named <= roles, f"the data key names roles the plan does not create: {named - roles}"
    assert {"mlplatform-prod-mlflow", "mlplatform-prod-feast"} <= named
    assert any(n.endswith("-ebs-csi") for n in named)


def test_each_tenant_role_reaches_only_its_namespace(planned):
    """Issue 13.6: tenant IdP groups get EKS access entries scoped to their namespace."""
    entries = {
        inputs(e)["principalArn"]: inputs(e)
        for e in planned.synthesis.of_type("aws:eks/accessEntry:AccessEntry")
    }
    scopes = {
        inputs(a)["principalArn"]: inputs(a)["accessScope"]
        for a in planned.synthesis.of_type(
            "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
        )
    }
    for tenant in planned.config.tenants:
        assert entries[tenant.aws_role_arn]["kubernetesGroups"] == [tenant.idp_group]
        assert scopes[tenant.aws_role_arn] == {
            "type": "namespace",
            "namespaces": [f"tenant-{tenant.name}"],
        }
    for admin in planned.config.aws.admin_role_arns:
        assert scopes[admin] == {"type": "cluster"}


def test_the_api_server_has_subnets_no_pod_shares(planned):
    """Its endpoint ENIs sit in subnets of their own, so a NetworkPolicy admitting the API server
    by address admits no pod (the VPC CNI gives pods node-subnet addresses)."""
    from components.aws.network import plan_subnets

    cluster = inputs(one(planned.synthesis, "aws:eks/cluster:Cluster"))
    subnets = {
        inputs(s)["cidrBlock"]: s.id for s in planned.synthesis.of_type("aws:ec2/subnet:Subnet")
    }
    plan = plan_subnets(planned.config.aws.vpc_cidr, len(planned.config.aws.zone_ids))
    control_plane = {subnets[cidr] for cidr in plan.control_plane}
    assert set(cluster["vpcConfig"]["subnetIds"]) == control_plane
    assert planned.foundation.api_server.cidrs == plan.control_plane
    pods = [ipaddress.ip_network(c) for c in plan.nodes]
    for cidr in planned.foundation.api_server.cidrs:
        assert not any(ipaddress.ip_network(cidr).overlaps(p) for p in pods)


RDS_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_without_the_rds_bundle_the_unverified_connection_is_a_declared_exception(stack_plan):
    outputs = stack_plan("uae-cloud").synthesis.outputs
    (exception,) = [e for e in outputs["stack"]["exceptions"] if e["policy"] == "UAE-ENC-001"]
    assert "sslmode=require" in exception["what"]
    assert "aws.databaseCaBundle" in exception["remedy"]


def test_with_the_rds_bundle_clients_verify_the_database(stack_plan):
    plan = stack_plan("uae-cloud", f"aws.databaseCaBundle={RDS_PEM!r}".replace("'", '"'))
    exceptions = plan.synthesis.outputs["stack"]["exceptions"]
    assert [e["policy"] for e in exceptions] == ["UAE-NET-001"]  # only the EKS Auth endpoint
    ca_secrets = {
        r.inputs["metadata"]["namespace"]
        for r in plan.synthesis.resources
        if r.type == "kubernetes:core/v1:Secret" and r.inputs["metadata"]["name"] == "rds-ca-bundle"
    }
    assert ca_secrets == {"mlflow", "feast"}
    mlflow = [
        r
        for r in plan.synthesis.resources
        if r.type == "kubernetes:apps/v1:Deployment" and r.inputs["metadata"]["name"] == "mlflow"
    ]
    assert "sslmode=verify-full" in str(mlflow[0].inputs)


def test_add_ons_take_the_builds_the_stack_pins_and_eks_defaults_otherwise(stack_plan):
    pinned = stack_plan(
        "uae-cloud", "aws.addonVersions={coredns: v1.11.4-eksbuild.14, vpc-cni: v1.19.5-eksbuild.3}"
    ).synthesis.of_type("aws:eks/addon:Addon")
    versions = {r.inputs["addonName"]: r.inputs.get("addonVersion") for r in pinned}
    assert versions == {
        "coredns": "v1.11.4-eksbuild.14",
        "vpc-cni": "v1.19.5-eksbuild.3",
        "kube-proxy": None,
        "eks-pod-identity-agent": None,
        "aws-ebs-csi-driver": None,
    }
    default = stack_plan("uae-cloud").synthesis.of_type("aws:eks/addon:Addon")
    assert all("addonVersion" not in r.inputs for r in default)
