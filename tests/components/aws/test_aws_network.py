"""PrivateNetwork: zone-ID subnets, no internet path, private endpoints, encrypted flow logs."""

from __future__ import annotations

import ipaddress
import json

import pytest

from components.aws.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    NO_ENDPOINT_POLICY,
    PrivateNetwork,
    PrivateNetworkArgs,
    plan_subnets,
)
from tests.components.aws.aws_fixtures import (
    ACCOUNT,
    LOGS_KEY_ARN,
    REGION,
    SITE,
    by_sid,
    inputs,
    one,
    policy,
    run_aws,
)

ZONES = ("mec1-az1", "mec1-az2", "mec1-az3")
CIDR = "10.40.0.0/16"


@pytest.fixture(scope="module")
def network():
    return run_aws(
        lambda opts: PrivateNetwork(
            "net",
            PrivateNetworkArgs(
                site=SITE,
                prefix="mlplatform-test",
                cidr=CIDR,
                zone_ids=ZONES,
                cluster_name="mlplatform-test",
                flow_log_key_arn=LOGS_KEY_ARN,
                log_retention_days=400,
            ),
            opts,
        )
    )


def test_subnets_are_placed_by_zone_id_and_never_map_public_ips(network):
    subnets = [inputs(r) for r in network.of_type("aws:ec2/subnet:Subnet")]
    assert len(subnets) == 12  # nodes, data, endpoints, control plane in each zone
    for subnet in subnets:
        assert subnet["availabilityZoneId"] in ZONES
        assert "availabilityZone" not in subnet
        assert subnet["mapPublicIpOnLaunch"] is False
    for tier in ("nodes", "data", "endpoints", "control-plane"):
        zones = {s["availabilityZoneId"] for s in subnets if s["tags"]["tier"] == tier}
        assert zones == set(ZONES)


