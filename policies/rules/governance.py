"""UAE-GOV-001: mandatory classification tags on cloud resources and labels on workloads.

Every taggable AWS/Azure resource (AWS provider default tags count) and every Kubernetes
namespace, workload and data custom resource carries `data-classification`, `owner`, `system`,
`residency=uae`, `pii`, and `dpia-ref` when `pii=true` (PDPL Art. 21 DPIA).
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.core import UNKNOWN, Policy, ResourceView, Severity, types
from policies.k8s import pod_specs
from policies.pack_config import PackConfig

CLASSES = ("public", "internal", "confidential", "restricted")
REQUIRED = ("data-classification", "owner", "system", "residency", "pii")

AWS_TAGGABLE = types(
    "aws:kms/key:Key",
    "aws:kms/externalKey:ExternalKey",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:msk/cluster:Cluster",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/natGateway:NatGateway",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudtrail/trail:Trail",
    "aws:ecr/repository:Repository",
    "aws:iam/role:Role",
    "aws:secretsmanager/secret:Secret",
    "aws:efs/fileSystem:FileSystem",
    "aws:backup/vault:Vault",
)
AZURE_TAGGABLE = types(
    "azure-native:resources:ResourceGroup",
    "azure-native:keyvault:Vault",
    "azure-native:keyvault:Key",
    "azure-native:storage:StorageAccount",
    "azure-native:containerservice:ManagedCluster",
    "azure-native:containerservice:AgentPool",
    "azure-native:dbforpostgresql:Server",
    "azure-native:redis:Redis",
    "azure-native:eventhub:Namespace",
    "azure-native:operationalinsights:Workspace",
    "azure-native:network:VirtualNetwork",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:PrivateEndpoint",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:containerregistry:Registry",
    "azure-native:compute:DiskEncryptionSet",
)
K8S_DATA_KINDS = types(
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:serving.kserve.io/*:InferenceService",
    "kubernetes:trainer.kubeflow.org/*:TrainJob",
    "kubernetes:kafka.strimzi.io/*:Kafka",
    "kubernetes:feast.dev/*:FeatureStore",
)


def governed(r: ResourceView) -> bool:
    if r.package in ("aws", "azure-native"):
        return AWS_TAGGABLE(r) or AZURE_TAGGABLE(r) or isinstance(r.props.get("tags"), dict)
    return K8S_DATA_KINDS(r) or bool(pod_specs(r))


def check_tags(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    tags = r.tags
    if r.props.get("tags") is UNKNOWN:
        return
    word = "labels" if r.is_kubernetes else "tags"
    missing = [k for k in REQUIRED if not tags.get(k)]
    if missing:
        yield f"{r.describe()} lacks mandatory {word} {missing}."
    data_class = tags.get("data-classification")
    if data_class and data_class not in CLASSES:
        yield (
            f"{r.describe()} has data-classification '{data_class}'; allowed: {', '.join(CLASSES)}."
        )
    residency = tags.get("residency")
    if residency and residency != "uae":
        yield f"{r.describe()} has residency '{residency}'; it must be 'uae'."
    pii = tags.get("pii")
    if pii and str(pii).lower() not in ("true", "false"):
        yield f"{r.describe()} has pii '{pii}'; use 'true' or 'false'."
    if str(pii).lower() == "true" and not tags.get("dpia-ref"):
        yield f"{r.describe()} processes personal data (pii=true) without a dpia-ref."


GOV_001 = Policy(
    id="UAE-GOV-001",
    name="Mandatory classification tags and labels",
    description=(
        "Cloud resources and Kubernetes namespaces/workloads carry data-classification, owner, "
        "system, residency=uae, pii and (when pii) dpia-ref."
    ),
    severity=Severity.HIGH,
    iso_controls=("5.9", "5.12", "5.13"),
    uae_refs=("PDPL Art. 21 (data protection impact assessment)",),
    remediation=(
        "Pass stacks.governance.cloud_tags(config) as tags (or the AWS provider's default_tags) "
        "and platform_labels/tenant_labels as Kubernetes metadata.labels; set tags.dpiaRef when "
        "tags.pii is true."
    ),
    domain="governance",
    applies=governed,
    check=check_tags,
)

POLICIES = (GOV_001,)
