"""UAE-LOG-001 … 006: in-country logs, cluster audit, retention, audit trail, immutable store
(and what feeds it), container and audit logs shipped."""

from __future__ import annotations

from policy_fixtures import (
    LABELS,
    assert_fails,
    assert_passes,
    aws,
    azure,
    check,
    k8s,
    messages,
    provider,
    release,
    resource,
)

from policies.pack_config import PackConfig
from policies.preview import MARKER
from policies.rules.logging import config_sections

KEY_ARN = "arn:aws:kms:me-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AKS_ID = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
)
WORKSPACE_ID = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/logs"
)


def workspace(**inputs: object) -> dict:
    return azure(
        "azure-native:operationalinsights:Workspace",
        "logs",
        {"retentionInDays": 400, **inputs},
        id=WORKSPACE_ID,
    )


# --------------------------------------------------------------------------- UAE-LOG-001


def resource_setting(workspace_id: str, **inputs: object) -> dict:
    return resource(
        "azure-native:monitor:DiagnosticSetting",
        "aks-audit",
        {
            "resourceUri": AKS_ID,
            "workspaceId": workspace_id,
            **inputs,
        },
    )


def test_logs_in_country_pass() -> None:
    group = aws(
        "aws:cloudwatch/logGroup:LogGroup",
        "eks-logs",
        {"retentionInDays": 400, "kmsKeyId": KEY_ARN},
    )
    setting = resource_setting(workspace_id=WORKSPACE_ID)
    assert_passes(check("UAE-LOG-001", group, workspace(), setting))


def test_logs_leaving_the_country_fail() -> None:
    group = aws("aws:cloudwatch/logGroup:LogGroup", "eks-logs", {"region": "eu-west-1"})
    shipped = aws(
        "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
        "to-siem",
        {"destinationArn": "arn:aws:firehose:us-east-1:111122223333:deliverystream/siem"},
    )
    abroad = azure(
        "azure-native:operationalinsights:Workspace", "central", {"location": "westeurope"}
    )
    setting = resource_setting(
        workspace_id="/subscriptions/other/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/siem"
    )
    result = check("UAE-LOG-001", group, shipped, abroad, setting)
    assert_fails(result, "LogGroup 'eks-logs'", "eu-west-1")
    assert_fails(result, "to-siem", "us-east-1")
    assert_fails(result, "Workspace 'central'", "westeurope")
    assert_fails(result, "DiagnosticSetting 'aks-audit'", "does not declare")


# --------------------------------------------------------------------------- UAE-LOG-002


def test_cluster_audit_logs_pass() -> None:
    eks = aws(
        "aws:eks/cluster:Cluster",
        "eks",
        {"enabledClusterLogTypes": ["api", "audit", "authenticator", "scheduler"]},
    )
    aks = azure(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {},
        id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
    )
    setting = resource_setting(
        WORKSPACE_ID, logs=[{"category": "kube-audit-admin", "enabled": True}]
    )
    assert_passes(check("UAE-LOG-002", eks, aks, setting))


def test_disabled_audit_logs_fail() -> None:
    eks = aws("aws:eks/cluster:Cluster", "eks", {"enabledClusterLogTypes": ["api"]})
    aks = azure(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {},
        id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks",
    )
    setting = resource_setting(WORKSPACE_ID, logs=[{"category": "kube-apiserver", "enabled": True}])
    result = check("UAE-LOG-002", eks, aks, setting)
    assert_fails(result, "Cluster 'eks'", "audit", "authenticator")
    assert_fails(result, "ManagedCluster 'aks'", "kube-audit")


# --------------------------------------------------------------------------- UAE-LOG-003


def test_retention_at_least_the_configured_days_passes() -> None:
    group = aws(
        "aws:cloudwatch/logGroup:LogGroup",
        "eks-logs",
        {"retentionInDays": 400, "kmsKeyId": KEY_ARN},
    )
    assert_passes(
        check("UAE-LOG-003", group, workspace(), config=PackConfig(log_retention_days=400))
    )


def test_short_or_unencrypted_retention_fails() -> None:
    group = aws("aws:cloudwatch/logGroup:LogGroup", "eks-logs", {"retentionInDays": 30})
    default = azure("azure-native:operationalinsights:Workspace", "logs", {})
    result = check("UAE-LOG-003", group, default, config=PackConfig(log_retention_days=400))
    assert_fails(result, "LogGroup 'eks-logs'", "30 days", "kmsKeyId")
    assert_fails(result, "Workspace 'logs'", "default 30")


