"""Preview-mode plans: each shipped variant as a first `pulumi preview` sees it, and the pack over
it. No mandatory false failure; a policy that cannot decide says so (undecided, advisory) and is
never a silent pass or a silent not-applicable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra import plan as planning
from infra.evidence import preview as preview_md
from infra.plan.preview_step import ONLY_ON_UPDATE, PreviewStep, _undecided_when_absent
from policies.evaluate import Report, evaluate
from policies.pack_config import PackConfig
from policies.preview import MARKER

CFG = PackConfig(aws_account_ids=("111122223333",))
PROVIDER = "urn:pulumi:prod::mlplatform::pulumi:providers:aws::aws"


def resource(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:prod::mlplatform::{type_}::{name}",
        "type": type_,
        "name": name,
        "parent": None,
        "provider": f"{PROVIDER}::[unknown]",
        "custom": True,
        "id": None,
        "options": {},
        "inputs": inputs,
    }


def aws() -> dict[str, Any]:
    return {**resource("pulumi:providers:aws", "aws", {"region": "me-central-1"}), "provider": None}


SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def sse(key: str) -> dict[str, Any]:
    default = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key}
    return resource(
        SSE,
        "artifacts-sse",
        {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": default}]},
    )


# --------------------------------------------------------------------------- the evaluator


def test_a_rule_that_reads_an_unknown_is_undecided_not_passed() -> None:
    report = evaluate([aws(), sse(MARKER)], CFG)
    assert report.preview
    key = report.result("UAE-KEY-001")
    assert key.status == "undecided"
    (undecided,) = key.undecided
    assert undecided.resource_name == "artifacts-sse"
    assert "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId" in undecided.unknown
    assert "decides on the update" in undecided.reason
    assert report.to_dict()["mode"] == "preview" and report.summary()["undecided"] >= 1


def test_a_known_violation_still_fails_a_preview() -> None:
    report = evaluate([aws(), sse("arn:aws:kms:eu-west-1:111122223333:key/k")], CFG)
    assert report.preview is False  # nothing unknown: an update's report, shape unchanged
    assert "UAE-RES-001" in report.failed_ids()
    assert "undecided" not in report.to_dict()["policies"][0]
    unknown_bucket = {**sse("arn:aws:kms:eu-west-1:111122223333:key/k"), "id": None}
    unknown_bucket["inputs"]["bucket"] = MARKER
    report = evaluate([aws(), unknown_bucket], CFG)
    assert report.preview and "UAE-RES-001" in report.failed_ids()


def test_node_groups_on_subnets_being_created_are_undecided_not_single_zone() -> None:
    """UAE-BCP-001 reported ['?UNKNOWN'] as one zone for three unknown subnets (a false
    finding in every first AWS preview)."""
    group = resource("aws:eks/nodeGroup:NodeGroup", "nodes", {"subnetIds": [MARKER] * 3})
    result = evaluate([aws(), group], CFG).result("UAE-BCP-001")
    assert result.findings == [] and result.status == "undecided"
    one = resource("aws:eks/nodeGroup:NodeGroup", "nodes", {"subnetIds": ["subnet-a"]})
    assert evaluate([aws(), one], CFG).result("UAE-BCP-001").status == "fail"


def test_an_unknown_mlflow_store_is_undecided_not_a_rule_crash() -> None:
    """UAE-RES-004 dropped the unknown word after --backend-store-uri, took the next flag as
    the URI and failed to evaluate (a mandatory false failure in every first cloud preview)."""
    command = ["mlflow", "server", "--backend-store-uri", MARKER, "--host", "0.0.0.0"]
    spec = {"template": {"spec": {"containers": [{"name": "mlflow", "command": command}]}}}
    deploy = resource(
        "kubernetes:apps/v1:Deployment",
        "mlflow",
        {"metadata": {"name": "mlflow", "namespace": "mlflow"}, "spec": spec},
    )
    result = evaluate([deploy], CFG).result("UAE-RES-004")
    assert result.findings == [] and result.status == "undecided"
    command[3] = "postgresql://db.example.com:5432/mlflow"
    assert evaluate([deploy], CFG).result("UAE-RES-004").status == "fail"


def test_an_immutability_policy_for_a_container_being_created_is_undecided() -> None:
    """UAE-LOG-005 compared the policy's unknown containerName with 'audit' and reported the
    audit container as mutable in every first Azure preview."""
    container = resource(
        "azure-native:storage:BlobContainer", "st-audit", {"containerName": "audit"}
    )
    worm = resource(
        "azure-native:storage:BlobContainerImmutabilityPolicy", "worm", {"containerName": MARKER}
    )
    result = evaluate([container, worm], CFG).result("UAE-LOG-005")
    assert not [f for f in result.findings if "immutab" in f.message], result.findings


def test_a_resource_registered_only_on_the_update_leaves_its_policies_undecided() -> None:
    group = resource("aws:eks/nodeGroup:NodeGroup", "late", {"subnetIds": ["subnet-a"]})
    update = evaluate([aws(), group], CFG)
    preview = evaluate([aws(), sse(MARKER)], CFG)
    assert preview.result("UAE-BCP-001").status == "not-applicable"

    class Update:  # what _undecided_when_absent reads of the update's plan
        class synthesis:
            @staticmethod
            def by_urn() -> dict[str, Any]:
                return {group["urn"]: type("R", (), {"type": group["type"], "name": "late"})}

    _undecided_when_absent(preview, update, {group["urn"]}, Update())  # type: ignore[arg-type]
    result = preview.result("UAE-BCP-001")
    assert result.status == "undecided" and result.undecided[0].reason == ONLY_ON_UPDATE


# --------------------------------------------------------------------------- shipped variants


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Report, PreviewStep]]:
    """Every shipped variant: the update's pack report and the preview step."""
    out = tmp_path_factory.mktemp("plans")
    steps = {}
    for variant in planning.VARIANTS:
        update = planning.synthesize_stack(variant.stack, variant.overrides, variant.name)
        planning.write_plan(update, out)
        report = planning.evaluate_policies(update)
        steps[variant.name] = (report, planning.preview_plan(update, report))
    return steps


