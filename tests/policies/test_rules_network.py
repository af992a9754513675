"""UAE-NET-001 … 006: private API servers, no public stores, no world ingress, default deny,
internal load balancers, flow logs."""

from __future__ import annotations

import json

from policy_fixtures import assert_fails, assert_passes, aws, azure, check, k8s, resource

NAMESPACE = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


# --------------------------------------------------------------------------- UAE-NET-001


def test_private_api_servers_pass() -> None:
    eks = aws(
        "aws:eks/cluster:Cluster",
        "eks",
        {"vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}},
    )
    aks = azure(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {"apiServerAccessProfile": {"enablePrivateCluster": True}},
    )
    allow_listed = aws(
        "aws:eks/cluster:Cluster",
        "ops",
        {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/28"]}},
    )
    assert_passes(check("UAE-NET-001", eks, aks, allow_listed))


def test_public_api_servers_fail() -> None:
    eks = aws("aws:eks/cluster:Cluster", "eks", {"vpcConfig": {"endpointPublicAccess": True}})
    default = aws("aws:eks/cluster:Cluster", "default", {"vpcConfig": {}})
    aks = azure("azure-native:containerservice:ManagedCluster", "aks", {})
    result = check("UAE-NET-001", eks, default, aks)
    assert_fails(result, "Cluster 'eks'", "0.0.0.0/0")
    assert_fails(result, "Cluster 'default'", "default true")
    assert_fails(result, "ManagedCluster 'aks'", "enablePrivateCluster")


# --------------------------------------------------------------------------- UAE-NET-002

BLOCK_ALL = {
    f: True
    for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
}


def test_private_stores_pass() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    block = aws(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "artifacts-pab",
        {"bucket": "artifacts", **BLOCK_ALL},
    )
    db = aws("aws:rds/instance:Instance", "mlflow", {"publiclyAccessible": False})
    pg = azure(
        "azure-native:dbforpostgresql:Server",
        "pg",
        {"network": {"publicNetworkAccess": "Disabled"}},
    )
    vault = azure(
        "azure-native:keyvault:Vault", "kv", {"properties": {"publicNetworkAccess": "Disabled"}}
    )
    account = azure(
        "azure-native:storage:StorageAccount",
        "lake",
        {"allowBlobPublicAccess": False, "publicNetworkAccess": "Disabled"},
    )
    workspace = azure(
        "azure-native:operationalinsights:Workspace",
        "logs",
        {"publicNetworkAccessForIngestion": "Disabled", "publicNetworkAccessForQuery": "Disabled"},
    )
    assert_passes(check("UAE-NET-002", bucket, block, db, pg, vault, account, workspace))


def test_public_stores_fail() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts", {"bucket": "artifacts"})
    half = aws(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "logs-pab",
        {"bucket": "logs", **BLOCK_ALL, "blockPublicPolicy": False},
    )
    db = aws("aws:rds/instance:Instance", "mlflow", {"publiclyAccessible": True})
    pg = azure(
        "azure-native:dbforpostgresql:Server", "pg", {"network": {"publicNetworkAccess": "Enabled"}}
    )
    vault = azure("azure-native:keyvault:Vault", "kv", {"properties": {}})
    policy = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
            ]
        }
    )
    bucket_policy = aws(
        "aws:s3/bucketPolicy:BucketPolicy",
        "artifacts-policy",
        {"bucket": "artifacts", "policy": policy},
    )
    result = check("UAE-NET-002", bucket, half, db, pg, vault, bucket_policy)
    assert_fails(result, "Bucket 'artifacts'", "no BucketPublicAccessBlock")
    assert_fails(result, "logs-pab", "blockPublicPolicy")
    assert_fails(result, "Instance 'mlflow'", "publiclyAccessible=true")
    assert_fails(result, "Server 'pg'", "publicNetworkAccess=Enabled")
    assert_fails(result, "Vault 'kv'", "public networks")
    assert_fails(result, "artifacts-policy", "anyone")


def test_log_workspace_queryable_from_the_internet_fails() -> None:
    """Issue 13.8: the workspace (cluster audit, flow records) was open to public queries."""
    open_query = azure(
        "azure-native:operationalinsights:Workspace",
        "logs",
        {"publicNetworkAccessForIngestion": "Disabled", "publicNetworkAccessForQuery": "Enabled"},
    )
    default = azure("azure-native:operationalinsights:Workspace", "audit", {})
    result = check("UAE-NET-002", open_query, default)
    assert_fails(result, "Workspace 'logs'", "publicNetworkAccessForQuery=Enabled", "Private Link")
    assert_fails(result, "Workspace 'audit'", "Enabled (default)")