# --------------------------------------------------------------------------- UAE-LOG-004


def audit_bucket(**inputs: object) -> dict:
    return aws(
        "aws:s3/bucket:Bucket",
        "audit",
        {"bucket": "platform-audit", "objectLockEnabled": True, **inputs},
    )


def trail(**inputs: object) -> dict:
    body = {
        "isMultiRegionTrail": True,
        "enableLogFileValidation": True,
        "kmsKeyId": KEY_ARN,
        "s3BucketName": "platform-audit",
        **inputs,
    }
    return aws("aws:cloudtrail/trail:Trail", "trail", body)


def test_complete_trail_and_activity_log_pass() -> None:
    activity = resource_setting(WORKSPACE_ID)
    activity["type"] = "azure-native:monitor:SubscriptionDiagnosticSetting"
    activity["urn"] = activity["urn"].replace("DiagnosticSetting", "SubscriptionDiagnosticSetting")
    result = check(
        "UAE-LOG-004", provider("aws"), audit_bucket(), trail(), provider("azure-native"), activity
    )
    assert_passes(result)


def test_missing_or_weak_trail_fails() -> None:
    assert_fails(check("UAE-LOG-004", provider("aws")), "declares no CloudTrail")
    weak = trail(
        isMultiRegionTrail=False,
        enableLogFileValidation=False,
        kmsKeyId=None,
        s3BucketName="elsewhere",
    )
    result = check("UAE-LOG-004", provider("aws"), weak)
    assert_fails(
        result, "Trail 'trail'", "multi-region", "validate", "customer-managed", "does not declare"
    )
    assert_fails(check("UAE-LOG-004", provider("azure-native")), "Activity Log")


# --------------------------------------------------------------------------- UAE-LOG-005


def test_object_locked_audit_bucket_passes() -> None:
    lock = aws(
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "audit-lock",
        {
            "bucket": "platform-audit",
            "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 400}},
        },
    )
    assert_passes(check("UAE-LOG-005", audit_bucket(), lock, trail()))


def test_audit_bucket_without_object_lock_fails() -> None:
    unlocked = audit_bucket(objectLockEnabled=False)
    assert_fails(check("UAE-LOG-005", unlocked, trail()), "Bucket 'audit'", "Object Lock")
    no_retention = audit_bucket()
    assert_fails(
        check("UAE-LOG-005", no_retention), "Bucket 'audit'", "default Object Lock retention"
    )


# --------------------------------------------------------------------------- UAE-LOG-006

SIEM = (
    "[OUTPUT]\n    Name syslog\n    Host siem.bank.ae\n    Port 6514\n    Mode tls\n"
    "    tls On\n    tls.verify On\n    tls.ca_file /etc/fluent-bit/ca/ca.crt\n    Match *\n"
)
AUDIT_TAIL = (
    "[INPUT]\n    Name tail\n    Path /var/log/kubernetes/audit/audit.log\n    Tag audit.*\n"
)
CONTAINERS = "[INPUT]\n    Name tail\n    Path /var/log/containers/*.log\n    Tag kube.*\n"


def fluent_bit(outputs: str = SIEM, inputs: str = CONTAINERS + AUDIT_TAIL) -> dict:
    return release(
        "mlplatform-logging",
        "oci://harbor.dc1.bank.ae/mlplatform/charts/fluent-bit",
        {"config": {"inputs": inputs, "outputs": outputs}},
    )


def audit_policy(labelled: bool = True) -> dict:
    cm = k8s("kubernetes:core/v1:ConfigMap", "kube-apiserver-audit-policy", "mlplatform-logging")
    if labelled:
        cm["inputs"]["metadata"]["labels"] = {**LABELS, "mlplatform.io/audit-policy": "true"}
    return cm


def namespace() -> dict:
    return k8s("kubernetes:core/v1:Namespace", "tenant-risk", None)


def test_config_sections_reads_fluent_bit_classic_mode() -> None:
    assert config_sections(SIEM) == [
        (
            "OUTPUT",
            {
                "name": "syslog",
                "host": "siem.bank.ae",
                "port": "6514",
                "mode": "tls",
                "tls": "On",
                "tls.verify": "On",
                "tls.ca_file": "/etc/fluent-bit/ca/ca.crt",
                "match": "*",
            },
        )
    ]


