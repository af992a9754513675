"""UAE-TEN-001, the cross-tenant access check, and the shapes its channels report in.

A *path* is one way a principal of tenant A (its people, its pods' service accounts, its Kafka
user, its MLflow user, its cloud identity) can read or change data tenant B owns. Every channel
(`CHANNELS`) looks for paths in its own terms; any path fails the plan (exit 1), naming the
channel, the two tenants and the object that opens it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHANNELS: dict[str, str] = {
    "rbac": "Kubernetes RBAC: Roles, ClusterRoles and bindings, the charts' included",
    "network": "NetworkPolicy reachability between tenant pods, on every CNI the target may run",
    "kafka": "Kafka: Strimzi KafkaUser ACLs, MSK IAM policies, Event Hubs role assignments",
    "feast": "Feast: Permissions per project, the servers' project scoping and identities",
    "mlflow": "MLflow: basic-auth default permission, one user per tenant, explicit grants",
    "object-store": "object-store prefixes: S3 IAM policies, Azure Storage role assignments",
    "keys": "encryption keys: KMS key and IAM policies, Key Vault role assignments",
}


@dataclass(frozen=True)
class Policy:
    """The check's metadata, shaped like the policy pack's policies."""

    id: str
    title: str
    severity: str
    iso_controls: tuple[str, ...]
    uae_references: tuple[str, ...]
    remediation: dict[str, str]
    mandatory: bool = True


TENANT_ISOLATION = Policy(
    "UAE-TEN-001",
    "Tenant isolation: no tenant can read or change another tenant's data, on any channel",
    "critical",
    ("5.15", "5.18", "8.3", "8.22"),
    ("UAE PDPL Art. 20 (security of processing)", "UAE IAR (access control)"),
    {
        "rbac": "Bind a tenant's principals only in its own namespace; never bind them (or "
        "system:authenticated / system:serviceaccounts) to a ClusterRole cluster-wide.",
        "network": "Admit tenant traffic only from the tenant's own namespace or named platform "
        "namespaces (components.tenant).",
        "kafka": "Grant a tenant only its own `<tenant>.` prefix and Read on the platform topics "
        "(components.kafka, components/aws/msk.py, components/azure/eventhubs.py).",
        "feast": "Give every tenant project a Permission for the tenant's namespace only "
        "(NamespaceBasedPolicy), pin each online server to its project, and keep tenants off "
        "servers whose identity reads other tenants' data (components.feast_tenancy).",
        "mlflow": "Keep `default_permission = NO_PERMISSIONS`, one MLflow user per tenant, and "
        "grant no user on another tenant's experiments or models.",
        "object-store": "Scope each tenant identity to its own prefix (s3:prefix / object ARNs "
        "under `<root>/<tenant>/`, a container or path condition per tenant on Azure).",
        "keys": "Name tenant identities in no key policy; let them use a key only through the "
        "storage service (kms:ViaService) for their own prefix.",
    },
)


@dataclass(frozen=True, order=True)
class Path:
    """Tenant `source` can reach tenant `target`'s data through `channel`."""

    channel: str
    source: str
    target: str
    what: str  # what the source can do, in the channel's terms
    via: str  # the object (or resource URN) that opens it


@dataclass
class ChannelRun:
    """One channel over one plan: what it examined, the paths it found, what it could not decide
    from the plan alone (stated, e.g. a site's own object-store credentials)."""

    channel: str
    examined: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def path(self, source: str, target: str, what: str, via: str) -> None:
        if source != target:
            self.paths.append(Path(self.channel, source, target, what, via))

    @property
    def status(self) -> str:
        if self.paths:
            return "fail"
        return "pass" if self.examined else "not-applicable"