# --------------------------------------------------------------------------- UAE-NET-003


def test_ingress_from_the_vpc_passes() -> None:
    sg = aws(
        "aws:ec2/securityGroup:SecurityGroup",
        "db",
        {
            "ingress": [
                {
                    "fromPort": 5432,
                    "toPort": 5432,
                    "protocol": "tcp",
                    "cidrBlocks": ["10.40.0.0/16"],
                }
            ]
        },
    )
    https = aws(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "https",
        {"fromPort": 443, "toPort": 443, "ipProtocol": "tcp", "cidrIpv4": "0.0.0.0/0"},
    )
    assert_passes(check("UAE-NET-003", sg, https))


def test_world_ingress_to_admin_and_data_ports_fails() -> None:
    sg = aws(
        "aws:ec2/securityGroup:SecurityGroup",
        "nodes",
        {
            "ingress": [
                {"fromPort": 22, "toPort": 22, "protocol": "tcp", "cidrBlocks": ["0.0.0.0/0"]}
            ]
        },
    )
    all_ports = aws(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "kafka-any",
        {
            "type": "ingress",
            "fromPort": 0,
            "toPort": 0,
            "protocol": "-1",
            "ipv6CidrBlocks": ["::/0"],
        },
    )
    nsg = azure(
        "azure-native:network:NetworkSecurityGroup",
        "nsg",
        {
            "securityRules": [
                {
                    "name": "rdp",
                    "direction": "Inbound",
                    "access": "Allow",
                    "protocol": "Tcp",
                    "sourceAddressPrefix": "Internet",
                    "destinationPortRange": "3389",
                }
            ]
        },
    )
    result = check("UAE-NET-003", sg, all_ports, nsg)
    assert_fails(result, "SecurityGroup 'nodes'", "[22]", "0.0.0.0/0")
    assert_fails(result, "kafka-any", "9092", "::/0")
    assert_fails(result, "NetworkSecurityGroup 'nsg'", "3389", "Internet")


# --------------------------------------------------------------------------- UAE-NET-004


def default_deny(namespace: str) -> dict:
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return k8s(NETPOL, "default-deny", namespace, {"spec": spec})


def test_namespaces_with_default_deny_and_enforcing_clusters_pass() -> None:
    ns = k8s(NAMESPACE, "tenant-risk", None)
    eks = aws("aws:eks/cluster:Cluster", "eks", {})
    cni = aws(
        "aws:eks/addon:Addon",
        "vpc-cni",
        {"addonName": "vpc-cni", "configurationValues": '{"enableNetworkPolicy": "true"}'},
    )
    aks = azure(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {"networkProfile": {"networkPolicy": "cilium"}},
    )
    assert_passes(check("UAE-NET-004", ns, default_deny("tenant-risk"), eks, cni, aks))


def test_namespace_without_default_deny_and_non_enforcing_clusters_fail() -> None:
    ns = k8s(NAMESPACE, "mlflow", None)
    allow = k8s(
        NETPOL,
        "allow-web",
        "mlflow",
        {"spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}},
    )
    eks = aws("aws:eks/cluster:Cluster", "eks", {})
    aks = azure("azure-native:containerservice:ManagedCluster", "aks", {"networkProfile": {}})
    result = check("UAE-NET-004", ns, allow, eks, aks)
    assert_fails(result, "Namespace mlflow", "default-deny")
    assert_fails(result, "Cluster 'eks'", "enableNetworkPolicy")
    assert_fails(result, "ManagedCluster 'aks'", "networkPolicy")


def _egress(namespace: str, name: str, cidr: str, exception: str | None = None) -> dict:
    block = {"cidr": cidr}
    if cidr == "0.0.0.0/0":
        block["except"] = ["10.0.0.0/8"]
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": block}], "ports": [{"protocol": "TCP", "port": 443}]}],
    }
    policy = k8s(NETPOL, name, namespace, {"spec": spec})
    if exception is not None:
        policy["inputs"]["metadata"]["annotations"] = {"mlplatform.io/egress-exception": exception}
    return policy