@pytest.fixture(scope="module")
def previews(planned) -> dict[str, PreviewStep]:
    return {name: step for name, (_, step) in planned.items()}


def test_every_variant_has_a_preview_plan_with_no_preview_only_violation(planned) -> None:
    """No mandatory false failure: whatever the pack finds during the preview it also finds on
    the update (a real violation fails both verdicts; an unknown value fails neither)."""
    assert set(planned) == {v.name for v in planning.VARIANTS}
    for name, (update, step) in planned.items():
        assert step.report.preview, name
        seen = {(f.policy_id, f.urn, f.message) for f in update.mandatory}
        only = [
            f.message for f in step.report.mandatory if (f.policy_id, f.urn, f.message) not in seen
        ]
        assert only == [], (name, only)
        assert step.result.out_dir is not None and step.result.out_dir.name == "preview"
        assert (step.result.out_dir / "resources.json").is_file()
        written = json.loads(
            (step.result.out_dir.parent / planning.PREVIEW_REPORT_FILE).read_text()
        )
        assert written["mode"] == "preview" and written["passed"] is step.report.passed


def test_cloud_previews_leave_computed_values_unknown(previews) -> None:
    for name in ("uae-cloud", "uae-cloud-azure"):
        text = (previews[name].result.out_dir / "resources.json").read_text()  # type: ignore[operator]
        assert text.count(json.dumps(MARKER)) > 100, name
        assert previews[name].report.undecided, f"{name}: nothing undecided in a first preview"
        assert "object at 0x" not in text


def test_no_policy_is_silently_skipped_in_a_preview(planned) -> None:
    for name, (update, step) in planned.items():
        for result in step.report.results:
            examined_on_update = bool(update.result(result.id).examined)
            if examined_on_update:
                assert result.status in ("pass", "fail", "undecided"), (name, result.id)
            if result.status == "undecided":
                assert result.undecided and all(u.reason for u in result.undecided)


def test_compliance_shows_the_preview_verdict(previews) -> None:
    summary = planning.preview_summary(previews["uae-cloud"])
    assert summary["passed"] is previews["uae-cloud"].passed
    assert summary["report"] == "policy-report-preview.json"
    assert summary["unknownValues"] > 100 and summary["undecided"]
    text = "\n".join(preview_md.markdown(summary))
    assert "## First preview" in text and "Verdict: " in text
    assert "| UAE-KEY-001 | Customer-managed keys for data at rest | mandatory |" in text
    failing = {
        **summary,
        "passed": False,
        "summary": {**summary["summary"], "mandatoryViolations": 1},
    }
    assert "**FAIL** (it would block the first preview)" in "\n".join(preview_md.markdown(failing))
