"""The tenant contract read as a verification plan: which pods, ports, endpoints and GPU pools.

The contract names each platform service's endpoint (hence namespace and port); the pod
selectors, container names and in-pod ports are those the components declare
(`tests/verify/test_discovery.py` checks them against the synthesized Deployments).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.feast import OFFLINE_PORT, REGISTRY_PORT
from components.mlflow import PORT as MLFLOW_PORT
from components.serving import PREDICTOR_PORT

# Strimzi brokers also listen on their internal, cluster-CA mTLS ports: 9090 (KRaft control
# plane), 9091 (replication), 8443 (Kafka agent); 9404 only if metrics are enabled.
STRIMZI_INTERNAL_PORTS = (8443, 9090, 9091, 9404)
KSERVE_GRPC_PORT = 8081  # kserve.ModelServer's gRPC server (plain, in-pod, NetworkPolicy-bound)
# Node paths whose backing block device must be dm-crypt on-prem (pod volumes, image layers).
DATA_PATHS = ("/var/lib/kubelet", "/var/lib/containerd")


class ContractError(ValueError):
    """The outputs file is not a tenant contract this suite understands."""


@dataclass(frozen=True)
class Health:
    port: int
    path: str
    tls: bool


@dataclass(frozen=True)
class PodTarget:
    """A platform service's pods: where they are and what they must (and may) listen on."""

    service: str
    namespace: str
    selector: dict[str, str]
    container: str
    ports: tuple[int, ...]
    allowed_ports: tuple[int, ...] = ()
    health: Health | None = None

    @property
    def label_selector(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.selector.items()))


@dataclass(frozen=True)
class Endpoint:
    """A platform endpoint as a tenant reaches it: `https://…` (GET /health) or `tls://host:port`."""

    name: str
    url: str


@dataclass(frozen=True)
class Expectations:
    stack: str
    platform: str
    kube_context: str | None
    services: tuple[PodTarget, ...]
    probes: tuple[PodTarget, ...]  # pods in tenant namespaces that tenant-side checks run in
    endpoints: tuple[Endpoint, ...]
    gpu_pools: tuple[str, ...]
    # On-prem, the existing GPU nodes the stack patched, per pool (stack.cluster.gpuNodes).
    gpu_nodes: dict[str, tuple[str, ...]]
    disk_encryption: str  # "dm-crypt" (on-prem nodes) or "provider" (cloud CMK disks)


def _host_port(url: str, default_port: int | None = None) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url if "://" in url else f"tcp://{url}")
    port = parsed.port or default_port or (443 if parsed.scheme == "https" else None)
    if not parsed.hostname or port is None:
        raise ContractError(f"cannot read host and port from {url!r}")
    return parsed.hostname, port


def _namespace_of(host: str, what: str) -> str:
    """`<service>.<namespace>.svc[.cluster.local]` → namespace."""
    parts = host.split(".")
    if len(parts) < 3 or parts[2] != "svc":
        raise ContractError(f"{what}: {host!r} is not an in-cluster service name")
    return parts[1]


