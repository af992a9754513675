"""The residency statement of a plan: every place the stack puts something, and if it is in the UAE.

Built from what the plan recorded (resources.json: providers' regions/locations, each resource's
own `region`/`location`, regions inside ARNs and endpoints in any input) plus the stack config
for what the program only references (the on-prem site, object store, key service, registry)
and for where the stack's Pulumi state and secrets provider live (`state.url`,
`state.secretsProvider`). Deterministic: sorted, no timestamps.
"""

from __future__ import annotations

import fnmatch
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlparse

from policies.rules.residency import AZURE_GLOBAL_PATTERNS
from stacks.config import StackConfig, residency

AWS_REGION_NAMES = {"me-central-1": "AWS Middle East (UAE) region, me-central-1"}
AZURE_LOCATION_NAMES = {
    "uaenorth": "Azure UAE North (Dubai)",
    "uaecentral": "Azure UAE Central (Abu Dhabi)",
}
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-gov)?-[a-z]+-[0-9]):")
_ENDPOINT = re.compile(
    r"(?:^|[./@])([a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.(?:[a-z0-9-]+\.)*amazonaws\.com"
)
# Azure resources whose location is `global` by definition (name resolution, alerting and
# private-link access scopes, no customer data) are AZURE_GLOBAL_PATTERNS: the policy pack's
# list (UAE-RES-001), so the report and the pack cannot disagree.
# Types computed by the Pulumi engine itself: no location, they exist only in the state.
_ENGINE_PACKAGES = ("random", "tls", "command", "pulumi")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


def _provider_urn(reference: str | None) -> str | None:
    return reference.rsplit("::", 1)[0] if reference else None


def _in_country(kind: str, value: str) -> bool | None:
    if kind == "azure-global":
        return None  # not a data location (see AZURE_GLOBAL_PATTERNS)
    if kind == "aws-region":
        return value in residency.AWS_REGIONS
    if kind == "azure-location":
        return value in residency.AZURE_LOCATIONS
    return False


def _describe(kind: str, value: str) -> str:
    if kind == "azure-global":
        return (
            "Azure global metadata (private DNS zones and their VNet links, action groups, "
            "Azure Monitor private link scopes: name resolution and access scopes only, no "
            "customer data)"
        )
    if kind == "aws-region":
        return AWS_REGION_NAMES.get(value, f"AWS region {value} (outside the UAE)")
    if kind == "azure-location":
        return AZURE_LOCATION_NAMES.get(value, f"Azure location {value} (outside the UAE)")
    return value


def _cluster_location(config: StackConfig) -> dict[str, Any]:
    if config.platform == "onprem" and config.onprem is not None:
        site = config.onprem.site
        facility = f"{site.facility}; " if site.facility else ""
        return {
            "kind": "on-prem-site",
            "location": f"site {site.name}",
            "where": f"{facility}site {site.name}, {site.emirate}, {site.country}",
            "inCountry": site.country == residency.COUNTRY,
        }
    if config.platform == "aws" and config.aws is not None:
        region = config.aws.region
        return {
            "kind": "aws-region",
            "location": region,
            "where": f"EKS cluster in {_describe('aws-region', region)}",
            "inCountry": _in_country("aws-region", region),
        }
    assert config.azure is not None
    location = config.azure.location
    return {
        "kind": "azure-location",
        "location": location,
        "where": f"AKS cluster in {_describe('azure-location', location)}",
        "inCountry": _in_country("azure-location", location),
    }


def _resource_locations(
    resources: list[Mapping[str, Any]],
) -> tuple[
    dict[tuple[str, str], list[Mapping[str, Any]]], Counter[tuple[str, str]], dict[str, int]
]:
    """(kind, value) → resources placed there; (kind, value) → references; other counts."""
    by_urn = {r["urn"]: r for r in resources}
    placed: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    referenced: Counter[tuple[str, str]] = Counter()
    other = {"kubernetes": 0, "engine": 0, "components": 0, "inherited": 0}
    for r in resources:
        typ, inputs = r["type"], r.get("inputs") or {}
        package = typ.split(":", 1)[0]
        provider = by_urn.get(_provider_urn(r.get("provider")) or "")
        provider_inputs = (provider or {}).get("inputs") or {}
        if typ == "pulumi:providers:aws" or package == "aws":
            region = inputs.get("region") or provider_inputs.get("region")
            if isinstance(region, str) and region:
                placed[("aws-region", region)].append(r)
            else:
                other["inherited"] += 1
        elif typ == "pulumi:providers:azure-native" or package in ("azure-native", "azure"):
            location = inputs.get("location") or provider_inputs.get("location")
            if isinstance(location, str) and location:
                location = location.replace(" ", "").lower()
                metadata = any(fnmatch.fnmatchcase(typ, g) for g in AZURE_GLOBAL_PATTERNS)
                kind = "azure-global" if location == "global" and metadata else "azure-location"
                placed[(kind, location)].append(r)
            else:
                other["inherited"] += 1  # child resources live where their parent is
        elif package == "kubernetes" or typ == "pulumi:providers:kubernetes":
            other["kubernetes"] += 1
        elif not r.get("custom", True):
            other["components"] += 1
        elif package in _ENGINE_PACKAGES or typ.startswith("pulumi:providers:"):
            other["engine"] += 1
        else:
            other["inherited"] += 1
        for text in _strings(inputs):
            for region in {*_ARN.findall(text), *_ENDPOINT.findall(text)}:
                referenced[("aws-region", region)] += 1
    return placed, referenced, other


