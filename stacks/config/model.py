"""The typed stack configuration: one pydantic model for everything a stack can set.

Keys are camelCase, exactly as they appear under `mlplatform:` in `Pulumi.<stack>.yaml`.
Unknown keys are errors. Residency (country, region, location, zones, registry) is validated
per field so it is reported together with type errors; relations between fields (sizes,
capacities, references) are checked by `stacks.config.validation` once the structure is sound.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from policies.pack_config import PackConfig
from stacks.config import residency
from stacks.config.fields import (
    Cidr,
    Cloud,
    DataClass,
    DnsLabel,
    DnsName,
    LabelValue,
    NonEmpty,
    Quantity,
    RoleArn,
    ShortName,
    Target,
    Uuid,
)
from stacks.config.locations import https_url_problem, site_host_problem
from stacks.config.machine_types import APPROVED
from stacks.config.ml_loop import MlLoop, tenant_topics
from stacks.config.observability import Observability

# The EKS managed add-ons the AWS foundation installs (components.aws.eks / .addons).
EKS_ADDONS = ("coredns", "kube-proxy", "vpc-cni", "eks-pod-identity-agent", "aws-ebs-csi-driver")


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
    )


# --------------------------------------------------------------------------- governance


class Tags(_Model):
    """Mandatory tags (cloud) and labels (Kubernetes) applied to everything the stack creates."""

    owner: LabelValue
    cost_centre: LabelValue
    data_classification: DataClass = "confidential"
    residency: str = "uae"
    system: LabelValue = "mlplatform"
    pii: bool = False
    dpia_ref: LabelValue | None = None

    @field_validator("residency")
    @classmethod
    def _uae_only(cls, value: str) -> str:
        if value != "uae":
            raise ValueError("is not allowed; allowed: 'uae'")
        return value


# The policy pack's minimum log retention (UAE-LOG-003): the stack may keep logs longer, never
# shorter, and never lowers the pack's minimum (the plan hands the pack its own default).
LOG_RETENTION_MIN_DAYS = PackConfig().log_retention_days


class Logging(_Model):
    retention_days: int = Field(default=400, le=3653)

    @field_validator("retention_days")
    @classmethod
    def _pack_minimum(cls, value: int) -> int:
        if value < LOG_RETENTION_MIN_DAYS:
            raise ValueError(
                f"is below the policy pack's minimum log retention ({LOG_RETENTION_MIN_DAYS} "
                f"days, UAE-LOG-003); allowed: {LOG_RETENTION_MIN_DAYS}-3653"
            )
        return value


class StateBackend(_Model):
    """Where this stack's Pulumi state and secrets live (checked for residency, reported)."""

    url: NonEmpty = "file://~/.pulumi-state"
    secrets_provider: NonEmpty = "passphrase"


# --------------------------------------------------------------------------- locations


class Site(_Model):
    name: DnsLabel
    country: str
    emirate: str
    facility: str = ""

    @field_validator("country")
    @classmethod
    def _in_uae(cls, value: str) -> str:
        if value != residency.COUNTRY:
            raise ValueError(f"is outside the UAE; allowed: {residency.COUNTRY!r}")
        return value

    @field_validator("emirate")
    @classmethod
    def _emirate(cls, value: str) -> str:
        if value not in residency.EMIRATES:
            raise ValueError(f"is not an emirate; allowed: {', '.join(residency.EMIRATES)}")
        return value


class ExistingService(_Model):
    """An in-country service the site already runs, referenced instead of deployed."""

    host: str
    port: int = Field(ge=1, le=65535)

    @field_validator("host")
    @classmethod
    def _site_host(cls, value: str) -> str:
        if problem := site_host_problem(value):
            raise ValueError(problem)
        return value

    credentials_secret: DnsLabel
    ca_secret: DnsLabel | None = None


class Postgres(_Model):
    mode: Literal["operator", "existing"] = "operator"
    instances: int = Field(default=3, ge=1, le=9)
    storage_gi: int = Field(default=50, ge=1, le=65536)  # a volume of at most 64 TiB
    existing: ExistingService | None = None


class Redis(_Model):
    mode: Literal["operator", "existing"] = "operator"
    replicas: int = Field(default=3, ge=1, le=9)
    storage_gi: int = Field(default=10, ge=1, le=4096)
    existing: ExistingService | None = None


