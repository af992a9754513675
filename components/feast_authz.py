"""Feast's Kubernetes authorization: the RBAC its servers need to identify callers.

Feast (`auth: kubernetes`) identifies a caller by a TokenReview of its service-account token and
reads RoleBindings in its own namespace (role names); which caller may do what is decided by the
Permissions in each Feast project (`components.feast_tenancy`: a tenant's namespace, verified by
the TokenReview, never role names, which Feast 0.67 takes from the unverified token).

| child | purpose |
|---|---|
| ClusterRole + binding `mlplatform-feast-tokenreview` | the servers may create TokenReviews |
| Role + binding `feast-authz-reader` | the servers may read RoleBindings in their namespace |

No Role binds a tenant here: the former `feast-reader`/`feast-writer` role names bound every
tenant to the same Feast roles (issue 13).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

TOKEN_REASON = (
    "Feast Kubernetes authz: the server calls TokenReview on each caller's token and reads "
    "RoleBindings in its namespace (RBAC: tokenreviews create, rolebindings read, nothing else)"
)


def authz_rbac(
    name: str,
    ns: str,
    labels: dict[str, str],
    service_accounts: tuple[str, ...],
    opts: pulumi.ResourceOptions,
) -> None:
    """TokenReview and RoleBinding reads for the servers' service accounts."""
    servers: Any = [
        {"kind": "ServiceAccount", "name": sa, "namespace": ns} for sa in service_accounts
    ]

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
        subjects=servers,
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
        subjects=servers,
        opts=opts,
    )
