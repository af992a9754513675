"""The pack as Pulumi runs it: `python -m pulumi.policy <engine> policies`, spoken to over gRPC.

This is what `pulumi preview --policy-pack policies` starts (the Pulumi CLI itself cannot be
installed here): the pack directory's `__main__.py` builds the PolicyPack, which serves the
analyzer protocol on a local port it prints. The test asks it for its policies and has it
analyze one non-compliant resource, then stops it by PID.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.registry import ALL_POLICIES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(ROOT / "policies")],
        cwd=ROOT / "policies",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else port
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_pack_serves_every_policy_with_its_metadata(analyzer) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "uae-mlplatform"
    names = {p.name.removesuffix("-stack") for p in info.policies}
    assert names == {p.id for p in ALL_POLICIES}
    rotation = next(p for p in info.policies if p.name == "UAE-KEY-002")
    assert rotation.enforcementLevel == analyzer_pb2.MANDATORY
    assert (
        rotation.framework.name == "ISO/IEC 27001:2022" and "A.8.24" in rotation.framework.reference
    )
    assert rotation.remediation_steps and "allowed_regions" in rotation.configSchema.properties


def test_pack_reports_a_violation_for_a_resource(analyzer) -> None:
    props = struct_pb2.Struct()
    tags = {"data-classification": "confidential", "owner": "ml", "system": "mlplatform"}
    tags |= {"residency": "uae", "pii": "false"}
    props.update({"enableKeyRotation": False, "deletionWindowInDays": 30, "tags": tags})
    provider_props = struct_pb2.Struct()
    provider_props.update({"region": "me-central-1"})
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:kms/key:Key",
        properties=props,
        urn="urn:pulumi:prod::mlplatform::aws:kms/key:Key::data",
        name="data",
        options=analyzer_pb2.AnalyzerResourceOptions(protect=True),
        provider=analyzer_pb2.AnalyzerProviderResource(
            type="pulumi:providers:aws",
            properties=provider_props,
            urn="urn:pulumi:prod::mlplatform::pulumi:providers:aws::aws",
            name="aws",
        ),
    )
    response = analyzer.Analyze(request)
    by_policy = {d.policyName: d for d in response.diagnostics}
    assert set(by_policy) == {"UAE-KEY-002"}, [d.message for d in response.diagnostics]
    diagnostic = by_policy["UAE-KEY-002"]
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "Key 'data'" in diagnostic.message and "Remediation:" in diagnostic.message


def test_pack_says_it_cannot_decide_on_an_unknown_during_preview(analyzer) -> None:
    """A key ARN being created is unknown in a first preview: the engine gets an advisory "can't
    run policy during preview" from the pack, not a silent pass and not a false violation."""
    props = struct_pb2.Struct()
    rule = {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}
    rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] = UNKNOWN_STRING_VALUE
    props.update({"bucket": "artifacts", "rules": [rule]})
    kind = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    request = analyzer_pb2.AnalyzeRequest(
        type=kind,
        properties=props,
        urn=f"urn:pulumi:prod::mlplatform::{kind}::artifacts-sse",
        name="artifacts-sse",
        provider=analyzer_pb2.AnalyzerProviderResource(
            type="pulumi:providers:aws",
            properties=struct_pb2.Struct(
                fields={"region": struct_pb2.Value(string_value="me-central-1")}
            ),
            urn="urn:pulumi:prod::mlplatform::pulumi:providers:aws::aws",
            name="aws",
        ),
    )
    response = analyzer.Analyze(request)
    by_policy = {d.policyName: d for d in response.diagnostics}
    assert "UAE-KEY-001" in by_policy, [d.message for d in response.diagnostics]
    diagnostic = by_policy["UAE-KEY-001"]
    assert diagnostic.enforcementLevel == analyzer_pb2.ADVISORY
    assert "can't run policy 'UAE-KEY-001'" in diagnostic.message
    assert "kmsMasterKeyId can't be known during preview" in diagnostic.message
    mandatory = [
        d.message for d in response.diagnostics if d.enforcementLevel != analyzer_pb2.ADVISORY
    ]
    assert mandatory == []
