"""The pack's configurable values, their defaults and their CrossGuard config schema.

Defaults are the secure choice and keep the pack self-contained (it must run without this
repository's program). `mlplatform plan` derives a stack's values from its config and writes
them as `policy-config.json`, the file `pulumi preview --policy-pack policies
--policy-pack-config <file>` takes: one entry per CrossGuard policy name with the properties that
policy's schema declares (`PackConfig.to_pulumi_config`).

| key | default | used by |
|---|---|---|
| `allowed_regions` | me-central-1, uaenorth, uaecentral | residency, logs, keys |
| `allowed_registries` | ECR in me-central-1, ACR | UAE-RES-005 |
| `log_retention_days` | 365 | UAE-LOG-003 |
| `restricted_data_classes` | restricted | UAE-KEY-003, UAE-RES-003 |
| `exemptions` | the GPU operator namespace (UAE-K8S-001) | every policy |
| `require_protect` | true (false for `ephemeral` test stacks) | UAE-KEY-004, UAE-CHG-001 |
| `immutable_tags` | false (the mirror enforces immutable tags when true) | UAE-K8S-003 |
| `aws_account_ids` | none (own account read from the stack) | UAE-KEY-005 |
| `azure_tenant_ids` | none | UAE-KEY-005 |
| `data_stores` | none (site object store, existing databases: URIs or hosts) | UAE-RES-004 |
| `approved_api_versions` | KServe v1beta1, Kueue v1beta2, Trainer v1alpha1... | UAE-SUP-001 |
| `allowed_providers` | aws, azure-native, kubernetes, random, tls, pulumi | UAE-SUP-001 |
| `approved_instance_types` | approved GPU and system machine types | UAE-CMP-001 |
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

# Kept equal to stacks/config/residency.py by a test; the pack must not import the program.
AWS_REGIONS: tuple[str, ...] = ("me-central-1",)
AZURE_LOCATIONS: tuple[str, ...] = ("uaenorth", "uaecentral")
DEFAULT_REGIONS: tuple[str, ...] = AWS_REGIONS + AZURE_LOCATIONS

# Azure paired regions: geo-redundant copies go to the pair, which must be in-country too.
AZURE_PAIRS: dict[str, str] = {"uaenorth": "uaecentral", "uaecentral": "uaenorth"}


@dataclass(frozen=True)
class Exemption:
    """An explicit, justified exception: `policy` does not apply where `match` matches.

    `match` is a type token, a Kubernetes namespace, or a substring of the resource's URN.
    Exemptions are reported with their reason wherever they suppress a finding.
    """

    policy: str
    match: str
    reason: str

    def covers(self, policy_id: str, urn: str, type_: str, namespace: str | None) -> bool:
        if self.policy not in (policy_id, "*"):
            return False
        return self.match in (type_, namespace) or self.match in urn


DEFAULT_EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption(
        policy="UAE-K8S-001",
        match="gpu-operator",
        reason=(
            "NVIDIA GPU operator: its driver and container-toolkit daemonsets load kernel modules "
            "and reconfigure the container runtime on GPU hosts; no restricted alternative exists. "
            "Only the operator's own pods run in this namespace."
        ),
    ),
)

DEFAULT_REGISTRIES: tuple[str, ...] = ("*.dkr.ecr.me-central-1.amazonaws.com", "*.azurecr.io")

# Pre-release Kubernetes APIs the platform depends on, each the only served version of its CRD.
DEFAULT_API_VERSIONS: tuple[str, ...] = (
    "serving.kserve.io/v1alpha1",
    "serving.kserve.io/v1beta1",
    "kueue.x-k8s.io/v1beta2",
    "trainer.kubeflow.org/v1alpha1",
    "trust.cert-manager.io/v1alpha1",  # trust-manager serves only v1alpha1
    "redis.redis.opstreelabs.in/v1beta2",  # the Redis operator's only served version
)

DEFAULT_PROVIDERS: tuple[str, ...] = (
    "aws",
    "azure-native",
    "kubernetes",
    "random",
    "tls",
    "pulumi",
    "mlplatform",  # this repository's component resources
)

# Mirrors stacks/config/machine_types.py (GPU pools) plus the system pools' families.
DEFAULT_INSTANCE_TYPES: tuple[str, ...] = (
    "p5.48xlarge",
    "p5e.48xlarge",
    "p4d.24xlarge",
    "g6e.*",
    "g6.*",
    "g5.*",
    "m7i.*",
    "m6i.*",
    "c7i.*",
    "r7i.*",
    "Standard_NC*ads_A100_v4",
    "Standard_NC*_H100_v5",
    "Standard_ND96isr_H100_v5",
    "Standard_ND96asr_v4",
    "Standard_D*ds_v5",
    "Standard_E*ds_v5",
)


@dataclass(frozen=True)
class PackConfig:
    allowed_regions: tuple[str, ...] = DEFAULT_REGIONS
    allowed_registries: tuple[str, ...] = DEFAULT_REGISTRIES
    log_retention_days: int = 365
    restricted_data_classes: tuple[str, ...] = ("restricted",)
    exemptions: tuple[Exemption, ...] = DEFAULT_EXEMPTIONS
    require_protect: bool = True
    immutable_tags: bool = False
    aws_account_ids: tuple[str, ...] = ()
    azure_tenant_ids: tuple[str, ...] = ()
    data_stores: tuple[str, ...] = ()
    approved_api_versions: tuple[str, ...] = DEFAULT_API_VERSIONS
    allowed_providers: tuple[str, ...] = DEFAULT_PROVIDERS
    approved_instance_types: tuple[str, ...] = DEFAULT_INSTANCE_TYPES

    # -- questions rules ask ------------------------------------------------------------
    def region_allowed(self, region: str) -> bool:
        allowed = {r.lower() for r in self.allowed_regions}
        return region.replace(" ", "").lower() in allowed

    def registry_allowed(self, reference: str) -> bool:
        """Whether an image/chart reference (`host/path:tag`, `oci://host/path`) is allowed."""
        ref = reference.removeprefix("oci://").lower()
        for entry in self.allowed_registries:
            pattern = entry.lower().rstrip("/")
            if any(ch in pattern for ch in "*?["):
                host = ref.split("/", 1)[0]
                if fnmatch.fnmatchcase(host, pattern) or fnmatch.fnmatchcase(ref, pattern + "/*"):
                    return True
            elif ref == pattern or ref.startswith(pattern + "/"):
                return True
        return False

    def instance_type_approved(self, machine: str) -> bool:
        return any(fnmatch.fnmatchcase(machine, p) for p in self.approved_instance_types)

    def is_restricted(self, data_class: Any) -> bool:
        return isinstance(data_class, str) and data_class in self.restricted_data_classes

    def exemption_for(
        self, policy_id: str, urn: str, type_: str, namespace: str | None
    ) -> Exemption | None:
        return next(
            (e for e in self.exemptions if e.covers(policy_id, urn, type_, namespace)), None
        )

    # -- (de)serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> PackConfig:
        """Defaults overridden by `values` (a policy's CrossGuard config or a JSON file).

        Unknown keys are ignored (CrossGuard adds `enforcementLevel`); wrong types raise.
        """
        config = cls()
        if not values:
            return config
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in SCHEMA:
                continue
            if key == "exemptions":
                changes[key] = tuple(
                    Exemption(str(e["policy"]), str(e["match"]), str(e["reason"])) for e in value
                )
            elif SCHEMA[key]["type"] == "array":
                if not isinstance(value, list | tuple):
                    raise TypeError(f"policy config {key} must be a list, got {value!r}")
                changes[key] = tuple(str(v) for v in value)
            elif SCHEMA[key]["type"] == "integer":
                changes[key] = int(value)
            elif SCHEMA[key]["type"] == "boolean":
                changes[key] = bool(value)
        return replace(config, **changes)

    def for_policy(self, keys: tuple[str, ...], policy_id: str) -> dict[str, Any]:
        """The properties one CrossGuard policy's schema declares, for policy-config.json."""
        data = self.to_dict()
        out = {k: data[k] for k in keys}
        out["exemptions"] = [e for e in data["exemptions"] if e["policy"] in (policy_id, "*")]
        return out


_STRINGS = {"type": "array", "items": {"type": "string"}}

# JSON schema of every configurable property; a policy's schema is the subset it reads.
SCHEMA: dict[str, dict[str, Any]] = {
    "allowed_regions": {
        **_STRINGS,
        "description": "AWS regions and Azure locations resources, keys, logs and copies may use.",
        "default": list(DEFAULT_REGIONS),
    },
    "allowed_registries": {
        **_STRINGS,
        "description": "In-country registries (host[/path] or host glob) for images and charts.",
        "default": list(DEFAULT_REGISTRIES),
    },
    "log_retention_days": {
        "type": "integer",
        "minimum": 1,
        "description": "Minimum retention of platform and audit logs, in days.",
        "default": 365,
    },
    "restricted_data_classes": {
        **_STRINGS,
        "description": "data-classification values needing HSM/BYOK keys and no edge services.",
        "default": ["restricted"],
    },
    "exemptions": {
        "type": "array",
        "description": "Explicit, justified exceptions, reported wherever they apply.",
        "items": {
            "type": "object",
            "properties": {
                "policy": {"type": "string"},
                "match": {"type": "string"},
                "reason": {"type": "string", "minLength": 20},
            },
            "required": ["policy", "match", "reason"],
        },
        "default": [asdict(e) for e in DEFAULT_EXEMPTIONS],
    },
    "require_protect": {
        "type": "boolean",
        "description": "Stateful resources must set `protect` (false only for ephemeral stacks).",
        "default": True,
    },
    "immutable_tags": {
        "type": "boolean",
        "description": "The registry mirror enforces immutable tags, so tags need no digest.",
        "default": False,
    },
    "aws_account_ids": {
        **_STRINGS,
        "description": "AWS accounts that may appear as principals in key policies.",
        "default": [],
    },
    "azure_tenant_ids": {
        **_STRINGS,
        "description": "Entra ID tenants that may appear in Key Vault access policies.",
        "default": [],
    },
    "data_stores": {
        **_STRINGS,
        "description": "In-country data stores not declared as resources (URI prefixes or hosts).",
        "default": [],
    },
    "approved_api_versions": {
        **_STRINGS,
        "description": "Pre-release Kubernetes API versions that are approved.",
        "default": list(DEFAULT_API_VERSIONS),
    },
    "allowed_providers": {
        **_STRINGS,
        "description": "Resource packages (providers) the platform may use.",
        "default": list(DEFAULT_PROVIDERS),
    },
    "approved_instance_types": {
        **_STRINGS,
        "description": "Approved machine types (globs) for node groups and agent pools.",
        "default": list(DEFAULT_INSTANCE_TYPES),
    },
}
