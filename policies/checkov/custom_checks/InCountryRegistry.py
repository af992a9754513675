"""CKV_UAE_K8S_1: every container image comes from an allowed in-country registry.

Catalogue row UAE-RES-005 (ISO/IEC 27001:2022 5.21, 8.9; IAR supply chain). The allow-list
is per stack: `mlplatform plan` exports the stack's mirror (`config.image_registry`, e.g.
`harbor.dc1.example.ae/mlplatform`) in CKV_UAE_ALLOWED_REGISTRIES before it runs checkov.

CKV_UAE_ALLOWED_REGISTRIES: entries separated by commas or whitespace, each `host[/path]`;
the host may be a glob (`*.dkr.ecr.me-central-1.amazonaws.com`). An image is allowed when
its host matches an entry's host and its repository path lies under the entry's path (path
boundaries respected: `h/ml` allows `h/ml/x:1`, not `h/mlx/x:1`). Entries naming a public
registry are ignored, so the list can never re-open docker.io & co. Without the variable only
ECR in me-central-1 is allowed: the one registry whose host proves it is in the UAE; a Harbor
or an ACR must be named explicitly.

Images are collected from every `image` field under the object's spec: containers,
initContainers and ephemeralContainers of Pods and pod templates, KServe InferenceService
(predictor/transformer/explainer containers) and ServingRuntime containers, Kubeflow TrainJob
`spec.trainer.image` and (Cluster)TrainingRuntime job templates.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

ENV_VAR = "CKV_UAE_ALLOWED_REGISTRIES"
DEFAULT_ALLOWED: tuple[str, ...] = ("*.dkr.ecr.me-central-1.amazonaws.com",)

# Registries outside the UAE (kept in step with stacks/config/residency.py by a test).
PUBLIC_REGISTRIES: tuple[str, ...] = (
    "docker.io",
    "registry-1.docker.io",
    "index.docker.io",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "registry.k8s.io",
    "k8s.gcr.io",
    "nvcr.io",
    "public.ecr.aws",
    "mcr.microsoft.com",
    "cgr.dev",
)

WORKLOAD_KINDS: tuple[str, ...] = (
    "Pod",
    "PodTemplate",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "InferenceService",
    "ServingRuntime",
    "ClusterServingRuntime",
    "TrainJob",
    "TrainingRuntime",
    "ClusterTrainingRuntime",
)

_SPLIT = re.compile(r"[\s,]+")


def registry_host(image: str) -> str:
    """The registry host of an image reference; Docker Hub when the reference names none."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first.lower()
    return "docker.io"


def repository_path(image: str) -> str:
    """The repository path under the host, without tag or digest."""
    host = registry_host(image)
    rest = image.split("/", 1)[1] if image.lower().startswith(host + "/") else image
    rest = rest.split("@", 1)[0]
    last = rest.rsplit("/", 1)
    if ":" in last[-1]:
        last[-1] = last[-1].split(":", 1)[0]
    return "/".join(last)


def _is_public(host_pattern: str) -> bool:
    return any(fnmatch.fnmatchcase(public, host_pattern) for public in PUBLIC_REGISTRIES)


def allowed_registries() -> list[tuple[str, str]]:
    """(host glob, path prefix) pairs from the environment, public registries dropped."""
    raw = os.environ.get(ENV_VAR, "").strip()
    entries = [e for e in _SPLIT.split(raw) if e] if raw else list(DEFAULT_ALLOWED)
    allowed = []
    for entry in entries:
        host, _, path = entry.removeprefix("oci://").strip("/").partition("/")
        host = host.lower()
        if not host or _is_public(host):
            continue
        allowed.append((host, path.strip("/")))
    return allowed


def is_allowed(image: str, allowed: list[tuple[str, str]]) -> bool:
    host, path = registry_host(image), repository_path(image)
    for host_glob, prefix in allowed:
        if not fnmatch.fnmatchcase(host, host_glob):
            continue
        if not prefix or path.startswith(prefix + "/"):
            return True
    return False


def images(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, image) for every string `image` field below node."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}" if path else str(key)
            if key == "image" and isinstance(value, str):
                yield here, value
            else:
                yield from images(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from images(value, f"{path}/[{index}]")


class InCountryRegistry(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Container images come from an allowed in-country registry (UAE-RES-005)",
            id="CKV_UAE_K8S_1",
            categories=(CheckCategories.SUPPLY_CHAIN,),
            supported_entities=WORKLOAD_KINDS,
            guideline=(
                "Pull every image from the stack's in-country mirror (registry.mirror, ECR in "
                f"me-central-1 or ACR in uaenorth); the plan sets {ENV_VAR}."
            ),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        found = list(images(conf.get("spec"), "spec"))
        if not found:
            return CheckResult.UNKNOWN
        allowed = allowed_registries()
        bad = [(key, image) for key, image in found if not is_allowed(image, allowed)]
        self.evaluated_keys = [key for key, _ in (bad or found)]
        if bad:
            names = ", ".join(f"{h}/{p}" if p else h for h, p in allowed) or "none"
            self.details.extend(
                f"{image} ({key}) is not from an allowed registry; allowed: {names}"
                for key, image in bad
            )
            return CheckResult.FAILED
        return CheckResult.PASSED


check = InCountryRegistry()
