"""Identity and access: least privilege, no static credentials, central authentication.

UAE-IAM-001 … UAE-IAM-003 over AWS IAM, Azure RBAC and Kubernetes RBAC/service accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from policies.core import (
    SECRET_MARKER,
    Policy,
    ResourceView,
    Severity,
    as_list,
    get,
    truthy,
    types,
    walk,
)
from policies.documents import allows, principals, statements, wildcard
from policies.k8s import TOKEN_REASON_ANNOTATION, pod_specs
from policies.pack_config import PackConfig

IAR = "UAE IAR (access control)"

# --------------------------------------------------------------------------- UAE-IAM-001

POLICY_DOCS = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
ATTACHMENTS = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
ADMIN_POLICY = re.compile(r":policy/(AdministratorAccess|IAMFullAccess)$")
K8S_ROLES = types(
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
)
K8S_BINDINGS = types(
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)
AZURE_OWNER_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}


def _document_problems(r: ResourceView, document: object, where: str) -> Iterator[str]:
    for i, statement in enumerate(statements(document)):
        if (
            allows(statement)
            and wildcard(statement.get("Action"))
            and wildcard(statement.get("Resource"))
        ):
            yield (
                f"{r.describe()} {where} statement {statement.get('Sid') or i} "
                "allows every action on every resource."
            )


def check_least_privilege(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    if t in POLICY_DOCS:
        yield from _document_problems(r, p.get("policy"), "policy")
    elif t == "aws:iam/role:Role":
        for inline in as_list(p.get("inlinePolicies")):
            yield from _document_problems(
                r, get(inline, "policy"), f"inline policy {get(inline, 'name')}"
            )
        for arn in as_list(p.get("managedPolicyArns")):
            if isinstance(arn, str) and ADMIN_POLICY.search(arn):
                yield f"{r.describe()} has {arn.rsplit('/', 1)[-1]} attached."
        for statement in statements(p.get("assumeRolePolicy")):
            if (
                allows(statement)
                and "*" in principals(statement)
                and not statement.get("Condition")
            ):
                yield f"{r.describe()} can be assumed by any principal ('*') without a condition."
    elif t in ATTACHMENTS:
        arn = p.get("policyArn")
        if isinstance(arn, str) and ADMIN_POLICY.search(arn):
            yield f"{r.describe()} attaches {arn.rsplit('/', 1)[-1]}."
    elif K8S_ROLES(r):
        for i, rule in enumerate(as_list(p.get("rules"))):
            wild = [k for k in ("apiGroups", "resources", "verbs") if "*" in as_list(get(rule, k))]
            if wild:
                yield f"{r.describe()} rule {i} uses '*' in {', '.join(wild)}."
    elif K8S_BINDINGS(r):
        if get(p, "roleRef.name") == "cluster-admin":
            subjects = [f"{get(s, 'kind')}/{get(s, 'name')}" for s in as_list(p.get("subjects"))]
            yield f"{r.describe()} grants cluster-admin to {', '.join(subjects) or 'subjects'}."
    elif t == "azure-native:authorization:RoleAssignment":
        role = str(p.get("roleDefinitionId") or "").rsplit("/", 1)[-1].lower()
        if role in AZURE_OWNER_ROLES:
            yield f"{r.describe()} assigns {AZURE_OWNER_ROLES[role]}."
    elif t == "azure-native:authorization:RoleDefinition":
        for perm in as_list(p.get("permissions")):
            if "*" in as_list(get(perm, "actions")):
                yield f"{r.describe()} allows every action ('*')."


IAM_001 = Policy(
    id="UAE-IAM-001",
    name="Least privilege",
    description=(
        "No IAM statement allows '*' on '*', no AdministratorAccess on roles, no wildcard "
        "Kubernetes RBAC rules, no cluster-admin bindings, no Owner role assignments."
    ),
    severity=Severity.HIGH,
    iso_controls=("5.15", "8.2"),
    uae_refs=(IAR, "CIS Kubernetes Benchmark 5.1.1/5.1.3"),
    remediation=(
        "List the actions and resources the workload needs (scope S3 to its bucket ARN, KMS to its "
        "key); use narrow Kubernetes roles with explicit verbs/resources; grant humans access "
        "through EKS access entries / Entra groups with scoped built-in roles."
    ),
    domain="identity",
    applies=types(
        *POLICY_DOCS,
        *ATTACHMENTS,
        "aws:iam/role:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:*",
        "azure-native:authorization:RoleAssignment",
        "azure-native:authorization:RoleDefinition",
    ),
    check=check_least_privilege,
)


# --------------------------------------------------------------------------- UAE-IAM-002

STATIC_CREDENTIAL_TYPES = {
    "aws:iam/accessKey:AccessKey": "an IAM access key",
    "aws:iam/userLoginProfile:UserLoginProfile": "an IAM user console password",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential": "a service-specific credential",
}
CREDENTIAL_ENV = re.compile(
    r"^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AZURE_CLIENT_SECRET|"
    r"AZURE_STORAGE_KEY|AZURE_STORAGE_CONNECTION_STRING|AZURE_STORAGE_ACCOUNT_KEY)$"
)


def _token_problems(r: ResourceView) -> Iterator[str]:
    for pod in pod_specs(r):
        if pod.partial:
            continue
        automount = pod.spec.get("automountServiceAccountToken")
        reason = pod.annotations.get(TOKEN_REASON_ANNOTATION) or r.annotations.get(
            TOKEN_REASON_ANNOTATION
        )
        account = pod.spec.get("serviceAccountName") or pod.spec.get("serviceAccount")
        if truthy(automount) and not reason:
            yield (
                f"{r.describe()} mounts its service-account token ({pod.path}) without a recorded "
                f"reason (annotation {TOKEN_REASON_ANNOTATION})."
            )
        elif automount is None and account in (None, "", "default"):
            yield (
                f"{r.describe()} runs as the namespace's default service account with the token "
                f"auto-mounted ({pod.path}); set automountServiceAccountToken: false."
            )


def check_static_credentials(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type in STATIC_CREDENTIAL_TYPES:
        yield (
            f"{r.describe()} creates {STATIC_CREDENTIAL_TYPES[r.type]}, "
            "a long-lived static credential."
        )
    elif r.type == "azure-native:containerregistry:Registry" and truthy(
        r.props.get("adminUserEnabled")
    ):
        yield f"{r.describe()} enables the registry admin user (a shared static password)."
    elif r.type == "kubernetes:core/v1:ServiceAccount":
        automount = r.props.get("automountServiceAccountToken")
        reason = r.annotations.get(TOKEN_REASON_ANNOTATION)
        if (automount is None or truthy(automount)) and not reason:
            yield (
                f"{r.describe()} auto-mounts API tokens into every pod "
                "(automountServiceAccountToken is not false)."
            )
    elif r.is_kubernetes_object:
        yield from _token_problems(r)
        for path, value in walk(r.props.get("spec"), "spec"):
            if (
                isinstance(value, Mapping)
                and isinstance(value.get("name"), str)
                and CREDENTIAL_ENV.match(value["name"])
            ):
                literal = value.get("value")
                if isinstance(literal, str) and literal and literal != SECRET_MARKER:
                    yield f"{r.describe()} passes {value['name']} as a literal env value ({path})."


IAM_002 = Policy(
    id="UAE-IAM-002",
    name="No static credentials",
    description=(
        "No IAM access keys or console passwords, no registry admin users, no cloud keys in env; "
        "pods use workload identity and do not mount API tokens unless a reason is recorded."
    ),
    severity=Severity.HIGH,
    iso_controls=("5.17", "8.5"),
    uae_refs=(IAR,),
    remediation=(
        "Use IRSA/EKS Pod Identity or Azure Workload Identity instead of keys; set "
        "automountServiceAccountToken: false on ServiceAccounts and pods, and where a pod must "
        f"call the API server annotate its template with {TOKEN_REASON_ANNOTATION}: <why>."
    ),
    domain="identity",
    applies=lambda r: (
        r.type in STATIC_CREDENTIAL_TYPES
        or r.type == "azure-native:containerregistry:Registry"
        or r.type == "kubernetes:core/v1:ServiceAccount"
        or bool(pod_specs(r))
    ),
    check=check_static_credentials,
)


# --------------------------------------------------------------------------- UAE-IAM-003


def check_central_auth(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t, p = r.type, r.props
    if t == "azure-native:containerservice:ManagedCluster":
        if truthy(p.get("disableLocalAccounts")) is False:
            yield (
                f"{r.describe()} keeps local (certificate) admin accounts "
                "(disableLocalAccounts is not true)."
            )
        if truthy(get(p, "aadProfile.enableAzureRBAC")) is False:
            yield (
                f"{r.describe()} does not authorise with Entra ID "
                "/ Azure RBAC (aadProfile.enableAzureRBAC)."
            )
        if (
            get(p, "aadProfile.managed") is not None
            and truthy(get(p, "aadProfile.managed")) is False
        ):
            yield f"{r.describe()} does not use managed Entra ID integration (aadProfile.managed)."
    elif t == "aws:eks/cluster:Cluster":
        mode = get(p, "accessConfig.authenticationMode") or "CONFIG_MAP"
        if mode not in ("API", "API_AND_CONFIG_MAP") and isinstance(mode, str):
            yield (
                f"{r.describe()} authenticates through the aws-auth "
                f"ConfigMap only (authenticationMode={mode})."
            )
    elif t in ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        if (
            not p.get("replicateSourceDb")
            and truthy(p.get("iamDatabaseAuthenticationEnabled")) is False
        ):
            yield f"{r.describe()} does not enable IAM database authentication."
    elif t == "azure-native:dbforpostgresql:Server":
        if get(p, "authConfig.activeDirectoryAuth") != "Enabled":
            yield (
                f"{r.describe()} does not enable Entra ID authentication "
                "(authConfig.activeDirectoryAuth)."
            )
    elif t == "azure-native:eventhub:Namespace":
        if truthy(p.get("disableLocalAuth")) is False:
            yield (
                f"{r.describe()} accepts shared-access-signature keys "
                "(disableLocalAuth is not true)."
            )
    elif t == "aws:msk/cluster:Cluster":
        auth = p.get("clientAuthentication") or {}
        if truthy(get(auth, "unauthenticated")) or not (
            truthy(get(auth, "sasl.iam")) or truthy(get(auth, "sasl.scram")) or get(auth, "tls")
        ):
            yield f"{r.describe()} lets clients connect without IAM, SCRAM or mTLS authentication."


IAM_003 = Policy(
    id="UAE-IAM-003",
    name="Central authentication",
    description=(
        "Clusters, databases and brokers authenticate against the organisation's identity "
        "provider: AKS Entra ID + Azure RBAC without local accounts, EKS access entries, "
        "IAM/Entra database auth, Event Hubs without SAS keys, MSK with IAM/SCRAM/mTLS."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.5",),
    uae_refs=(IAR,),
    remediation=(
        "AKS disableLocalAccounts=true, aadProfile={managed:true, enableAzureRBAC:true}; EKS "
        "accessConfig.authenticationMode='API'; RDS iamDatabaseAuthenticationEnabled=true; PG "
        "authConfig.activeDirectoryAuth='Enabled'; Event Hubs disableLocalAuth=true; MSK "
        "clientAuthentication.sasl.iam=true."
    ),
    domain="identity",
    applies=types(
        "azure-native:containerservice:ManagedCluster",
        "aws:eks/cluster:Cluster",
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "azure-native:dbforpostgresql:Server",
        "azure-native:eventhub:Namespace",
        "aws:msk/cluster:Cluster",
    ),
    check=check_central_auth,
)

POLICIES = (IAM_001, IAM_002, IAM_003)
