"""The UAE residency allow-lists the stack configuration enforces.

One place for the regions, zones and locations the platform may use. The policy pack keeps its
own copy as configurable defaults (it must run without this repository's program), and a test
checks the two agree.
"""

from __future__ import annotations

COUNTRY = "AE"

AWS_REGIONS: tuple[str, ...] = ("me-central-1",)
# Zone IDs, not names: zone names are shuffled per account, IDs name the same building for all.
AWS_ZONE_IDS: tuple[str, ...] = ("mec1-az1", "mec1-az2", "mec1-az3")

AZURE_LOCATIONS: tuple[str, ...] = ("uaenorth", "uaecentral")
# Restricted locations: Microsoft opens them to a subscription only on an approved support
# request (quota type "Region access"); deploying there without one fails mid-deployment.
AZURE_RESTRICTED_LOCATIONS: tuple[str, ...] = ("uaecentral",)

# Registries that are outside the UAE (or global CDNs). A mirror must never point at one.
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

EMIRATES: tuple[str, ...] = (
    "abu-dhabi",
    "dubai",
    "sharjah",
    "ajman",
    "umm-al-quwain",
    "ras-al-khaimah",
    "fujairah",
)


def ecr_registry(account_id: str, region: str = AWS_REGIONS[0]) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


def registry_host(reference: str) -> str:
    """The host part of an image or OCI reference (`oci://h/p`, `h/p:tag`, `h/p@sha256:…`)."""
    ref = reference.removeprefix("oci://")
    return ref.split("/", 1)[0].lower()


def is_public_registry(reference: str) -> bool:
    host = registry_host(reference)
    # A bare name ("library/python") resolves to Docker Hub.
    bare = "." not in host and ":" not in host and host != "localhost"
    return host in PUBLIC_REGISTRIES or bare