def test_egress_to_named_addresses_and_declared_exceptions_pass() -> None:
    """Issue 13.3: egress default-deny, then named addresses; a world range only declared."""
    ns = k8s(NAMESPACE, "kafka", None)
    store = _egress("kafka", "allow-object-store", "10.20.0.0/24")
    s3 = _egress("tenant-risk", "allow-s3", "0.0.0.0/0", exception="S3's prefix list: no CIDR")
    open_ns = k8s(NAMESPACE, "mlplatform-monitoring", None)
    open_ns["inputs"]["metadata"]["annotations"] = {
        "mlplatform.io/egress-exception": "receivers named by URL only"
    }
    deny_monitoring = k8s(
        NETPOL,
        "default-deny-ingress",
        "mlplatform-monitoring",
        {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    )
    result = check(
        "UAE-NET-004",
        ns,
        default_deny("kafka"),
        store,
        default_deny("tenant-risk"),
        s3,
        open_ns,
        deny_monitoring,
    )
    assert_passes(result)


def test_namespace_without_default_deny_egress_fails_naming_it() -> None:
    ns = k8s(NAMESPACE, "cert-manager", None)
    ingress_only = k8s(
        NETPOL,
        "default-deny-ingress",
        "cert-manager",
        {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
    )
    undeclared = k8s(NAMESPACE, "mlplatform-logging", None)
    undeclared["inputs"]["metadata"]["annotations"] = {"mlplatform.io/egress-exception": " "}
    result = check("UAE-NET-004", ns, ingress_only, undeclared)
    assert_fails(result, "Namespace cert-manager", "no default-deny egress")
    assert_fails(result, "Namespace mlplatform-logging", "no default-deny egress")


def test_world_egress_peer_fails_naming_the_policy() -> None:
    ns = k8s(NAMESPACE, "mlplatform-data", None)
    world = _egress("mlplatform-data", "allow-api-and-object-store", "0.0.0.0/0")
    world_v6 = _egress("mlplatform-data", "allow-v6", "::/0")
    result = check("UAE-NET-004", ns, default_deny("mlplatform-data"), world, world_v6)
    assert_fails(result, "mlplatform-data/allow-api-and-object-store", "egress[0] to 0.0.0.0/0")
    assert_fails(result, "mlplatform-data/allow-v6", "egress[0] to ::/0")


# --------------------------------------------------------------------------- UAE-NET-005

SERVICE = "kubernetes:core/v1:Service"


def test_internal_load_balancers_pass() -> None:
    svc = k8s(SERVICE, "gateway", "kserve", {"spec": {"type": "LoadBalancer"}})
    svc["inputs"]["metadata"]["annotations"] = {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"
    }
    cluster_ip = k8s(SERVICE, "mlflow", "mlflow", {"spec": {"type": "ClusterIP"}})
    alb = aws("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": True})
    assert_passes(check("UAE-NET-005", svc, cluster_ip, alb))


def test_public_load_balancers_fail() -> None:
    svc = k8s(SERVICE, "gateway", "kserve", {"spec": {"type": "LoadBalancer"}})
    release = resource(
        "kubernetes:helm.sh/v3:Release",
        "istio-gateway",
        {"chart": "gateway", "version": "1.0.0", "values": {"service": {"type": "LoadBalancer"}}},
    )
    alb = aws("aws:lb/loadBalancer:LoadBalancer", "alb", {})
    result = check("UAE-NET-005", svc, release, alb)
    assert_fails(result, "Service kserve/gateway", "public IP")
    assert_fails(result, "Release 'istio-gateway'", "values.service")
    assert_fails(result, "LoadBalancer 'alb'", "internet-facing")


# --------------------------------------------------------------------------- UAE-NET-006


def test_vpcs_with_flow_logs_pass() -> None:
    vpc = aws("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.40.0.0/16"}, id="vpc-0abc")
    log = aws("aws:ec2/flowLog:FlowLog", "vpc-flow", {"vpcId": "vpc-0abc", "trafficType": "ALL"})
    assert_passes(check("UAE-NET-006", vpc, log))


def test_vpc_and_vnet_without_flow_logs_fail() -> None:
    vpc = aws("aws:ec2/vpc:Vpc", "vpc", {}, id="vpc-0abc")
    vnet = azure("azure-native:network:VirtualNetwork", "vnet", {})
    result = check("UAE-NET-006", vpc, vnet)
    assert_fails(result, "Vpc 'vpc'", "no VPC flow log")
    assert_fails(result, "VirtualNetwork 'vnet'", "no VNet flow log")
    assert all(f.enforcement == "advisory" for f in result.findings)


def test_components_declare_exceptions_under_the_key_the_rule_reads() -> None:
    from components import namespace, network_policies
    from policies.rules.network import EGRESS_EXCEPTION

    assert namespace.EGRESS_EXCEPTION_ANNOTATION == EGRESS_EXCEPTION
    assert network_policies.EGRESS_EXCEPTION_ANNOTATION == EGRESS_EXCEPTION
