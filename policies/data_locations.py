"""Where a resource sends ML data: storage URIs in its inputs, and whether a stack declares them.

Data paths are the URIs a workload is configured with (KServe `storageUri`, MLflow
`--default-artifact-root`/`--backend-store-uri`/`--artifacts-destination`, Feast persistence
paths, feature_store.yaml in ConfigMaps, Helm values, data-store env vars). `DataStores` holds
what a stack declares (buckets, storage accounts, databases, namespaces, the pack's
`data_stores`) and says why a URI is not shown to be in-country. UAE-RES-004
(`rules/residency.py`) is the rule built on these readers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policies.core import (
    SECRET_MARKER,
    UNKNOWN,
    ResourceView,
    StackView,
    endpoint_regions,
    normalize_location,
    strings,
    types,
    walk,
)
from policies.pack_config import PackConfig

URI = re.compile(
    r"\b((?:s3a?|gs|gcs|wasbs?|abfss?|hf|postgres(?:ql)?(?:\+[a-z0-9]+)?|rediss?|https?)://"
    r"[^\s'\"<>]+)"
)
MLFLOW_FLAGS = (
    "--default-artifact-root",
    "--artifacts-destination",
    "--backend-store-uri",
    "--registry-store-uri",
)
# Env vars whose value is a data location (URIs of any scheme, incl. http(s) endpoints).
DATA_ENV = re.compile(
    r"(ARTIFACT|STORE_URI|BACKEND|S3_ENDPOINT|ENDPOINT_URL|BUCKET|STORAGE_URI|REGISTRY_PATH|"
    r"OFFLINE|ONLINE_STORE|FEAST_.*(PATH|URI|URL)|MODEL_URI)"
)
DATA_PATH_TYPES = types(
    "kubernetes:serving.kserve.io/*:InferenceService",
    "kubernetes:feast.dev/*:FeatureStore",
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Pod",
    "kubernetes:apps/v1:*",
    "kubernetes:batch/v1:*",
    "kubernetes:trainer.kubeflow.org/*",
    "kubernetes:helm.sh/v3:Release",
)
IN_CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")
FOREIGN_SCHEMES = {
    "gs": "Google Cloud Storage",
    "gcs": "Google Cloud Storage",
    "hf": "Hugging Face Hub",
}


@dataclass(frozen=True)
class DataPath:
    urn: str
    where: str
    uri: Any  # a URI, or UNKNOWN during a preview


def _from_strings(r: ResourceView) -> Iterator[tuple[str, str]]:
    """URIs with a data scheme anywhere in a resource's inputs (ConfigMaps, CRs, Helm values)."""
    for path, text in strings(r.props):
        if text == SECRET_MARKER:
            continue
        for match in URI.finditer(text):
            uri = match.group(1)
            if uri.startswith("http") and not _http_is_data(path, r):
                continue
            yield path, uri


def _http_is_data(path: str, r: ResourceView) -> bool:
    """http(s) URLs count only where they are storage locations, not APIs or probes."""
    leaf = path.rsplit(".", 1)[-1]
    return leaf in ("storageUri", "uri") or "storageUri" in path


def _from_containers(r: ResourceView) -> Iterator[tuple[str, str]]:
    """MLflow flags in args/command and data-location env vars (any scheme, http included)."""
    for path, value in walk(r.props.get("spec")):
        if not isinstance(value, dict):
            continue
        for key in ("args", "command"):
            items = value.get(key)
            if isinstance(items, list):
                yield from _flag_values(
                    f"spec.{path}.{key}", [i for i in items if isinstance(i, str) or i is UNKNOWN]
                )
        name, text = value.get("name"), value.get("value")
        if not (isinstance(name, str) and isinstance(text, str) and DATA_ENV.search(name)):
            continue
        if "://" in text and text != SECRET_MARKER:
            yield f"spec.{path}.env[{name}]", text


def _flag_values(path: str, items: list[Any]) -> Iterator[tuple[str, Any]]:
    """`--flag VALUE` / `--flag=VALUE` pairs; an unknown word (preview) stays in its place, so
    the value after a flag is never the next flag, and an unknown value is yielded as UNKNOWN."""
    words: list[Any] = []
    for item in items:
        words.extend(item.split() if isinstance(item, str) else [item])
    for i, word in enumerate(words):
        if not isinstance(word, str):
            continue
        for flag in MLFLOW_FLAGS:
            if word == flag and i + 1 < len(words):
                yield f"{path}[{flag}]", words[i + 1]
            elif word.startswith(flag + "="):
                yield f"{path}[{flag}]", word.split("=", 1)[1]