class ObjectStore(_Model):
    """The site's S3-compatible object store (MinIO, Ceph RGW, NetApp StorageGRID...)."""

    endpoint: str
    region: NonEmpty = "uae-onprem"
    credentials_secret: DnsLabel = "object-store-credentials"
    # The store's addresses (tenant pods may reach only these, on the endpoint's port)
    addresses: Annotated[list[Annotated[str, Cidr(32)]], Field(min_length=1)]
    # Secret (key `ca.crt`) the site provides, like `credentialsSecret`, where the store's
    # certificate comes from an internal CA; unset: the OS trust store verifies it.
    ca_secret: DnsLabel | None = None
    artifact_bucket: DnsLabel = "mlflow-artifacts"
    offline_store_bucket: DnsLabel = "feast-offline"
    audit_bucket: DnsLabel = "platform-audit"
    backup_bucket: DnsLabel = "platform-backups"

    @field_validator("endpoint")
    @classmethod
    def _https(cls, value: str) -> str:
        if problem := https_url_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        # S3 clients sign for this region; an AWS region name outside the UAE is a copy-paste
        # from elsewhere (MinIO's own default is us-east-1).
        if re.fullmatch(r"[a-z]{2}-[a-z]+-\d", value) and value not in residency.AWS_REGIONS:
            allowed = ", ".join(residency.AWS_REGIONS)
            raise ValueError(
                f"is an AWS region outside the UAE; allowed: the site's name or {allowed}"
            )
        return value


class KeyReferences(_Model):
    """Keys held by the site's in-country HSM or Vault, referenced by URI (never material)."""

    provider: Literal["vault", "hsm"] = "vault"
    data_key_uri: NonEmpty
    secrets_key_uri: NonEmpty
    logs_key_uri: NonEmpty


class VaultPki(_Model):
    """The site's in-country Vault PKI the platform CA chains to (instead of a self-signed root)."""

    server: str
    path: NonEmpty  # e.g. pki_int/sign/mlplatform
    role: NonEmpty  # Vault Kubernetes-auth role for cert-manager
    ca_bundle: str  # PEM chain of the Vault PKI (public certificates only)
    auth_mount_path: str = "/v1/auth/kubernetes"

    @field_validator("server")
    @classmethod
    def _https(cls, value: str) -> str:
        if problem := https_url_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("ca_bundle")
    @classmethod
    def _pem(cls, value: str) -> str:
        if "-----BEGIN CERTIFICATE-----" not in value:
            raise ValueError("must be a PEM certificate chain (-----BEGIN CERTIFICATE-----)")
        return value


class NodeSize(_Model):
    """What one node of a site pool lets pods request (the kubelet's allocatable)."""

    cpu: Quantity
    memory: Quantity


class SiteCluster(_Model):
    """The site's existing cluster as the plan simulates it: its network and its nodes.

    `cni` decides which NetworkPolicy forms reach the API server (Cilium needs its entity
    policy); `apiServerCidrs` are the API server's endpoint addresses (`kubectl get endpoints
    kubernetes`); `podCidrs` the pod address ranges; `workers` one general-purpose node's
    allocatable; `gpuNodes` one node's of each GPU pool (by pool name).
    """

    cni: Literal["calico", "cilium", "aws-vpc-cni", "azure-npm"]
    api_server_cidrs: Annotated[list[Annotated[str, Cidr(32)]], Field(min_length=1)]
    pod_cidrs: Annotated[list[Annotated[str, Cidr(24)]], Field(min_length=1)]
    workers: NodeSize
    gpu_nodes: dict[str, NodeSize] = {}


class OnPrem(_Model):
    site: Site
    cluster: SiteCluster
    kube_context: NonEmpty | None = None  # None: the deployer's current context
    storage_class: DnsLabel = "encrypted-ssd"
    postgres: Postgres = Postgres()
    redis: Redis = Redis()
    object_store: ObjectStore
    keys: KeyReferences
    vault_pki: VaultPki | None = None


