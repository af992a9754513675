"""Turning raw `mlplatform:` config into a `StackConfig`, or into one error listing every problem.

Two passes. Pydantic checks structure and per-field rules (types, unknown keys, ranges,
residency of each region/location/country/registry) and reports all of them at once. When the
structure is sound, the rules below check relations between fields (sizes, capacities,
references between sections). Each problem names the key path as written in
`Pulumi.<stack>.yaml`, the bad value and what is allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from stacks.config import locations, residency
from stacks.config.errors import MISSING, ConfigError, Problem
from stacks.config.fields import is_uuid
from stacks.config.machine_types import APPROVED, SYSTEM_APPROVED
from stacks.config.model import LOG_RETENTION_MIN_DAYS, StackConfig
from stacks.config.naming import AwsNames
from stacks.config.quantity import parse_quantity

# Log Analytics keeps at most 730 days interactively (long-term retention is not configured).
AZURE_LOG_RETENTION_MAX_DAYS = 730
EVENT_HUBS_RETENTION_MAX_HOURS = 90 * 24  # Event Hubs Premium's longest retention


def validate(raw: dict[str, Any], stack: str | None = None) -> StackConfig:
    """Validate raw config (camelCase keys, no namespace) and return the typed model."""
    try:
        config = StackConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(list(_from_pydantic(error, raw)), stack) from None
    problems = list(semantic_problems(config))
    if problems:
        raise ConfigError(problems, stack)
    return config


# --------------------------------------------------------------------------- pydantic errors


def _from_pydantic(error: ValidationError, raw: dict[str, Any]) -> Iterator[Problem]:
    for item in error.errors(include_url=False):
        key, model = _key_path(item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            allowed = ", ".join(sorted(_aliases(model))) if model else ""
            yield Problem(key, item["input"], f"is an unknown key; allowed keys here: {allowed}")
        elif kind == "missing":
            yield Problem(key, MISSING, "is required")
        elif kind in ("greater_than_equal", "less_than_equal", "too_long", "too_short"):
            yield Problem(key, item.get("input", _lookup(raw, item["loc"])), _bound(item))
        else:
            message = item["msg"].removeprefix("Value error, ")
            yield Problem(key, item.get("input", _lookup(raw, item["loc"])), message)


def _bound(item: Any) -> str:
    """Pydantic's range errors said the house way: what is wrong, then what is allowed."""
    ctx = item.get("ctx") or {}
    if item["type"] == "greater_than_equal":
        return f"is too small; allowed: at least {ctx.get('ge')}"
    if item["type"] == "less_than_equal":
        return f"is too large; allowed: at most {ctx.get('le')}"
    if item["type"] == "too_long":
        return f"has too many items; allowed: at most {ctx.get('max_length')}"
    return f"has too few items; allowed: at least {ctx.get('min_length')}"


