"""What the access matrix reads of a plan: the tenants, their principals, and lookups over the
objects the cluster would receive and the recorded cloud resources.

A tenant is a Namespace carrying `mlplatform.io/tenant: <name>` (what `components.tenant`
creates). Its Kubernetes principals are the service accounts of its namespace (and their group
`system:serviceaccounts:<namespace>`) and the IdP group(s) its `tenant-developer` RoleBinding
names; `system:authenticated`, `system:serviceaccounts` and `system:unauthenticated` are every
tenant at once. Its cloud identities are the IAM roles EKS Pod Identity associates with its
service accounts, and the Azure managed identities federated with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components import conventions as c
from infra.simulate.kube import SourceObject, items, labels_of, mapping, name_of, namespace_of

DEVELOPER_BINDING = "tenant-developer"
EVERYONE_GROUPS = frozenset(
    {"system:authenticated", "system:serviceaccounts", "system:unauthenticated"}
)
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
FEDERATED = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


@dataclass(frozen=True)
class Tenant:
    name: str
    namespace: str
    groups: tuple[str, ...] = ()


@dataclass
class PlanView:
    """The plan as the channels read it (bodies with a printable origin, recorded resources)."""

    objects: list[tuple[Mapping[str, Any], str]]
    resources: list[Mapping[str, Any]]
    tenants: dict[str, Tenant] = field(default_factory=dict)
    sources: list[SourceObject] = field(default_factory=list)

    @classmethod
    def build(
        cls, objects: Iterable[SourceObject], resources: Sequence[Mapping[str, Any]]
    ) -> PlanView:
        sources = [o for o in objects if not getattr(o.origin, "patch", False)]
        view = cls([(o.body, o.origin.describe()) for o in sources], list(resources))
        view.sources = sources
        view.tenants = _tenants(view)
        return view

    # ------------------------------------------------------------------ objects

    def kind(self, kind: str, namespace: str | None = None) -> list[tuple[Mapping[str, Any], str]]:
        return [
            (body, origin)
            for body, origin in self.objects
            if body.get("kind") == kind and (namespace is None or namespace_of(body) == namespace)
        ]

    def bodies(self) -> list[Mapping[str, Any]]:
        return [body for body, _ in self.objects]

    def typed(self, type_: str) -> list[Mapping[str, Any]]:
        return [r for r in self.resources if r.get("type") == type_]

    # ------------------------------------------------------------------ principals

    def tenant_of_namespace(self, namespace: str | None) -> str | None:
        for tenant in self.tenants.values():
            if tenant.namespace == namespace:
                return tenant.name
        return None

    def tenants_of_subject(self, subject: Mapping[str, Any]) -> set[str]:
        """The tenants an RBAC subject stands for (every tenant for the catch-all groups)."""
        kind, name = str(subject.get("kind")), str(subject.get("name"))
        if kind == "ServiceAccount":
            found = self.tenant_of_namespace(str(subject.get("namespace") or ""))
            return {found} if found else set()
        if kind == "Group" and name in EVERYONE_GROUPS:
            return set(self.tenants)
        if kind == "Group" and name.startswith("system:serviceaccounts:"):
            found = self.tenant_of_namespace(name.removeprefix("system:serviceaccounts:"))
            return {found} if found else set()
        if kind == "Group":
            return {t.name for t in self.tenants.values() if name in t.groups}
        if kind == "User" and name.startswith("system:serviceaccount:"):
            parts = name.split(":")
            found = self.tenant_of_namespace(parts[2]) if len(parts) == 4 else None
            return {found} if found else set()
        return set()

    def tenant_of_service_account_subject(self, subject: str) -> str | None:
        """`system:serviceaccount:<ns>:<sa>` (a federated credential's subject) → its tenant."""
        parts = subject.split(":")
        return self.tenant_of_namespace(parts[2]) if len(parts) == 4 else None

    def aws_tenant_roles(self) -> dict[str, str]:
        """IAM role name → tenant, for the roles Pod Identity gives a tenant's service accounts."""
        found: dict[str, str] = {}
        for association in self.typed(POD_IDENTITY):
            inputs = mapping(association.get("inputs"))
            tenant = self.tenant_of_namespace(str(inputs.get("namespace") or ""))
            role_arn = str(inputs.get("roleArn") or "")
            if tenant and role_arn:
                found[role_arn.rsplit("/", 1)[-1]] = tenant
        return found

    def azure_tenant_identities(self) -> dict[str, str]:
        """Parent URN of a managed identity component (and each principal ID its role
        assignments name) → tenant, for identities federated with a tenant's service account."""
        found: dict[str, str] = {}
        for credential in self.typed(FEDERATED):
            subject = str(mapping(credential.get("inputs")).get("subject") or "")
            tenant = self.tenant_of_service_account_subject(subject)
            if tenant:
                found[str(credential.get("parent"))] = tenant
        for assignment in self.typed(ROLE_ASSIGNMENT):
            owner = found.get(str(assignment.get("parent")))
            principal = mapping(assignment.get("inputs")).get("principalId")
            if owner and isinstance(principal, str):
                found[principal] = owner
        return found

    def azure_tenant_of_assignment(self, assignment: Mapping[str, Any]) -> str | None:
        identities = self.azure_tenant_identities()
        principal = mapping(assignment.get("inputs")).get("principalId")
        if isinstance(principal, str) and principal in identities:
            return identities[principal]
        return identities.get(str(assignment.get("parent")))


def _tenants(view: PlanView) -> dict[str, Tenant]:
    found: dict[str, Tenant] = {}
    for body, _ in view.kind("Namespace"):
        name = labels_of(body).get(c.TENANT_LABEL)
        if name:
            namespace = name_of(body)
            found[name] = Tenant(name, namespace, _developer_groups(view, namespace))
    return dict(sorted(found.items()))


def _developer_groups(view: PlanView, namespace: str) -> tuple[str, ...]:
    groups = [
        str(mapping(s).get("name"))
        for body, _ in view.kind("RoleBinding", namespace)
        if name_of(body) == DEVELOPER_BINDING
        for s in items(body.get("subjects"))
        if mapping(s).get("kind") == "Group"
    ]
    return tuple(sorted(set(groups)))