class Aws(_Model):
    region: str = residency.AWS_REGIONS[0]
    account_id: Annotated[str, Field(pattern=r"^[0-9]{12}$")]
    zone_ids: list[str] = list(residency.AWS_ZONE_IDS)
    vpc_cidr: Annotated[str, Cidr(20)] = "10.40.0.0/16"
    # Cluster administrators (EKS access entries). Required: without them the identity that
    # runs `pulumi up` would silently become the only cluster admin.
    admin_role_arns: Annotated[list[RoleArn], Field(min_length=1)]
    # The RDS certificate bundle for me-central-1 (public certificates, PEM), from
    # https://truststore.pki.rds.amazonaws.com/me-central-1/me-central-1-bundle.pem. With it,
    # MLflow and Feast verify the database's identity (sslmode=verify-full); without it they
    # still encrypt (RDS forces TLS) but cannot verify, and the plan reports that exception.
    database_ca_bundle: str | None = None
    # EKS managed add-on builds to pin, by add-on (`aws eks describe-addon-versions
    # --kubernetes-version <v> --addon-name <name>` lists them). Unset: EKS's default build for
    # the cluster's version when the add-on is created, kept in state afterwards.
    addon_versions: dict[str, str] = Field(default_factory=dict)
    system_instance_type: str = "m7i.xlarge"
    system_min_size: int = Field(default=3, ge=1, le=100)
    system_max_size: int = Field(default=6, ge=1, le=100)

    @field_validator("region")
    @classmethod
    def _in_uae(cls, value: str) -> str:
        if value not in residency.AWS_REGIONS:
            allowed = ", ".join(residency.AWS_REGIONS)
            raise ValueError(f"is outside the UAE; allowed: {allowed}")
        return value

    @field_validator("database_ca_bundle")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        if value is not None and "-----BEGIN CERTIFICATE-----" not in value:
            raise ValueError("must be a PEM certificate bundle (-----BEGIN CERTIFICATE-----)")
        return value

    @field_validator("addon_versions")
    @classmethod
    def _addon_versions(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(EKS_ADDONS))
        if unknown:
            raise ValueError(
                f"names add-ons the stack does not install ({unknown}); "
                f"allowed: {', '.join(EKS_ADDONS)}"
            )
        malformed = {
            k: v for k, v in value.items() if not re.fullmatch(r"v\d+\.\d+\.\d+-eksbuild\.\d+", v)
        }
        if malformed:
            raise ValueError(
                "has versions not in the EKS form v<major>.<minor>.<patch>-eksbuild.<n>: "
                f"{malformed}"
            )
        return value

    @field_validator("zone_ids")
    @classmethod
    def _zones(cls, value: list[str]) -> list[str]:
        outside = [z for z in value if z not in residency.AWS_ZONE_IDS]
        if outside:
            allowed = ", ".join(residency.AWS_ZONE_IDS)
            raise ValueError(f"names zones outside me-central-1 ({outside}); allowed: {allowed}")
        if len(set(value)) != len(value) or len(value) < 2:
            raise ValueError("needs at least two distinct zone IDs (resilience stays in-country)")
        return value


class RegionAccess(_Model):
    """Microsoft's approval of the subscription's access request for a restricted location."""

    location: str
    # The Azure support request that granted it (evidence for an auditor), when known.
    support_request: Annotated[str, Field(pattern=r"^[0-9]{6,20}$")] | None = None

    @field_validator("location")
    @classmethod
    def _restricted(cls, value: str) -> str:
        if value not in residency.AZURE_RESTRICTED_LOCATIONS:
            allowed = ", ".join(residency.AZURE_RESTRICTED_LOCATIONS)
            raise ValueError(f"is not a restricted location; allowed: {allowed}")
        return value


class Azure(_Model):
    location: str = "uaenorth"
    dr_location: str = "uaecentral"
    subscription_id: Uuid
    tenant_id: Uuid
    admin_group_object_ids: list[Uuid] = []
    acr_name: Annotated[str, Field(pattern=r"^[a-z0-9]{5,50}$")]
    vnet_cidr: Annotated[str, Cidr(19)] = "10.50.0.0/16"
    system_vm_size: str = "Standard_D8ds_v5"
    system_min_count: int = Field(default=3, ge=1, le=100)
    system_max_count: int = Field(default=6, ge=1, le=100)
    # The user pool tenants' CPU work and Kafka brokers run on (the system pool is tainted
    # CriticalAddonsOnly and keeps AKS's add-ons and the platform's own services)
    workload_vm_size: str = "Standard_D8ds_v5"
    workload_min_count: int = Field(default=2, ge=1, le=100)
    workload_max_count: int = Field(default=10, ge=1, le=100)
    # Restricted locations (uaecentral) whose access request Microsoft approved for the
    # subscription: location/drLocation may name one only once it is acknowledged here.
    restricted_region_access: list[RegionAccess] = []

    @field_validator("location", "dr_location")
    @classmethod
    def _in_uae(cls, value: str) -> str:
        if value not in residency.AZURE_LOCATIONS:
            allowed = ", ".join(residency.AZURE_LOCATIONS)
            raise ValueError(f"is outside the UAE; allowed: {allowed}")
        return value


