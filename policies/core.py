"""The policy framework: what a policy is, the resource view every rule reads, shared helpers.

A rule is a plain function over a small view of a resource, so the same function runs under
CrossGuard (`policies.crossguard` builds the view from `ResourceValidationArgs`) and offline over
resources.json (`policies.evaluate`):

    def check(r: ResourceView, cfg: PackConfig) -> Iterable[Violation | str]   # resource rule
    def check(stack: StackView, cfg: PackConfig) -> Iterable[Violation]        # stack rule

A `Policy` carries its metadata (id, severity, ISO/IEC 27001:2022 Annex A controls, UAE
references, remediation) and up to two checks: `check` runs per resource for which `applies` is
true; `stack_check` runs once over the whole graph (things one resource cannot show: "a trail
exists", "every bucket has an encryption configuration", "this storageUri names a bucket of this
stack"). Critical and high policies are mandatory, medium ones advisory.

Values that are not known yet (during `pulumi preview`, an ARN of a key being created) arrive as
`UNKNOWN`. Rules treat an unknown value as "cannot decide" and report nothing for it: the
resource is checked again by `pulumi up` when the value is known.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policies.pack_config import PackConfig


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"


class Enforcement(StrEnum):
    MANDATORY = "mandatory"
    ADVISORY = "advisory"


class _Unknown:
    """A value the engine cannot know during preview (see module docstring)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

# What `infra.synth.recording.redact` writes in place of a Pulumi secret.
SECRET_MARKER = "[secret]"


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


# --------------------------------------------------------------------------- value helpers


def get(data: Any, path: str, default: Any = None) -> Any:
    """`get(props, "vpcConfig.endpointPublicAccess")`; integer parts index lists.

    Returns `default` when any part is missing and `UNKNOWN` when a part is unknown.
    """
    current = data
    for part in path.split("."):
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(current, Mapping):
            if part not in current:
                return default
            current = current[part]
        elif isinstance(current, Sequence) and not isinstance(current, str) and part.isdigit():
            index = int(part)
            if index >= len(current):
                return default
            current = current[index]
        else:
            return default
    return default if current is None else current


def truthy(value: Any) -> bool | None:
    """True/False for booleans and the strings Kubernetes inputs carry; None when unknown."""
    if value is UNKNOWN:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1", "enabled")
    if isinstance(value, int | float):
        return value != 0
    return False


def is_false(value: Any) -> bool:
    """Known and not true (missing counts as false)."""
    return truthy(value) is False


def explicitly_false(value: Any) -> bool:
    """Set, known and false (missing does not count): for settings whose default is secure."""
    return value is not None and value is not UNKNOWN and truthy(value) is False


