"""Supply chain: images from in-country registries, immutable references, approved providers.

UAE-RES-005 registries, UAE-K8S-003 immutable image and chart references (plus ECR tag
immutability and scan-on-push), UAE-SUP-001 approved providers and API versions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.core import Policy, ResourceView, Severity, get, truthy
from policies.k8s import has_digest, image_refs, registry_host, tag_of
from policies.pack_config import PackConfig

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def _chart_source(r: ResourceView) -> str | None:
    chart = r.props.get("chart")
    if not isinstance(chart, str) or not chart:
        return None
    if "://" in chart:
        return chart
    repo = get(r.props, "repositoryOpts.repo")
    if isinstance(repo, str) and repo:
        return f"{repo.rstrip('/')}/{chart}"
    return None  # a chart vendored in the repository (local path)


# --------------------------------------------------------------------------- UAE-RES-005


def check_registries(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    allowed = ", ".join(cfg.allowed_registries)
    for image in image_refs(r):
        ref = image.ref
        if image.kind == "registry":
            if not cfg.registry_allowed(ref.rstrip("/") + "/"):
                yield (
                    f"{r.describe()} pulls its images from registry '{ref}' ({image.path}), "
                    f"not an in-country registry (allowed: {allowed})."
                )
        elif registry_host(ref) == "docker.io" or not cfg.registry_allowed(ref):
            yield (
                f"{r.describe()} pulls image '{ref}' ({image.path}) from {registry_host(ref)}, "
                f"not an in-country registry (allowed: {allowed})."
            )
    if r.type == HELM_RELEASE:
        source = _chart_source(r)
        if source is not None:
            ref = re.sub(r"^[a-z]+://", "", source)
            if not cfg.registry_allowed(ref):
                yield (
                    f"{r.describe()} installs its chart from '{source}', not an in-country "
                    f"registry (allowed: {allowed})."
                )


RES_005 = Policy(
    id="UAE-RES-005",
    name="Images and charts only from in-country registries",
    description=(
        "Every container image and Helm chart is pulled from the stack's in-country registry "
        "(ECR in me-central-1, ACR in a UAE location, or the site's Harbor mirror)."
    ),
    severity=Severity.HIGH,
    iso_controls=("5.21", "8.9"),
    uae_refs=("UAE IAR (supply chain)", "UAE Cloud Security Policy"),
    remediation=(
        "Mirror the image/chart into the stack's registry (the catalogue lists what to mirror: "
        "`mlplatform catalogue`) and reference it as Image.ref(config.image_registry) / "
        "Chart.oci(config.image_registry); set every chart image value to the mirror."
    ),
    domain="supply-chain",
    applies=lambda r: r.is_kubernetes and not r.is_provider,
    check=check_registries,
    config_keys=("allowed_registries",),
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
        "Record the digest in stacks/catalogue.py (Image.ref appends @sha256:...), or enable "
        "immutable tags on the mirror (registry.immutableTags) and never use 'latest'; pin "
        "Release.version to an exact chart version; set imageTagMutability='IMMUTABLE' and "
        "imageScanningConfiguration.scanOnPush=true on ECR repositories."
    ),
    domain="supply-chain",
    applies=lambda r: (
        (r.is_kubernetes and not r.is_provider) or r.type == "aws:ecr/repository:Repository"
    ),
    check=check_immutable,
    config_keys=("immutable_tags",),
)


# --------------------------------------------------------------------------- UAE-SUP-001

PRERELEASE = re.compile(r"/v\d+(alpha|beta)\d*$")
AZURE_PREVIEW = re.compile(r"^azure-native:[a-z0-9]+/v\d{8}preview:", re.IGNORECASE)


def check_supply(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    package = r.type.split(":")[2] if r.is_provider else r.package
    if package not in cfg.allowed_providers:
        yield (
            f"{r.describe()} comes from provider package '{package}', which is not on the approved "
            f"list ({', '.join(cfg.allowed_providers)})."
        )
    if r.is_kubernetes_object:
        api = r.props.get("apiVersion")
        if (
            isinstance(api, str)
            and PRERELEASE.search("/" + api.split("/")[-1])
            and api not in cfg.approved_api_versions
        ):
            yield f"{r.describe()} uses pre-release API '{api}', which is not approved."
    if AZURE_PREVIEW.match(r.type):
        yield f"{r.describe()} uses a preview Azure API version ({r.type.split(':')[1]})."


SUP_001 = Policy(
    id="UAE-SUP-001",
    name="Only approved providers, services and API versions",
    description=(
        "Resources come from approved provider packages; Kubernetes alpha/beta APIs and Azure "
        "preview API versions are used only where explicitly approved."
    ),
    severity=Severity.MEDIUM,
    iso_controls=("5.23", "8.9"),
    uae_refs=("UAE Cloud Security Policy (approved CSP services)", "DESC CSP"),
    remediation=(
        "Use the approved providers (aws, azure-native, kubernetes, random, tls) and GA API "
        "versions; if a pre-release API is genuinely needed, add it to approved_api_versions with "
        "the reason in review."
    ),
    domain="supply-chain",
    applies=lambda r: True,
    check=check_supply,
    config_keys=("approved_api_versions", "allowed_providers"),
)

POLICIES = (RES_005, K8S_003, SUP_001)
