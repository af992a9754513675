"""Supply chain (UAE-SUP-*): approved provider packages, services and API versions.

UAE-SUP-001. Registries (UAE-RES-005) are residency rules; immutable image and chart
references (UAE-K8S-003) are Kubernetes rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.core import Policy, ResourceView, Severity
from policies.pack_config import PackConfig

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

POLICIES = (SUP_001,)
