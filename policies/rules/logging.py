"""Logging and audit: logs stay in-country, cluster audit logs, retention and encryption, an
account-level audit trail and an immutable audit store.

UAE-LOG-001 … UAE-LOG-006.
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
    endpoint_regions,
    get,
    normalize_location,
    number,
    refers_to,
    strings,
    truthy,
    types,
)
from policies.pack_config import PackConfig

IAR = "UAE IAR (logging and monitoring)"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TRAIL = "aws:cloudtrail/trail:Trail"
WORKSPACE = "azure-native:operationalinsights:Workspace"
DIAGNOSTIC = ("azure-native:monitor:DiagnosticSetting", "azure-native:insights:DiagnosticSetting")
SUB_DIAGNOSTIC = "azure-native:monitor:SubscriptionDiagnosticSetting"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")

# --------------------------------------------------------------------------- UAE-LOG-001

LOG_TYPES = types(
    LOG_GROUP,
    TRAIL,
    "aws:ec2/flowLog:FlowLog",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
    "aws:cloudwatch/logDestination:LogDestination",
    "aws:cloudwatch/logDelivery*",
    WORKSPACE,
    *DIAGNOSTIC,
    SUB_DIAGNOSTIC,
)


def check_log_location(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.package == "aws":
        region = r.region
        if isinstance(region, str) and not cfg.region_allowed(region):
            yield f"{r.describe()} keeps logs in '{region}', outside the UAE."
        for path, text in strings(r.props):
            for found in arn_regions(text) + endpoint_regions(text):
                if not cfg.region_allowed(found):
                    yield f"{r.describe()} ships logs to '{found}' ({path})."
    else:
        location = r.location
        if (
            r.type == WORKSPACE
            and isinstance(location, str)
            and not cfg.region_allowed(normalize_location(location))
        ):
            yield f"{r.describe()} keeps logs in '{location}', outside the UAE."
        if r.props.get("marketplacePartnerId"):
            yield (
                f"{r.describe()} streams logs to a marketplace partner "
                "outside the platform's control."
            )


def stack_log_destinations(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    """Azure diagnostic destinations must be workspaces/accounts this stack declares in-country."""
    targets = stack.of_type(
        WORKSPACE, "azure-native:storage:StorageAccount", "azure-native:eventhub:Namespace"
    )
    for setting in stack.of_type(*DIAGNOSTIC, SUB_DIAGNOSTIC):
        for key in ("workspaceId", "storageAccountId"):
            dest = setting.props.get(key)
            if dest is None or dest is UNKNOWN:
                continue
            match = next((t for t in targets if refers_to(dest, t)), None)
            if match is None:
                yield Violation(
                    f"{setting.describe()} sends logs to {key} '{dest}', which this stack does not "
                    "declare: its location cannot be shown to be in the UAE.",
                    setting.urn,
                )
            elif isinstance(match.location, str) and not cfg.region_allowed(
                normalize_location(match.location)
            ):
                yield Violation(
                    f"{setting.describe()} sends logs to {match.describe()} in '{match.location}'.",
                    setting.urn,
                )


LOG_001 = Policy(
    id="UAE-LOG-001",
    name="Logs stay in-country",
    description=(
        "CloudWatch log groups, trails, flow logs, Log Analytics workspaces and diagnostic-setting "
        "destinations are in allowed UAE regions."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.15", "5.34"),
    uae_refs=("PDPL Art. 22 (cross-border transfer)", IAR),
    remediation=(
        "Create log groups/buckets/workspaces through the stack's UAE-pinned providers and point "
        "diagnostic settings at a workspace or storage account "
        "of this stack in uaenorth/uaecentral."
    ),
    domain="logging",
    applies=LOG_TYPES,
    check=check_log_location,
    stack_check=stack_log_destinations,
    config_keys=("allowed_regions",),
)


# --------------------------------------------------------------------------- UAE-LOG-002

EKS_AUDIT = ("api", "audit", "authenticator")
AKS_AUDIT = ("kube-audit", "kube-audit-admin")


def check_eks_audit(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type != "aws:eks/cluster:Cluster":
        return
    enabled = r.props.get("enabledClusterLogTypes")
    if enabled is UNKNOWN:
        return
    missing = [t for t in EKS_AUDIT if t not in as_list(enabled)]
    if missing:
        yield f"{r.describe()} does not send control-plane log types {missing} to CloudWatch."


def _audits(setting: ResourceView) -> bool:
    for log in as_list(setting.props.get("logs")):
        if truthy(get(log, "enabled")) is False:
            continue
        if get(log, "category") in AKS_AUDIT or get(log, "categoryGroup") in ("audit", "allLogs"):
            return True
    return False


def stack_aks_audit(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    settings = stack.of_type(*DIAGNOSTIC)
    for cluster in stack.of_type("azure-native:containerservice:ManagedCluster"):
        if not any(refers_to(s.props.get("resourceUri"), cluster) and _audits(s) for s in settings):
            yield Violation(
                (
                    f"{cluster.describe()} has no diagnostic setting "
                    "exporting kube-audit/kube-audit-admin logs."
                ),
                cluster.urn,
            )


LOG_002 = Policy(
    id="UAE-LOG-002",
    name="Kubernetes audit logging",
    description=(
        "EKS exports api, audit and authenticator logs; AKS has a diagnostic setting with "
        "kube-audit or kube-audit-admin."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.15",),
    uae_refs=(IAR, "DESC ISR (logging)"),
    remediation=(
        "EKS: enabledClusterLogTypes=['api','audit','authenticator'] (plus controllerManager, "
        "scheduler); AKS: a DiagnosticSetting on the cluster with the kube-audit-admin category "
        "to the stack's Log Analytics workspace."
    ),
    domain="logging",
    applies=types("aws:eks/cluster:Cluster", "azure-native:containerservice:ManagedCluster"),
    check=check_eks_audit,
    stack_check=stack_aks_audit,
)


# --------------------------------------------------------------------------- UAE-LOG-003

LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)


def check_retention(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    minimum = cfg.log_retention_days
    if r.type == LOG_GROUP:
        days = number(r.props.get("retentionInDays"))
        if days is not None and 0 < days < minimum:
            yield f"{r.describe()} keeps logs {days:.0f} days; at least {minimum} are required."
        if r.props.get("kmsKeyId") in (None, ""):
            yield f"{r.describe()} is not encrypted with a customer-managed key (kmsKeyId)."
    elif r.type == WORKSPACE:
        days = number(r.props.get("retentionInDays"))
        if r.props.get("retentionInDays") is not UNKNOWN and (days is None or days < minimum):
            shown = "the default 30" if days is None else f"{days:.0f}"
            yield f"{r.describe()} keeps logs {shown} days; at least {minimum} are required."
    elif r.type in LIFECYCLE:
        bucket = str(r.props.get("bucket") or "")
        if "log" not in bucket and "audit" not in bucket:
            return
        for i, rule in enumerate(as_list(r.props.get("rules"))):
            days = number(get(rule, "expiration.days"))
            if get(rule, "status") != "Disabled" and days is not None and days < minimum:
                yield (
                    f"{r.describe()} rule {i} expires log objects after "
                    f"{days:.0f} days (< {minimum})."
                )


LOG_003 = Policy(
    id="UAE-LOG-003",
    name="Log retention and encryption",
    description=(
        "Log groups keep logs at least log_retention_days and are encrypted with a CMK; Log "
        "Analytics workspaces and log bucket lifecycles keep them as long."
    ),
    severity=Severity.MEDIUM,
    iso_controls=("8.15", "5.33"),
    uae_refs=(
        "Retention period is an expectation set per organisation (not a single statutory value)",
    ),
    remediation=(
        "retentionInDays ≥ logging.retentionDays and kmsKeyId=<logs CMK> on log groups; "
        "Workspace retentionInDays ≥ logging.retentionDays; lifecycle expiration of log/audit "
        "objects no shorter than that."
    ),
    domain="logging",
    applies=types(LOG_GROUP, WORKSPACE, *LIFECYCLE),
    check=check_retention,
    config_keys=("log_retention_days",),
    expectation=True,
)


# --------------------------------------------------------------------------- UAE-LOG-004


def _trail_problems(trail: ResourceView, stack: StackView, cfg: PackConfig) -> Iterator[str]:
    p = trail.props
    if truthy(p.get("isMultiRegionTrail")) is False:
        yield "is not multi-region (activity in other regions would go unrecorded)"
    if truthy(p.get("enableLogFileValidation")) is False:
        yield "does not validate log files (enableLogFileValidation)"
    if p.get("kmsKeyId") in (None, ""):
        yield "does not encrypt logs with a customer-managed key (kmsKeyId)"
    bucket_name = p.get("s3BucketName")
    if bucket_name is UNKNOWN:
        return
    buckets = stack.of_type(*S3_BUCKETS)
    bucket = next((b for b in buckets if refers_to(bucket_name, b)), None)
    if bucket is None:
        yield (
            f"writes to bucket '{bucket_name}', which this stack "
            "does not declare (region unverifiable)"
        )
    else:
        region = bucket.props.get("region") or bucket.region
        if isinstance(region, str) and not cfg.region_allowed(region):
            yield f"writes to {bucket.describe()} in '{region}'"


def _activity_log(setting: ResourceView) -> bool:
    uri = setting.props.get("resourceUri")
    is_subscription = setting.type == SUB_DIAGNOSTIC or (
        isinstance(uri, str)
        and uri.strip("/").count("/") == 1
        and uri.startswith("/subscriptions/")
    )
    has_destination = any(
        setting.props.get(k)
        for k in ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId")
    )
    return is_subscription and has_destination


def stack_audit_trail(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    # providers first (they name the stack's use of the cloud); any resource of the package
    # otherwise, in case an engine leaves providers out of the stack view
    aws = stack.of_type("pulumi:providers:aws") or stack.where(lambda r: r.package == "aws")
    trails = stack.of_type(TRAIL)
    if aws and not trails:
        yield Violation(
            "The stack uses AWS but declares no CloudTrail trail: account activity is not audited.",
            aws[0].urn,
        )
    for trail in trails:
        for problem in _trail_problems(trail, stack, cfg):
            yield Violation(f"{trail.describe()} {problem}.", trail.urn)
    azure = stack.of_type("pulumi:providers:azure-native") or stack.where(
        lambda r: r.package == "azure-native"
    )
    settings = stack.of_type(*DIAGNOSTIC, SUB_DIAGNOSTIC)
    if azure and not any(_activity_log(s) for s in settings):
        yield Violation(
            "The stack uses Azure but exports no subscription Activity Log (a subscription "
            "diagnostic setting to the stack's workspace).",
            azure[0].urn,
        )


LOG_004 = Policy(
    id="UAE-LOG-004",
    name="Account-level audit trail",
    description=(
        "AWS: a multi-region CloudTrail with log file validation, CMK encryption and an "
        "in-country bucket of this stack. Azure: the subscription Activity Log is exported."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.15", "5.28"),
    uae_refs=(IAR,),
    remediation=(
        "Add aws.cloudtrail.Trail(is_multi_region_trail=True, enable_log_file_validation=True, "
        "kms_key_id=<logs CMK>, s3_bucket_name=<audit bucket of this stack>); on Azure add a "
        "SubscriptionDiagnosticSetting sending Administrative/Security/Policy "
        "logs to the workspace."
    ),
    domain="logging",
    applies=types("pulumi:providers:aws", "pulumi:providers:azure-native", TRAIL, SUB_DIAGNOSTIC),
    stack_check=stack_audit_trail,
    config_keys=("allowed_regions",),
)


# --------------------------------------------------------------------------- UAE-LOG-005

OBJECT_LOCK = (
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
    "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
)


def _is_audit_bucket(bucket: ResourceView, trails: list[ResourceView]) -> bool:
    names = " ".join(
        str(v) for v in (bucket.props.get("bucket"), bucket.name, bucket.tags.get("purpose"))
    )
    return "audit" in names or any(refers_to(t.props.get("s3BucketName"), bucket) for t in trails)


def stack_immutable_audit(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    trails = stack.of_type(TRAIL)
    locks = stack.of_type(*OBJECT_LOCK)
    for bucket in stack.of_type(*S3_BUCKETS):
        if not _is_audit_bucket(bucket, trails):
            continue
        if truthy(bucket.props.get("objectLockEnabled")) is False:
            yield Violation(
                f"{bucket.describe()} holds audit logs but is created without Object Lock.",
                bucket.urn,
            )
            continue
        lock = next((c for c in locks if refers_to(c.props.get("bucket"), bucket)), None)
        mode = get(lock.props, "rule.defaultRetention.mode") if lock else None
        if mode not in ("COMPLIANCE", "GOVERNANCE", UNKNOWN):
            yield Violation(
                (
                    f"{bucket.describe()} holds audit logs without "
                    "a default Object Lock retention (COMPLIANCE/GOVERNANCE)."
                ),
                bucket.urn,
            )
    yield from _azure_audit_feed(stack)


CONTAINER = "azure-native:storage:BlobContainer"
IMMUTABILITY = "azure-native:storage:BlobContainerImmutabilityPolicy"


def _archived_containers(setting: ResourceView) -> list[str]:
    """The containers Azure Monitor writes a diagnostic setting's logs to, in the account it
    names: `insights-activity-logs` for the subscription Activity Log, `insights-logs-<category>`
    per enabled log category of a resource (a category group: its audit categories)."""
    if setting.type == SUB_DIAGNOSTIC or _activity_log(setting):
        return ["insights-activity-logs"]
    found = []
    for log in as_list(setting.props.get("logs")):
        if truthy(get(log, "enabled")) is False:
            continue
        category = get(log, "category")
        if isinstance(category, str):
            found.append(f"insights-logs-{category.lower()}")
        elif get(log, "categoryGroup") in ("audit", "allLogs"):
            found += [f"insights-logs-{c}" for c in AKS_AUDIT]
    return found


def _write_once(container: ResourceView, policies: list[ResourceView]) -> bool:
    if truthy(get(container.props, "immutableStorageWithVersioning.enabled")):
        return True
    named = [p.props.get("containerName") for p in policies]
    # an unknown containerName (preview: the container is being created) may be this one
    return _container_name(container) in named or UNKNOWN in named


def _container_name(container: ResourceView) -> str:
    return str(container.props.get("containerName") or container.name)


def _azure_audit_feed(stack: StackView) -> Iterator[Violation]:
    """Audit logs archived to storage land in write-once containers, and a container kept as
    the audit store is fed by a diagnostic setting (a name alone holds no audit log)."""
    policies = stack.of_type(IMMUTABILITY)
    containers = stack.of_type(CONTAINER)
    fed: set[str] = set()
    maybe_fed: set[str] = set()  # archived by a setting whose account is not known yet (preview)
    for setting in stack.of_type(*DIAGNOSTIC, SUB_DIAGNOSTIC):
        account = setting.props.get("storageAccountId")
        if account is UNKNOWN:
            maybe_fed.update(_archived_containers(setting))
            continue
        if account is None:
            continue
        for name in _archived_containers(setting):
            matches = [
                c
                for c in containers
                if _container_name(c) == name and refers_to(account, _account_of(c, stack))
            ]
            fed.update(c.urn for c in matches)
            if matches and not all(_write_once(c, policies) for c in matches):
                yield Violation(
                    f"{setting.describe()} archives audit logs to container '{name}', which is "
                    "not write-once (no immutability policy).",
                    setting.urn,
                )
    for container in containers:
        name = _container_name(container)
        if name in maybe_fed or container.urn in fed:
            continue
        if "audit" in name or name.startswith("insights-"):
            yield Violation(
                f"{container.describe()} is kept as an audit store but no diagnostic setting "
                "archives logs to it: Azure Monitor writes to insights-activity-logs and "
                "insights-logs-<category>, so it stays empty.",
                container.urn,
            )


def _account_of(container: ResourceView, stack: StackView) -> ResourceView:
    """The storage account a container belongs to (by its accountName), else the container."""
    name = container.props.get("accountName")
    for account in stack.of_type("azure-native:storage:StorageAccount"):
        if refers_to(name, account) or account.props.get("accountName") == name:
            return account
    return container


LOG_005 = Policy(
    id="UAE-LOG-005",
    name="Immutable audit store",
    description=(
        "Audit buckets use S3 Object Lock with a default retention; Azure audit logs archived "
        "by diagnostic settings land in write-once containers, and an audit container is fed "
        "by one."
    ),
    severity=Severity.MEDIUM,
    iso_controls=("5.33", "5.28"),
    uae_refs=(),
    remediation=(
        "Create the audit bucket with object_lock_enabled=True and a "
        "BucketObjectLockConfiguration (mode COMPLIANCE, days ≥ retention); on Azure point the "
        "Activity Log and AKS kube-audit diagnostic settings at the audit account "
        "(storageAccountId) and make the containers Azure Monitor writes "
        "(insights-activity-logs, insights-logs-<category>) immutable."
    ),
    domain="logging",
    applies=types(*S3_BUCKETS, CONTAINER, *DIAGNOSTIC, SUB_DIAGNOSTIC),
    stack_check=stack_immutable_audit,
)

# --------------------------------------------------------------------------- UAE-LOG-006

RELEASE = "kubernetes:helm.sh/v3:Release"
AKS = "azure-native:containerservice:ManagedCluster"
EKS = "aws:eks/cluster:Cluster"
SHIPPERS = ("fluent-bit",)
AUDIT_POLICY_LABEL = "mlplatform.io/audit-policy"
_SECTION = re.compile(r"^\s*\[(\w+)\]\s*$")


def config_sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Fluent Bit classic-mode sections: (`INPUT`/`OUTPUT`/..., {lower-case key: value})."""
    sections: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            sections.append((header.group(1).upper(), {}))
        elif sections and line.strip() and not line.strip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            sections[-1][1][key.lower()] = value.strip()
    return sections


