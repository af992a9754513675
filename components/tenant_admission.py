"""`TenantAdmission`: what the API server refuses in tenant namespaces, whoever creates the pod.

Pod Security `restricted` (components.tenant) already refuses privileged pods; the plan's own
checks keep the platform's images on the mirror. Neither stops a tenant (or a controller acting
for one: KServe, the Trainer, a Job) from running an image from anywhere. This component adds
a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, built into Kubernetes since 1.30:
no webhook, no operator) that refuses, in every namespace labelled `mlplatform.io/tenant`:

- a container, init container or ephemeral container whose image is not under the stack's
  mirror (`<mirror>/…`): public registries (docker.io, nvcr.io, ghcr.io...) never reach a node;
- a privileged container, or one that adds capabilities beyond NET_BIND_SERVICE, or a pod on
  the host's network, PID or IPC namespaces (defence in depth behind Pod Security).

| child | purpose |
|---|---|
| ValidatingAdmissionPolicy `mlplatform-tenant-pods` | the CEL validations (`validations`) |
| ValidatingAdmissionPolicyBinding `mlplatform-tenant-pods` | Deny, tenant namespaces only |

`failurePolicy: Fail`: a policy the API server cannot evaluate refuses the pod. The expressions
are tested with a CEL implementation (cel-python) against sample pods in
tests/components/test_tenant_admission.py.

Args (`TenantAdmissionArgs`): `mirror` (host[/path] every image must come from), `labels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.objects import upstream

POLICY = "mlplatform-tenant-pods"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
ALLOWED_CAPABILITIES = ("NET_BIND_SERVICE",)


@dataclass(frozen=True)
class TenantAdmissionArgs:
    mirror: str
    labels: dict[str, str]


def _each(check: str) -> str:
    """`check` (over a container `c`) for every container list of the pod."""
    return " && ".join(
        f"(!has(object.spec.{lst}) || object.spec.{lst}.all(c, {check}))" for lst in CONTAINER_LISTS
    )


def _culprits(check: str, show: str) -> str:
    """A message expression listing what fails `check` (the containers' `show`)."""
    parts = [
        f"(has(object.spec.{lst}) ? object.spec.{lst}.filter(c, !({check})).map(c, {show}) : [])"
        for lst in CONTAINER_LISTS
    ]
    return " + ".join(parts)


def validations(mirror: str) -> list[dict[str, Any]]:
    """The policy's validations (CEL over the Pod as `object`)."""
    prefix = mirror.rstrip("/") + "/"
    image_ok = f"c.image.startsWith('{prefix}')"
    not_privileged = (
        "!has(c.securityContext) || !has(c.securityContext.privileged) "
        "|| c.securityContext.privileged == false"
    )
    allowed = ", ".join(f"'{cap}'" for cap in ALLOWED_CAPABILITIES)
    capabilities = (
        "!has(c.securityContext) || !has(c.securityContext.capabilities) "
        "|| !has(c.securityContext.capabilities.add) "
        f"|| c.securityContext.capabilities.add.all(cap, cap in [{allowed}])"
    )
    hosts = " && ".join(
        f"(!has(object.spec.{field}) || object.spec.{field} == false)"
        for field in ("hostNetwork", "hostPID", "hostIPC")
    )
    offending_images = _culprits(image_ok, "c.name + '=' + c.image")
    return [
        {
            "expression": _each(image_ok),
            "messageExpression": f"'images must come from the mirror {prefix}: ' + "
            f"({offending_images}).join(', ')",
            "reason": "Forbidden",
        },
        {
            "expression": _each(not_privileged),
            "messageExpression": "'privileged containers are not allowed in tenant namespaces: ' + "
            f"({_culprits(not_privileged, 'c.name')}).join(', ')",
            "reason": "Forbidden",
        },
        {
            "expression": _each(capabilities),
            "message": f"containers may add no capability but {', '.join(ALLOWED_CAPABILITIES)}",
            "reason": "Forbidden",
        },
        {
            "expression": hosts,
            "message": "pods in tenant namespaces may not use the host's network, PID or IPC",
            "reason": "Forbidden",
        },
    ]


def policy_spec(mirror: str) -> dict[str, Any]:
    return {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["pods", "pods/ephemeralcontainers"],
                }
            ]
        },
        "validations": validations(mirror),
    }


def binding_spec() -> dict[str, Any]:
    return {
        "policyName": POLICY,
        "validationActions": ["Deny"],
        "matchResources": {
            "namespaceSelector": {
                "matchExpressions": [{"key": c.TENANT_LABEL, "operator": "Exists"}]
            }
        },
    }


class TenantAdmission(pulumi.ComponentResource):
    policy: str

    def __init__(
        self, name: str, args: TenantAdmissionArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:tenancy:TenantAdmission", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=upstream(opts))
        metadata: Any = {"name": POLICY, "labels": args.labels}
        spec: Any = policy_spec(args.mirror)
        policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            f"{name}-policy", metadata=metadata, spec=spec, opts=child
        )
        binding: Any = binding_spec()
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            f"{name}-binding",
            metadata=metadata,
            spec=binding,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.policy = POLICY
        self.register_outputs({"policy": POLICY})
