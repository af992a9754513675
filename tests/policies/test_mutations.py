"""Deliberate misconfigurations of the shipped stacks must fail the pack, naming the policy.

Each case starts from a synthesized, shipped stack (`stack_plan`), breaks one thing in its
recorded resources (the config layer refuses most of these before synthesis, so the plan is
mutated the way a careless change to a component would), writes the mutated resources.json
with the stack's policy-config.json beside it, and runs `mlplatform check --resources`. The
expected policy must report a finding the unmutated plan does not have, and the command must
exit 1 (advisory policies with `--strict`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra import plan as planning
from infra.cli import app
from policies.config_file import policy_config_file
from policies.registry import BY_ID
from tests.support.charts import requires_charts

Resources = list[dict[str, Any]]
VARIANTS = {
    "aws": ("uae-cloud",),
    "msk": ("uae-cloud", "kafka.mode=managed"),
    "azure": ("uae-cloud-azure",),
    "onprem": ("uae-onprem",),
}
runner = CliRunner()


# --------------------------------------------------------------------------- helpers


def first(resources: Resources, type_: str, where: Callable[[dict], bool] = lambda r: True) -> dict:
    found = [r for r in resources if r["type"] == type_ and where(r)]
    assert found, f"the stack no longer declares a {type_} this case can mutate"
    return found[0]


def named(name: str) -> Callable[[dict], bool]:
    return lambda r: r["name"] == name or (r["inputs"].get("metadata") or {}).get("name") == name


def in_namespace(namespace: str) -> Callable[[dict], bool]:
    return lambda r: (r["inputs"].get("metadata") or {}).get("namespace") == namespace


def pod_template(resource: dict) -> dict:
    return resource["inputs"]["spec"]["template"]["spec"]


def add(resources: Resources, like: dict, type_: str, name: str, inputs: dict) -> None:
    """Append a new resource created through the same provider as `like`."""
    resources.append(
        {
            **copy.deepcopy(like),
            "urn": like["urn"].rsplit("::", 2)[0] + f"::{type_}::{name}",
            "type": type_,
            "name": name,
            "id": name,
            "inputs": inputs,
        }
    )


def remove(resources: Resources, type_: str, where: Callable[[dict], bool]) -> None:
    doomed = [r for r in resources if r["type"] == type_ and where(r)]
    assert doomed, f"nothing of type {type_} to remove"
    for r in doomed:
        resources.remove(r)


# --------------------------------------------------------------------------- mutations


def provider_region_abroad(rs: Resources) -> None:
    first(rs, "pulumi:providers:aws")["inputs"]["region"] = "eu-west-1"


def azure_location_abroad(rs: Resources) -> None:
    first(rs, "azure-native:storage:StorageAccount")["inputs"]["location"] = "westeurope"


def replicate_bucket_abroad(rs: Resources) -> None:
    source = first(rs, "aws:s3/bucket:Bucket")
    add(
        rs,
        source,
        "aws:s3/bucket:Bucket",
        "dr-bucket",
        {"bucket": "mlplatform-dr", "region": "eu-west-1"},
    )
    rule = {
        "id": "dr",
        "status": "Enabled",
        "destination": {"bucket": "arn:aws:s3:::mlplatform-dr"},
    }
    add(
        rs,
        source,
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "dr-replication",
        {"bucket": source["id"], "rules": [rule]},
    )


def multi_region_key(rs: Resources) -> None:
    first(rs, "aws:kms/key:Key")["inputs"]["multiRegion"] = True


def cdn_in_front_of_models(rs: Resources) -> None:
    add(
        rs,
        first(rs, "aws:s3/bucket:Bucket"),
        "aws:cloudfront/distribution:Distribution",
        "models-cdn",
        {"enabled": True},
    )


def model_from_foreign_bucket(rs: Resources) -> None:
    isvc = first(rs, "kubernetes:serving.kserve.io/v1beta1:InferenceService")
    isvc["inputs"]["spec"]["predictor"]["model"]["storageUri"] = "s3://models-eu-west-1/fraud/1"


def image_from_docker_hub(rs: Resources) -> None:
    deployment = first(rs, "kubernetes:apps/v1:Deployment", in_namespace("mlflow"))
    pod_template(deployment)["containers"][0]["image"] = "docker.io/library/python:3.11"


def log_group_abroad(rs: Resources) -> None:
    first(rs, "aws:cloudwatch/logGroup:LogGroup")["inputs"]["region"] = "eu-west-1"


def bucket_encryption_removed(rs: Resources) -> None:
    sse = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    remove(rs, sse, lambda r: "artifacts" in r["name"])


def key_rotation_off(rs: Resources) -> None:
    first(rs, "aws:kms/key:Key")["inputs"]["enableKeyRotation"] = False


def restricted_key_in_software(rs: Resources) -> None:
    key = first(rs, "aws:kms/key:Key")
    key["inputs"]["tags"] = {**key["inputs"].get("tags", {}), "data-classification": "restricted"}


def vault_without_purge_protection(rs: Resources) -> None:
    first(rs, "azure-native:keyvault:Vault")["inputs"]["properties"]["enablePurgeProtection"] = (
        False
    )


def key_policy_open_to_everyone(rs: Resources) -> None:
    key = first(rs, "aws:kms/key:Key")
    policy = json.loads(key["inputs"]["policy"])
    policy["Statement"].append(
        {
            "Sid": "Anyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    )
    key["inputs"]["policy"] = json.dumps(policy)


def kafka_tls_optional_strimzi(rs: Resources) -> None:
    kafka = first(rs, "kubernetes:kafka.strimzi.io/v1:Kafka")
    kafka["inputs"]["spec"]["kafka"]["listeners"][0]["tls"] = False


def kafka_tls_optional_msk(rs: Resources) -> None:
    msk = first(rs, "aws:msk/cluster:Cluster")
    msk["inputs"]["encryptionInfo"]["encryptionInTransit"]["clientBroker"] = "TLS_PLAINTEXT"


def eks_secrets_unencrypted(rs: Resources) -> None:
    first(rs, "aws:eks/cluster:Cluster")["inputs"].pop("encryptionConfig")


def eks_public_endpoint(rs: Resources) -> None:
    first(rs, "aws:eks/cluster:Cluster")["inputs"]["vpcConfig"]["endpointPublicAccess"] = True


def azure_postgres_public(rs: Resources) -> None:
    server = first(rs, "azure-native:dbforpostgresql:Server")
    server["inputs"]["network"] = {"publicNetworkAccess": "Enabled"}


def ssh_open_to_the_world(rs: Resources) -> None:
    group = first(rs, "aws:ec2/securityGroup:SecurityGroup")
    group["inputs"]["ingress"] = [
        {"fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}
    ]


def tenant_default_deny_removed(rs: Resources) -> None:
    remove(rs, "kubernetes:networking.k8s.io/v1:NetworkPolicy", named("default-deny"))


def public_load_balancer(rs: Resources) -> None:
    service = first(rs, "kubernetes:core/v1:Service")
    service["inputs"]["spec"]["type"] = "LoadBalancer"


def flow_log_removed(rs: Resources) -> None:
    remove(rs, "aws:ec2/flowLog:FlowLog", lambda r: True)


def audit_logs_disabled(rs: Resources) -> None:
    first(rs, "aws:eks/cluster:Cluster")["inputs"]["enabledClusterLogTypes"] = ["api"]


def aks_audit_logs_disabled(rs: Resources) -> None:
    setting = first(
        rs,
        "azure-native:monitor:DiagnosticSetting",
        lambda r: "managedClusters" in str(r["inputs"].get("resourceUri")),
    )
    setting["inputs"]["logs"] = [{"category": "kube-apiserver", "enabled": True}]


def short_log_retention(rs: Resources) -> None:
    first(rs, "aws:cloudwatch/logGroup:LogGroup")["inputs"]["retentionInDays"] = 7


def trail_removed(rs: Resources) -> None:
    remove(rs, "aws:cloudtrail/trail:Trail", lambda r: True)


def audit_bucket_unlocked(rs: Resources) -> None:
    first(rs, "aws:s3/bucket:Bucket", lambda r: "audit" in r["name"])["inputs"][
        "objectLockEnabled"
    ] = False


def wildcard_role(rs: Resources) -> None:
    role = first(rs, "kubernetes:rbac.authorization.k8s.io/v1:Role", in_namespace("tenant-risk"))
    role["inputs"]["rules"] = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]


def admin_policy_on_workload_role(rs: Resources) -> None:
    role = first(rs, "aws:iam/role:Role", lambda r: "mlflow" in r["name"])
    add(
        rs,
        role,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "mlflow-admin",
        {"role": role["id"], "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )


def static_access_key(rs: Resources) -> None:
    add(rs, first(rs, "aws:iam/role:Role"), "aws:iam/accessKey:AccessKey", "ci-key", {"user": "ci"})


def aks_local_accounts(rs: Resources) -> None:
    first(rs, "azure-native:containerservice:ManagedCluster")["inputs"]["disableLocalAccounts"] = (
        False
    )


def privileged_tenant_pod(rs: Resources) -> None:
    isvc = first(rs, "kubernetes:serving.kserve.io/v1beta1:InferenceService")
    isvc["inputs"]["spec"]["predictor"]["model"]["securityContext"] = {"privileged": True}


def tenant_namespace_baseline(rs: Resources) -> None:
    ns = first(rs, "kubernetes:core/v1:Namespace", named("tenant-risk"))
    ns["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"


def unbounded_container(rs: Resources) -> None:
    pod_template(first(rs, "kubernetes:apps/v1:Deployment", in_namespace("mlflow")))["containers"][
        0
    ].pop("resources")


def latest_image(rs: Resources) -> None:
    container = pod_template(first(rs, "kubernetes:apps/v1:Deployment", in_namespace("mlflow")))[
        "containers"
    ][0]
    container["image"] = container["image"].split(":")[0].split("@")[0] + ":latest"


def literal_password_env(rs: Resources) -> None:
    container = pod_template(first(rs, "kubernetes:apps/v1:Deployment", in_namespace("mlflow")))[
        "containers"
    ][0]
    container.setdefault("env", []).append({"name": "DB_PASSWORD", "value": "hunter2hunter2"})


def missing_classification_label(rs: Resources) -> None:
    ns = first(rs, "kubernetes:core/v1:Namespace", named("tenant-risk"))
    ns["inputs"]["metadata"]["labels"].pop("data-classification")


def short_database_backups(rs: Resources) -> None:
    first(rs, "aws:rds/instance:Instance")["inputs"]["backupRetentionPeriod"] = 1


def imds_v1(rs: Resources) -> None:
    template = first(rs, "aws:ec2/launchTemplate:LaunchTemplate")
    template["inputs"]["metadataOptions"]["httpTokens"] = "optional"


def database_unprotected(rs: Resources) -> None:
    first(rs, "aws:rds/instance:Instance")["options"]["protect"] = False


def unapproved_provider(rs: Resources) -> None:
    add(
        rs,
        first(rs, "pulumi:providers:random"),
        "command:local:Command",
        "curl-install",
        {"create": "curl https://example.com/install.sh | sh"},
    )


@dataclass(frozen=True)
class Case:
    name: str
    variant: str
    policy: str
    mutate: Callable[[Resources], None]


CASES = (
    Case("provider region eu-west-1", "aws", "UAE-RES-001", provider_region_abroad),
    Case("storage account in westeurope", "azure", "UAE-RES-001", azure_location_abroad),
    Case("bucket replicated to eu-west-1", "aws", "UAE-RES-002", replicate_bucket_abroad),
    Case("multi-Region KMS key", "aws", "UAE-RES-002", multi_region_key),
    Case("CloudFront distribution", "aws", "UAE-RES-003", cdn_in_front_of_models),
    Case("model from a foreign bucket", "onprem", "UAE-RES-004", model_from_foreign_bucket),
    Case("image from docker.io", "aws", "UAE-RES-005", image_from_docker_hub),
    Case("log group in eu-west-1", "aws", "UAE-LOG-001", log_group_abroad),
    Case("bucket encryption removed", "aws", "UAE-KEY-001", bucket_encryption_removed),
    Case("key rotation off", "aws", "UAE-KEY-002", key_rotation_off),
    Case("restricted data under a software key", "aws", "UAE-KEY-003", restricted_key_in_software),
    Case(
        "Key Vault without purge protection", "azure", "UAE-KEY-004", vault_without_purge_protection
    ),
    Case("key policy open to '*'", "aws", "UAE-KEY-005", key_policy_open_to_everyone),
    Case("TLS optional on Strimzi", "onprem", "UAE-ENC-001", kafka_tls_optional_strimzi),
    Case("TLS optional on MSK", "msk", "UAE-ENC-001", kafka_tls_optional_msk),
    Case("EKS secrets not envelope-encrypted", "aws", "UAE-ENC-002", eks_secrets_unencrypted),
    Case("EKS public endpoint", "aws", "UAE-NET-001", eks_public_endpoint),
    Case("public PostgreSQL on Azure", "azure", "UAE-NET-002", azure_postgres_public),
    Case("SSH open to 0.0.0.0/0", "aws", "UAE-NET-003", ssh_open_to_the_world),
    Case("tenant default-deny removed", "onprem", "UAE-NET-004", tenant_default_deny_removed),
    Case("LoadBalancer without internal annotation", "aws", "UAE-NET-005", public_load_balancer),
    Case("VPC flow log removed", "aws", "UAE-NET-006", flow_log_removed),
    Case("EKS audit logs disabled", "aws", "UAE-LOG-002", audit_logs_disabled),
    Case("AKS audit logs disabled", "azure", "UAE-LOG-002", aks_audit_logs_disabled),
    Case("7-day log retention", "aws", "UAE-LOG-003", short_log_retention),
    Case("CloudTrail removed", "aws", "UAE-LOG-004", trail_removed),
    Case("audit bucket without Object Lock", "aws", "UAE-LOG-005", audit_bucket_unlocked),
    Case("wildcard tenant Role", "onprem", "UAE-IAM-001", wildcard_role),
    Case(
        "AdministratorAccess on a workload role",
        "aws",
        "UAE-IAM-001",
        admin_policy_on_workload_role,
    ),
    Case("IAM access key", "aws", "UAE-IAM-002", static_access_key),
    Case("AKS local accounts on", "azure", "UAE-IAM-003", aks_local_accounts),
    Case("privileged tenant pod", "onprem", "UAE-K8S-001", privileged_tenant_pod),
    Case("tenant namespace PSS baseline", "azure", "UAE-K8S-001", tenant_namespace_baseline),
    Case("container without limits", "onprem", "UAE-K8S-002", unbounded_container),
    Case("image tag latest", "azure", "UAE-K8S-003", latest_image),
    Case("literal password in env", "onprem", "UAE-K8S-004", literal_password_env),
    Case("missing data-classification label", "aws", "UAE-GOV-001", missing_classification_label),
    Case("1-day database backups", "aws", "UAE-BCP-001", short_database_backups),
    Case("IMDSv1 on GPU nodes", "aws", "UAE-CMP-001", imds_v1),
    Case("database not protected", "aws", "UAE-CHG-001", database_unprotected),
    Case("unapproved provider", "onprem", "UAE-SUP-001", unapproved_provider),
)


# --------------------------------------------------------------------------- the runs

_PLANS: dict[str, tuple[Resources, dict[str, Any]]] = {}
_BASELINES: dict[str, set[tuple[str, str, str]]] = {}


def shipped(stack_plan: Callable[..., Any], variant: str) -> tuple[Resources, dict[str, Any]]:
    if variant not in _PLANS:
        result = stack_plan(*VARIANTS[variant])
        resources = [r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)]
        config = policy_config_file(planning.policy_config(result.config))
        _PLANS[variant] = (json.loads(json.dumps(resources, default=str)), config)
    resources, config = _PLANS[variant]
    return copy.deepcopy(resources), config


def run_check(
    directory: Path, resources: Resources, config: dict[str, Any], strict: bool
) -> tuple[int, dict]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "resources.json").write_text(json.dumps(resources))
    (directory / planning.POLICY_CONFIG_FILE).write_text(json.dumps(config))
    args = ["check", "--resources", str(directory / "resources.json"), "--json"]
    result = runner.invoke(app, args + (["--strict"] if strict else []))
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def findings(report: dict) -> set[tuple[str, str, str]]:
    return {
        (f["policyId"], f["urn"], f["message"]) for p in report["policies"] for f in p["findings"]
    }


@requires_charts  # `check --resources` renders the releases with the default chart cache
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_misconfiguration_fails_naming_the_policy(case: Case, stack_plan, tmp_path: Path) -> None:
    resources, config = shipped(stack_plan, case.variant)
    if case.variant not in _BASELINES:
        _, report = run_check(tmp_path / "baseline", resources, config, strict=False)
        _BASELINES[case.variant] = findings(report)
    case.mutate(resources)
    advisory = BY_ID[case.policy].enforcement.value == "advisory"
    code, report = run_check(tmp_path / "mutated", resources, config, strict=advisory)
    new = findings(report) - _BASELINES[case.variant]
    assert {policy for policy, _, _ in new} >= {case.policy}, f"{case.policy} did not fire: {new}"
    assert code == 1
    ours = [f for f in new if f[0] == case.policy]
    assert all(urn and message for _, urn, message in ours)


def test_config_layer_refuses_a_region_outside_the_uae_first() -> None:
    result = runner.invoke(app, ["check", "--stack", "uae-cloud", "--set", "aws.region=eu-west-1"])
    assert result.exit_code == 2
    assert "eu-west-1" in result.output and "outside the UAE" in result.output


def test_at_least_25_cases_covering_every_domain() -> None:
    assert len(CASES) >= 25
    domains = {BY_ID[c.policy].domain for c in CASES}
    assert domains == {p.domain for p in BY_ID.values()}
