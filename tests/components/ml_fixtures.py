"""Hand-built foundation pieces for the ML service component tests (no target stack needed)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pulumi

from components.endpoints import Credentials, ObjectStore, Postgres, Redis
from infra.synth import manifests
from infra.synth.recording import Resource, Synthesis, unwrap

MIRROR = "harbor.dc1.example.ae/mlplatform"
LABELS = {"owner": "ml-platform-team", "residency": "uae", "data-classification": "confidential"}
PG_PASSWORD = "pg-Secret-Value-42"
REDIS_PASSWORD = "redis-Secret-Value-42"


def onprem_postgres() -> Postgres:
    return Postgres(
        host="mlplatform-pg-rw.mlplatform-data.svc",
        port=5432,
        credentials=Credentials(username="mlplatform", password=pulumi.Output.secret(PG_PASSWORD)),
        ca_secret="mlplatform-ca-bundle",  # the platform CA signed the operator's certificate
    )


def cloud_postgres() -> Postgres:
    return Postgres(
        host=pulumi.Output.from_input("mlplatform.postgres.database.azure.com"),
        port=5432,
        credentials=Credentials(username="mlplatform", password=pulumi.Output.secret(PG_PASSWORD)),
    )


def onprem_redis() -> Redis:
    return Redis(
        host="mlplatform-redis.mlplatform-data.svc",
        port=6379,
        credentials=Credentials(password=pulumi.Output.secret(REDIS_PASSWORD)),
        ca_secret="mlplatform-ca-bundle",  # the platform CA signed the operator's certificate
    )


def onprem_object_store() -> ObjectStore:
    return ObjectStore(
        kind="s3",
        endpoint="https://s3.dc1.example.ae",
        region="auh-dc1",
        artifact_uri="s3://mlflow-artifacts/mlflow",
        offline_store_uri="s3://feast-offline/feast",
        credentials=Credentials(existing_secret="object-store-credentials"),
    )


def azure_object_store(service_account: str) -> ObjectStore:
    return ObjectStore(
        kind="azure-blob",
        endpoint=None,
        region="uaenorth",
        artifact_uri="wasbs://mlflow@mlplatformprod.blob.core.windows.net/mlflow",
        offline_store_uri="abfss://feast@mlplatformprod.dfs.core.windows.net/feast",
        service_account_annotations={
            service_account: {"azure.workload.identity/client-id": "11111111-2222-4333-8444-5"}
        },
    )


def by_kind(synthesis: Synthesis) -> dict[tuple[str, str | None], Resource]:
    """(kind, metadata.name) → recorded resource, for every Kubernetes object."""
    found: dict[tuple[str, str | None], Resource] = {}
    for r in synthesis.resources:
        if r.type.startswith("kubernetes:") and r.custom:
            kind = r.type.split(":")[-1]
            name = (r.inputs.get("metadata") or {}).get("name") or r.inputs.get("name")
            found[(kind, name)] = r
    return found


def plain_object(resource: Resource) -> dict[str, Any]:
    """The object the API server receives, secrets included (for schema validation only)."""
    return manifests.to_object(replace(resource, inputs=unwrap(resource.inputs)))


def is_core(resource: Resource) -> bool:
    """A built-in Kubernetes kind (core, apps, batch, policy, *.k8s.io), not a custom resource."""
    group = resource.type.split(":")[1].split("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def core_errors(objects: dict[tuple[str, str | None], Resource]) -> list[str]:
    """kubernetes-validate errors (strict, 1.34) for every built-in object."""
    from tests.support.schemas import core_object_errors

    return [
        error
        for r in objects.values()
        if is_core(r)
        for error in core_object_errors(plain_object(r), "1.34")
    ]


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec.get("initContainers") or []) + list(pod_spec["containers"])


def assert_hardened(pod_spec: dict[str, Any]) -> None:
    """The Pod Security `restricted` profile plus the platform's container hygiene."""
    pod = pod_spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] >= 10000
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in containers(pod_spec):
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx.get("privileged") in (None, False)
        resources = container["resources"]
        assert set(resources["requests"]) >= {"cpu", "memory"}
        assert set(resources["limits"]) >= {"cpu", "memory"}
        for env in container.get("env") or []:
            assert "valueFrom" not in env or "secretKeyRef" not in env["valueFrom"], env
        assert not container.get("envFrom"), "no Secrets as environment (UAE-K8S-004)"


def assert_redacted(resource: Resource, *keys: str) -> None:
    """The Secret's values never reach a rendered file (whole map or per key redacted)."""
    from infra.synth.recording import SECRET

    rendered = manifests.to_object(resource)["stringData"]
    assert rendered == SECRET or all(rendered[k] == SECRET for k in keys), rendered
