"""Encryption in transit and Kubernetes secrets envelope encryption.

UAE-ENC-001 TLS ≥ 1.2 on every data path (MSK, ElastiCache, RDS, Azure PG/Redis/Storage/Event
Hubs, load-balancer listeners, Strimzi listeners); UAE-ENC-002 EKS/AKS secrets encrypted with a
customer-managed key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.core import (
    UNKNOWN,
    Policy,
    ResourceView,
    Severity,
    StackView,
    Violation,
    as_list,
    explicitly_false,
    get,
    truthy,
    types,
)
from policies.pack_config import PackConfig

RDS_PARAMETER_GROUPS = (
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup",
)
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
TLS12_POLICY = re.compile(r"TLS13|TLS-1-2|FS-1-2|TLS-1-3", re.IGNORECASE)
STRIMZI_KAFKA = types("kubernetes:kafka.strimzi.io/*:Kafka")


def _parameter(group: ResourceView, name: str) -> str | None:
    for parameter in as_list(group.props.get("parameters")):
        if get(parameter, "name") == name:
            value = get(parameter, "value")
            return None if value is UNKNOWN else str(value)
    return None


def _tls_version_below(value: object, minimum: tuple[int, int] = (1, 2)) -> bool:
    """'1.0', 'TLS1_1', 'TLSv1.1' → below 1.2. Unknown values are not judged."""
    if not isinstance(value, str):
        return False
    digits = re.findall(r"\d+", value)
    if len(digits) < 2:
        return False
    return (int(digits[0]), int(digits[1])) < minimum


def check_tls(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    if t == "aws:msk/cluster:Cluster":
        client = get(p, "encryptionInfo.encryptionInTransit.clientBroker")
        if client not in (None, "TLS", UNKNOWN):
            yield (
                f"{r.describe()} lets clients connect without TLS (clientBroker={client}); use TLS."
            )
        if explicitly_false(get(p, "encryptionInfo.encryptionInTransit.inCluster")):
            yield f"{r.describe()} does not encrypt traffic between brokers (inCluster=false)."
    elif t == "aws:elasticache/replicationGroup:ReplicationGroup":
        if truthy(p.get("transitEncryptionEnabled")) is False:
            yield (
                f"{r.describe()} does not encrypt connections (transitEncryptionEnabled "
                "is not true)."
            )
        elif str(p.get("transitEncryptionMode") or "required").lower() == "preferred":
            yield f"{r.describe()} accepts plaintext connections (transitEncryptionMode=preferred)."
    elif t in RDS_PARAMETER_GROUPS:
        if _parameter(r, "rds.force_ssl") == "0":
            yield (
                f"{r.describe()} sets rds.force_ssl=0: PostgreSQL "
                "would accept plaintext connections."
            )
    elif t == "azure-native:dbforpostgresql:Configuration":
        name = p.get("configurationName")
        value = str(p.get("value") or "")
        if name == "require_secure_transport" and value.lower() in ("off", "0", "false"):
            yield (
                f"{r.describe()} turns require_secure_transport off: plaintext connections allowed."
            )
        if name == "ssl_min_protocol_version" and _tls_version_below(value):
            yield f"{r.describe()} allows TLS below 1.2 (ssl_min_protocol_version={value})."
    elif t in (
        "azure-native:redis:Redis",
        "azure-native:storage:StorageAccount",
        "azure-native:eventhub:Namespace",
    ):
        version = p.get("minimumTlsVersion")
        if version is None:
            yield (
                f"{r.describe()} does not set minimumTlsVersion; set "
                "it to 1.2 (TLS1_2 for storage)."
            )
        elif _tls_version_below(version):
            yield f"{r.describe()} accepts TLS below 1.2 (minimumTlsVersion={version})."
        if t == "azure-native:redis:Redis" and truthy(p.get("enableNonSslPort")):
            yield f"{r.describe()} opens the non-TLS port 6379 (enableNonSslPort=true)."
        if t == "azure-native:storage:StorageAccount" and explicitly_false(
            p.get("enableHttpsTrafficOnly")
        ):
            yield f"{r.describe()} accepts plain HTTP (enableHttpsTrafficOnly=false)."
    elif t in LISTENERS:
        protocol = str(p.get("protocol") or "")
        if protocol in ("HTTP", "TCP", "UDP", "TCP_UDP"):
            redirects = [
                a for a in as_list(p.get("defaultActions")) if get(a, "type") == "redirect"
            ]
            if (
                protocol == "HTTP"
                and redirects
                and all(get(a, "redirect.protocol") == "HTTPS" for a in redirects)
            ):
                return
            yield (
                f"{r.describe()} listens with {protocol}: terminate "
                "TLS (HTTPS/TLS) with a TLS 1.2+ policy."
            )
        elif protocol in ("HTTPS", "TLS"):
            policy = p.get("sslPolicy")
            if isinstance(policy, str) and not TLS12_POLICY.search(policy):
                yield f"{r.describe()} uses SSL policy {policy}, which allows TLS below 1.2."
    elif STRIMZI_KAFKA(r):
        for i, listener in enumerate(as_list(get(p, "spec.kafka.listeners"))):
            if truthy(get(listener, "tls")) is False:
                name = get(listener, "name") or i
                yield (
                    f"{r.describe()} listener '{name}' accepts plaintext clients (tls is not true)."
                )


def stack_tls(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    """RDS PostgreSQL below 15 needs a parameter group that forces SSL (15+ defaults to it)."""
    groups = stack.of_type(*RDS_PARAMETER_GROUPS)
    for db in stack.of_type("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        engine = str(db.props.get("engine") or "")
        if "postgres" not in engine:
            continue
        name = db.props.get("parameterGroupName") or db.props.get("dbClusterParameterGroupName")
        if name is UNKNOWN:
            continue
        group = next((g for g in groups if name in (g.props.get("name"), g.id, g.name)), None)
        forced = _parameter(group, "rds.force_ssl") if group else None
        version = str(db.props.get("engineVersion") or "")
        major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
        if forced == "1" or (forced is None and major >= 15):
            continue
        yield Violation(
            f"{db.describe()} (PostgreSQL {version or 'default version'}) "
            "does not force TLS: use a "
            "parameter group with rds.force_ssl=1.",
            db.urn,
        )


ENC_001 = Policy(
    id="UAE-ENC-001",
    name="TLS 1.2+ in transit",
    description=(
        "Kafka (MSK, Strimzi), Redis, PostgreSQL, storage, Event Hubs and load-balancer listeners "
        "accept only TLS 1.2 or later; no plaintext ports."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.24", "8.20"),
    uae_refs=("UAE IAR (cryptography in transit)", "DESC ISR"),
    remediation=(
        "MSK clientBroker=TLS, inCluster=true; ElastiCache transitEncryptionEnabled=true; RDS "
        "rds.force_ssl=1; Azure PG require_secure_transport=ON; Redis minimumTlsVersion='1.2', "
        "enableNonSslPort=false; Storage minimumTlsVersion=TLS1_2, enableHttpsTrafficOnly=true; "
        "Event Hubs minimumTlsVersion='1.2'; HTTPS listeners with a TLS 1.2+ policy; every "
        "Strimzi listener tls: true."
    ),
    domain="encryption",
    applies=types(
        "aws:msk/cluster:Cluster",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        *RDS_PARAMETER_GROUPS,
        "azure-native:dbforpostgresql:Configuration",
        "azure-native:redis:Redis",
        "azure-native:storage:StorageAccount",
        "azure-native:eventhub:Namespace",
        *LISTENERS,
        "kubernetes:kafka.strimzi.io/*:Kafka",
    ),
    check=check_tls,
    stack_check=stack_tls,
)


# --------------------------------------------------------------------------- UAE-ENC-002


def check_envelope(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type == "aws:eks/cluster:Cluster":
        config = r.props.get("encryptionConfig")
        resources = as_list(get(config, "resources"))
        if config is UNKNOWN:
            return
        if "secrets" not in resources and UNKNOWN not in resources:
            yield (
                f"{r.describe()} stores Kubernetes Secrets without "
                "envelope encryption (encryptionConfig.resources lacks 'secrets')."
            )
        elif get(config, "provider.keyArn") in (None, ""):
            yield f"{r.describe()} names no KMS key in encryptionConfig.provider.keyArn."
    elif r.type == "azure-native:containerservice:ManagedCluster":
        kms = get(r.props, "securityProfile.azureKeyVaultKms")
        if truthy(get(kms, "enabled")) is False:
            yield (
                f"{r.describe()} does not encrypt etcd secrets with "
                "Key Vault KMS (securityProfile.azureKeyVaultKms.enabled)."
            )
        elif get(kms, "keyId") in (None, ""):
            yield f"{r.describe()} enables Key Vault KMS without a keyId."


ENC_002 = Policy(
    id="UAE-ENC-002",
    name="Kubernetes secrets envelope-encrypted with a CMK",
    description="EKS encrypts Secrets with a KMS CMK; AKS enables Key Vault KMS for etcd.",
    severity=Severity.HIGH,
    iso_controls=("8.24",),
    uae_refs=("UAE IAR (cryptography)",),
    remediation=(
        "EKS: encryptionConfig={resources:['secrets'], provider:{keyArn: <secrets CMK>}}; AKS: "
        "securityProfile.azureKeyVaultKms={enabled:true, keyId:<key "
        "URI>, keyVaultNetworkAccess:'Private'}."
    ),
    domain="encryption",
    applies=types("aws:eks/cluster:Cluster", "azure-native:containerservice:ManagedCluster"),
    check=check_envelope,
)

POLICIES = (ENC_001, ENC_002)
