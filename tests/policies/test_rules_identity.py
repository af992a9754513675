"""UAE-IAM-001 least privilege, UAE-IAM-002 no static credentials, UAE-IAM-003 central authN."""

from __future__ import annotations

import json

from policy_fixtures import (
    assert_fails,
    assert_passes,
    aws,
    azure,
    check,
    container,
    deployment,
    k8s,
    pod_spec,
    resource,
)

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"  # Azure built-in Owner role
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"


def document(action: object, resource_: object) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource_}],
        }
    )


# --------------------------------------------------------------------------- UAE-IAM-001


def test_scoped_permissions_pass() -> None:
    policy = aws(
        "aws:iam/policy:Policy",
        "mlflow-s3",
        {"policy": document(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::artifacts/*")},
    )
    role = k8s(
        ROLE,
        "tenant-developer",
        "tenant-risk",
        {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
    )
    assert_passes(check("UAE-IAM-001", policy, role))


def test_wildcards_admin_and_cluster_admin_fail() -> None:
    policy = aws("aws:iam/policy:Policy", "god", {"policy": document("*", "*")})
    attach = resource(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "admin",
        {"role": "workload", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    )
    role = k8s(
        ROLE,
        "everything",
        "tenant-risk",
        {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
    )
    binding = k8s(
        BINDING,
        "ml-admins",
        None,
        {
            "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "Group", "name": "ml-engineers"}],
        },
    )
    owner = resource(
        "azure-native:authorization:RoleAssignment",
        "owner",
        {"roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"},
    )
    result = check("UAE-IAM-001", policy, attach, role, binding, owner)
    assert_fails(result, "Policy 'god'", "every action on every resource")
    assert_fails(result, "RolePolicyAttachment 'admin'", "AdministratorAccess")
    assert_fails(result, "Role tenant-risk/everything", "'*'")
    assert_fails(result, "ClusterRoleBinding ml-admins", "cluster-admin", "Group/ml-engineers")
    assert_fails(result, "RoleAssignment 'owner'", "Owner")


# --------------------------------------------------------------------------- UAE-IAM-002


def test_workload_identity_without_tokens_passes() -> None:
    sa = k8s(
        "kubernetes:core/v1:ServiceAccount",
        "workloads",
        "tenant-risk",
        {"automountServiceAccountToken": False},
    )
    operator = deployment(
        "controller",
        "kueue-system",
        pod_spec(automountServiceAccountToken=True, serviceAccountName="kueue"),
    )
    operator["inputs"]["spec"]["template"]["metadata"]["annotations"] = {
        "mlplatform.io/service-account-token": "reconciles Workloads through the API server"
    }
    assert_passes(check("UAE-IAM-002", sa, deployment(), operator))


def test_static_credentials_and_default_tokens_fail() -> None:
    key = aws("aws:iam/accessKey:AccessKey", "ci", {"user": "ci"})
    sa = k8s("kubernetes:core/v1:ServiceAccount", "workloads", "tenant-risk", {})
    default_sa = deployment(
        "api", "tenant-risk", pod_spec(automountServiceAccountToken=None, serviceAccountName=None)
    )
    env = [{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG"}]
    keyed = deployment("job", "tenant-risk", pod_spec(container(env=env)))
    acr = azure("azure-native:containerregistry:Registry", "acr", {"adminUserEnabled": True})
    result = check("UAE-IAM-002", key, sa, default_sa, keyed, acr)
    assert_fails(result, "AccessKey 'ci'", "static credential")
    assert_fails(result, "ServiceAccount tenant-risk/workloads", "automountServiceAccountToken")
    assert_fails(result, "Deployment tenant-risk/api", "default service account")
    assert_fails(result, "Deployment tenant-risk/job", "AWS_SECRET_ACCESS_KEY")
    assert_fails(result, "Registry 'acr'", "admin user")


# --------------------------------------------------------------------------- UAE-IAM-003


def test_identity_provider_authentication_passes() -> None:
    aks = azure(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {"disableLocalAccounts": True, "aadProfile": {"managed": True, "enableAzureRBAC": True}},
    )
    eks = aws("aws:eks/cluster:Cluster", "eks", {"accessConfig": {"authenticationMode": "API"}})
    db = aws("aws:rds/instance:Instance", "mlflow", {"iamDatabaseAuthenticationEnabled": True})
    msk = aws("aws:msk/cluster:Cluster", "kafka", {"clientAuthentication": {"sasl": {"iam": True}}})
    assert_passes(check("UAE-IAM-003", aks, eks, db, msk))


def test_local_accounts_and_config_map_auth_fail() -> None:
    aks = azure(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {"disableLocalAccounts": False, "aadProfile": {"managed": True}},
    )
    eks = aws("aws:eks/cluster:Cluster", "eks", {})
    hubs = azure("azure-native:eventhub:Namespace", "hubs", {})
    pg = azure(
        "azure-native:dbforpostgresql:Server", "pg", {"authConfig": {"passwordAuth": "Enabled"}}
    )
    result = check("UAE-IAM-003", aks, eks, hubs, pg)
    assert_fails(result, "ManagedCluster 'aks'", "disableLocalAccounts", "enableAzureRBAC")
    assert_fails(result, "Cluster 'eks'", "aws-auth ConfigMap")
    assert_fails(result, "Namespace 'hubs'", "disableLocalAuth")
    assert_fails(result, "Server 'pg'", "Entra ID")
