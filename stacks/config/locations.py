"""Where the stack's state, keys and endpoints are: URLs parsed, never substring-matched.

Each check returns what is wrong (the rest of a sentence: "must name …", "is … outside the
UAE; allowed: …") or None. A location passes only when it is shown to be in the UAE:

- an AWS endpoint or ARN names its region, which must be an allowed UAE region;
- an Azure service is accepted only where the stack itself runs on Azure (its locations are
  UAE-validated), with the service's own host shape;
- a site host (an on-prem Vault, object store or database) must not be a public cloud
  endpoint (AWS outside the UAE, or a provider with no UAE region at all);
- unknown URL parameters are refused by name (`?awsregion=` is not `?region=`), and so is a
  parameter given twice.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import parse_qs, urlsplit

from stacks.config import residency

# `<anything>.<region>.amazonaws.com`, `s3-<region>.amazonaws.com`, `*.<region>.vpce…`.
_AWS_HOST = re.compile(
    r"(?:^|[.-])(?P<region>(?:[a-z]{2}|us-gov)-[a-z]+-\d)\.(?:[a-z0-9-]+\.)*amazonaws\.com$"
)
_AWS_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):")
# Providers with no region in the UAE (or no region at all): never a place for the stack's data.
_FOREIGN_SUFFIXES = (
    ".googleapis.com",
    ".hashicorp.cloud",
    ".cloudflarestorage.com",
    ".digitaloceanspaces.com",
    ".backblazeb2.com",
    ".wasabisys.com",
    ".oraclecloud.com",
)
_HOST_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_KEY_VAULT_HOST = re.compile(r"^[a-z0-9-]{3,24}\.vault\.azure\.net$")
_AWS_REGIONS = ", ".join(residency.AWS_REGIONS)


def hostname_problem(host: str) -> str | None:
    """A DNS name (RFC 1123, lowercase) or an IP address."""
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    labels = host.split(".")
    if len(host) > 253 or not all(
        len(label) <= 63 and _HOST_LABEL.match(label) for label in labels
    ):
        return (
            f"names host {host!r}, which is not a DNS name; allowed: lowercase letters, digits, "
            "'-' and '.', labels of 1-63 characters"
        )
    return None


def host_location_problem(host: str) -> str | None:
    """Why `host` is not in the UAE, if it is a public cloud endpoint shown to be elsewhere."""
    host = host.lower().rstrip(".")
    if host.endswith(".amazonaws.com") or host == "amazonaws.com":
        match = _AWS_HOST.search(host)
        region = match["region"] if match else "us-east-1 (a global endpoint)"
        if region not in residency.AWS_REGIONS:
            return f"is AWS in {region}, outside the UAE; allowed: {_AWS_REGIONS}"
    if host.endswith(_FOREIGN_SUFFIXES):
        return f"is hosted at {host}, a provider with no UAE region; allowed: an in-country host"
    return None


def site_host_problem(host: str) -> str | None:
    return hostname_problem(host) or host_location_problem(host)


def https_url_problem(url: str) -> str | None:
    """An https:// URL to a host in the country (TLS in transit)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https:// URL with a host (TLS in transit)"
    if parts.username or parts.password:
        return "must not carry credentials in the URL"
    return site_host_problem(parts.hostname)


def _query(query: str, allowed: tuple[str, ...]) -> tuple[dict[str, str], str | None]:
    values = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        return {}, f"has unknown parameter(s) {unknown}; allowed: {', '.join(allowed)}"
    repeated = sorted(k for k, v in values.items() if len(v) > 1)
    if repeated:
        return {}, f"gives parameter(s) {repeated} more than once"
    return {k: v[0] for k, v in values.items()}, None


def _aws_region(params: dict[str, str], what: str) -> str | None:
    region = params.get("region")
    if region is None:
        return f"must name ?region=me-central-1 ({what} stays in the UAE)"
    if region not in residency.AWS_REGIONS:
        return f"names region {region!r}, outside the UAE; allowed: {_AWS_REGIONS}"
    return None


_S3_PARAMS = ("region", "endpoint", "profile", "awssdk", "s3ForcePathStyle", "use_path_style")


# An Azure stack's own in-country backend (the shipped example: Pulumi.uae-cloud-azure.yaml).
AZURE_STACK_FILE = "Pulumi.uae-cloud-azure.yaml"
AZURE_STATE = "azblob://<container>?storage_account=<uaenorth account>"
AZURE_SECRETS = "azurekeyvault://<vault>.vault.azure.net/keys/<name>"


