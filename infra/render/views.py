"""Cluster objects as the policy pack sees resources (`policies.core.ResourceView`).

The pack's Kubernetes rules (and `policies.k8s` readers such as `pod_specs`) take a resource
with a Pulumi type token; a rendered object gets the token the Kubernetes provider would give
it (`kubernetes:<group>/<version>:<Kind>`, `core` for the core group) and a URN that names its
release and object, so a finding points at the template's object.
"""

from __future__ import annotations

from typing import Any

from infra.render.objects import ClusterObject
from policies.core import ResourceView


def type_token(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


def urn(obj: ClusterObject) -> str:
    """The program URN for program objects; a release-qualified name for rendered ones."""
    if obj.origin.source == "program":
        return obj.origin.urn
    where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    return f"release:{obj.origin.release}::{obj.kind}::{where}"


def checkov_ids(obj: ClusterObject) -> tuple[str, ...]:
    """How checkov names the object and, for a workload, its pod template."""
    own = ".".join([obj.kind, obj.namespace or "default", obj.name])
    return (own, f"{own}.template") if obj.kind in _WORKLOADS else (own,)


_WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"})


def resource_entry(obj: ClusterObject) -> dict[str, Any]:
    """resources.json form (what `policies.evaluate.evaluate` takes)."""
    return {
        "urn": urn(obj),
        "type": type_token(obj.api_version, obj.kind),
        "name": obj.name,
        "parent": None,
        "provider": None,
        "custom": True,
        "id": None,
        "options": {},
        "inputs": dict(obj.body),
    }


def resource_view(obj: ClusterObject) -> ResourceView:
    return ResourceView(
        urn=urn(obj),
        type=type_token(obj.api_version, obj.kind),
        name=obj.name,
        props=obj.body,
        secrets_visible=True,
    )