def test_on_prem_shipping_to_the_siem_over_verified_tls_with_the_audit_log_passes() -> None:
    assert_passes(check("UAE-LOG-006", namespace(), fluent_bit(), audit_policy()))


def test_cloudwatch_in_me_central_1_passes() -> None:
    cloudwatch = (
        "[OUTPUT]\n    Name cloudwatch_logs\n    region me-central-1\n"
        "    log_group_name /mlplatform/prod/containers\n"
    )
    cluster = aws("aws:eks/cluster:Cluster", "eks", {})
    assert_passes(check("UAE-LOG-006", namespace(), cluster, fluent_bit(cloudwatch, CONTAINERS)))


def test_no_shipper_fails_naming_it() -> None:
    assert_fails(
        check("UAE-LOG-006", namespace(), audit_policy()),
        "The cluster of kubernetes",
        "shipped nowhere",
    )


def test_plaintext_or_unverified_siem_output_fails() -> None:
    plain = SIEM.replace("    tls On\n", "    tls Off\n")
    assert_fails(
        check("UAE-LOG-006", namespace(), fluent_bit(plain), audit_policy()),
        "mlplatform-logging",
        "is not TLS",
    )
    unverified = SIEM.replace("tls.verify On", "tls.verify Off")
    assert_fails(
        check("UAE-LOG-006", namespace(), fluent_bit(unverified), audit_policy()),
        "mlplatform-logging",
        "does not verify the certificate",
    )


def test_cloudwatch_outside_the_uae_fails() -> None:
    abroad = "[OUTPUT]\n    Name cloudwatch_logs\n    region eu-west-1\n"
    assert_fails(
        check("UAE-LOG-006", namespace(), fluent_bit(abroad), audit_policy()),
        "mlplatform-logging",
        "eu-west-1",
    )


def test_on_prem_without_the_audit_log_or_its_policy_fails() -> None:
    assert_fails(
        check("UAE-LOG-006", namespace(), fluent_bit(inputs=CONTAINERS), audit_policy()),
        "The cluster of kubernetes",
        "audit log is not shipped",
    )
    assert_fails(
        check("UAE-LOG-006", namespace(), fluent_bit(), audit_policy(labelled=False)),
        "The cluster of kubernetes",
        "no audit Policy",
    )


# --------------------------------------------------------------------------- UAE-LOG-005 (Azure)

ACCOUNT_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/audit"


def account() -> dict:
    return azure(
        "azure-native:storage:StorageAccount", "audit", {"accountName": "audit"}, id=ACCOUNT_ID
    )


def container(name: str, immutable: bool = True) -> dict:
    inputs: dict = {"accountName": "audit", "containerName": name}
    if immutable:
        inputs["immutableStorageWithVersioning"] = {"enabled": True}
    return azure("azure-native:storage:BlobContainer", name, inputs)


def activity_log_to_storage() -> dict:
    return azure(
        "azure-native:monitor:SubscriptionDiagnosticSetting",
        "activity",
        {"storageAccountId": ACCOUNT_ID, "logs": [{"category": "Administrative", "enabled": True}]},
    )


def test_audit_containers_fed_by_the_activity_log_pass() -> None:
    assert_passes(
        check(
            "UAE-LOG-005", account(), container("insights-activity-logs"), activity_log_to_storage()
        )
    )


def test_an_audit_container_nothing_writes_to_fails_whatever_its_name() -> None:
    assert_fails(
        check("UAE-LOG-005", account(), container("audit")), "audit", "no diagnostic setting"
    )


def test_audit_logs_archived_to_a_mutable_container_fail() -> None:
    assert_fails(
        check(
            "UAE-LOG-005",
            account(),
            container("insights-activity-logs", immutable=False),
            activity_log_to_storage(),
        ),
        "activity",
        "not write-once",
    )


def test_an_archive_whose_account_is_not_known_yet_is_undecided_not_a_violation() -> None:
    setting = activity_log_to_storage()
    setting["inputs"]["storageAccountId"] = MARKER  # preview: the account is being created
    result = check("UAE-LOG-005", account(), container("insights-activity-logs"), setting)
    assert result.status != "fail", messages(result)