def number(value: Any) -> float | None:
    """A number from an int, float or numeric string; None when missing, unknown or not numeric."""
    if value is None or value is UNKNOWN or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def as_list(value: Any) -> list[Any]:
    if value is None or value is UNKNOWN:
        return []
    if isinstance(value, str | bytes | Mapping):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path, leaf or container) in a nested structure, depth first."""
    yield path, value
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            yield from walk(child, f"{path}.{index}" if path else str(index))


def strings(value: Any) -> Iterator[tuple[str, str]]:
    """Every (path, string) leaf."""
    for path, leaf in walk(value):
        if isinstance(leaf, str):
            yield path, leaf


# --------------------------------------------------------------------------- regions

# arn:partition:service:region:account:resource
ARN = re.compile(r"arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|aws|)?:")
# Regional AWS endpoints: ec2.eu-west-1.amazonaws.com, bucket.s3.eu-west-1.amazonaws.com,
# *.gr7.eu-west-1.eks.amazonaws.com, 1234.dkr.ecr.eu-west-1.amazonaws.com
AWS_ENDPOINT = re.compile(
    r"(?:^|[./@])((?:[a-z]{2}|us-gov)-[a-z]+-[0-9])\.(?:[a-z0-9-]+\.)*amazonaws\.com"
)
# The same region appears as `s3.eu-west-1` / `s3-eu-west-1` in legacy endpoints.
AWS_REGION_NAME = re.compile(r"^(?:[a-z]{2}|us-gov)-[a-z]+-[0-9]$")


def arn_regions(text: str) -> list[str]:
    """Regions named inside ARNs in `text` (global ARNs such as IAM and S3 have none)."""
    return [m.group(2) for m in ARN.finditer(text) if m.group(2)]


def arn_accounts(text: str) -> list[str]:
    return [m.group(3) for m in ARN.finditer(text) if m.group(3) and m.group(3) != "aws"]


def endpoint_regions(text: str) -> list[str]:
    return [m.group(1) for m in AWS_ENDPOINT.finditer(text)]


# Azure locations inside hostnames and names: <x>.hcp.<location>.azmk8s.io,
# <location>.oic.prod-aks.azure.com, <x>.<location>.cloudapp.azure.com, NetworkWatcher_<location>.
AZURE_HOST_LOCATION = re.compile(
    r"(?:^|[./])([a-z]+[0-9]?)\.(?:azmk8s\.io|cloudapp\.azure\.com|oic\.prod-aks\.azure\.com)"
    r"|NetworkWatcher_([a-z0-9]+)"
)


def azure_locations(text: str) -> list[str]:
    """Azure locations named inside hostnames and Network Watcher names in `text`."""
    return [m.group(1) or m.group(2) for m in AZURE_HOST_LOCATION.finditer(text)]


def normalize_location(location: str) -> str:
    """Azure accepts `UAE North`, `uaenorth` and `UAENorth` for the same place."""
    return location.replace(" ", "").lower()


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class ProviderView:
    """The provider a resource is created through (its region/location, default tags)."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class ResourceView:
    """What a rule sees of one resource: type, URN, name, inputs, provider and options."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    provider: ProviderView | None = None
    parent: str | None = None
    id: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    # Offline, secret inputs are replaced by SECRET_MARKER, so a rule can tell a Pulumi secret
    # from a plain literal. CrossGuard hands policies secrets already unwrapped: rules that ask
    # "is this value a secret?" only run when this is True.
    secrets_visible: bool = False

    # -- identity ---------------------------------------------------------------------
    @property
    def package(self) -> str:
        return self.type.split(":", 1)[0]

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")

    def get(self, path: str, default: Any = None) -> Any:
        return get(self.props, path, default)

    # -- Kubernetes -------------------------------------------------------------------
    @property
    def is_kubernetes(self) -> bool:
        return self.package == "kubernetes"

    @property
    def is_kubernetes_object(self) -> bool:
        return self.is_kubernetes and self.type != "kubernetes:helm.sh/v3:Release"

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.props.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def labels(self) -> Mapping[str, Any]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, Mapping) else {}

    @property
    def annotations(self) -> Mapping[str, Any]:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, Mapping) else {}

    @property
    def object_name(self) -> str:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else self.name

    @property
    def namespace(self) -> str | None:
        """The Kubernetes namespace a resource lives in (a Namespace's own name)."""
        if not self.is_kubernetes:
            return None
        if self.type == "kubernetes:core/v1:Namespace":
            return self.object_name
        if self.type == "kubernetes:helm.sh/v3:Release":
            ns = self.props.get("namespace")
        else:
            ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) else None

    # -- cloud ------------------------------------------------------------------------
    @property
    def tags(self) -> Mapping[str, Any]:
        """Effective tags: the AWS provider's default tags under the resource's own; K8s labels."""
        if self.is_kubernetes:
            return self.labels
        merged: dict[str, Any] = {}
        if self.package == "aws" and self.provider is not None:
            default = get(self.provider.props, "defaultTags.tags")
            if isinstance(default, Mapping):
                merged.update(default)
        own = self.props.get("tags")
        if isinstance(own, Mapping):
            merged.update(own)
        return merged

    @property
    def region(self) -> Any:
        """AWS region the resource is created in: its own `region` input, else the provider's."""
        own = self.props.get("region")
        if own:
            return own
        if self.provider is not None:
            return self.provider.props.get("region")
        return None

    @property
    def location(self) -> Any:
        """Azure location: the resource's `location` input, else the provider's."""
        own = self.props.get("location")
        if own:
            return own
        if self.provider is not None:
            return self.provider.props.get("location")
        return None

    def describe(self) -> str:
        """How messages name the resource: `Deployment mlflow/mlflow`, `Key 'platform-data'`."""
        if self.is_kubernetes_object:
            ns = self.namespace
            obj = self.object_name
            where = f"{ns}/{obj}" if ns and self.kind != "Namespace" else obj
            return f"{self.kind} {where}"
        return f"{self.kind} '{self.name}'"


