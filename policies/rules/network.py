"""Network exposure: private control planes, no public data stores, no world ingress to admin
or data ports, default-deny NetworkPolicies, internal-only load balancers, flow logs.

UAE-NET-001 … UAE-NET-006.

UAE-NET-004 covers egress too (issue 13.3; POLICY-CATALOGUE: UAE-NET-004 "default-deny network
policies", ISO/IEC 27001:2022 8.22 segregation of networks, read for both directions): every
namespace default-denies egress, and no NetworkPolicy egress peer is a world range (0.0.0.0/0,
::/0, with or without `except`). A declared exception — the annotation
`mlplatform.io/egress-exception` with its reason, on the Namespace (egress left open) or on the
NetworkPolicy (a world peer) — is the only way past either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from policies.core import (
    UNKNOWN,
    Policy,
    ResourceView,
    Severity,
    StackView,
    Violation,
    as_list,
    get,
    refers_to,
    truthy,
    types,
    walk,
)
from policies.documents import allows, principals, statements
from policies.pack_config import PackConfig

IAR = "UAE IAR (network security)"
WORLD = ("0.0.0.0/0", "::/0", "*", "Internet", "Any", "any", "internet")

# --------------------------------------------------------------------------- UAE-NET-001


def check_private_api(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type == "aws:eks/cluster:Cluster":
        vpc = r.props.get("vpcConfig") or {}
        public = get(vpc, "endpointPublicAccess")
        if public is UNKNOWN or truthy(public if public is not None else True) is False:
            return
        cidrs = as_list(get(vpc, "publicAccessCidrs"))
        if not cidrs or any(c in WORLD for c in cidrs):
            yield (
                f"{r.describe()} exposes its API server endpoint to the internet "
                f"(endpointPublicAccess={public if public is not None else 'default true'}, "
                f"publicAccessCidrs={cidrs or ['0.0.0.0/0 (default)']})."
            )
    elif r.type == "azure-native:containerservice:ManagedCluster":
        profile = r.props.get("apiServerAccessProfile") or {}
        if truthy(get(profile, "enablePrivateCluster")) is not False:
            return
        ranges = as_list(get(profile, "authorizedIPRanges"))
        if not ranges or any(c in WORLD for c in ranges):
            yield (
                f"{r.describe()} has a public API server without authorized "
                "IP ranges (apiServerAccessProfile.enablePrivateCluster is not true)."
            )


NET_001 = Policy(
    id="UAE-NET-001",
    name="Private Kubernetes control plane",
    description="EKS and AKS API servers are private, or public only to a CIDR allow-list.",
    severity=Severity.CRITICAL,
    iso_controls=("8.20", "5.15"),
    uae_refs=(IAR,),
    remediation=(
        "EKS: vpcConfig.endpointPublicAccess=false, endpointPrivateAccess=true (or a "
        "publicAccessCidrs allow-list without 0.0.0.0/0); AKS: "
        "apiServerAccessProfile.enablePrivateCluster=true."
    ),
    domain="network",
    applies=types("aws:eks/cluster:Cluster", "azure-native:containerservice:ManagedCluster"),
    check=check_private_api,
)


# --------------------------------------------------------------------------- UAE-NET-002

PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"


def _azure_public(r: ResourceView, access: Any, default_action: Any) -> Iterator[str]:
    if access is UNKNOWN or default_action is UNKNOWN:
        return
    if access != "Disabled" and default_action != "Deny":
        yield (
            f"{r.describe()} is reachable from public networks (publicNetworkAccess={access}, "
            f"default network action={default_action}); disable "
            "public access and use private endpoints."
        )


def check_public_stores(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    if t in ("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"):
        if truthy(p.get("publiclyAccessible")):
            yield f"{r.describe()} is publicly accessible (publiclyAccessible=true)."
    elif t in (PAB, ACCOUNT_PAB):
        off = [f for f in PAB_FLAGS if truthy(p.get(f)) is False]
        if off:
            yield f"{r.describe()} leaves {', '.join(off)} off: the bucket could become public."
    elif t == "aws:s3/bucketPolicy:BucketPolicy":
        for i, statement in enumerate(statements(p.get("policy"))):
            if (
                allows(statement)
                and "*" in principals(statement)
                and not statement.get("Condition")
            ):
                yield (
                    f"{r.describe()} statement {statement.get('Sid') or i} "
                    "allows anyone ('*') without a condition."
                )
    elif t in ("aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"):
        if p.get("acl") in PUBLIC_ACLS:
            yield f"{r.describe()} grants the canned ACL '{p.get('acl')}'."
    elif t == "aws:msk/cluster:Cluster":
        kind = get(p, "brokerNodeGroupInfo.connectivityInfo.publicAccess.type")
        if isinstance(kind, str) and kind != "DISABLED":
            yield f"{r.describe()} gives brokers public IPs (publicAccess.type={kind})."
    elif t == "azure-native:dbforpostgresql:Server":
        access = get(p, "network.publicNetworkAccess")
        if access is None and get(p, "network.delegatedSubnetResourceId"):
            return  # VNet-integrated servers have no public endpoint
        yield from _azure_public(r, access, None)
    elif t == "azure-native:storage:StorageAccount":
        if truthy(p.get("allowBlobPublicAccess")):
            yield f"{r.describe()} allows anonymous blob access (allowBlobPublicAccess=true)."
        yield from _azure_public(
            r, p.get("publicNetworkAccess"), get(p, "networkRuleSet.defaultAction")
        )
    elif t == "azure-native:keyvault:Vault":
        yield from _azure_public(
            r,
            get(p, "properties.publicNetworkAccess"),
            get(p, "properties.networkAcls.defaultAction"),
        )
    elif t == "azure-native:eventhub:Namespace":
        yield from _azure_public(r, p.get("publicNetworkAccess"), None)
    elif t == "azure-native:redis:Redis":
        if p.get("subnetId"):
            return  # VNet-injected cache
        yield from _azure_public(r, p.get("publicNetworkAccess"), None)
    elif t == "azure-native:operationalinsights:Workspace":
        # audit logs and flow records: read only through a private link scope
        query = p.get("publicNetworkAccessForQuery")
        if query is not UNKNOWN and query != "Disabled":
            yield (
                f"{r.describe()} can be queried from public networks "
                f"(publicNetworkAccessForQuery={query or 'Enabled (default)'}); disable it and "
                "query through an Azure Monitor Private Link Scope."
            )


def stack_public_stores(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    """Every bucket is covered by a public access block (its own or the account's)."""
    if stack.of_type(ACCOUNT_PAB):
        return
    blocks = stack.of_type(PAB)
    for bucket in stack.of_type(*S3_BUCKETS):
        if not any(refers_to(b.props.get("bucket"), bucket) for b in blocks):
            yield Violation(
                (
                    f"{bucket.describe()} has no BucketPublicAccessBlock: "
                    "a later ACL or policy could make it public."
                ),
                bucket.urn,
            )


NET_002 = Policy(
    id="UAE-NET-002",
    name="No public data stores",
    description=(
        "Databases, buckets, Kafka brokers, storage accounts, Key Vaults, Event Hubs, caches "
        "and log workspaces have no public endpoint; every S3 bucket blocks public access."
    ),
    severity=Severity.CRITICAL,
    iso_controls=("8.12", "8.20"),
    uae_refs=("PDPL Art. 20 (security of personal data)",),
    remediation=(
        "publiclyAccessible=false; a BucketPublicAccessBlock with all four flags true per bucket; "
        "MSK publicAccess DISABLED; Azure publicNetworkAccess='Disabled' (or networkAcls "
        "defaultAction='Deny') with private endpoints; allowBlobPublicAccess=false; Log "
        "Analytics publicNetworkAccessForQuery='Disabled' behind a Private Link Scope."
    ),
    domain="network",
    applies=types(
        "aws:rds/instance:Instance",
        "aws:rds/clusterInstance:ClusterInstance",
        PAB,
        ACCOUNT_PAB,
        *S3_BUCKETS,
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketAclV2:BucketAclV2",
        "aws:s3/bucketAcl:BucketAcl",
        "aws:msk/cluster:Cluster",
        "azure-native:dbforpostgresql:Server",
        "azure-native:storage:StorageAccount",
        "azure-native:keyvault:Vault",
        "azure-native:eventhub:Namespace",
        "azure-native:redis:Redis",
        "azure-native:operationalinsights:Workspace",
    ),
    check=check_public_stores,
    stack_check=stack_public_stores,
)


# --------------------------------------------------------------------------- UAE-NET-003

ADMIN_PORTS = (22, 3389, 5432, 6379, 2181, 5000, 8080, *range(9092, 9099))


def _ports(low: Any, high: Any, protocol: Any) -> list[int]:
    if str(protocol) in ("-1", "all", "*", "All"):
        return list(ADMIN_PORTS)
    try:
        lo, hi = int(float(low)), int(float(high if high is not None else low))
    except (TypeError, ValueError):
        return []
    return [p for p in ADMIN_PORTS if lo <= p <= hi]


def _azure_ports(rule: Mapping[str, Any]) -> list[int]:
    ranges = as_list(rule.get("destinationPortRange")) + as_list(rule.get("destinationPortRanges"))
    hit: list[int] = []
    for entry in ranges:
        text = str(entry)
        if text == "*":
            return list(ADMIN_PORTS)
        low, _, high = text.partition("-")
        hit += _ports(low, high or low, "tcp")
    return hit


def check_world_ingress(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    rules: list[tuple[str, list[int], list[Any]]] = []
    if t == "aws:ec2/securityGroup:SecurityGroup":
        for i, rule in enumerate(as_list(p.get("ingress"))):
            sources = as_list(get(rule, "cidrBlocks")) + as_list(get(rule, "ipv6CidrBlocks"))
            rules.append(
                (
                    f"ingress {i}",
                    _ports(get(rule, "fromPort"), get(rule, "toPort"), get(rule, "protocol")),
                    sources,
                )
            )
    elif t == "aws:ec2/securityGroupRule:SecurityGroupRule" and p.get("type") == "ingress":
        sources = as_list(p.get("cidrBlocks")) + as_list(p.get("ipv6CidrBlocks"))
        rules.append(
            ("rule", _ports(p.get("fromPort"), p.get("toPort"), p.get("protocol")), sources)
        )
    elif t == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        sources = [p.get("cidrIpv4"), p.get("cidrIpv6")]
        rules.append(
            ("rule", _ports(p.get("fromPort"), p.get("toPort"), p.get("ipProtocol")), sources)
        )
    elif t in ("azure-native:network:NetworkSecurityGroup", "azure-native:network:SecurityRule"):
        entries = as_list(p.get("securityRules")) if t.endswith("Group") else [p]
        for i, rule in enumerate(entries):
            if not isinstance(rule, Mapping):
                continue
            if rule.get("direction") != "Inbound" or rule.get("access") != "Allow":
                continue
            sources = as_list(rule.get("sourceAddressPrefix")) + as_list(
                rule.get("sourceAddressPrefixes")
            )
            rules.append((f"rule {rule.get('name') or i}", _azure_ports(rule), sources))
    for where, ports, sources in rules:
        world = [s for s in sources if s in WORLD]
        if ports and world:
            yield f"{r.describe()} {where} opens port(s) {sorted(set(ports))} to {world[0]}."


NET_003 = Policy(
    id="UAE-NET-003",
    name="No world ingress to admin and data ports",
    description=(
        "Security groups and NSGs never open SSH, RDP, PostgreSQL, Redis, Kafka, ZooKeeper, "
        "MLflow or 8080 to 0.0.0.0/0, ::/0 or Internet."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.20", "8.22"),
    uae_refs=(IAR,),
    remediation=(
        "Restrict the source to the VPC/VNet CIDR, a peer security group or a bastion/VPN range; "
        "administer nodes with SSM / Azure Bastion instead of public SSH/RDP."
    ),
    domain="network",
    applies=types(
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:SecurityRule",
    ),
    check=check_world_ingress,
)


# --------------------------------------------------------------------------- UAE-NET-004

NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _default_deny(policy: ResourceView) -> bool:
    spec = policy.props.get("spec") or {}
    selector = get(spec, "podSelector") or {}
    selects_all = not get(selector, "matchLabels") and not get(selector, "matchExpressions")
    return (
        selects_all
        and "Ingress" in as_list(get(spec, "policyTypes"))
        and not as_list(get(spec, "ingress"))
    )


EGRESS_EXCEPTION = "mlplatform.io/egress-exception"
WORLD_RANGES = ("0.0.0.0/0", "::/0")


def _declared(r: ResourceView) -> bool:
    reason = r.annotations.get(EGRESS_EXCEPTION)
    return isinstance(reason, str) and bool(reason.strip())


def _denies_egress(policy: ResourceView) -> bool:
    spec = policy.props.get("spec") or {}
    selector = get(spec, "podSelector") or {}
    selects_all = not get(selector, "matchLabels") and not get(selector, "matchExpressions")
    return (
        selects_all
        and "Egress" in as_list(get(spec, "policyTypes"))
        and not as_list(get(spec, "egress"))
    )


def _world_peers(policy: ResourceView) -> Iterator[str]:
    spec = policy.props.get("spec") or {}
    for i, rule in enumerate(as_list(get(spec, "egress"))):
        for peer in as_list(get(rule, "to")):
            cidr = get(peer, "ipBlock.cidr")
            if cidr in WORLD_RANGES:
                yield f"egress[{i}] to {cidr}"


def check_cluster_network_policy(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    aks = r.type == "azure-native:containerservice:ManagedCluster"
    if aks and not get(r.props, "networkProfile.networkPolicy"):
        yield f"{r.describe()} enforces no NetworkPolicies (networkProfile.networkPolicy unset)."
    if r.type == NETWORK_POLICY and not _declared(r):
        for where in _world_peers(r):
            yield (
                f"{r.describe()} allows {where}: egress to any address. Name the destination's "
                f"addresses, or declare why none will do ({EGRESS_EXCEPTION} annotation)."
            )


def _vpc_cni_policy(addon: ResourceView) -> bool | None:
    raw = addon.props.get("configurationValues")
    if raw is UNKNOWN:
        return None
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return False
    return truthy(get(values, "enableNetworkPolicy")) is True


def stack_network_policy(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    policies = stack.of_type(NETWORK_POLICY)
    for ns in stack.of_type(NAMESPACE):
        name = ns.object_name
        if not any(p.namespace == name and _default_deny(p) for p in policies):
            yield Violation(
                f"{ns.describe()} has no default-deny NetworkPolicy (empty podSelector, "
                "policyTypes including Ingress, no ingress rules): its pods accept traffic "
                "from any pod in the cluster.",
                ns.urn,
            )
        if not _declared(ns) and not any(
            p.namespace == name and _denies_egress(p) for p in policies
        ):
            yield Violation(
                f"{ns.describe()} has no default-deny egress NetworkPolicy (empty podSelector, "
                "policyTypes including Egress, no egress rules): its pods may connect anywhere. "
                f"Deny egress, then allow its flows, or declare why not ({EGRESS_EXCEPTION}).",
                ns.urn,
            )
    addons = stack.of_type("aws:eks/addon:Addon")
    for cluster in stack.of_type("aws:eks/cluster:Cluster"):
        cni = [a for a in addons if a.props.get("addonName") == "vpc-cni"]
        if not any(_vpc_cni_policy(a) is not False for a in cni):
            yield Violation(
                f"{cluster.describe()} does not enable NetworkPolicy enforcement: add the vpc-cni "
                'addon with configurationValues {"enableNetworkPolicy": "true"}.',
                cluster.urn,
            )


NET_004 = Policy(
    id="UAE-NET-004",
    name="Default-deny network policies",
    description=(
        "Every namespace the stack creates has a default-deny NetworkPolicy for ingress and for "
        "egress, no NetworkPolicy allows egress to 0.0.0.0/0 or ::/0 (with or without except) "
        "unless a declared exception (mlplatform.io/egress-exception) says why, and the cluster "
        "enforces NetworkPolicies (AKS networkPolicy, EKS VPC CNI network policy)."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.22",),
    uae_refs=("CIS Kubernetes Benchmark 5.3.2",),
    remediation=(
        "Add a NetworkPolicy `default-deny` (podSelector {}, policyTypes [Ingress, Egress]) to the "
        "namespace, then allow the flows it needs, egress to named addresses only; set AKS "
        "networkProfile.networkPolicy (azure/calico/cilium); on EKS install the vpc-cni addon "
        "with enableNetworkPolicy=true."
    ),
    domain="network",
    applies=types(
        NAMESPACE,
        NETWORK_POLICY,
        "aws:eks/cluster:Cluster",
        "azure-native:containerservice:ManagedCluster",
    ),
    check=check_cluster_network_policy,
    stack_check=stack_network_policy,
)


# --------------------------------------------------------------------------- UAE-NET-005

INTERNAL_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "networking.gke.io/load-balancer-type": "Internal",
}


def _internal(annotations: Any) -> bool:
    if not isinstance(annotations, Mapping):
        return False
    return any(
        str(annotations.get(k, "")).lower() == v.lower() for k, v in INTERNAL_ANNOTATIONS.items()
    )


def check_internal_lb(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    if t == "kubernetes:core/v1:Service":
        if get(p, "spec.type") == "LoadBalancer" and not _internal(r.annotations):
            yield (
                f"{r.describe()} is a LoadBalancer Service without "
                "an internal-load-balancer annotation: it gets a public IP."
            )
    elif t == "kubernetes:networking.k8s.io/v1:Ingress":
        if r.annotations.get("alb.ingress.kubernetes.io/scheme") == "internet-facing":
            yield f"{r.describe()} asks for an internet-facing ALB."
    elif t == "kubernetes:helm.sh/v3:Release":
        for path, value in walk(p.get("values"), "values"):
            if (
                isinstance(value, Mapping)
                and value.get("type") == "LoadBalancer"
                and not _internal(value.get("annotations"))
            ):
                yield (
                    f"{r.describe()} values {path} create a public "
                    "LoadBalancer Service (no internal annotation)."
                )
    elif t in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
        if truthy(p.get("internal")) is False:
            yield f"{r.describe()} is internet-facing (internal is not true)."
    elif t == "azure-native:network:LoadBalancer":
        for i, frontend in enumerate(as_list(p.get("frontendIPConfigurations"))):
            if get(frontend, "publicIPAddress"):
                yield f"{r.describe()} frontend {i} uses a public IP address."


NET_005 = Policy(
    id="UAE-NET-005",
    name="Internal-only load balancers and ingress",
    description=(
        "LoadBalancer Services carry the internal annotation, ingresses and gateways are not "
        "internet-facing, cloud load balancers are internal."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.20", "8.12"),
    uae_refs=(),
    remediation=(
        "Annotate LoadBalancer Services with service.beta.kubernetes.io/aws-load-balancer-scheme: "
        "internal (AWS) or service.beta.kubernetes.io/azure-load-balancer-internal: "
        "'true' (Azure), "
        "or use ClusterIP behind an internal gateway; set internal=true on aws.lb.LoadBalancer."
    ),
    domain="network",
    applies=types(
        "kubernetes:core/v1:Service",
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:helm.sh/v3:Release",
        "aws:lb/loadBalancer:LoadBalancer",
        "aws:alb/loadBalancer:LoadBalancer",
        "azure-native:network:LoadBalancer",
    ),
    check=check_internal_lb,
)


# --------------------------------------------------------------------------- UAE-NET-006


def stack_flow_logs(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    aws_logs = stack.of_type("aws:ec2/flowLog:FlowLog")
    for vpc in stack.of_type("aws:ec2/vpc:Vpc"):
        if not any(refers_to(f.props.get("vpcId"), vpc) for f in aws_logs):
            yield Violation(f"{vpc.describe()} has no VPC flow log.", vpc.urn)
    azure_logs = stack.of_type("azure-native:network:FlowLog")
    for vnet in stack.of_type("azure-native:network:VirtualNetwork"):
        if not any(refers_to(f.props.get("targetResourceId"), vnet) for f in azure_logs):
            yield Violation(f"{vnet.describe()} has no VNet flow log.", vnet.urn)


def check_flow_log(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type == "azure-native:network:FlowLog" and truthy(r.props.get("enabled")) is False:
        yield f"{r.describe()} is disabled."


NET_006 = Policy(
    id="UAE-NET-006",
    name="Flow logs on every VPC and VNet",
    description="Every VPC and VNet records flow logs to an in-country destination.",
    severity=Severity.MEDIUM,
    iso_controls=("8.16",),
    uae_refs=("UAE IAR (monitoring)",),
    remediation=(
        "Add aws.ec2.FlowLog(vpc_id=vpc.id, log_destination=<CloudWatch group or S3 bucket in "
        "me-central-1>, traffic_type='ALL') / an azure-native network FlowLog targeting the VNet "
        "with a storage account in uaenorth."
    ),
    domain="network",
    applies=types(
        "aws:ec2/vpc:Vpc",
        "azure-native:network:VirtualNetwork",
        "aws:ec2/flowLog:FlowLog",
        "azure-native:network:FlowLog",
    ),
    check=check_flow_log,
    stack_check=stack_flow_logs,
)

POLICIES = (NET_001, NET_002, NET_003, NET_004, NET_005, NET_006)
