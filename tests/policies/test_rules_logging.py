"""UAE-LOG-001 … 005: in-country logs, cluster audit, retention, audit trail, immutable store."""

from __future__ import annotations

from policy_fixtures import assert_fails, assert_passes, aws, azure, check, provider, resource

from policies.pack_config import PackConfig

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
