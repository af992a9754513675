"""Data residency (UAE-RES-*): where resources, copies, ML data and images come from and go.

UAE-RES-001 regions (providers, resources, ARNs and endpoints inside any input),
UAE-RES-002 no cross-border replication or copies, UAE-RES-003 no global/edge services for
restricted or personal data, UAE-RES-004 ML data paths stay in-country (the readers are
`policies.data_locations`), UAE-RES-005 images and charts only from in-country registries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.core import (
    UNKNOWN,
    Policy,
    ResourceView,
    Severity,
    StackView,
    Violation,
    arn_regions,
    as_list,
    azure_locations,
    endpoint_regions,
    get,
    normalize_location,
    refers_to,
    strings,
    truthy,
    types,
)
from policies.data_locations import DATA_PATH_TYPES, DataStores, data_paths
from policies.k8s import HELM_RELEASE, chart_source, image_refs, registry_host
from policies.pack_config import AZURE_PAIRS, PackConfig

PDPL = "PDPL Art. 22/23 (cross-border transfer)"
CBUAE = "CBUAE Outsourcing Regulation C 14/2021 Art. 6.1"
HEALTH = "Federal Law 2/2019 (health data stays in the UAE)"

# Types whose Azure location is `global` by definition (metadata, not data); the compliance
# report's residency statement (infra.evidence.residency) reads the same list.
AZURE_GLOBAL_PATTERNS = (
    "azure-native:network:PrivateZone",
    "azure-native:network:VirtualNetworkLink",
    "azure-native:privatedns:*",
    "azure-native:network:PrivateRecordSet",
    "azure-native:monitor:ActionGroup",
    "azure-native:insights:ActionGroup",
    "azure-native:monitor:PrivateLinkScope",  # an access scope: no data held or routed through it
)
AZURE_GLOBAL_TYPES = types(*AZURE_GLOBAL_PATTERNS)
# Environment variables that name a cloud region for SDKs inside pods.
REGION_ENV = re.compile(r"^(AWS_REGION|AWS_DEFAULT_REGION|AZURE_LOCATION)$")
AWS_REGION_VALUE = re.compile(r"^(?:[a-z]{2}|us-gov)-[a-z]+-[0-9]$")


# --------------------------------------------------------------------------- UAE-RES-001


def _region_problem(cfg: PackConfig, region: object) -> bool:
    return isinstance(region, str) and bool(region) and not cfg.region_allowed(region)


def check_region(r: ResourceView, cfg: PackConfig) -> Iterator[Violation | str]:
    allowed = ", ".join(cfg.allowed_regions)
    if r.type == "pulumi:providers:aws":
        region = r.props.get("region")
        if region is None:
            yield (
                f"AWS provider '{r.name}' pins no region: resources would follow AWS_REGION of "
                f"whoever runs Pulumi. Set region to one of: {allowed}."
            )
        elif _region_problem(cfg, region):
            yield (
                f"AWS provider '{r.name}' targets region '{region}', "
                f"outside the UAE (allowed: {allowed})."
            )
    elif r.type == "pulumi:providers:azure-native":
        location = r.props.get("location")
        if location is None:
            yield (
                f"Azure provider '{r.name}' pins no location: resources without their own "
                f"location follow their resource group. Set location to one of: {allowed}."
            )
        elif _region_problem(cfg, normalize_location(str(location))):
            yield (
                f"Azure provider '{r.name}' targets location '{location}', "
                f"outside the UAE (allowed: {allowed})."
            )
    elif r.package == "aws":
        own = r.props.get("region")
        if own:
            if _region_problem(cfg, own):
                yield f"{r.describe()} sets region '{own}', outside the UAE (allowed: {allowed})."
        elif r.provider is None:
            yield (
                f"{r.describe()} uses a default AWS provider whose region is not pinned by this "
                "program; pass an explicit provider pinned to an allowed region."
            )
        elif _region_problem(cfg, r.provider.props.get("region")):
            yield (
                f"{r.describe()} would be created in '{r.provider.props.get('region')}' "
                f"(region of provider '{r.provider.name}'), outside the UAE (allowed: {allowed})."
            )
    elif r.package == "azure-native":
        location = r.props.get("location")
        if isinstance(location, str) and location:
            normal = normalize_location(location)
            if not (normal == "global" and AZURE_GLOBAL_TYPES(r)) and not cfg.region_allowed(
                normal
            ):
                yield (
                    f"{r.describe()} sets location '{location}', outside "
                    f"the UAE (allowed: {allowed})."
                )
    yield from _embedded_regions(r, cfg)


def _embedded_regions(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    """Regions inside ARNs, regional endpoints and region env vars in any input."""
    seen: set[tuple[str, str]] = set()
    for path, text in strings(r.props):
        if path == "region":
            continue
        found = [(g, "an ARN") for g in arn_regions(text)]
        found += [(g, "an endpoint") for g in endpoint_regions(text)]
        found += [(g, "an Azure endpoint") for g in azure_locations(text)]
        for region, where in found:
            if not cfg.region_allowed(region) and (path, region) not in seen:
                seen.add((path, region))
                yield (
                    f"{r.describe()} references {where} in region '{region}' at {path} "
                    f"('{text[:120]}'): data or keys outside the UAE."
                )
    for path, value in _env_vars(r):
        name, text = value
        if REGION_ENV.match(name) and AWS_REGION_VALUE.match(text) and not cfg.region_allowed(text):
            yield (
                f"{r.describe()} sets {name}={text} at {path}: SDK calls would go outside the UAE."
            )


def _env_vars(r: ResourceView) -> Iterator[tuple[str, tuple[str, str]]]:
    if not r.is_kubernetes:
        return
    from policies.core import walk

    for path, value in walk(r.props):
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            text = value.get("value")
            if isinstance(text, str):
                yield path, (value["name"], text)


RES_001 = Policy(
    id="UAE-RES-001",
    name="Resources, keys and logs stay in UAE regions",
    description=(
        "Every provider, resource and referenced ARN or regional endpoint is in an allowed UAE "
        "region (AWS me-central-1, Azure uaenorth/uaecentral)."
    ),
    severity=Severity.CRITICAL,
    iso_controls=("5.23", "5.34"),
    uae_refs=(PDPL, CBUAE, HEALTH, "UAE Cloud Security Policy (data location)"),
    remediation=(
        "Pin every provider to an allowed region (aws.Provider(region='me-central-1'), "
        "azure-native Provider(location='uaenorth')), drop per-resource region/location "
        "overrides outside the UAE and reference only keys, buckets and endpoints in those regions."
    ),
    domain="residency",
    applies=lambda r: True,
    check=check_region,
    config_keys=("allowed_regions",),
)


# --------------------------------------------------------------------------- UAE-RES-002

GEO_SKUS = ("Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS")


def _outside(cfg: PackConfig, text: object) -> list[str]:
    if not isinstance(text, str):
        return []
    return [g for g in arn_regions(text) + endpoint_regions(text) if not cfg.region_allowed(g)]


def check_replication(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    t = r.type
    if t == "aws:kms/key:Key" and truthy(r.props.get("multiRegion")):
        yield (
            f"{r.describe()} is a multi-Region key: its replicas "
            "copy key material to other regions."
        )
    elif t in ("aws:kms/replicaKey:ReplicaKey", "aws:kms/replicaExternalKey:ReplicaExternalKey"):
        yield (
            f"{r.describe()} replicates a multi-Region key across regions; with one AWS region in "
            "the UAE, one side of the pair is always abroad."
        )
    elif t == "aws:rds/instance:Instance":
        for region in _outside(cfg, r.props.get("replicateSourceDb")):
            yield f"{r.describe()} is a read replica of a database in '{region}'."
    elif t == "aws:rds/cluster:Cluster":
        for region in _outside(cfg, r.props.get("replicationSourceIdentifier")):
            yield f"{r.describe()} replicates from a cluster in '{region}'."
        if r.props.get("globalClusterIdentifier"):
            yield f"{r.describe()} joins a global database, which replicates across regions."
    elif t in (
        "aws:rds/globalCluster:GlobalCluster",
        "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
    ):
        yield f"{r.describe()} is a global (cross-region) replication group."
    elif t == "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
        yield (
            f"{r.describe()} copies automated backups to another region; keep backups in-country "
            "(AWS Backup vault in me-central-1, or a copy to Azure uaecentral/on-prem)."
        )
    elif t == "aws:backup/plan:Plan":
        for i, rule in enumerate(as_list(r.props.get("rules"))):
            for j, copy in enumerate(as_list(get(rule, "copyActions"))):
                for region in _outside(cfg, get(copy, "destinationVaultArn")):
                    yield (
                        f"{r.describe()} rule {i} copy action {j} sends "
                        f"backups to a vault in '{region}'."
                    )
    elif t == "aws:ecr/replicationConfiguration:ReplicationConfiguration":
        for rule in as_list(get(r.props, "replicationConfiguration.rules")):
            for dest in as_list(get(rule, "destinations")):
                region = get(dest, "region")
                if isinstance(region, str) and not cfg.region_allowed(region):
                    yield f"{r.describe()} replicates images to '{region}'."
    elif t == "aws:dynamodb/table:Table":
        for replica in as_list(r.props.get("replicas")):
            region = get(replica, "regionName")
            if isinstance(region, str) and not cfg.region_allowed(region):
                yield f"{r.describe()} has a global-table replica in '{region}'."
    elif t == "aws:efs/replicationConfiguration:ReplicationConfiguration":
        region = get(r.props, "destination.region")
        if isinstance(region, str) and not cfg.region_allowed(region):
            yield f"{r.describe()} replicates the file system to '{region}'."
    elif t == "aws:msk/replicator:Replicator":
        for cluster in as_list(r.props.get("kafkaClusters")):
            for region in _outside(cfg, get(cluster, "amazonMskCluster.mskClusterArn")):
                yield f"{r.describe()} replicates topics with an MSK cluster in '{region}'."
    elif t == "azure-native:storage:StorageAccount":
        sku = get(r.props, "sku.name")
        yield from _paired(r, cfg, sku in GEO_SKUS, f"sku {sku}")
    elif t == "azure-native:dbforpostgresql:Server":
        geo = get(r.props, "backup.geoRedundantBackup")
        yield from _paired(r, cfg, geo == "Enabled", "geoRedundantBackup")
    elif t in ("azure-native:redis:LinkedServer", "azure-native:redis:RedisLinkedServer"):
        location = r.props.get("linkedRedisCacheLocation")
        if isinstance(location, str) and not cfg.region_allowed(normalize_location(location)):
            yield f"{r.describe()} geo-replicates the cache to '{location}'."


def _paired(r: ResourceView, cfg: PackConfig, geo: bool, what: str) -> Iterator[str]:
    if not geo:
        return
    location = r.location
    if location is UNKNOWN:
        return
    home = normalize_location(str(location or ""))
    pair = AZURE_PAIRS.get(home)
    if pair is None or not cfg.region_allowed(pair):
        yield (
            f"{r.describe()} uses {what}: geo-redundant copies go to the paired region of "
            f"'{location}', which is not an allowed UAE location."
        )


def _bucket_region(bucket: ResourceView) -> object:
    region = bucket.props.get("region") or bucket.region
    return region


def stack_replication(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    """Replication whose destination is another resource: resolve it in the stack."""
    buckets = stack.of_type("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
    for rep in stack.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        for i, rule in enumerate(as_list(rep.props.get("rules"))):
            dest = get(rule, "destination.bucket")
            if dest is UNKNOWN or dest is None:
                continue
            match = next((b for b in buckets if refers_to(dest, b)), None)
            if match is None:
                yield Violation(
                    f"{rep.describe()} rule {i} replicates to bucket '{dest}', which this stack "
                    "does not declare: its region cannot be shown to be in the UAE.",
                    rep.urn,
                )
                continue
            region = _bucket_region(match)
            if isinstance(region, str) and not cfg.region_allowed(region):
                yield Violation(
                    f"{rep.describe()} rule {i} replicates to {match.describe()} in '{region}', "
                    "outside the UAE.",
                    rep.urn,
                )
    accounts = stack.of_type("azure-native:storage:StorageAccount")
    for policy in stack.of_type("azure-native:storage:ObjectReplicationPolicy"):
        dest = policy.props.get("destinationAccount")
        if dest is UNKNOWN or dest is None:
            continue
        match = next((a for a in accounts if refers_to(dest, a)), None)
        location = match.location if match else None
        if match is None:
            yield Violation(
                f"{policy.describe()} replicates blobs to storage account '{dest}', which this "
                "stack does not declare: its location cannot be shown to be in the UAE.",
                policy.urn,
            )
        elif isinstance(location, str) and not cfg.region_allowed(normalize_location(location)):
            yield Violation(
                f"{policy.describe()} replicates blobs to {match.describe()} in '{location}'.",
                policy.urn,
            )


REPLICATION_TYPES = types(
    "aws:kms/key:Key",
    "aws:kms/replicaKey:ReplicaKey",
    "aws:kms/replicaExternalKey:ReplicaExternalKey",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:rds/globalCluster:GlobalCluster",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup",
    "aws:backup/plan:Plan",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration",
    "aws:dynamodb/table:Table",
    "aws:efs/replicationConfiguration:ReplicationConfiguration",
    "aws:msk/replicator:Replicator",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:ObjectReplicationPolicy",
    "azure-native:dbforpostgresql:Server",
    "azure-native:redis:LinkedServer",
    "azure-native:redis:RedisLinkedServer",
)

RES_002 = Policy(
    id="UAE-RES-002",
    name="No cross-border replication or copies",
    description=(
        "Replicas, backup copies, global tables/keys/databases and geo-redundant storage stay in "
        "UAE regions; replication destinations must be resources "
        "of this stack in an allowed region."
    ),
    severity=Severity.CRITICAL,
    iso_controls=("5.34", "8.12"),
    uae_refs=(
        PDPL,
        "CBUAE C 14/2021 Art. 6.1/6.3",
        "DIFC DP Law Art. 26/27",
        "ADGM DP Regulations 41/42",
    ),
    remediation=(
        "Remove the cross-region replica/copy. For resilience, replicate within the UAE: multiple "
        "zone IDs in me-central-1, Azure uaenorth↔uaecentral (GRS/geo-backup only there), or a "
        "copy to the on-prem site. Cross-border DR is a violation, not a fix."
    ),
    domain="residency",
    applies=REPLICATION_TYPES,
    check=check_replication,
    stack_check=stack_replication,
    config_keys=("allowed_regions",),
)


# --------------------------------------------------------------------------- UAE-RES-003

EDGE_TYPES = types(
    "aws:cloudfront/distribution:Distribution",
    "aws:cloudfront/multitenantDistribution:MultitenantDistribution",
    "aws:globalaccelerator/*",
    "azure-native:cdn:*",
    "azure-native:frontdoor:*",
    "azure-native:network:FrontDoor",
    "azure-native:network:Profile",  # Traffic Manager
    "azure-native:network:Endpoint",  # Traffic Manager endpoints
)
EXCEPTION_TAG = "edge-exception"


def check_edge(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    tags = r.tags
    if tags.get(EXCEPTION_TAG):
        return
    data_class = tags.get("data-classification")
    pii = truthy(tags.get("pii"))
    if data_class is None or cfg.is_restricted(data_class) or pii:
        why = (
            "is not classified"
            if data_class is None
            else f"carries data-classification={data_class}" + (", pii=true" if pii else "")
        )
        yield (
            f"{r.describe()} is a global/edge service that terminates or caches traffic outside "
            f"the UAE and {why}."
        )


RES_003 = Policy(
    id="UAE-RES-003",
    name="No global edge services on restricted or personal data paths",
    description=(
        "CloudFront, Global Accelerator, Azure Front Door/CDN and Traffic Manager process traffic "
        "at edge locations abroad: not allowed for restricted or personal data without an approved "
        "exception."
    ),
    severity=Severity.HIGH,
    iso_controls=("5.23", "8.12"),
    uae_refs=(PDPL,),
    remediation=(
        "Serve restricted and personal data from in-country endpoints (internal load balancers, "
        "private endpoints). Edge services are only for public content: classify the resource "
        "data-classification=public, pii=false, or record an approved exception in the "
        f"'{EXCEPTION_TAG}' tag (the exception's reference) and the pack's exemptions."
    ),
    domain="residency",
    applies=EDGE_TYPES,
    check=check_edge,
    config_keys=("restricted_data_classes",),
)

# --------------------------------------------------------------------------- UAE-RES-004


def stack_data_paths(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    stores = DataStores(stack, cfg)
    for r in stack.where(DATA_PATH_TYPES):
        for path in data_paths(r):
            if path.uri is UNKNOWN:
                continue
            problem = stores.problem(path.uri)
            if problem:
                yield Violation(
                    f"{r.describe()} sends ML data to '{path.uri}' ({path.where}): {problem}.",
                    r.urn,
                )


RES_004 = Policy(
    id="UAE-RES-004",
    name="ML data paths stay in-country",
    description=(
        "MLflow artifact and backend stores, Feast registry/offline/online stores and KServe "
        "storageUris reference only stores declared in this stack in an allowed region, "
        "in-cluster services, or the site's declared in-country stores."
    ),
    severity=Severity.HIGH,
    iso_controls=("5.34", "8.12"),
    uae_refs=(
        "PDPL Art. 22 (cross-border transfer)",
        "CBUAE Outsourcing Regulation C 14/2021 Art. 6.1",
    ),
    remediation=(
        "Point the URI at a bucket/storage account/database this stack declares in "
        "me-central-1/uaenorth/uaecentral, an in-cluster service, or add the site's in-country "
        "store to the pack's data_stores (on-prem object store endpoint and buckets)."
    ),
    domain="residency",
    applies=DATA_PATH_TYPES,
    stack_check=stack_data_paths,
    config_keys=("allowed_regions", "data_stores"),
)


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
        source = chart_source(r)
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


POLICIES = (RES_001, RES_002, RES_003, RES_004, RES_005)
