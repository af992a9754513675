"""Hardened building blocks for the platform's own services (MLflow, Feast, the sample workloads).

Plain functions returning Kubernetes object fragments (dicts), plus two helpers that declare
objects for a component. What they encode:

| helper | what it gives |
|---|---|
| `pod_security` / `container_security` | the PSS-restricted pod and container security contexts |
| `credentials_secret` | the Secret (`username`/`password`) holding a store's credentials |
| `ca_volume` | mount a CA Secret's `ca.crt` (stores signed by a private CA) |
| `SecretEnv`, `exec_with_secret_env` | mount Secrets as files, export them in the entrypoint |
| `NetworkPeer`, `service_network_policies` | default deny, DNS, then the listed ingress/egress |
| `pod_disruption_budget`, `spread` | PDB (maxUnavailable 1) and zone/node topology spread |

Namespaces come from `components.namespace.platform_namespace`, certificates from
`components.pki.server_certificate` (shared with the core services).

Why `exec_with_secret_env`: libpq (`PGUSER`/`PGPASSWORD`), the AWS SDK and the MLflow/Feast
servers read credentials from the environment only. Putting `secretKeyRef` in the pod spec would
break UAE-K8S-004 (CKV_K8S_35: secrets as files, not environment variables), so Secrets are
mounted read-only and a POSIX shell exports them into the process environment right before
`exec` — the values never appear in the pod spec, in argv, or in a ConfigMap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.endpoints import Credentials, EgressRule, Postgres

UID = 10001  # the non-root user every platform image runs as (USER in its Dockerfile)
SECRET_FILE_MODE = 0o440  # owner + fsGroup read; nothing else


def pod_security(uid: int = UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(uid: int = UID) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def tmp_volume(size: str = "1Gi") -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) for a writable /tmp under a read-only root filesystem."""
    return {"name": "tmp", "emptyDir": {"sizeLimit": size}}, {"name": "tmp", "mountPath": "/tmp"}


def ca_volume(volume: str, secret: str, mount: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(volume, mount) for the `ca.crt` of a CA Secret, read-only at `mount`/ca.crt."""
    return (
        {
            "name": volume,
            "secret": {
                "secretName": secret,
                "defaultMode": SECRET_FILE_MODE,
                "items": [{"key": "ca.crt", "path": "ca.crt"}],
            },
        },
        {"name": volume, "mountPath": mount, "readOnly": True},
    )


def credentials_secret(
    name: str,
    namespace: str,
    secret_name: str,
    labels: dict[str, str],
    credentials: Credentials,
    opts: pulumi.ResourceOptions,
) -> str:
    """The name of a Secret with keys `username`/`password` in `namespace`.

    Pulumi-managed credentials are written into a new Secret (values stay Pulumi secrets); an
    `existing_secret` provided by the site is referenced as is (it must exist in `namespace`).
    """
    if credentials.existing_secret:
        return credentials.existing_secret
    if credentials.password is None:
        raise ValueError(f"{name}: credentials need a password or an existing_secret")
    data: dict[str, pulumi.Input[str]] = {"password": pulumi.Output.secret(credentials.password)}
    if credentials.username is not None:
        data["username"] = credentials.username
    k8s.core.v1.Secret(
        name,
        metadata={"name": secret_name, "namespace": namespace, "labels": labels},
        type="Opaque",
        string_data=data,
        opts=opts,
    )
    return secret_name


def postgres_ca_secret(
    name: str,
    namespace: str,
    postgres: Postgres,
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> None:
    """Write the database CA (public certificates) into `namespace` when the foundation hands
    the PEM over (e.g. the RDS bundle); other foundations distribute `ca_secret` themselves."""
    if postgres.ca_secret and postgres.ca_pem:
        k8s.core.v1.Secret(
            name,
            metadata={"name": postgres.ca_secret, "namespace": namespace, "labels": labels},
            type="Opaque",
            string_data={"ca.crt": postgres.ca_pem},
            opts=opts,
        )


def postgres_root_cert(postgres: Postgres, ca_file: str) -> str | None:
    """libpq's `sslrootcert` for `postgres`: `ca_file` where the foundation names a CA Secret
    (mounted there), else `system` (the OS store; libpq >= 16 refuses it with any sslmode
    below verify-full), else None: `sslmode=require` encrypts without verifying the server,
    which the foundation declares as a SecurityException (RDS without its CA bundle)."""
    if postgres.ca_secret:
        return ca_file
    return "system" if postgres.ssl_mode == "verify-full" else None


def has_username(credentials: Credentials) -> bool:
    return bool(credentials.existing_secret) or credentials.username is not None


@dataclass(frozen=True)
class SecretEnv:
    """A Secret mounted read-only at `mount`; `exports` maps ENV_NAME → key in the Secret."""

    volume: str
    secret: str
    mount: str
    exports: dict[str, str] = field(default_factory=dict)

    def volume_spec(self) -> dict[str, Any]:
        return {
            "name": self.volume,
            "secret": {"secretName": self.secret, "defaultMode": SECRET_FILE_MODE},
        }

    def mount_spec(self) -> dict[str, Any]:
        return {"name": self.volume, "mountPath": self.mount, "readOnly": True}


def libpq_secret_env(secret: str, mount: str, credentials: Credentials) -> SecretEnv:
    """PGUSER (when the credentials name one) and PGPASSWORD from a credentials Secret."""
    user = {"PGUSER": "username"} if has_username(credentials) else {}
    return SecretEnv("postgres", secret, mount, {**user, "PGPASSWORD": "password"})


def object_meta(
    name: str,
    namespace: str,
    labels: dict[str, str],
    annotations: dict[str, pulumi.Input[str]] | None = None,
) -> k8s.meta.v1.ObjectMetaArgsDict:
    """Metadata of a namespaced platform object; `annotations` only when given (even empty)."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {
        "name": name,
        "namespace": namespace,
        "labels": labels,
    }
    if annotations is not None:
        metadata["annotations"] = annotations
    return metadata


