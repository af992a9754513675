"""Reading Kubernetes resources as rules need them: pod specs, containers, images, Services.

Pod specs are found in the core workload kinds at their known paths, in KServe
InferenceServices (predictor/transformer/explainer, whose `model` is a container), and in any
other custom resource that embeds a full pod template (a `containers` list whose entries name an
image, e.g. Trainer runtimes' JobSet templates). Helm releases render their pods inside the
chart, invisible here: rules check what the release's values say (images, Service types).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policies.core import ResourceView, get, walk

# kind → path of the pod spec inside the object
POD_SPEC_PATHS: dict[str, str] = {
    "Pod": "spec",
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
LONG_RUNNING = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
ISVC_COMPONENTS = ("predictor", "transformer", "explainer")
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

# The annotation a pod template carries when it must mount its service-account token, with the
# reason (operators talking to the API server). Reviewed like an exemption.
TOKEN_REASON_ANNOTATION = "mlplatform.io/service-account-token"


@dataclass(frozen=True)
class Container:
    path: str
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        name = self.spec.get("name")
        return name if isinstance(name, str) else self.path


@dataclass(frozen=True)
class PodSpec:
    """One pod template inside a resource."""

    path: str
    spec: Mapping[str, Any]
    containers: tuple[Container, ...]
    long_running: bool
    annotations: Mapping[str, Any]
    # A template merged into other pods (KServe serving runtimes): pod-level fields such as the
    # service account come from the InferenceService, only the containers are its own.
    partial: bool = False

    def security(self, container: Container, key: str) -> Any:
        """A security setting, the container's own winning over the pod's (as the kubelet does)."""
        own = get(container.spec, f"securityContext.{key}")
        return own if own is not None else get(self.spec, f"securityContext.{key}")


def _containers(spec: Mapping[str, Any], path: str) -> list[Container]:
    found: list[Container] = []
    for key in CONTAINER_LISTS:
        items = spec.get(key)
        if isinstance(items, list):
            for i, item in enumerate(items):
                if isinstance(item, Mapping):
                    found.append(Container(f"{path}.{key}.{i}", item))
    return found


def _template_annotations(r: ResourceView, spec_path: str) -> Mapping[str, Any]:
    if spec_path.endswith(".spec") and spec_path != "spec":
        meta = get(r.props, spec_path[: -len(".spec")] + ".metadata.annotations")
        if isinstance(meta, Mapping):
            return meta
    return r.annotations


def pod_specs(r: ResourceView) -> list[PodSpec]:
    if not r.is_kubernetes_object:
        return []
    kind = r.kind
    if kind in POD_SPEC_PATHS:
        path = POD_SPEC_PATHS[kind]
        spec = get(r.props, path)
        if not isinstance(spec, Mapping):
            return []
        return [
            PodSpec(
                path,
                spec,
                tuple(_containers(spec, path)),
                kind in LONG_RUNNING,
                _template_annotations(r, path),
            )
        ]
    if kind == "InferenceService":
        found = []
        for component in ISVC_COMPONENTS:
            spec = get(r.props, f"spec.{component}")
            if not isinstance(spec, Mapping):
                continue
            path = f"spec.{component}"
            containers = _containers(spec, path)
            model = spec.get("model")
            if isinstance(model, Mapping):
                containers.append(Container(f"{path}.model", {"name": "kserve-container", **model}))
            found.append(PodSpec(path, spec, tuple(containers), True, r.annotations))
        return found
    # Any other custom resource embedding pod templates (JobSet, Trainer and serving runtimes).
    partial = kind.endswith("ServingRuntime")
    found = []
    for path, value in walk(r.props.get("spec"), "spec"):
        if isinstance(value, Mapping) and isinstance(value.get("containers"), list):
            containers = _containers(value, path)
            if containers and all(isinstance(c.spec.get("image"), str) for c in containers):
                found.append(
                    PodSpec(path, value, tuple(containers), partial, r.annotations, partial)
                )
    return found


@dataclass(frozen=True)
class ImageRef:
    """An image a resource pulls. `kind`: `image` (a full reference), `chart-default` (Helm
    values name the repository; the tag is the chart's appVersion, pinned by the chart version)
    or `registry` (Helm values name only the registry images are pulled from)."""

    path: str
    ref: str
    kind: str = "image"


def image_refs(r: ResourceView) -> Iterator[ImageRef]:
    """Every image a resource pulls (container specs, custom resources, Helm values)."""
    if r.type == "kubernetes:helm.sh/v3:Release":
        yield from helm_images(r.props.get("values"), "values")
        return
    if not r.is_kubernetes_object:
        return
    for path, value in walk(r.props.get("spec"), "spec"):
        if isinstance(value, Mapping):
            image = value.get("image")
            if isinstance(image, str) and image:
                yield ImageRef(f"{path}.image" if path else "image", image)


def _join(*parts: Any) -> str:
    return "/".join(str(p).strip("/") for p in parts if isinstance(p, str) and p)


def _with_tag(ref: str, value: Mapping[str, Any]) -> tuple[str, bool]:
    """Append the sibling `tag`/`version`/`digest` a chart combines with the repository."""
    tagged = False
    tag = value.get("tag") or value.get("version")
    if isinstance(tag, str) and tag and tag_of(ref) is None:
        ref, tagged = f"{ref}:{tag}", True
    digest = value.get("digest")
    if isinstance(digest, str) and digest.startswith("sha256:") and not has_digest(ref):
        ref, tagged = f"{ref}@{digest}", True
    return ref, tagged or tag_of(ref) is not None or has_digest(ref)


REGISTRY_KEYS = ("registry", "imageRegistry", "defaultImageRegistry")


def helm_images(values: Any, base: str) -> Iterator[ImageRef]:
    """Image references in Helm values, in the shapes charts use:

    `image: host/repo:tag`; `image: {registry, repository, tag}`; `{repository: host/path,
    image: name, version}` (NVIDIA); `{image: host/repo, tag}` (KServe); `*Image: host/repo:tag`
    keys, or `*Image: host/repo` beside `*Tag: tag`; `registry`/`imageRegistry`/
    `defaultImageRegistry` (Strimzi) naming only the registry.
    """
    for path, value in walk(values, base):
        if not isinstance(value, Mapping):
            continue
        repository = value.get("repository")
        image = value.get("image")
        registry = next(
            (value[k] for k in REGISTRY_KEYS if isinstance(value.get(k), str) and value[k]), None
        )
        if isinstance(repository, str) and repository:
            name = image if isinstance(image, str) and "/" not in image else None
            ref, pinned = _with_tag(_join(registry, repository, name), value)
            yield ImageRef(f"{path}.repository", ref, "image" if pinned else "chart-default")
        elif isinstance(image, str) and image:
            ref, pinned = _with_tag(_join(registry, image) if registry else image, value)
            yield ImageRef(f"{path}.image", ref, "image" if pinned else "chart-default")
        elif registry is not None:
            yield ImageRef(f"{path}.registry", registry, "registry")
        for key, text in value.items():
            if key.endswith("Image") and isinstance(text, str) and "/" in text:
                # `<x>Image` + `<x>Tag` (KServe's localmodel.defaultJobImage/defaultJobTag)
                tag = value.get(f"{key.removesuffix('Image')}Tag")
                if isinstance(tag, str) and tag and tag_of(text) is None:
                    text = f"{text}:{tag}"
                yield ImageRef(f"{path}.{key}", text)


def registry_host(reference: str) -> str:
    """The registry host of an image reference; Docker Hub when the reference names none."""
    ref = reference.removeprefix("oci://")
    first = ref.split("/", 1)[0]
    if "/" not in ref or ("." not in first and ":" not in first and first != "localhost"):
        return "docker.io"
    return first.lower()


def has_digest(reference: str) -> bool:
    return "@sha256:" in reference


def tag_of(reference: str) -> str | None:
    ref = reference.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def chart_source(r: ResourceView) -> str | None:
    """Where a Helm release's chart comes from (URL or repo/chart); None for a vendored chart."""
    chart = r.props.get("chart")
    if not isinstance(chart, str) or not chart:
        return None
    if "://" in chart:
        return chart
    repo = get(r.props, "repositoryOpts.repo")
    if isinstance(repo, str) and repo:
        return f"{repo.rstrip('/')}/{chart}"
    return None  # a chart vendored in the repository (local path)
