"""UAE-SUP-001: approved providers, services and API versions."""

from __future__ import annotations

from policy_fixtures import assert_fails, assert_passes, aws, check, k8s, resource

# --------------------------------------------------------------------------- UAE-SUP-001


def test_approved_providers_and_api_versions_pass() -> None:
    isvc = k8s(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "fraud",
        "tenant-risk",
        {"spec": {}},
    )
    assert_passes(check("UAE-SUP-001", isvc, aws("aws:s3/bucket:Bucket", "b")))


def test_unapproved_provider_and_pre_release_api_fail() -> None:
    command = resource("command:local:Command", "curl-install", {"create": "curl | sh"})
    alpha = k8s("kubernetes:example.io/v1alpha1:Widget", "w", "default", {"spec": {}})
    preview = resource("azure-native:containerservice/v20240902preview:ManagedCluster", "aks", {})
    result = check("UAE-SUP-001", command, alpha, preview)
    assert_fails(result, "Command 'curl-install'", "'command'")
    assert_fails(result, "Widget default/w", "example.io/v1alpha1")
    assert_fails(result, "ManagedCluster 'aks'", "preview")
