"""EksCluster: private API, CMK envelope encryption, audit logs, access entries, add-ons."""

from __future__ import annotations

import json

import pytest

from components.aws.eks import (
    CLUSTER_ADMIN_POLICY,
    NAMESPACE_VIEW_POLICY,
    EksCluster,
    EksClusterArgs,
    NamespaceAccess,
)
from tests.components.aws.aws_fixtures import (
    ACCOUNT,
    KEY_ARN,
    LOGS_KEY_ARN,
    REGION,
    SITE,
    inputs,
    one,
    run_aws,
)

ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admins"


def _cluster(**overrides):
    holder = {}

    def build(opts):
        args = {
            "site": SITE,
            "cluster_name": "mlplatform-test",
            "version": "1.34",
            "role_arn": f"arn:aws:iam::{ACCOUNT}:role/mlplatform-test-cluster",
            "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"],
            "secrets_key_arn": KEY_ARN,
            "logs_key_arn": LOGS_KEY_ARN,
            "log_retention_days": 400,
            "admin_role_arns": (ADMIN,),
            **overrides,
        }
        holder["cluster"] = EksCluster("eks", EksClusterArgs(**args), opts)

    return run_aws(build)


@pytest.fixture(scope="module")
def eks():
    return _cluster()


def test_api_endpoint_is_private_only(eks):
    vpc = inputs(one(eks, "aws:eks/cluster:Cluster"))["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


def test_secrets_are_envelope_encrypted_with_the_cmk(eks):
    config = inputs(one(eks, "aws:eks/cluster:Cluster"))["encryptionConfig"]
    assert config == {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}


def test_all_control_plane_logs_go_to_a_precreated_encrypted_group(eks):
    cluster = one(eks, "aws:eks/cluster:Cluster")
    assert set(inputs(cluster)["enabledClusterLogTypes"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    group = one(eks, "aws:cloudwatch/logGroup:LogGroup")
    assert inputs(group)["name"] == "/aws/eks/mlplatform-test/cluster"
    assert inputs(group)["kmsKeyId"] == LOGS_KEY_ARN
    assert inputs(group)["retentionInDays"] == 400
    assert group.urn in cluster.options["dependsOn"]


def test_authentication_is_access_entries_only_and_admins_are_explicit(eks):
    access = inputs(one(eks, "aws:eks/cluster:Cluster"))["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entry = inputs(one(eks, "aws:eks/accessEntry:AccessEntry"))
    assert entry["principalArn"] == ADMIN and entry["type"] == "STANDARD"
    association = inputs(one(eks, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"))
    assert association["policyArn"] == CLUSTER_ADMIN_POLICY
    assert association["accessScope"] == {"type": "cluster"}


def test_tenant_roles_act_as_their_group_in_their_namespace_only():
    """Issue 13.6: tenant IdP groups had no way in; now each tenant's role has an access entry
    mapping it to its group (bound by the tenant-developer Role in its namespace) and the view
    policy scoped to that namespace — no cluster scope, no edit policy."""
    risk = f"arn:aws:iam::{ACCOUNT}:role/ml-risk"
    synthesis = _cluster(
        namespace_access=(NamespaceAccess(risk, "tenant-risk", "ml-risk-engineers"),)
    )
    found = synthesis.of_type("aws:eks/accessEntry:AccessEntry")
    entries = {inputs(e)["principalArn"]: inputs(e) for e in found}
    assert entries[risk]["kubernetesGroups"] == ["ml-risk-engineers"]
    assert entries[risk]["type"] == "STANDARD"
    policies = [
        inputs(a)
        for a in synthesis.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if inputs(a)["principalArn"] == risk
    ]
    assert [p["policyArn"] for p in policies] == [NAMESPACE_VIEW_POLICY]
    assert policies[0]["accessScope"] == {"type": "namespace", "namespaces": ["tenant-risk"]}


def test_vpc_cni_enforces_network_policies_with_its_own_pod_identity_role(eks):
    addons = {inputs(r)["addonName"]: inputs(r) for r in eks.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {"eks-pod-identity-agent", "vpc-cni", "kube-proxy"}
    cni = addons["vpc-cni"]
    assert json.loads(cni["configurationValues"])["enableNetworkPolicy"] == "true"
    (association,) = cni["podIdentityAssociations"]
    assert association["serviceAccount"] == "aws-node"
    assert association["roleArn"].endswith(":role/mlplatform-test-vpc-cni")
    assert inputs(one(eks, "aws:eks/cluster:Cluster"))["bootstrapSelfManagedAddons"] is False


def test_no_oidc_provider_or_static_keys(eks):
    types = {r.type for r in eks.resources}
    assert "aws:iam/openIdConnectProvider:OpenIdConnectProvider" not in types
    assert "aws:iam/accessKey:AccessKey" not in types


def test_cluster_is_protected_unless_ephemeral(eks):
    cluster = one(eks, "aws:eks/cluster:Cluster")
    assert cluster.options["protect"] is True
    assert inputs(cluster)["deletionProtection"] is True
    assert inputs(cluster)["version"] == "1.34"


def test_kubeconfig_gets_tokens_in_region():
    holder = {}

    def build(opts):
        holder["eks"] = EksCluster(
            "eks",
            EksClusterArgs(
                site=SITE,
                cluster_name="mlplatform-test",
                version="1.34",
                role_arn="arn:aws:iam::111122223333:role/r",
                subnet_ids=["subnet-a"],
                secrets_key_arn=KEY_ARN,
                logs_key_arn=LOGS_KEY_ARN,
                log_retention_days=30,
            ),
            opts,
        )
        import pulumi

        pulumi.export("kubeconfig", holder["eks"].kubeconfig)

    synthesis = run_aws(build)
    config = json.loads(synthesis.outputs["kubeconfig"])
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][exec_["args"].index("--region") + 1] == REGION
    assert config["clusters"][0]["cluster"]["server"].endswith(f".{REGION}.eks.amazonaws.com")