# --------------------------------------------------------------------------- platform


KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34", "1.35")


class Kubernetes(_Model):
    version: str = "1.34"

    @field_validator("version", mode="before")
    @classmethod
    def _quoted(cls, value: object) -> object:
        if isinstance(value, int | float):
            # YAML reads 1.30 as the number 1.3: refuse rather than guess which was meant.
            raise ValueError("must be a quoted string such as '1.34' (YAML reads 1.30 as 1.3)")
        if value not in KUBERNETES_VERSIONS:
            raise ValueError(
                f"is not a supported version; allowed: {', '.join(KUBERNETES_VERSIONS)}"
            )
        return value


MAX_GPU_NODES = 128  # per pool: far above any UAE GPU allocation, far below a typo (10^9)


class GpuPool(_Model):
    """A pool of GPU nodes: existing nodes on-prem (`nodes`), autoscaled groups in the cloud.

    In the cloud the machine type is per provider (`instanceType` on AWS, `vmSize` on Azure) so
    one stack file can be planned on either; the GPU product then follows from the type.
    """

    name: ShortName
    gpu_product: LabelValue | None = None
    gpus_per_node: int = Field(default=8, ge=1, le=16)
    nodes: Annotated[list[DnsLabel], Field(max_length=MAX_GPU_NODES)] = []
    instance_type: str | None = None
    vm_size: str | None = None
    min_size: int = Field(default=0, ge=0, le=MAX_GPU_NODES)
    max_size: int = Field(default=2, ge=0, le=MAX_GPU_NODES)
    desired_size: int | None = Field(default=None, ge=0, le=MAX_GPU_NODES)

    def machine_type(self, platform: str) -> str | None:
        return {"aws": self.instance_type, "azure": self.vm_size}.get(platform)

    def product(self, platform: str) -> str:
        """The GPU product label: given on-prem, derived from the machine type in the cloud."""
        machine = self.machine_type(platform)
        if machine and machine in APPROVED.get(platform, {}):
            return APPROVED[platform][machine].product
        return self.gpu_product or "nvidia-gpu"

    def capacity(self, target: Target) -> int:
        """GPUs this pool can offer at most (what Kueue may hand out)."""
        nodes = len(self.nodes) if target == "onprem" else self.max_size
        return nodes * self.gpus_per_node


class Kafka(_Model):
    mode: Literal["strimzi", "managed"] = "strimzi"
    brokers: int = Field(default=3, ge=1, le=30)
    controllers: int = Field(default=3, ge=1, le=9)
    # MSK and EBS cap a broker's volume at 16 TiB; a KRaft controller needs little.
    broker_storage_gi: int = Field(default=100, ge=1, le=16384)
    controller_storage_gi: int = Field(default=20, ge=1, le=1024)
    authentication: Literal["tls", "scram-sha-512"] = "tls"
    replication_factor: int = Field(default=3, ge=1, le=30)
    min_insync_replicas: int = Field(default=2, ge=1, le=30)
    # At most ten years (retention.ms = hours * 3.6e6 stays far inside a signed 64-bit long).
    retention_hours: int = Field(default=168, ge=1, le=87600)
    partitions: int = Field(default=6, ge=1, le=1000)


class Feast(_Model):
    project: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = "mlplatform"
    replicas: int = Field(default=2, ge=1, le=20)


class Mlflow(_Model):
    replicas: int = Field(default=2, ge=1, le=20)


class Kserve(_Model):
    # KServe >= 0.15 calls RawDeployment "Standard"; both mean plain Deployments, no Knative.
    deployment_mode: Literal["Standard", "RawDeployment"] = "Standard"
    host_domain: DnsName = "models.mlplatform.internal"