def _shipper(r: ResourceView) -> bool:
    chart = str(r.props.get("chart") or "")
    return r.type == RELEASE and chart.rstrip("/").rsplit("/", 1)[-1] in SHIPPERS


def _pipeline(r: ResourceView) -> list[tuple[str, dict[str, str]]]:
    config = get(r.props, "values.config") or {}
    text = "\n".join(str(config.get(k) or "") for k in ("inputs", "outputs"))
    return config_sections(text) if isinstance(config, dict) else []


def _output_problems(output: dict[str, str], cfg: PackConfig) -> Iterator[str]:
    name = output.get("name", "?")
    if name == "cloudwatch_logs":
        region = output.get("region", "")
        if not cfg.region_allowed(region):
            yield f"output cloudwatch_logs writes to region '{region}', outside the UAE"
    elif name in ("null", "stdout"):
        yield f"output {name} discards the logs"
    else:
        if output.get("tls", "").lower() != "on":
            yield f"output {name} to {output.get('host', '?')} is not TLS (tls On)"
        elif output.get("tls.verify", "on").lower() != "on":
            yield f"output {name} to {output.get('host', '?')} does not verify the certificate"


def check_log_shipping(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if not _shipper(r):
        return
    outputs = [body for kind, body in _pipeline(r) if kind == "OUTPUT"]
    if not outputs:
        yield f"{r.describe()} ships logs nowhere (no [OUTPUT] in values.config.outputs)."
    for output in outputs:
        for problem in _output_problems(output, cfg):
            yield f"{r.describe()}: {problem}."


def _audit_shipped(shippers: list[ResourceView]) -> bool:
    return any(
        kind == "INPUT" and "audit" in body.get("path", "") and body.get("name") == "tail"
        for r in shippers
        for kind, body in _pipeline(r)
    )


def _container_insights(cluster: ResourceView) -> bool:
    profile = get(cluster.props, "addonProfiles.omsagent") or get(
        cluster.props, "addonProfiles.omsAgent"
    )
    return truthy(get(profile, "enabled")) is True


def stack_log_shipping(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    """Container logs go to an in-country store; where the platform runs the API server's
    audit itself (on-prem: no EKS/AKS control plane exports it), the audit log is shipped too
    and the site has the audit Policy."""
    # a stack that creates namespaces runs workloads on a cluster: their logs must go somewhere
    kubernetes = stack.of_type("kubernetes:core/v1:Namespace")
    if not kubernetes:
        return
    shippers = stack.where(_shipper)
    aks = stack.of_type(AKS)
    cluster = (stack.of_type("pulumi:providers:kubernetes") or kubernetes)[0]
    anchor, where = cluster.urn, f"The cluster of {cluster.describe()}:"
    if not shippers and not any(_container_insights(c) for c in aks):
        yield Violation(
            f"{where} container logs are shipped nowhere (no Fluent Bit release, no AKS "
            "Container Insights): pod logs live only on the nodes.",
            anchor,
        )
    if stack.of_type(EKS) or aks:
        return  # the managed control plane exports its audit log (UAE-LOG-002)
    if not _audit_shipped(shippers):
        yield Violation(
            f"{where} the API server's audit log is not shipped: no log shipper tails it "
            "(on-prem the platform must collect it; the managed clouds export it themselves).",
            anchor,
        )
    policies = [
        r
        for r in stack.of_type("kubernetes:core/v1:ConfigMap")
        if AUDIT_POLICY_LABEL in (get(r.props, "metadata") or {}).get("labels", {})
    ]
    if not policies:
        yield Violation(
            f"{where} no audit Policy for the site's API server (a ConfigMap labelled "
            f"{AUDIT_POLICY_LABEL}): what it records is left to the site's defaults.",
            anchor,
        )


LOG_006 = Policy(
    id="UAE-LOG-006",
    name="Container and audit logs shipped in-country",
    description=(
        "Container logs are shipped to the stack's in-country store (Fluent Bit to CloudWatch "
        "Logs in a UAE region or to the site's SIEM over verified TLS; AKS Container Insights); "
        "on-prem also the API server's audit log, with the audit Policy the site loads."
    ),
    # advisory until every target's plan ships its logs (components.observability.logs)
    severity=Severity.MEDIUM,
    iso_controls=("8.15", "8.16"),
    uae_refs=(IAR, "DESC ISR (logging)"),
    remediation=(
        "Enable observability log shipping (components.observability.logs.LogShipping): on AWS "
        "the cloudwatch_logs output in me-central-1; on-prem `observability.siem` (TLS, "
        "tls.verify On) and the audit log tail; give the site's API server the generated "
        "audit Policy (ConfigMap kube-apiserver-audit-policy) with --audit-policy-file."
    ),
    domain="logging",
    applies=lambda r: r.type == RELEASE,
    check=check_log_shipping,
    stack_check=stack_log_shipping,
    config_keys=("allowed_regions",),
)

POLICIES = (LOG_001, LOG_002, LOG_003, LOG_004, LOG_005, LOG_006)
