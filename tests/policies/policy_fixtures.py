"""Small, readable resources.json entries for policy tests, and a one-policy evaluator.

`check("UAE-KEY-002", kms_key(...))` evaluates one policy over the given resources (providers
they reference are added automatically) and returns its `PolicyResult`.
"""

from __future__ import annotations

import copy
from typing import Any

from policies.evaluate import PolicyResult, evaluate
from policies.pack_config import PackConfig
from policies.registry import BY_ID

STACK = "urn:pulumi:test::mlplatform"
TAGS = {
    "data-classification": "confidential",
    "owner": "ml-platform-team",
    "system": "mlplatform",
    "residency": "uae",
    "pii": "false",
}
LABELS = {**TAGS, "app.kubernetes.io/part-of": "mlplatform"}
REGISTRY = "111122223333.dkr.ecr.me-central-1.amazonaws.com/mlplatform"
IMAGE = f"{REGISTRY}/serving:0.1.0@sha256:{'a' * 64}"
ACCOUNT = "111122223333"


def urn(type_: str, name: str) -> str:
    return f"{STACK}::{type_}::{name}"


def provider(package: str = "aws", name: str | None = None, **inputs: Any) -> dict[str, Any]:
    name = name or package
    type_ = f"pulumi:providers:{package}"
    defaults = {"aws": {"region": "me-central-1"}, "azure-native": {"location": "uaenorth"}}
    return {
        "urn": urn(type_, name),
        "type": type_,
        "name": name,
        "parent": None,
        "provider": None,
        "custom": True,
        "id": f"{name}-id",
        "options": {},
        "inputs": {**defaults.get(package, {}), **inputs},
    }


def resource(
    type_: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    provider_name: str | None = None,
    protect: bool = False,
    retain: bool = False,
    delete_before_replace: bool = False,
    id: str | None = None,
) -> dict[str, Any]:
    package = type_.split(":", 1)[0]
    prov = provider_name or package
    return {
        "urn": urn(type_, name),
        "type": type_,
        "name": name,
        "parent": f"{STACK}::pulumi:pulumi:Stack::mlplatform-test",
        "provider": None
        if package == "mlplatform"
        else f"{urn(f'pulumi:providers:{package}', prov)}::{prov}-id",
        "custom": True,
        "id": id or name,
        "options": {
            "protect": protect,
            "retainOnDelete": retain,
            "deleteBeforeReplace": delete_before_replace,
        },
        "inputs": copy.deepcopy(inputs or {}),
    }


def aws(type_: str, name: str, inputs: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """An AWS resource with the mandatory tags (override `tags` to test them)."""
    body = {"tags": dict(TAGS), **(inputs or {})}
    return resource(type_, name, body, **kw)


def azure(type_: str, name: str, inputs: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    body = {"location": "uaenorth", "tags": dict(TAGS), **(inputs or {})}
    return resource(type_, name, body, **kw)


def k8s(
    type_: str, name: str, namespace: str | None, body: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    api, kind = type_.split(":")[1], type_.split(":")[2]
    api_version = api.removeprefix("core/")
    metadata: dict[str, Any] = {"name": name, "labels": dict(LABELS)}
    if namespace:
        metadata["namespace"] = namespace
    inputs = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **(body or {})}
    return resource(type_, f"{namespace or 'cluster'}-{name}", inputs, **kw)


def container(name: str = "app", image: str = IMAGE, **overrides: Any) -> dict[str, Any]:
    """A container that satisfies every pod rule; override fields to break one."""
    spec = {
        "name": name,
        "image": image,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {
            "requests": {"cpu": "250m", "memory": "512Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    }
    spec.update(overrides)
    return spec


def pod_spec(*containers: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": "workloads",
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": list(containers) or [container()],
    }
    spec.update(overrides)
    return spec


def deployment(
    name: str = "api", namespace: str = "tenant-risk", spec: dict[str, Any] | None = None
) -> dict[str, Any]:
    return k8s(
        "kubernetes:apps/v1:Deployment",
        name,
        namespace,
        {
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name, **LABELS}},
                    "spec": spec or pod_spec(),
                },
            }
        },
    )


RELEASE = "kubernetes:helm.sh/v3:Release"


def release(name: str, chart: str, values: dict, version: str = "1.2.0") -> dict[str, Any]:
    """A Helm release installing `chart` at `version` into namespace `name`."""
    return resource(
        RELEASE, name, {"chart": chart, "version": version, "namespace": name, "values": values}
    )


def check(
    policy_id: str,
    *resources: dict[str, Any],
    config: PackConfig | dict[str, Any] | None = None,
) -> PolicyResult:
    items = list(resources)
    present = {r["urn"] for r in items}
    for r in list(items):
        ref = r.get("provider")
        if ref:
            prov_urn = ref.rsplit("::", 1)[0]
            if prov_urn not in present:
                package = prov_urn.split("::")[-2].removeprefix("pulumi:providers:")
                items.append(provider(package, prov_urn.rsplit("::", 1)[-1]))
                present.add(prov_urn)
    report = evaluate(items, config, policies=[BY_ID[policy_id]])
    return report.results[0]


def messages(result: PolicyResult) -> str:
    return "\n".join(f.message for f in result.findings)


def assert_fails(result: PolicyResult, resource_name: str, *words: str) -> None:
    """The policy failed on `resource_name`, saying `words`, with a remediation attached."""
    assert result.status == "fail", f"{result.id} passed unexpectedly"
    hits = [f for f in result.findings if resource_name in f.message]
    assert hits, f"no finding names {resource_name!r}: {messages(result)}"
    text = " ".join(f.message for f in hits)
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    assert all(f.remediation and f.policy_id == result.id for f in hits)


def assert_passes(result: PolicyResult) -> None:
    assert result.status == "pass", messages(result) or result.status