def test_subnet_plan_stays_inside_the_vpc_without_overlaps():
    plan = plan_subnets(CIDR, 3)
    tiers = plan.nodes + plan.data + plan.endpoints + plan.control_plane
    networks = [ipaddress.ip_network(c) for c in tiers]
    vpc = ipaddress.ip_network(CIDR)
    assert all(n.subnet_of(vpc) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    assert all(ipaddress.ip_network(c).prefixlen == 18 for c in plan.nodes)


def test_subnet_plan_refuses_a_vpc_too_small_for_pods():
    with pytest.raises(ValueError, match="/20"):
        plan_subnets("10.0.0.0/24", 3)


def test_there_is_no_path_to_the_internet(network):
    types = {r.type for r in network.resources}
    for forbidden in ("InternetGateway", "NatGateway", "Eip", "EgressOnlyInternetGateway"):
        assert not [t for t in types if t.endswith(f":{forbidden}")]
    table = one(network, "aws:ec2/routeTable:RouteTable")
    assert not inputs(table).get("routes")


def test_interface_endpoints_use_private_dns_and_https_from_the_vpc_only(network):
    endpoints = [inputs(r) for r in network.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")]
    interface = {e["serviceName"] for e in endpoints if e["vpcEndpointType"] == "Interface"}
    assert interface == {f"com.amazonaws.{REGION}.{s}" for s in DEFAULT_INTERFACE_ENDPOINTS}
    assert all(e["privateDnsEnabled"] for e in endpoints if e["vpcEndpointType"] == "Interface")
    rules = [
        inputs(r)
        for r in network.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    ]
    https = [r for r in rules if r.get("cidrIpv4")]
    assert https == [
        {**https[0], "cidrIpv4": CIDR, "fromPort": 443, "toPort": 443, "ipProtocol": "tcp"}
    ]


def _interface_policies(network) -> dict[str, dict | None]:
    found = {}
    for r in network.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        i = inputs(r)
        if i["vpcEndpointType"] == "Interface":
            service = i["serviceName"].removeprefix(f"com.amazonaws.{REGION}.")
            found[service] = json.loads(i["policy"]) if i.get("policy") else None
    return found


def test_every_interface_endpoint_that_takes_a_policy_admits_only_this_account(network):
    """Issue 13: 10 of 11 endpoints had no policy (any principal, any account's resources)."""
    policies = _interface_policies(network)
    assert {s for s, p in policies.items() if p is None} == set(NO_ENDPOINT_POLICY)
    for service, document in policies.items():
        if document is None:
            continue
        mine, *extra = document["Statement"]
        assert mine["Condition"] == {
            "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
            "StringEqualsIfExists": {"aws:ResourceAccount": ACCOUNT},
        }, service
        for st in extra:  # only reads of AWS's EKS images, or assuming this account's roles
            assert st["Sid"] in ("EksAddOnImages", "AssumeThisAccountsRoles"), service


def test_nodes_may_pull_eks_add_on_images_and_callers_assume_only_this_accounts_roles(network):
    policies = _interface_policies(network)
    for service in ("ecr.api", "ecr.dkr"):
        images = by_sid(policies[service])["EksAddOnImages"]
        assert images["Resource"] == [f"arn:aws:ecr:{REGION}:759879836304:repository/*"]
        assert images["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
        reads = {"BatchCheckLayerAvailability", "BatchGetImage", "GetDownloadUrlForLayer"}
        assert set(images["Action"]) == {f"ecr:{action}" for action in reads}
    assume = by_sid(policies["sts"])["AssumeThisAccountsRoles"]
    assert assume["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/*"]
    assert all(a.startswith("sts:") for a in assume["Action"])
    assert "EksAddOnImages" not in by_sid(policies["kms"])


def test_s3_gateway_only_reaches_this_accounts_buckets(network):
    (gateway,) = [
        r
        for r in network.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
        if inputs(r)["vpcEndpointType"] == "Gateway"
    ]
    assert inputs(gateway)["serviceName"] == f"com.amazonaws.{REGION}.s3"
    first, layers = policy(gateway)["Statement"]
    assert first["Condition"]["StringEquals"] == {
        "aws:PrincipalAccount": ACCOUNT,
        "aws:ResourceAccount": ACCOUNT,
    }
    assert layers["Resource"] == [f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/*"]
    assert layers["Action"] == ["s3:GetObject"]


def test_no_security_group_rule_admits_the_world(network):
    for typ in ("Ingress", "Egress"):
        for rule in network.of_type(f"aws:vpc/securityGroup{typ}Rule:SecurityGroup{typ}Rule"):
            assert inputs(rule).get("cidrIpv4") not in ("0.0.0.0/0",)
            assert inputs(rule).get("cidrIpv6") is None
    default = inputs(one(network, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"))
    assert default["ingress"] == [] and default["egress"] == []


def test_flow_logs_go_to_an_encrypted_group_with_the_stack_retention(network):
    flow = inputs(one(network, "aws:ec2/flowLog:FlowLog"))
    group = one(network, "aws:cloudwatch/logGroup:LogGroup")
    assert flow["trafficType"] == "ALL" and flow["logDestinationType"] == "cloud-watch-logs"
    assert flow["logDestination"] == group.outputs["arn"]
    assert f":logs:{REGION}:" in flow["logDestination"]
    assert inputs(group)["kmsKeyId"] == LOGS_KEY_ARN
    assert inputs(group)["retentionInDays"] == 400
    assert group.options["protect"] is True


def test_node_subnets_are_tagged_for_internal_load_balancers_only(network):
    nodes = [
        inputs(r)["tags"]
        for r in network.of_type("aws:ec2/subnet:Subnet")
        if inputs(r)["tags"]["tier"] == "nodes"
    ]
    assert all(t["kubernetes.io/role/internal-elb"] == "1" for t in nodes)
    assert not any("kubernetes.io/role/elb" in t for t in nodes)