def state_url_problem(url: str, platform: str) -> str | None:
    """Pulumi's state backend: S3 in a UAE region, Blob storage of an Azure stack, a file on
    the deployer's machine (on-prem), or the site's Postgres."""
    parts = urlsplit(url)
    if parts.scheme == "s3" and platform == "azure":
        return (
            "is S3 state, which an Azure stack cannot vouch for (it would need AWS credentials "
            f"and account); allowed here: {AZURE_STATE} — an Azure stack has a stack file of "
            f"its own with its own backend: {AZURE_STACK_FILE}"
        )
    if parts.scheme == "s3":
        params, problem = _query(parts.query, _S3_PARAMS)
        problem = problem or _aws_region(params, "S3 state")
        if problem is None and "endpoint" in params:
            problem = _endpoint_problem(params["endpoint"], platform)
        return problem
    if parts.scheme == "azblob":
        if platform != "azure":
            return (
                "is Azure Blob storage, whose location this stack cannot vouch for unless it "
                "targets Azure; allowed here: s3://…?region=me-central-1"
            )
        _, problem = _query(parts.query, ("storage_account",))
        return problem
    if parts.scheme == "file":
        return None if parts.path else "must name a directory (file:///srv/pulumi-state)"
    if parts.scheme in ("postgres", "postgresql"):
        return site_host_problem(parts.hostname) if parts.hostname else "must name a host"
    return (
        "is not an in-country backend; allowed: s3://…?region=me-central-1, azblob:// (an "
        "Azure stack's uaenorth account), file:// (on-prem), postgres:// (on-prem)"
    )


def _endpoint_problem(endpoint: str, platform: str) -> str | None:
    host = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}").hostname or ""
    if problem := site_host_problem(host):
        return f"endpoint {problem}"
    if platform != "onprem" and not host.endswith(".amazonaws.com"):
        return f"names endpoint {host!r}; allowed in the cloud: the regional AWS endpoint"
    return None


def secrets_provider_problem(provider: str, platform: str) -> str | None:
    """Pulumi's secrets provider: a KMS key in a UAE region, an Azure stack's Key Vault, the
    site's Vault, or a passphrase."""
    if provider == "passphrase":
        return None
    parts = urlsplit(provider)
    if parts.scheme == "awskms" and platform == "azure":
        return (
            "is an AWS KMS key, which an Azure stack cannot vouch for; allowed here: "
            f"{AZURE_SECRETS} — an Azure stack has a stack file of its own with its own "
            f"secrets provider: {AZURE_STACK_FILE}"
        )
    if parts.scheme == "awskms":
        params, problem = _query(parts.query, ("region", "profile", "awssdk"))
        arn = _AWS_ARN.match((parts.netloc + parts.path).lstrip("/"))
        if problem is None and arn and arn["region"] not in residency.AWS_REGIONS:
            return f"is a KMS key in {arn['region']}, outside the UAE; allowed: {_AWS_REGIONS}"
        return problem or (None if arn and "region" not in params else _aws_region(params, "KMS"))
    if parts.scheme == "azurekeyvault":
        if platform != "azure":
            return (
                "is an Azure Key Vault, whose location this stack cannot vouch for unless it "
                "targets Azure; allowed here: awskms://…?region=me-central-1"
            )
        if not _KEY_VAULT_HOST.match(parts.hostname or ""):
            return "must be azurekeyvault://<vault>.vault.azure.net/keys/<name>"
        return None
    if parts.scheme == "hashivault":
        return site_host_problem(parts.hostname) if parts.hostname else "must name the Vault host"
    return (
        "is not an in-country secrets provider; allowed: awskms://…?region=me-central-1, "
        "azurekeyvault:// (an Azure stack's vault), hashivault:// (on-prem), passphrase"
    )


_CLOUD_KMS = ("awskms", "azurekeyvault", "gcpkms", "arn")


def site_key_problem(uri: str, provider: str) -> str | None:
    """A key of the site's in-country Vault (`vault://host/path`) or HSM (`pkcs11:…`)."""
    parts = urlsplit(uri)
    if (
        _AWS_ARN.match(uri)
        or parts.scheme in _CLOUD_KMS
        or host_location_problem(parts.hostname or "")
    ):
        where = _cloud_region(uri)
        place = f" in {where}" if where else ""
        return (
            f"is a cloud KMS key{place}, not the site's; allowed: vault://<host>/<path> "
            "(the site's Vault) or pkcs11:… (the site's HSM)"
        )
    if provider == "hsm":
        return None if parts.scheme == "pkcs11" and parts.path else "must be a pkcs11: URI"
    if parts.scheme not in ("vault", "hashivault") or not parts.hostname:
        return "must be vault://<host>/<path> (the site's Vault)"
    if not parts.path.strip("/"):
        return "must name the key's path (vault://<host>/transit/keys/<name>)"
    return hostname_problem(parts.hostname)


def _cloud_region(uri: str) -> str | None:
    """The region a cloud KMS reference names: in its ARN, its endpoint or `?region=`."""
    if arn := _AWS_ARN.match(uri):
        return arn["region"] or None
    parts = urlsplit(uri)
    if host := _AWS_HOST.search(parts.hostname or ""):
        return host["region"]
    return parse_qs(parts.query).get("region", [None])[0]