def _get(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise ContractError(f"the outputs have no `{path}` (is this a tenant contract?)")
        value = value[key]
    return value


_STRIMZI = re.compile(r"^(?P<cluster>[a-z0-9-]+)-kafka-bootstrap\.(?P<ns>[a-z0-9-]+)\.svc")


def expectations(outputs: Mapping[str, Any]) -> Expectations:
    """What a deployment of this contract must run; raises ContractError if it is not one."""
    if not str(outputs.get("contract_version", "")).startswith("1."):
        raise ContractError("the outputs have no contract_version 1.x (is this a tenant contract?)")
    stack, platform = _get(outputs, "stack"), _get(outputs, "platform")
    tenants: Mapping[str, Any] = outputs.get("tenants") or {}
    mlflow_url = _get(platform, "mlflow.trackingUri")
    services = [_mlflow(mlflow_url)]  # checked in this order: the first problem is reported
    feast = _get(platform, "feast")
    services += _feast(feast)
    bootstrap = str(_get(platform, "kafka.bootstrap"))
    services += _strimzi(bootstrap)
    probes = _model_servers(tenants)
    services += probes
    first_host = bootstrap.split(",")[0].strip()
    endpoints = (
        Endpoint("kafka", f"tls://{first_host}"),
        Endpoint("mlflow", f"{mlflow_url.rstrip('/')}/health"),
        Endpoint("feast-online", f"{str(feast['featureServer']).rstrip('/')}/health"),
    )
    pools = sorted({p for t in tenants.values() for p in (t.get("gpu") or {}).get("pools", [])})
    platform_name = _get(stack, "platform")
    cluster = stack.get("cluster") or {}
    return Expectations(
        stack=str(_get(stack, "name")),
        platform=platform_name,
        kube_context=cluster.get("kubeContext") or None,
        services=tuple(services),
        probes=tuple(probes),
        endpoints=endpoints,
        gpu_pools=tuple(pools),
        gpu_nodes={pool: tuple(names) for pool, names in (cluster.get("gpuNodes") or {}).items()},
        disk_encryption="dm-crypt" if platform_name == "onprem" else "provider",
    )


def _mlflow(tracking_uri: str) -> PodTarget:
    host, _ = _host_port(tracking_uri)
    return PodTarget(
        "mlflow",
        _namespace_of(host, "platform.mlflow.trackingUri"),
        {"app.kubernetes.io/name": "mlflow", "app.kubernetes.io/component": "server"},
        "mlflow",
        (MLFLOW_PORT,),
        health=Health(MLFLOW_PORT, "/health", tls=True),
    )


def _feast(feast: Mapping[str, Any]) -> list[PodTarget]:
    """Registry, online (feature server) and offline servers, from `platform.feast`."""
    online_host, online_port = _host_port(_get(feast, "featureServer"))
    registry_host, registry_port = _host_port(_get(feast, "registry.path"), REGISTRY_PORT)
    offline_host = _get(feast, "offlineStore.host")
    offline_port = int(feast["offlineStore"].get("port") or OFFLINE_PORT)
    return [
        PodTarget(
            f"feast-{role}",
            _namespace_of(host, f"platform.feast ({role})"),
            {"app.kubernetes.io/name": "feast", "app.kubernetes.io/component": role},
            role,
            (port,),
            health=health,
        )
        for role, host, port, health in (
            ("registry", registry_host, registry_port, None),
            ("online", online_host, online_port, Health(online_port, "/health", tls=True)),
            ("offline", offline_host, offline_port, None),
        )
    ]


def _strimzi(bootstrap: str) -> list[PodTarget]:
    """The in-cluster brokers; MSK / Event Hubs brokers are not pods we can enter (none)."""
    strimzi = _STRIMZI.match(bootstrap)
    if not strimzi:
        return []
    return [
        PodTarget(
            "kafka-broker",
            strimzi["ns"],
            {"strimzi.io/cluster": strimzi["cluster"], "strimzi.io/broker-role": "true"},
            "kafka",
            (_host_port(bootstrap)[1],),
            allowed_ports=STRIMZI_INTERNAL_PORTS,
        )
    ]


def _model_servers(tenants: Mapping[str, Any]) -> list[PodTarget]:
    """Each tenant's sample model server (also where tenant reachability is probed from)."""
    targets = []
    for tenant in sorted(tenants):
        sample = tenants[tenant].get("sampleWorkloads") or {}
        if sample.get("inferenceService"):
            targets.append(
                PodTarget(
                    f"model-server/{tenant}",
                    tenants[tenant]["namespace"],
                    {"serving.kserve.io/inferenceservice": sample["inferenceService"]},
                    "kserve-container",
                    (PREDICTOR_PORT,),
                    allowed_ports=(KSERVE_GRPC_PORT,),
                    # HTTPS only, the tenant's certificate from the platform CA (issue 13.7)
                    health=Health(PREDICTOR_PORT, "/v2/health/ready", tls=True),
                )
            )
    return targets


def load_outputs(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise ContractError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise ContractError(f"{path} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ContractError(f"{path} is not a JSON object")
    return document