def data_paths(r: ResourceView) -> list[DataPath]:
    found = {(where, uri) for where, uri in _from_strings(r)}
    found |= {(where, uri) for where, uri in _from_containers(r)}
    ordered = sorted(found, key=lambda f: (f[0], str(f[1])))  # an unknown URI sorts as text
    return [DataPath(r.urn, where, uri) for where, uri in ordered]


class DataStores:
    """What the stack declares: buckets, storage accounts, databases, caches, namespaces."""

    def __init__(self, stack: StackView, cfg: PackConfig) -> None:
        self.cfg = cfg
        self.buckets: dict[str, object] = {}
        for b in stack.of_type("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            for key in (b.props.get("bucket"), b.id, b.name):
                if isinstance(key, str):
                    self.buckets[key] = b.props.get("region") or b.region
        self.accounts: dict[str, object] = {}
        for a in stack.of_type("azure-native:storage:StorageAccount"):
            for key in (a.props.get("accountName"), a.name):
                if isinstance(key, str):
                    self.accounts[key.lower()] = a.location
        self.azure_hosts: set[str] = set()
        for s in stack.of_type("azure-native:dbforpostgresql:Server", "azure-native:redis:Redis"):
            for key in (s.props.get("serverName"), s.props.get("name"), s.name):
                if isinstance(key, str):
                    self.azure_hosts.add(key.lower())
        self.namespaces = {r.object_name for r in stack.of_type("kubernetes:core/v1:Namespace")} | {
            "default",
            "kube-system",
        }

    def declared(self, uri: str) -> bool:
        return any(
            uri == s or uri.startswith(s.rstrip("/") + "/") for s in self.cfg.data_stores
        ) or (_host(uri) in {_host(s) or s for s in self.cfg.data_stores})

    def problem(self, uri: str) -> str | None:
        """Why `uri` is not shown to be in-country, or None when it is."""
        if self.declared(uri):
            return None
        scheme = uri.split("://", 1)[0].split("+", 1)[0]
        if scheme in FOREIGN_SCHEMES:
            return f"{FOREIGN_SCHEMES[scheme]} has no UAE region"
        rest = uri.split("://", 1)[1]
        if scheme in ("s3", "s3a"):
            bucket = rest.split("/", 1)[0]
            if bucket not in self.buckets:
                return (
                    f"bucket '{bucket}' is neither declared in this stack nor a declared site store"
                )
            region = self.buckets[bucket]
            if isinstance(region, str) and not self.cfg.region_allowed(region):
                return f"bucket '{bucket}' is in '{region}'"
            return None
        host = _host(uri) or ""
        if scheme in ("wasb", "wasbs", "abfs", "abfss") or host.endswith(
            (".blob.core.windows.net", ".dfs.core.windows.net")
        ):
            account = host.split(".", 1)[0]
            if account not in self.accounts:
                return f"storage account '{account}' is not declared in this stack"
            location = self.accounts[account]
            if isinstance(location, str) and not self.cfg.region_allowed(
                normalize_location(location)
            ):
                return f"storage account '{account}' is in '{location}'"
            return None
        return self._host_problem(host)

    def _host_problem(self, host: str) -> str | None:
        if not host or host in ("localhost", "127.0.0.1"):
            return None
        if host.endswith(IN_CLUSTER_SUFFIXES) or "." not in host:
            return None
        labels = host.split(".")
        if len(labels) == 2 and labels[1] in self.namespaces:
            return None  # service.namespace
        if host.endswith(".amazonaws.com"):
            regions = endpoint_regions("." + host)
            short = [r for r in self.cfg.allowed_regions if _short(r) in labels]
            if (regions and all(self.cfg.region_allowed(g) for g in regions)) or short:
                return None
            return f"host '{host}' is not in an allowed AWS region"
        if host.endswith((".postgres.database.azure.com", ".redis.cache.windows.net")):
            if labels[0] in self.azure_hosts:
                return None
            return f"Azure host '{host}' is not a server declared in this stack"
        return (
            f"host '{host}' is neither in-cluster, declared in this "
            "stack, nor a declared site store"
        )


def _host(uri: str) -> str | None:
    if "://" not in uri:
        return None
    rest = uri.split("://", 1)[1]
    authority = rest.split("/", 1)[0]
    authority = authority.rsplit("@", 1)[-1]
    return authority.split(":", 1)[0].lower() or None


def _short(region: str) -> str:
    """me-central-1 → mec1, the form ElastiCache endpoints use."""
    parts = region.split("-")
    return parts[0] + parts[1][0] + parts[-1] if len(parts) == 3 else region
