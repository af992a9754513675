"""UAE-GOV-001: mandatory classification tags and labels."""

from __future__ import annotations

from policy_fixtures import (
    TAGS,
    assert_fails,
    assert_passes,
    aws,
    azure,
    check,
    deployment,
    k8s,
    provider,
    resource,
)


def test_tagged_resources_and_labelled_workloads_pass() -> None:
    bucket = aws("aws:s3/bucket:Bucket", "artifacts")
    vault = azure("azure-native:keyvault:Vault", "kv")
    ns = k8s("kubernetes:core/v1:Namespace", "tenant-risk", None)
    assert_passes(check("UAE-GOV-001", bucket, vault, ns, deployment()))


def test_aws_provider_default_tags_count() -> None:
    tagged = provider("aws", "tagged", defaultTags={"tags": dict(TAGS)})
    key = resource("aws:kms/key:Key", "data", {}, provider_name="tagged")
    assert_passes(check("UAE-GOV-001", tagged, key))


def test_missing_or_wrong_classification_fails() -> None:
    untagged = resource("aws:s3/bucket:Bucket", "scratch", {})
    wrong = aws(
        "aws:kms/key:Key",
        "data",
        {"tags": {**TAGS, "residency": "eu", "data-classification": "secret"}},
    )
    personal = azure(
        "azure-native:storage:StorageAccount", "lake", {"tags": {**TAGS, "pii": "true"}}
    )
    ns = k8s("kubernetes:core/v1:Namespace", "scratch", None)
    ns["inputs"]["metadata"]["labels"] = {"owner": "someone"}
    result = check("UAE-GOV-001", untagged, wrong, personal, ns)
    assert_fails(result, "Bucket 'scratch'", "lacks mandatory tags", "data-classification")
    assert_fails(result, "Key 'data'", "residency 'eu'", "'secret'")
    assert_fails(result, "StorageAccount 'lake'", "without a dpia-ref")
    assert_fails(result, "Namespace scratch", "lacks mandatory labels", "residency")
