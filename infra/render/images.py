"""Every image the cluster would pull because of a plan, including those operators inject.

Container and init-container images come from every pod template (`policies.k8s.pod_specs`:
workloads, InferenceService predictors, runtimes' JobSet templates). Operators pull more than
their own pods show; those images are read where each operator takes them from:

- the NVIDIA GPU operator: its `ClusterPolicy` (`repository`/`image`/`version` per operand:
  driver and its manager, toolkit, device plugin, DCGM, MIG manager, validator...), counting
  only operands that run (not `enabled: false`; the sandbox operands only with
  `sandboxWorkloads.enabled`);
- KServe: the `inferenceservice-config` ConfigMap (storage initializer, agent, batcher, logger,
  router, explainers' images, the local-model download job);
- operators configured by environment (`*_IMAGE`, `*_IMAGE_NAME`, `*_IMAGES` as `version=image`
  lines: Strimzi, CloudNativePG, redis-operator, the GPU operator) and flags (`--*-image=`,
  cert-manager's ACME solver).

`ImageUse.injected` tells an operator-injected image from a pod's own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from infra.render.objects import ClusterObject
from infra.render.views import resource_view
from policies.k8s import pod_specs

# ClusterPolicy operands that run only for sandboxed (VM passthrough / vGPU) workloads.
SANDBOX_OPERANDS = frozenset(
    {"vfioManager", "vgpuDeviceManager", "sandboxDevicePlugin", "kataManager", "ccManager"}
)
KSERVE_CONFIG = "inferenceservice-config"
_IMAGE_ENV = re.compile(r"_IMAGE(_NAME)?$")
_IMAGE_FLAG = re.compile(r"^--?[a-z0-9-]*image=(.+)$")


@dataclass(frozen=True)
class ImageUse:
    ref: str
    obj: ClusterObject
    path: str  # where in the object, e.g. spec.driver.manager or containers.0.image
    injected: bool = False

    def where(self) -> str:
        return f"{self.obj.describe()} {self.path}"


def images(objects: Iterable[ClusterObject]) -> list[ImageUse]:
    """Every image reference the objects make the cluster pull."""
    found: list[ImageUse] = []
    for obj in objects:
        if obj.kind == "CustomResourceDefinition" or obj.origin.patch:
            continue
        found += _pod_images(obj)
        if obj.kind == "ClusterPolicy" and obj.api_version.startswith("nvidia.com/"):
            found += _cluster_policy(obj)
        elif obj.kind == "ConfigMap" and obj.name == KSERVE_CONFIG:
            found += _kserve_config(obj)
    return found


def _pod_images(obj: ClusterObject) -> Iterator[ImageUse]:
    for pod in pod_specs(resource_view(obj)):
        for container in pod.containers:
            image = container.spec.get("image")
            if isinstance(image, str) and image:
                yield ImageUse(image, obj, f"{container.path}.image")
            yield from _container_injected(obj, container.path, container.spec)


def _container_injected(
    obj: ClusterObject, path: str, spec: Mapping[str, Any]
) -> Iterator[ImageUse]:
    for env in spec.get("env") or []:
        name, value = env.get("name"), env.get("value")
        if not isinstance(name, str) or not isinstance(value, str) or not value:
            continue
        where = f"{path}.env.{name}"
        if _IMAGE_ENV.search(name):
            yield ImageUse(value.strip(), obj, where, injected=True)
        elif name.endswith("_IMAGES"):
            for line in value.split():
                ref = line.split("=", 1)[-1].strip()
                if ref:
                    yield ImageUse(ref, obj, where, injected=True)
    for key in ("args", "command"):
        for i, arg in enumerate(spec.get(key) or []):
            match = _IMAGE_FLAG.match(arg) if isinstance(arg, str) else None
            if match:
                yield ImageUse(match.group(1), obj, f"{path}.{key}.{i}", injected=True)


def _cluster_policy(obj: ClusterObject) -> Iterator[ImageUse]:
    spec = obj.body.get("spec") or {}
    sandbox = bool((spec.get("sandboxWorkloads") or {}).get("enabled"))
    for operand, settings in spec.items():
        if not isinstance(settings, Mapping) or settings.get("enabled") is False:
            continue
        if operand in SANDBOX_OPERANDS and not sandbox:
            continue
        yield from _operand_images(obj, f"spec.{operand}", settings)


def _operand_images(
    obj: ClusterObject, path: str, settings: Mapping[str, Any]
) -> Iterator[ImageUse]:
    image = settings.get("image")
    if isinstance(image, str) and image:
        repository = settings.get("repository")
        version = settings.get("version")
        ref = f"{repository}/{image}" if repository else image
        if isinstance(version, str) and version and not version.startswith("sha256:"):
            ref = f"{ref}:{version}"
        elif isinstance(version, str) and version:
            ref = f"{ref}@{version}"
        yield ImageUse(ref, obj, path, injected=True)
    for key, child in settings.items():
        if isinstance(child, Mapping) and child.get("enabled") is not False:
            yield from _operand_images(obj, f"{path}.{key}", child)


def _kserve_config(obj: ClusterObject) -> Iterator[ImageUse]:
    for key, text in sorted((obj.body.get("data") or {}).items()):
        if key.startswith("_") or not isinstance(text, str):
            continue
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        yield from _kserve_entry(obj, f"data.{key}", entry)


def _kserve_entry(obj: ClusterObject, path: str, entry: Any) -> Iterator[ImageUse]:
    if not isinstance(entry, Mapping):
        return
    image = entry.get("image")
    if isinstance(image, str) and image:
        version = entry.get("defaultImageVersion")
        ref = f"{image}:{version}" if isinstance(version, str) and version else image
        yield ImageUse(ref, obj, f"{path}.image", injected=True)
    job = entry.get("defaultJobImage")
    if isinstance(job, str) and job:
        yield ImageUse(job, obj, f"{path}.defaultJobImage", injected=True)
    for key, child in entry.items():
        if isinstance(child, Mapping):
            yield from _kserve_entry(obj, f"{path}.{key}", child)