def _backend(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    region: str | None = (query.get("region") or [None])[0]  # type: ignore[list-item]
    scheme = parsed.scheme or url
    if scheme == "s3":
        return {
            "url": url,
            "kind": "aws-s3",
            "location": region,
            "where": f"S3 bucket {parsed.netloc} in {_describe('aws-region', region or '?')}",
            "inCountry": _in_country("aws-region", region or ""),
        }
    if scheme == "azblob":
        account = (query.get("storage_account") or ["named by AZURE_STORAGE_ACCOUNT"])[0]
        return {
            "url": url,
            "kind": "azure-blob",
            "location": None,
            "where": (
                f"Azure Blob container {parsed.netloc} in the storage account {account}, which "
                "must be in uaenorth or uaecentral (`mlplatform verify --preflight` checks it)"
            ),
            "inCountry": None,
        }
    if scheme in ("file", "postgres"):
        where = "the file system" if scheme == "file" else "a PostgreSQL database"
        return {
            "url": url,
            "kind": f"on-prem-{scheme}",
            "location": parsed.netloc or parsed.path,
            "where": (
                f"{where} of the operator's in-country environment ({parsed.netloc or parsed.path})"
            ),
            "inCountry": None,
        }
    return {
        "url": url,
        "kind": scheme,
        "location": None,
        "where": "not an in-country backend",
        "inCountry": False,
    }


def _hashivault(url: str) -> dict[str, Any]:
    """`hashivault://<key>[?engine=<mount>]`: Pulumi's keeper takes host + path as the key name
    and the Vault address from VAULT_SERVER_URL/VAULT_ADDR where `pulumi` runs; the URL names no
    place. A key name with '/' is the malformed `hashivault://<host>/transit/keys/<key>` form."""
    parsed = urlparse(url)
    key = f"{parsed.netloc}{parsed.path}"
    engine = (parse_qs(parsed.query).get("engine") or ["transit"])[0]
    if "/" in key or not key:
        where = (
            f"MALFORMED: '{key}' is not a Vault key name; hashivault:// takes the {engine} key's "
            "name (hashivault://<key>) and the Vault address from VAULT_ADDR"
        )
        return {"url": url, "kind": "hashicorp-vault", "location": None, "where": where,
                "inCountry": None}  # fmt: skip
    return {
        "url": url,
        "kind": "hashicorp-vault",
        "location": None,
        "where": (
            f"HashiCorp Vault {engine} key '{key}' on the Vault that VAULT_ADDR names where "
            "`pulumi` runs (the site's in-country Vault; `mlplatform verify --preflight` checks "
            "the key there)"
        ),
        "inCountry": None,
    }


def _secrets_provider(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    region: str | None = (query.get("region") or [None])[0]  # type: ignore[list-item]
    scheme = parsed.scheme or url
    if scheme == "awskms":
        return {
            "url": url,
            "kind": "aws-kms",
            "location": region,
            "where": (
                f"KMS key {parsed.netloc}{parsed.path} in {_describe('aws-region', region or '?')}"
            ),
            "inCountry": _in_country("aws-region", region or ""),
        }
    if scheme == "azurekeyvault":
        return {
            "url": url,
            "kind": "azure-key-vault",
            "location": None,
            "where": f"Key Vault {parsed.netloc}; the vault must be in uaenorth or uaecentral",
            "inCountry": None,
        }
    if scheme == "hashivault":
        return _hashivault(url)
    if url.startswith("passphrase"):
        return {
            "url": url,
            "kind": "passphrase",
            "location": None,
            "where": "a passphrase held by the operators (no key service)",
            "inCountry": None,
        }
    return {
        "url": url,
        "kind": scheme,
        "location": None,
        "where": "not an in-country provider",
        "inCountry": False,
    }


def _by_reference(config: StackConfig) -> list[dict[str, Any]]:
    """Services the program references but does not create: where the config says they are."""
    refs: list[dict[str, Any]] = [
        {
            "service": "container and chart registry",
            "reference": config.image_registry,
            "where": _registry_where(config),
        }
    ]
    if config.onprem is not None:
        where = config.onprem.site
        site = f"site {where.name} ({where.emirate}, {where.country})"
        store = config.onprem.object_store
        refs.append(
            {
                "service": "object store (S3-compatible)",
                "reference": f"{store.endpoint} (region label {store.region})",
                "where": site,
            }
        )
        keys = config.onprem.keys
        for label, uri in (
            ("data key", keys.data_key_uri),
            ("secrets key", keys.secrets_key_uri),
            ("logs key", keys.logs_key_uri),
        ):
            refs.append({"service": f"{keys.provider} {label}", "reference": uri, "where": site})
        for name, svc in (("PostgreSQL", config.onprem.postgres), ("Redis", config.onprem.redis)):
            if svc.mode == "existing" and svc.existing is not None:
                refs.append(
                    {
                        "service": f"existing {name}",
                        "reference": f"{svc.existing.host}:{svc.existing.port}",
                        "where": site,
                    }
                )
    return sorted(refs, key=lambda r: (r["service"], r["reference"]))


def _registry_where(config: StackConfig) -> str:
    host = residency.registry_host(config.image_registry)
    if ".dkr.ecr." in host:
        region = host.split(".dkr.ecr.", 1)[1].split(".", 1)[0]
        return f"ECR in {_describe('aws-region', region)}"
    if host.endswith(".azurecr.io") and config.azure is not None:
        location = _describe("azure-location", config.azure.location)
        return f"ACR in {location} (the stack's own registry)"
    if config.onprem is not None:
        return f"the site's mirror at site {config.onprem.site.name} ({config.onprem.site.country})"
    return "declared in-country mirror"


def statement(resources: list[Mapping[str, Any]], config: StackConfig) -> dict[str, Any]:
    """The residency statement as data (see module docstring)."""
    placed, referenced, other = _resource_locations(resources)
    locations = []
    for kind, value in sorted(set(placed) | set(referenced)):
        members = placed.get((kind, value), [])
        locations.append(
            {
                "kind": kind,
                "location": value,
                "where": _describe(kind, value),
                "inCountry": _in_country(kind, value),
                "resources": len(members),
                "byType": dict(sorted(Counter(m["type"] for m in members).items())),
                "referencesInInputs": referenced.get((kind, value), 0),
            }
        )
    cluster = _cluster_location(config)
    state = _backend(config.state.url)
    secrets = _secrets_provider(config.state.secrets_provider)
    outside = [loc for loc in locations if loc["inCountry"] is False]
    outside += [x for x in (state, secrets) if x["inCountry"] is False]
    if not cluster["inCountry"]:
        outside.append(cluster)
    data: dict[str, Any] = {
        "platform": config.platform,
        "allowedLocations": sorted([*residency.AWS_REGIONS, *residency.AZURE_LOCATIONS]),
        "locations": locations,
        "cluster": {**cluster, "kubernetesObjects": other["kubernetes"]},
        "noLocationOfTheirOwn": {
            "engineComputed": other["engine"],
            "components": other["components"],
            "inheritParent": other["inherited"],
        },
        "byReference": _by_reference(config),
        "stateBackend": state,
        "secretsProvider": secrets,
        "allInCountry": not outside,
    }
    data["text"] = _text(data)
    return data


def _text(data: Mapping[str, Any]) -> str:
    parts = []
    placed = [loc for loc in data["locations"] if loc["resources"] and loc["inCountry"] is not None]
    if placed:
        listed = "; ".join(f"{loc['where']}: {loc['resources']} resources" for loc in placed)
        parts.append(f"Cloud resources are created in {listed}.")
    cluster = data["cluster"]
    parts.append(
        f"{cluster['kubernetesObjects']} Kubernetes objects and Helm releases run on the "
        f"cluster: {cluster['where']}."
    )
    parts += [
        f"{loc['resources']} resources are {loc['where']}."
        for loc in data["locations"]
        if loc["resources"] and loc["inCountry"] is None
    ]
    parts.append(f"Pulumi state: {data['stateBackend']['where']}.")
    parts.append(f"Secrets provider: {data['secretsProvider']['where']}.")
    if data["allInCountry"]:
        parts.append("Nothing is placed outside the UAE.")
    else:
        parts.append("SOMETHING IS PLACED OUTSIDE THE UAE: see the entries marked inCountry=false.")
    return " ".join(parts)