class Registry(_Model):
    """The in-country registry every image and chart is pulled from.

    On-prem the site's mirror (e.g. Harbor) must be named. In the cloud it defaults to the
    stack's own registry: ECR in me-central-1 of `aws.accountId`, or ACR `azure.acrName`.
    """

    mirror: str | None = None
    immutable_tags: bool = True
    pull_secret: DnsLabel | None = None

    @field_validator("mirror")
    @classmethod
    def _in_country(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if "://" in value or value.endswith("/"):
            raise ValueError("must be host[/path] without scheme or trailing '/'")
        if residency.is_public_registry(value):
            raise ValueError(
                "is a public registry outside the UAE; allowed: the site's Harbor, "
                "ECR in me-central-1 or ACR in uaenorth"
            )
        return value


class TenantQuota(_Model):
    cpu: Quantity = "16"
    memory: Quantity = "64Gi"
    gpu: int = Field(default=0, ge=0, le=4096)


class Tenant(_Model):
    name: ShortName
    # The group its people sign in with, as the API server sees it: on AKS the Entra ID group's
    # object ID (a GUID: tokens carry IDs, not names); elsewhere the name the IdP sends.
    idp_group: NonEmpty
    # AWS: the IAM role that group federates into (IAM Identity Center permission set or SAML
    # role). Its EKS access entry maps it to `idp_group`, bound in `tenant-<name>` only.
    # Ignored on other targets (a stack file may describe both clouds).
    aws_role_arn: RoleArn | None = None
    quota: TenantQuota = TenantQuota()
    data_classification: DataClass = "confidential"
    pii: bool = False
    dpia_ref: LabelValue | None = None
    topics: Annotated[list[ShortName], Field(min_length=1, max_length=50)] = ["events"]


class SampleWorkloads(_Model):
    """The golden-path training job and inference service deployed for one tenant."""

    enabled: bool = True
    tenant: ShortName = "risk"
    model_name: ShortName = "fraud-risk"
    gpus: int = Field(default=0, ge=0, le=64)
    min_replicas: int = Field(default=2, ge=1, le=100)
    max_replicas: int = Field(default=4, ge=1, le=100)
    canary_traffic_percent: int | None = Field(default=None, ge=0, le=100)
    # Streaming ingestion, monitoring, retraining, rollout, batch scoring (stacks.config.ml_loop)
    loop: MlLoop = MlLoop()


class StackConfig(_Model):
    """Everything under `mlplatform:` for one stack."""

    target: Target
    cloud: Cloud = "aws"
    environment: DnsLabel = "prod"
    ephemeral: bool = False
    # `bootstrap`: only the registry and its keys (stacks/bootstrap.py), for `mlplatform
    # mirror` to fill before the first `pulumi up` of the platform.
    phase: Literal["bootstrap", "platform"] = "platform"
    tags: Tags
    logging: Logging = Logging()
    state: StateBackend = StateBackend()
    onprem: OnPrem | None = None
    aws: Aws | None = None
    azure: Azure | None = None
    kubernetes: Kubernetes = Kubernetes()
    registry: Registry = Registry()
    gpu_pools: Annotated[list[GpuPool], Field(max_length=20)] = []
    kafka: Kafka = Kafka()
    feast: Feast = Feast()
    mlflow: Mlflow = Mlflow()
    kserve: Kserve = Kserve()
    tenants: Annotated[list[Tenant], Field(max_length=200)] = []
    sample_workloads: SampleWorkloads = SampleWorkloads()
    # Metrics, alert routing, Grafana sign-in, log shipping (stacks.config.observability)
    observability: Observability = Observability()

    @property
    def platform(self) -> Literal["onprem", "aws", "azure"]:
        return "onprem" if self.target == "onprem" else self.cloud

    @property
    def image_registry(self) -> str:
        """Host[/path] every image and OCI chart is pulled from, for this stack's target."""
        if self.registry.mirror:
            return self.registry.mirror
        if self.platform == "aws" and self.aws is not None:
            return f"{residency.ecr_registry(self.aws.account_id, self.aws.region)}/mlplatform"
        if self.platform == "azure" and self.azure is not None:
            return f"{self.azure.acr_name}.azurecr.io/mlplatform"
        raise ValueError("registry.mirror is required on-prem")

    def gpu_capacity(self) -> int:
        return sum(pool.capacity(self.target) for pool in self.gpu_pools)

    def tenant(self, name: str) -> Tenant:
        return next(t for t in self.tenants if t.name == name)

    def tenant_loop(self, tenant: Tenant) -> MlLoop | None:
        """The ML loop the tenant runs in the cluster (the sample tenant's), if any."""
        s = self.sample_workloads
        return s.loop if s.enabled and s.tenant == tenant.name else None

    def tenant_topics(self, tenant: Tenant) -> list[str]:
        """Every Kafka topic (short name) the tenant gets on every Kafka variant: its own and
        its ML loop's (`stacks.config.ml_loop.tenant_topics`)."""
        return tenant_topics(tenant.topics, self.tenant_loop(tenant))
