"""Kubernetes workloads: Pod Security restricted, container hygiene, secrets handling.

UAE-K8S-001 (PSS restricted namespaces and hardened pods; the GPU operator namespace is an
explicit exemption), UAE-K8S-002 (read-only root, requests/limits, GPU limits, probes),
UAE-K8S-003 (immutable image and chart references; ECR tag immutability and scan-on-push),
UAE-K8S-004 (no literal secrets in env, ConfigMaps, Helm values or cloud inputs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.core import (
    SECRET_MARKER,
    Policy,
    ResourceView,
    Severity,
    as_list,
    get,
    truthy,
    walk,
)
from policies.k8s import (
    HELM_RELEASE,
    TOKEN_REASON_ANNOTATION,
    Container,
    PodSpec,
    has_digest,
    image_refs,
    pod_specs,
    tag_of,
)
from policies.pack_config import PackConfig

NAMESPACE = "kubernetes:core/v1:Namespace"
PSS_ENFORCE = "pod-security.kubernetes.io/enforce"
GPU = "nvidia.com/gpu"
CIS_PSS = "CIS Kubernetes Benchmark 5.2.x"

# --------------------------------------------------------------------------- UAE-K8S-001


def _container_gaps(pod: PodSpec, c: Container) -> list[str]:
    gaps: list[str] = []
    if truthy(get(c.spec, "securityContext.privileged")):
        gaps.append("privileged: true")
    escalation = get(c.spec, "securityContext.allowPrivilegeEscalation")
    if escalation is None or truthy(escalation) is not False:
        gaps.append("allowPrivilegeEscalation is not false")
    if truthy(pod.security(c, "runAsNonRoot")) is not True:
        gaps.append("runAsNonRoot is not true")
    user = pod.security(c, "runAsUser")
    if user is not None and str(user).split(".")[0] == "0":
        gaps.append("runs as UID 0")
    drops = [str(d) for d in as_list(get(c.spec, "securityContext.capabilities.drop"))]
    if "ALL" not in drops:
        gaps.append("capabilities do not drop ALL")
    added = [str(a) for a in as_list(get(c.spec, "securityContext.capabilities.add"))]
    if [a for a in added if a != "NET_BIND_SERVICE"]:
        gaps.append(f"adds capabilities {added}")
    seccomp = pod.security(c, "seccompProfile")
    if get(seccomp, "type") not in ("RuntimeDefault", "Localhost"):
        gaps.append("seccompProfile is not RuntimeDefault")
    return gaps


def check_pod_security(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type == NAMESPACE:
        level = r.labels.get(PSS_ENFORCE)
        if level != "restricted":
            yield (
                f"{r.describe()} enforces Pod Security '{level or 'none'}', "
                f"not 'restricted' ({PSS_ENFORCE})."
            )
        return
    for pod in pod_specs(r):
        host = [k for k in ("hostNetwork", "hostPID", "hostIPC") if truthy(pod.spec.get(k))]
        if host:
            yield f"{r.describe()} shares host namespaces ({', '.join(host)}) at {pod.path}."
        for c in pod.containers:
            gaps = _container_gaps(pod, c)
            if gaps:
                yield f"{r.describe()} container '{c.name}' ({c.path}): {'; '.join(gaps)}."


K8S_001 = Policy(
    id="UAE-K8S-001",
    name="Pod Security Standard 'restricted'",
    description=(
        "Namespaces enforce Pod Security 'restricted'; pods run non-root, without privilege, "
        "host namespaces or escalation, dropping ALL capabilities, with the RuntimeDefault seccomp "
        "profile. Exceptions (the GPU operator namespace) are explicit and reported."
    ),
    severity=Severity.CRITICAL,
    iso_controls=("8.9", "5.15"),
    uae_refs=(CIS_PSS,),
    remediation=(
        "Label the namespace pod-security.kubernetes.io/enforce=restricted "
        "and give every container "
        "securityContext {runAsNonRoot: true, allowPrivilegeEscalation: "
        "false, capabilities: {drop: "
        "[ALL]}, seccompProfile: {type: RuntimeDefault}}; a namespace that truly needs privileges "
        "goes into components.namespace.PSS_EXEMPTIONS and the pack's exemptions with its reason."
    ),
    domain="kubernetes",
    applies=lambda r: r.type == NAMESPACE or bool(pod_specs(r)),
    check=check_pod_security,
)


# --------------------------------------------------------------------------- UAE-K8S-002


def _hygiene_gaps(pod: PodSpec, c: Container) -> list[str]:
    gaps: list[str] = []
    if truthy(get(c.spec, "securityContext.readOnlyRootFilesystem")) is not True:
        gaps.append("root filesystem is writable")
    resources = c.spec.get("resources") or {}
    missing = [
        f"{kind}.{res}"
        for kind in ("requests", "limits")
        for res in ("cpu", "memory")
        if get(resources, f"{kind}.{res}") in (None, "")
    ]
    if missing:
        gaps.append(f"no {', '.join(missing)}")
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    if GPU in requests and GPU not in limits:
        gaps.append(f"requests {GPU} without a {GPU} limit")
    is_init = ".initContainers." in c.path
    if pod.long_running and not is_init:
        probes = [p for p in ("livenessProbe", "readinessProbe") if not c.spec.get(p)]
        if probes:
            gaps.append(f"no {' / '.join(probes)}")
    return gaps


def check_hygiene(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    for pod in pod_specs(r):
        for c in pod.containers:
            gaps = _hygiene_gaps(pod, c)
            if gaps:
                yield f"{r.describe()} container '{c.name}' ({c.path}): {'; '.join(gaps)}."


K8S_002 = Policy(
    id="UAE-K8S-002",
    name="Container hygiene",
    description=(
        "Containers have a read-only root filesystem, CPU/memory requests and limits, GPU limits "
        "when they request GPUs, and liveness/readiness probes when long-running."
    ),
    severity=Severity.MEDIUM,
    iso_controls=("8.9", "8.6"),
    uae_refs=(),
    remediation=(
        "Set securityContext.readOnlyRootFilesystem: true (mount an emptyDir for scratch space), "
        "resources.requests/limits for cpu and memory (and nvidia.com/gpu limits), and HTTP/TCP "
        "liveness and readiness probes."
    ),
    domain="kubernetes",
    applies=lambda r: bool(pod_specs(r)),
    check=check_hygiene,
)


# --------------------------------------------------------------------------- UAE-K8S-003

FLOATING_VERSION = re.compile(r"[\^~*x><|]|latest", re.IGNORECASE)


def check_immutable(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type == "aws:ecr/repository:Repository":
        mutability = r.props.get("imageTagMutability") or "MUTABLE"
        if not str(mutability).startswith("IMMUTABLE"):
            yield f"{r.describe()} allows tags to be overwritten (imageTagMutability={mutability})."
        if truthy(get(r.props, "imageScanningConfiguration.scanOnPush")) is False:
            yield f"{r.describe()} does not scan images on push."
        return
    for image in image_refs(r):
        ref, path = image.ref, image.path
        if image.kind == "registry" or has_digest(ref):
            continue
        if image.kind == "chart-default":
            if not cfg.immutable_tags:
                yield (
                    f"{r.describe()} uses image '{ref}' ({path}) "
                    "at the chart's default tag, and the "
                    "registry is not declared to enforce immutable tags: pin it by digest."
                )
            continue
        tag = tag_of(ref)
        if tag is None or tag == "latest":
            yield f"{r.describe()} uses image '{ref}' ({path}) without a tag or with 'latest'."
        elif not cfg.immutable_tags:
            yield (
                f"{r.describe()} uses image '{ref}' ({path}) by tag only, and the registry is not "
                "declared to enforce immutable tags: pin it by digest."
            )
    if r.type == HELM_RELEASE:
        version = r.props.get("version")
        if not isinstance(version, str) or not version or FLOATING_VERSION.search(version):
            yield f"{r.describe()} does not pin its chart version (version={version!r})."


K8S_003 = Policy(
    id="UAE-K8S-003",
    name="Immutable image and chart references",
    description=(
        "Images are pinned by digest (or by tag on a registry that enforces immutable tags), never "
        "'latest'; chart versions are exact; ECR repositories are IMMUTABLE and scan on push."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.8", "8.32"),
    uae_refs=(),
    remediation=(
        "Record the digest in the version catalogue (version_catalogue/__init__.py; Image.ref "
        "appends @sha256:...), or enable immutable tags on the mirror (registry.immutableTags) "
        "and never use 'latest'; pin Release.version to an exact chart version; set "
        "imageTagMutability='IMMUTABLE' and "
        "imageScanningConfiguration.scanOnPush=true on ECR repositories."
    ),
    domain="supply-chain",
    applies=lambda r: (
        (r.is_kubernetes and not r.is_provider) or r.type == "aws:ecr/repository:Repository"
    ),
    check=check_immutable,
    config_keys=("immutable_tags",),
)


# --------------------------------------------------------------------------- UAE-K8S-004

SECRET_WORD = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)", re.I
)
REFERENCE_SUFFIX = re.compile(
    r"(NAME|REF|PATH|FILE|DIR|ARN|URI|URL|KEY_ID|ID|KEY|SECRET|ENABLED|CREATE|MOUNT|KEYS|TYPE|PROVIDER|SELECTOR)$",
    re.I,
)
# `key: value` / `key=value` on one line: a key that opens a nested block (a volume's
# `secret:` then `secretName:` on the next line) holds no value, so no newline is crossed.
CONFIG_SECRET = re.compile(
    r"(?i)\b(password|passwd|secret|token|api_key|apikey)\b[ \t]*[:=][ \t]*['\"]?([^\s'\"$\{<]{4,})"
)
# Inputs that hold a credential on cloud resources; they must arrive as Pulumi secrets.
CLOUD_SECRET_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:rds/instance:Instance": ("password",),
    "aws:rds/cluster:Cluster": ("masterPassword",),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("authToken",),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString",),
    "azure-native:dbforpostgresql:Server": ("administratorLoginPassword",),
    "azure-native:keyvault:Secret": ("properties.value",),
    "azure-native:redis:Redis": ("redisConfiguration.authnotrequired",),
}


def _secret_name(name: str) -> bool:
    return bool(SECRET_WORD.search(name)) and not REFERENCE_SUFFIX.search(name.replace("-", "_"))


def _literal(value: Any) -> bool:
    return (
        isinstance(value, str) and bool(value) and "{{" not in value and not value.startswith("$(")
    )


def check_secrets(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t = r.type
    if t == "kubernetes:core/v1:Secret":
        if r.secrets_visible:
            for key in ("data", "stringData"):
                entries = r.props.get(key)
                if not isinstance(entries, dict):
                    continue  # absent, or the whole map is a Pulumi secret
                for name, value in entries.items():
                    if value != SECRET_MARKER and value not in (None, ""):
                        yield (
                            f"{r.describe()} {key}.{name} is a plain value "
                            "in the program, not a Pulumi secret."
                        )
        return
    if t == "kubernetes:core/v1:ConfigMap":
        for key, value in (r.props.get("data") or {}).items():
            if _secret_name(key) and _literal(value):
                yield f"{r.describe()} stores '{key}' in a ConfigMap."
            elif isinstance(value, str):
                for match in CONFIG_SECRET.finditer(value):
                    yield f"{r.describe()} data '{key}' contains a literal {match.group(1)}."
        return
    if t == "kubernetes:helm.sh/v3:Release":
        if not r.secrets_visible:
            return
        for path, value in walk(r.props.get("values"), "values"):
            if path.endswith(f".{TOKEN_REASON_ANNOTATION}"):
                continue  # the reviewed reason a pod mounts its token (UAE-IAM-002), no token
            leaf = path.rsplit(".", 1)[-1]
            if _secret_name(leaf) and _literal(value) and value != SECRET_MARKER:
                yield (
                    f"{r.describe()} passes {path} as a plain value; "
                    "wrap it in pulumi.Output.secret."
                )
        return
    if r.is_kubernetes_object:
        for path, value in walk(r.props.get("spec"), "spec"):
            name = value.get("name") if isinstance(value, Mapping) else None
            if isinstance(name, str) and _secret_name(name) and _literal(value.get("value")):
                yield (
                    f"{r.describe()} sets env {name} to a literal value ({path}); "
                    "reference a Secret (valueFrom.secretKeyRef) or mount it as a file."
                )
        return
    if r.secrets_visible and t in CLOUD_SECRET_INPUTS:
        for key in CLOUD_SECRET_INPUTS[t]:
            value = get(r.props, key)
            if key.endswith("authnotrequired"):
                if truthy(value):
                    yield f"{r.describe()} disables Redis authentication (authnotrequired)."
            elif _literal(value) and value != SECRET_MARKER:
                yield (
                    f"{r.describe()} receives {key} as a plain value: "
                    "it would sit unencrypted in the state."
                )


def _applies_secrets(r: ResourceView) -> bool:
    return (
        r.type in CLOUD_SECRET_INPUTS
        or r.type
        in (
            "kubernetes:core/v1:Secret",
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:helm.sh/v3:Release",
        )
        or bool(pod_specs(r))
    )


K8S_004 = Policy(
    id="UAE-K8S-004",
    name="Secrets handled as secrets",
    description=(
        "No credential is a plain value in the program (Pulumi secrets only), in ConfigMaps, in "
        "Helm values or in container env literals; pods read secrets from Secrets/CSI."
    ),
    severity=Severity.HIGH,
    iso_controls=("5.17", "8.24"),
    uae_refs=("CIS Kubernetes Benchmark 5.4.1/5.4.2",),
    remediation=(
        "Generate credentials with random.RandomPassword or read them with "
        "config.require_secret, pass them as pulumi.Output.secret; reference them from pods with "
        "valueFrom.secretKeyRef or a mounted Secret/CSI volume; keep ConfigMaps free of secrets."
    ),
    domain="kubernetes",
    applies=_applies_secrets,
    check=check_secrets,
)

POLICIES = (K8S_001, K8S_002, K8S_003, K8S_004)
