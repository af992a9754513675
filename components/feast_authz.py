"""Feast's Kubernetes authorization: who may call the feature servers, and as which Feast role.

Feast (`auth: kubernetes`) identifies a caller by its service-account token (TokenReview) and
takes its roles from the *names* of the Roles bound to that service account in the Feast
namespace; the Permission objects applied with the feature repository map those role names to
actions on feature views. This module declares both halves the platform owns:

| child | purpose |
|---|---|
| ClusterRole + binding `mlplatform-feast-tokenreview` | the servers may create TokenReviews |
| Role + binding `feast-authz-reader` | the servers may read RoleBindings in their namespace |
| Roles `feast-reader`, `feast-writer` | role names only (no Kubernetes permissions) |
| RoleBindings `feast-reader`, `feast-writer` | each client service account → its Feast roles |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c

READER, WRITER = "feast-reader", "feast-writer"
TOKEN_REASON = (
    "Feast Kubernetes authz: the server calls TokenReview on each caller's token and reads "
    "RoleBindings in its namespace (RBAC: tokenreviews create, rolebindings read, nothing else)"
)


@dataclass(frozen=True)
class FeastClient:
    """A service account Feast's Kubernetes authz recognises, and the Feast roles it holds."""

    namespace: str
    service_account: str
    roles: tuple[str, ...] = (READER, WRITER)


def authz_rbac(
    name: str,
    ns: str,
    labels: dict[str, str],
    clients: tuple[FeastClient, ...],
    opts: pulumi.ResourceOptions,
) -> None:
    """RBAC for Feast's Kubernetes authz, and the Feast roles bound to each client."""
    server: Any = [{"kind": "ServiceAccount", "name": c.SA_FEAST, "namespace": ns}]

    def meta(resource: str, namespaced: bool = True) -> Any:
        return {"name": resource, "labels": labels, **({"namespace": ns} if namespaced else {})}

    def ref(kind: str, resource: str) -> Any:
        return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": resource}

    def rule(group: str, resource: str, verbs: list[str]) -> Any:
        return {"apiGroups": [group], "resources": [resource], "verbs": verbs}

    review = "mlplatform-feast-tokenreview"
    k8s.rbac.v1.ClusterRole(
        f"{name}-tokenreview",
        metadata=meta(review, namespaced=False),
        rules=[rule("authentication.k8s.io", "tokenreviews", ["create"])],
        opts=opts,
    )
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-tokenreview-binding",
        metadata=meta(review, namespaced=False),
        role_ref=ref("ClusterRole", review),
        subjects=server,
        opts=opts,
    )
    k8s.rbac.v1.Role(
        f"{name}-authz-reader",
        metadata=meta("feast-authz-reader"),
        rules=[rule("rbac.authorization.k8s.io", "rolebindings", ["get", "list", "watch"])],
        opts=opts,
    )
    k8s.rbac.v1.RoleBinding(
        f"{name}-authz-reader-binding",
        metadata=meta("feast-authz-reader"),
        role_ref=ref("Role", "feast-authz-reader"),
        subjects=server,
        opts=opts,
    )
    for role in (READER, WRITER):
        # No Kubernetes permissions: Feast reads the *name* of the bound Role and matches
        # it against the Permission objects applied with the feature repository.
        k8s.rbac.v1.Role(f"{name}-{role}", metadata=meta(role), rules=[], opts=opts)
        members: Any = [
            {"kind": "ServiceAccount", "name": cl.service_account, "namespace": cl.namespace}
            for cl in clients
            if role in cl.roles
        ]
        if members:
            k8s.rbac.v1.RoleBinding(
                f"{name}-{role}-binding",
                metadata=meta(role),
                role_ref=ref("Role", role),
                subjects=members,
                opts=opts,
            )