def exec_with_secret_env(command: list[Any], secrets: list[SecretEnv]) -> list[Any]:
    """Wrap `command` so the listed Secret files are exported as environment variables.

    `set -eu` makes a missing key fail the container instead of starting with empty credentials.
    """
    names: list[str] = []
    lines = ["set -eu"]
    for secret in secrets:
        for var, key in secret.exports.items():
            lines.append(f'{var}="$(cat {secret.mount}/{key})"')
            names.append(var)
    if names:
        lines.append("export " + " ".join(names))
    lines.append('exec "$@"')
    return ["/bin/sh", "-c", "; ".join(lines), str(command[0]), *command]


# --------------------------------------------------------------------------- network policies


@dataclass(frozen=True)
class NetworkPeer:
    """Where traffic may go or come from: a namespace (optionally pods in it) or a CIDR."""

    ports: tuple[int, ...]
    namespace: str | None = None
    pod_labels: dict[str, str] = field(default_factory=dict)
    cidr: str | None = None
    tenants: bool = False  # every namespace labelled as a tenant's
    except_cidrs: tuple[str, ...] = ()  # with `cidr`: ranges that stay denied

    @classmethod
    def egress(cls, rule: EgressRule) -> NetworkPeer:
        """The peer for a destination the foundation describes (workload identity, Kafka)."""
        return cls(rule.ports, cidr=rule.cidr, except_cidrs=rule.except_cidrs)

    def peer(self) -> dict[str, Any]:
        if self.tenants:
            selector = {"matchExpressions": [{"key": c.TENANT_LABEL, "operator": "Exists"}]}
            return {"namespaceSelector": selector}
        if self.cidr:
            block: dict[str, Any] = {"cidr": self.cidr}
            if self.except_cidrs:
                block["except"] = list(self.except_cidrs)
            return {"ipBlock": block}
        out: dict[str, Any] = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": self.namespace}}
        }
        if self.pod_labels:
            out["podSelector"] = {"matchLabels": self.pod_labels}
        return out

    def rule(self, direction: str) -> dict[str, Any]:
        return {
            direction: [self.peer()],
            "ports": [{"protocol": "TCP", "port": p} for p in self.ports],
        }


_DNS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def service_network_policies(
    name: str,
    namespace: str,
    labels: dict[str, str],
    pod_labels: dict[str, str],
    ingress: list[NetworkPeer],
    egress: list[NetworkPeer],
    opts: pulumi.ResourceOptions,
) -> list[k8s.networking.v1.NetworkPolicy]:
    """Default-deny the namespace, then allow exactly the listed flows for `pod_labels` pods.

    Pods of the same namespace may talk to each other (servers, bootstrap jobs, probes).
    Returns the policies, for pods that must not start before they apply (bootstrap Jobs).
    """

    def policy(suffix: str, spec: dict[str, Any]) -> k8s.networking.v1.NetworkPolicy:
        metadata: Any = {"name": suffix, "namespace": namespace, "labels": labels}
        body: Any = spec  # the SDK's TypedDicts do not accept plain dicts under mypy
        return k8s.networking.v1.NetworkPolicy(
            f"{name}-np-{suffix}",
            metadata=metadata,
            spec=body,
            opts=opts,
        )

    deny = policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    within = policy(
        "allow-dns-and-namespace",
        {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "egress": [_DNS, {"to": [{"podSelector": {}}]}],
        },
    )
    service = policy(
        "allow-service",
        {
            "podSelector": {"matchLabels": pod_labels},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [peer.rule("from") for peer in ingress],
            "egress": [peer.rule("to") for peer in egress],
        },
    )
    return [deny, within, service]


def pod_disruption_budget(
    name: str,
    pdb_name: str,
    namespace: str,
    labels: dict[str, str],
    selector: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.policy.v1.PodDisruptionBudget:
    # maxUnavailable (not minAvailable) so a single-replica test stack can still drain nodes.
    metadata: Any = {"name": pdb_name, "namespace": namespace, "labels": labels}
    spec: Any = {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    return k8s.policy.v1.PodDisruptionBudget(
        name,
        metadata=metadata,
        spec=spec,
        opts=opts,
    )


def spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Spread replicas over zones and nodes (best effort: a one-zone site still schedules)."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def upstream(opts: pulumi.ResourceOptions | None) -> list[Any]:
    """A component's explicit `depends_on`, to hand to its first children.

    Pulumi does not pass a component's `depends_on` down to the resources it creates, so a
    Certificate could otherwise be sent before cert-manager's CRDs exist.
    """
    if opts is None or opts.depends_on is None:
        return []
    deps = opts.depends_on
    return list(deps) if isinstance(deps, list | tuple) else [deps]