@dataclass
class StackView:
    """Every resource of a stack, with the look-ups stack rules need."""

    resources: list[ResourceView]
    _by_urn: dict[str, ResourceView] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_urn = {r.urn: r for r in self.resources}

    def by_urn(self, urn: str) -> ResourceView | None:
        return self._by_urn.get(urn)

    def of_type(self, *patterns: str) -> list[ResourceView]:
        match = types(*patterns)
        return [r for r in self.resources if match(r)]

    def where(self, predicate: Callable[[ResourceView], bool]) -> list[ResourceView]:
        return [r for r in self.resources if predicate(r)]


def identifiers(r: ResourceView) -> set[str]:
    """Strings other resources may use to reference `r`: its ID, ARN, physical names."""
    found: set[str] = set()
    for value in (r.id, r.props.get("id"), r.props.get("arn")):
        if isinstance(value, str) and value:
            found.add(value)
    for key in ("bucket", "name", "clusterName", "resourceName", "accountName", "vaultName"):
        value = r.props.get(key)
        if isinstance(value, str) and value:
            found.add(value)
    return found


def refers_to(value: Any, target: ResourceView) -> bool:
    """Whether an input value references `target` (by ID, ARN or name); unknown counts as yes.

    An unknown reference (preview) might point at the target, so "is X covered by a Y" checks
    give it the benefit of the doubt rather than report a false violation.
    """
    if value is UNKNOWN:
        return True
    if not isinstance(value, str) or not value:
        return False
    ids = identifiers(target)
    if value in ids:
        return True
    if value.startswith("arn:"):
        # arn:aws:s3:::<bucket>, arn:aws:kms:...:key/<key id>, arn:aws:ec2:...:vpc/<vpc id>
        return any(value.endswith((f":{i}", f"/{i}")) for i in ids)
    # Azure IDs differ only in case between what ARM returns and what programs write
    return any(i.startswith("/subscriptions/") and value.lower() == i.lower() for i in ids)


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Violation:
    """One thing wrong. `urn` names the resource (stack rules set it; resource rules need not)."""

    message: str
    urn: str | None = None
    remediation: str | None = None  # a fix specific to this finding; else the policy's


ResourceCheck = Callable[["ResourceView", "PackConfig"], Iterable["Violation | str"]]
StackCheck = Callable[["StackView", "PackConfig"], Iterable["Violation"]]


def types(*patterns: str) -> Callable[[ResourceView], bool]:
    """A predicate matching type tokens exactly or by glob (`aws:globalaccelerator/*`)."""
    exact = frozenset(p for p in patterns if not any(ch in p for ch in "*?["))
    globs = tuple(p for p in patterns if p not in exact)

    def match(r: ResourceView) -> bool:
        return r.type in exact or any(fnmatch.fnmatchcase(r.type, g) for g in globs)

    return match


@dataclass(frozen=True)
class Policy:
    """One catalogue policy: metadata plus its resource and/or stack check."""

    id: str
    name: str
    description: str
    severity: Severity
    iso_controls: tuple[str, ...]
    uae_refs: tuple[str, ...]
    remediation: str
    domain: str
    applies: Callable[[ResourceView], bool]
    check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    # PackConfig fields this policy reads (its CrossGuard config schema); `exemptions` always.
    config_keys: tuple[str, ...] = ()
    # Where the requirement is an expectation rather than the letter of a law ([U] in the
    # catalogue), the report says so.
    expectation: bool = False

    def __post_init__(self) -> None:
        if self.check is None and self.stack_check is None:
            raise TypeError(f"{self.id}: a policy needs a check or a stack_check")

    @property
    def enforcement(self) -> Enforcement:
        if self.severity in (Severity.CRITICAL, Severity.HIGH):
            return Enforcement.MANDATORY
        return Enforcement.ADVISORY

    @property
    def kind(self) -> str:
        if self.check and self.stack_check:
            return "resource+stack"
        return "resource" if self.check else "stack"


def run_resource_check(policy: Policy, r: ResourceView, cfg: PackConfig) -> list[Violation]:
    """The policy's resource check on one resource, messages normalised to `Violation`s."""
    if policy.check is None or not policy.applies(r):
        return []
    found: list[Violation] = []
    for item in policy.check(r, cfg):
        violation = Violation(item) if isinstance(item, str) else item
        if violation.urn is None:
            violation = Violation(violation.message, r.urn, violation.remediation)
        found.append(violation)
    return found