def _aliases(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _key_path(loc: tuple[Any, ...]) -> tuple[str, type[BaseModel] | None]:
    """Render a pydantic location as `aws.zoneIds[1]`; return the model that owns the last key."""
    parts: list[str] = []
    model: type[BaseModel] | None = StackConfig
    owner: type[BaseModel] | None = StackConfig
    annotation: Any = None
    for element in loc:
        if isinstance(element, int):
            parts[-1] += f"[{element}]"
            annotation = _item_type(annotation)
            model = annotation if _is_model(annotation) else None
            continue
        if model is None:
            continue  # union member names and similar pydantic internals
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        if element not in fields:
            owner = model
            parts.append(str(element))
            model = None
            continue
        owner = model
        parts.append(str(element))
        annotation = _unwrap_optional(fields[element].annotation)
        model = annotation if _is_model(annotation) else None
    return ".".join(parts), owner


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _unwrap_optional(annotation: Any) -> Any:
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not None and len(args) == 1 and get_origin(annotation) is not list:
        return args[0]
    return annotation


def _item_type(annotation: Any) -> Any:
    args = get_args(annotation)
    return args[0] if args else None


def _lookup(raw: Any, loc: tuple[Any, ...]) -> Any:
    for element in loc:
        try:
            raw = raw[element]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return raw


# --------------------------------------------------------------------------- semantic rules


def semantic_problems(c: StackConfig) -> Iterator[Problem]:
    yield from _target_sections(c)
    yield from _state_backend(c)
    yield from _site_keys(c)
    yield from _system_nodes(c)
    yield from _azure_limits(c)
    yield from _registry(c)
    yield from _gpu_pools(c)
    yield from _kafka(c)
    yield from _tenants(c)
    yield from _sample_workloads(c)
    if c.tags.pii and not c.tags.dpia_ref:
        yield Problem("tags.dpiaRef", None, "is required when tags.pii is true (PDPL Art. 21 DPIA)")


def _target_sections(c: StackConfig) -> Iterator[Problem]:
    needed = {"onprem": "onprem", "aws": "aws", "azure": "azure"}[c.platform]
    if getattr(c, needed) is None:
        yield Problem(needed, MISSING, f"is required when the stack targets {c.platform!r}")
    if c.target == "onprem":
        for section in ("aws", "azure"):
            if getattr(c, section) is not None:
                yield Problem(section, "…", "is only used when target is 'cloud'; remove it")
    elif c.onprem is not None:
        yield Problem("onprem", "…", "is only used when target is 'onprem'; remove it")
    if c.onprem is not None:
        for name, store in (("postgres", c.onprem.postgres), ("redis", c.onprem.redis)):
            if store.mode == "existing" and store.existing is None:
                yield Problem(
                    f"onprem.{name}.existing",
                    MISSING,
                    f"is required when onprem.{name}.mode is 'existing'",
                )
            if store.mode == "operator" and store.existing is not None:
                yield Problem(
                    f"onprem.{name}.existing",
                    "…",
                    f"is only used when onprem.{name}.mode is 'existing'",
                )
    if c.aws is not None and c.aws.system_min_size > c.aws.system_max_size:
        yield Problem(
            "aws.systemMinSize", c.aws.system_min_size, "must not exceed aws.systemMaxSize"
        )
    if c.azure is not None:
        if c.azure.system_min_count > c.azure.system_max_count:
            yield Problem(
                "azure.systemMinCount", c.azure.system_min_count, "must not exceed systemMaxCount"
            )
        if c.azure.dr_location == c.azure.location:
            allowed = [loc for loc in residency.AZURE_LOCATIONS if loc != c.azure.location]
            yield Problem(
                "azure.drLocation",
                c.azure.dr_location,
                f"must differ from azure.location; allowed: {', '.join(allowed)}",
            )
        yield from _restricted_locations(c)


def _restricted_locations(c: StackConfig) -> Iterator[Problem]:
    """A restricted location (uaecentral) is used only once its access request is acknowledged:
    without Microsoft's approval the first `pulumi up` fails half-way through."""
    if c.platform != "azure" or c.azure is None:
        return
    granted = [a.location for a in c.azure.restricted_region_access]
    for location in sorted(set(granted)):
        if granted.count(location) > 1:
            yield Problem(
                "azure.restrictedRegionAccess", location, "is listed twice; list each once"
            )
    for field, location in (("location", c.azure.location), ("drLocation", c.azure.dr_location)):
        if location in residency.AZURE_RESTRICTED_LOCATIONS and location not in granted:
            yield Problem(
                "azure.restrictedRegionAccess",
                MISSING,
                f"must acknowledge {location} (azure.{field}): Microsoft opens this restricted "
                "location to a subscription only on an approved support request (quota type "
                f"'Region access'); once approved add `- location: {location}` (and "
                "`supportRequest: <number>`) under azure.restrictedRegionAccess, or choose "
                f"another azure.{field}",
            )


def _state_backend(c: StackConfig) -> Iterator[Problem]:
    if problem := locations.state_url_problem(c.state.url, c.platform):
        yield Problem("state.url", c.state.url, problem)
    if problem := locations.secrets_provider_problem(c.state.secrets_provider, c.platform):
        yield Problem("state.secretsProvider", c.state.secrets_provider, problem)


def _site_keys(c: StackConfig) -> Iterator[Problem]:
    """On-prem keys are the site's Vault transit keys or HSM objects, never a cloud KMS."""
    if c.onprem is None:
        return
    keys = c.onprem.keys
    for field, uri in (
        ("dataKeyUri", keys.data_key_uri),
        ("secretsKeyUri", keys.secrets_key_uri),
        ("logsKeyUri", keys.logs_key_uri),
    ):
        if problem := locations.site_key_problem(uri, keys.provider):
            yield Problem(f"onprem.keys.{field}", uri, problem)


def _system_nodes(c: StackConfig) -> Iterator[Problem]:
    """The system pool's machine type is an approved general-purpose size; AWS names fit."""
    if c.platform == "aws" and c.aws is not None:
        approved = SYSTEM_APPROVED["aws"]
        if c.aws.system_instance_type not in approved:
            yield Problem(
                "aws.systemInstanceType",
                c.aws.system_instance_type,
                f"is not an approved system instance type; allowed: {', '.join(approved)}",
            )
        if too_long := AwsNames(c, c.aws).too_long():
            yield Problem(
                "environment",
                c.environment,
                f"makes AWS names too long ({', '.join(too_long)}); S3 buckets and RDS allow 63 "
                "characters, ElastiCache 40, IAM roles 64: use a shorter environment",
            )
    if c.platform == "azure" and c.azure is not None:
        approved = SYSTEM_APPROVED["azure"]
        if c.azure.system_vm_size not in approved:
            yield Problem(
                "azure.systemVmSize",
                c.azure.system_vm_size,
                f"is not an approved system VM size; allowed: {', '.join(approved)}",
            )
        if c.azure.workload_vm_size not in approved:
            yield Problem(
                "azure.workloadVmSize",
                c.azure.workload_vm_size,
                f"is not an approved VM size for the workload pool; allowed: {', '.join(approved)}",
            )
        if c.azure.workload_min_count > c.azure.workload_max_count:
            yield Problem(
                "azure.workloadMinCount",
                c.azure.workload_min_count,
                "must not exceed workloadMaxCount",
            )


def _azure_limits(c: StackConfig) -> Iterator[Problem]:
    """What the Azure services the stack uses cannot do (checked here, not mid-deployment)."""
    if c.platform != "azure":
        return
    if c.logging.retention_days > AZURE_LOG_RETENTION_MAX_DAYS:
        yield Problem(
            "logging.retentionDays",
            c.logging.retention_days,
            f"exceeds Log Analytics' {AZURE_LOG_RETENTION_MAX_DAYS} days, which this "
            f"distribution configures on Azure; allowed: {LOG_RETENTION_MIN_DAYS}-"
            f"{AZURE_LOG_RETENTION_MAX_DAYS}",
        )
    if c.kafka.mode == "managed" and c.kafka.retention_hours > EVENT_HUBS_RETENTION_MAX_HOURS:
        yield Problem(
            "kafka.retentionHours",
            c.kafka.retention_hours,
            f"exceeds what Event Hubs Premium keeps ({EVENT_HUBS_RETENTION_MAX_HOURS} hours, "
            f"90 days); allowed with kafka.mode managed on Azure: 1-"
            f"{EVENT_HUBS_RETENTION_MAX_HOURS}",
        )


def _registry(c: StackConfig) -> Iterator[Problem]:
    mirror = c.registry.mirror
    if mirror is None:
        if c.target == "onprem":
            yield Problem("registry.mirror", MISSING, "is required on-prem (the site's mirror)")
        return
    host = residency.registry_host(mirror)
    if ".dkr.ecr." in host:
        region = host.split(".dkr.ecr.", 1)[1].split(".", 1)[0]
        if region not in residency.AWS_REGIONS:
            yield Problem(
                "registry.mirror",
                mirror,
                f"is ECR in {region}, outside the UAE; allowed: me-central-1",
            )
    if c.platform == "aws" and ".dkr.ecr." not in host:
        yield Problem(
            "registry.mirror",
            mirror,
            "must be ECR on AWS; allowed: <account>.dkr.ecr.me-central-1.amazonaws.com[/path]",
        )
    if c.platform == "azure" and not host.endswith(".azurecr.io"):
        yield Problem(
            "registry.mirror", mirror, "must be ACR on Azure; allowed: <name>.azurecr.io[/path]"
        )


def _gpu_pools(c: StackConfig) -> Iterator[Problem]:
    names = Counter(pool.name for pool in c.gpu_pools)
    if c.onprem is not None:
        for extra in sorted(set(c.onprem.cluster.gpu_nodes) - set(names)):
            allowed = list(names)
            yield Problem(
                f"onprem.cluster.gpuNodes.{extra}", "…", f"names no GPU pool; allowed: {allowed}"
            )
    seen_nodes: set[str] = set()
    approved = APPROVED.get(c.platform, {})
    machine_key = {"aws": "instanceType", "azure": "vmSize"}.get(c.platform, "")
    for i, pool in enumerate(c.gpu_pools):
        at = f"gpuPools[{i}]"
        if names[pool.name] > 1:
            yield Problem(f"{at}.name", pool.name, "is used by more than one pool")
        if pool.min_size > pool.max_size:
            yield Problem(
                f"{at}.minSize", pool.min_size, f"must not exceed maxSize ({pool.max_size})"
            )
        if (
            pool.desired_size is not None
            and not pool.min_size <= pool.desired_size <= pool.max_size
        ):
            yield Problem(
                f"{at}.desiredSize",
                pool.desired_size,
                f"must lie between minSize ({pool.min_size}) and maxSize ({pool.max_size})",
            )
        if c.target == "onprem":
            if not pool.nodes:
                yield Problem(f"{at}.nodes", [], "must name the existing GPU nodes on-prem")
            if c.onprem is not None and pool.name not in c.onprem.cluster.gpu_nodes:
                yield Problem(
                    f"onprem.cluster.gpuNodes.{pool.name}",
                    MISSING,
                    "is required: one node's allocatable cpu and memory (the plan checks that "
                    "pods fit the pool)",
                )
            for node in pool.nodes:
                if node in seen_nodes:
                    yield Problem(f"{at}.nodes", node, "is already in another pool")
                seen_nodes.add(node)
            if pool.gpu_product is None:
                yield Problem(
                    f"{at}.gpuProduct", MISSING, "is required on-prem (e.g. nvidia-h100-80gb)"
                )
            continue
        if pool.nodes:
            yield Problem(f"{at}.nodes", pool.nodes, "is only used on-prem; cloud pools autoscale")
        machine = pool.machine_type(c.platform)
        if machine not in approved:
            yield Problem(
                f"{at}.{machine_key}",
                MISSING if machine is None else machine,
                f"is not an approved GPU type on {c.platform}; allowed: {', '.join(approved)}",
            )
        elif approved[machine].gpus != pool.gpus_per_node:
            yield Problem(
                f"{at}.gpusPerNode",
                pool.gpus_per_node,
                f"does not match {machine}, which has {approved[machine].gpus} GPUs per node",
            )


def _kafka(c: StackConfig) -> Iterator[Problem]:
    k = c.kafka
    if k.mode == "managed" and c.target != "cloud":
        yield Problem("kafka.mode", k.mode, "needs target 'cloud'; allowed on-prem: strimzi")
    if k.replication_factor > k.brokers:
        yield Problem(
            "kafka.replicationFactor", k.replication_factor, f"exceeds kafka.brokers ({k.brokers})"
        )
    if k.min_insync_replicas > k.replication_factor:
        yield Problem(
            "kafka.minInsyncReplicas",
            k.min_insync_replicas,
            f"exceeds kafka.replicationFactor ({k.replication_factor})",
        )
    if k.controllers % 2 == 0:
        yield Problem("kafka.controllers", k.controllers, "must be odd (KRaft quorum majority)")
    if not c.ephemeral:
        if k.brokers < 3:
            yield Problem("kafka.brokers", k.brokers, "must be at least 3 unless ephemeral: true")
        if k.min_insync_replicas < 2:
            yield Problem(
                "kafka.minInsyncReplicas",
                k.min_insync_replicas,
                "must be at least 2 unless ephemeral",
            )


def _tenants(c: StackConfig) -> Iterator[Problem]:
    names = Counter(t.name for t in c.tenants)
    yield from _tenant_identities(c)
    capacity = c.gpu_capacity()
    for i, tenant in enumerate(c.tenants):
        at = f"tenants[{i}]"
        if names[tenant.name] > 1:
            yield Problem(f"{at}.name", tenant.name, "is used by more than one tenant")
        if tenant.quota.gpu > capacity:
            yield Problem(
                f"{at}.quota.gpu",
                tenant.quota.gpu,
                f"exceeds the GPU pools' capacity ({capacity} GPUs)",
            )
        if parse_quantity(tenant.quota.cpu) <= 0:
            yield Problem(f"{at}.quota.cpu", tenant.quota.cpu, "must be positive")
        if parse_quantity(tenant.quota.memory) <= 0:
            yield Problem(f"{at}.quota.memory", tenant.quota.memory, "must be positive")
        if tenant.pii and not tenant.dpia_ref:
            yield Problem(f"{at}.dpiaRef", None, "is required when pii is true (PDPL Art. 21 DPIA)")
        topics = Counter(tenant.topics)
        for topic, count in topics.items():
            if count > 1:
                yield Problem(f"{at}.topics", topic, "is listed more than once")


def _tenant_identities(c: StackConfig) -> Iterator[Problem]:
    """Who signs in as each tenant: one group (and on AWS one role) per tenant, never shared
    (a shared one would hold both namespaces), in the form the target's cluster sees it."""
    groups = Counter(t.idp_group for t in c.tenants)
    roles = Counter(t.aws_role_arn for t in c.tenants if t.aws_role_arn)
    admins = set(c.aws.admin_role_arns) if c.aws else set()
    for i, tenant in enumerate(c.tenants):
        at = f"tenants[{i}]"
        if groups[tenant.idp_group] > 1:
            yield Problem(f"{at}.idpGroup", tenant.idp_group, "is used by more than one tenant")
        if c.platform == "azure" and not is_uuid(tenant.idp_group):
            yield Problem(
                f"{at}.idpGroup",
                tenant.idp_group,
                "must be the Entra ID group's object ID on cloud azure (a lowercase GUID such "
                "as 0f4c2a1e-7d3b-4e58-9a61-2b8c5d7e9f10): AKS sees group object IDs, not names",
            )
        role = tenant.aws_role_arn
        if c.platform == "aws" and role is None:
            yield Problem(
                f"{at}.awsRoleArn",
                MISSING,
                f"is required on cloud aws: the IAM role group {tenant.idp_group} signs in as; "
                f"EKS gives it access to namespace tenant-{tenant.name} only",
            )
        if role is None:
            continue
        if c.platform == "aws" and c.aws and f":{c.aws.account_id}:" not in role:
            yield Problem(
                f"{at}.awsRoleArn", role, f"is not a role of aws.accountId {c.aws.account_id}"
            )
        if roles[role] > 1:
            yield Problem(f"{at}.awsRoleArn", role, "is used by more than one tenant")
        if role in admins:
            yield Problem(
                f"{at}.awsRoleArn", role, "is a cluster administrator (aws.adminRoleArns)"
            )


def _sample_workloads(c: StackConfig) -> Iterator[Problem]:
    s = c.sample_workloads
    if not s.enabled:
        return
    tenants = {t.name: t for t in c.tenants}
    if s.tenant not in tenants:
        allowed = ", ".join(tenants) or "(no tenants configured)"
        yield Problem("sampleWorkloads.tenant", s.tenant, f"is not a tenant; allowed: {allowed}")
    elif s.gpus > tenants[s.tenant].quota.gpu:
        yield Problem(
            "sampleWorkloads.gpus",
            s.gpus,
            f"exceeds tenant {s.tenant!r}'s GPU quota ({tenants[s.tenant].quota.gpu})",
        )
    if s.min_replicas > s.max_replicas:
        yield Problem(
            "sampleWorkloads.minReplicas", s.min_replicas, f"exceeds maxReplicas ({s.max_replicas})"
        )
    yield from _ml_loop(c)


def _ml_loop(c: StackConfig) -> Iterator[Problem]:
    """The stream processor's replicas: a consumer group gives each partition to one member."""
    stream = c.sample_workloads.loop.streaming
    at = "sampleWorkloads.loop.streaming"
    if stream.replicas > stream.max_replicas:
        yield Problem(
            f"{at}.replicas", stream.replicas, f"exceeds maxReplicas ({stream.max_replicas})"
        )
    if stream.max_replicas > c.kafka.partitions:
        yield Problem(
            f"{at}.maxReplicas",
            stream.max_replicas,
            f"exceeds the input topic's partitions (kafka.partitions = {c.kafka.partitions}): "
            "replicas beyond them would idle",
        )
