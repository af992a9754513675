"""The compliance report of a synthesized stack: complete, stable, with its residency statement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import plan as planning
from infra.evidence import compliance, residency
from infra.evidence.checkov import Gate
from policies.evaluate import evaluate
from stacks.config.loader import stack_config


def _fresh(cached: planning.PlanResult) -> planning.PlanResult:
    """A copy of a session-cached plan that this module may write (write_plan mutates it)."""
    return planning.PlanResult(cached.name, cached.config, cached.synthesis)


@pytest.fixture(scope="module")
def onprem_runs(stack_plan, checkov_bin, tmp_path_factory) -> list[Path]:
    """The uae-onprem plan written and checked twice, into two directories."""
    cached = stack_plan("uae-onprem")
    dirs = []
    for run in ("first", "second"):
        result = planning.write_plan(_fresh(cached), tmp_path_factory.mktemp(run))
        assert result.out_dir is not None
        resources = json.loads((result.out_dir / "resources.json").read_text())
        planning.check_and_report(result, evaluate(resources))
        dirs.append(result.out_dir)
    return dirs


@pytest.fixture(scope="module")
def report(onprem_runs) -> dict:
    return json.loads((onprem_runs[0] / "compliance.json").read_text())


@pytest.mark.parametrize(
    "name",
    ["compliance.json", "compliance.md", "checkov.json", "checkov.sarif", "checkov.junit.xml"],
)
def test_reports_are_byte_identical_across_runs(onprem_runs, name):
    first, second = (d / name for d in onprem_runs)
    assert first.read_bytes() == second.read_bytes()


def test_every_control_lists_the_policies_and_checks_that_test_it(report):
    controls = {c["id"]: c for c in report["controls"]}
    gate = Gate.load()
    expected: dict[str, set[str]] = {}
    for meta in compliance.pack_catalogue().values():
        for control in meta.iso_controls:
            expected.setdefault(control, set()).add(meta.id)
    for row in gate.rows.values():
        for control in row.iso_controls:
            expected.setdefault(control, set()).add(row.policy)
    assert set(controls) == set(expected)
    for control, rows in expected.items():
        assert set(controls[control]["catalogueRows"]) == rows, control
        assert controls[control]["title"] != "(title not recorded)", control
    checks = {c["id"]: c for c in report["checks"]}
    for check_id, check in checks.items():
        row = check["policy"]
        for control, rows in expected.items():
            if row in rows:
                assert check_id in controls[control]["checks"], (check_id, control)
    # the CrossGuard half ran: every pack policy has a result (pass, fail or not applicable)
    assert {p["id"] for p in report["policies"]} == set(compliance.pack_catalogue())
    assert "not-evaluated" not in {p["status"] for p in report["policies"]}
    assert report["warnings"] == []


def test_gated_checks_ran_on_the_stack_and_failures_name_resources(report):
    checks = {c["id"]: c for c in report["checks"]}
    for check_id in ("CKV_K8S_16", "CKV_K8S_20", "CKV_UAE_K8S_1", "CKV2_UAE_K8S_2", "CKV2_K8S_6"):
        assert checks[check_id]["enforcement"] == "gated"
        assert checks[check_id]["passed"] or checks[check_id]["failed"], check_id
    for check in checks.values():
        if check["status"] == "fail":
            assert check["failed"] and all("." in r for r in check["failed"])
    summary = report["summary"]
    assert summary["gatedCheckovFailures"] == sum(
        len(c["failed"]) for c in checks.values() if c["enforcement"] == "gated"
    )
    assert summary["result"] == (
        "fail" if summary["gatedCheckovFailures"] or summary["mandatoryViolations"] else "pass"
    )


def test_skips_and_expectations_are_stated(report):
    skip = next(s for s in report["checkovSkips"] if s["test"] == "CKV_K8S_43")
    assert skip["when"] == "registry.immutableTags" and "immutab" in skip["reason"]
    hsm = next(p for p in report["policies"] if p["id"] == "UAE-KEY-003")
    assert hsm["note"].startswith("[U]")
    assert any("[U]" in r.get("note", "") for r in report["uaeReferences"])


def test_residency_statement_of_the_onprem_stack(report):
    statement = report["residency"]
    assert statement["stateBackend"]["url"] == "file:///srv/pulumi-state"
    assert statement["secretsProvider"]["url"] == "hashivault://pulumi-uae-onprem"
    where = statement["secretsProvider"]["where"]
    assert "transit key 'pulumi-uae-onprem' on the Vault that VAULT_ADDR names" in where
    assert statement["cluster"]["location"] == "site auh-dc1"
    assert statement["cluster"]["inCountry"] is True
    assert statement["allInCountry"] is True
    references = {r["service"]: r for r in statement["byReference"]}
    assert references["container and chart registry"]["reference"] == (
        "harbor.dc1.example.ae/mlplatform"
    )
    assert "s3.dc1.example.ae" in references["object store (S3-compatible)"]["reference"]


def test_markdown_shows_every_control_and_the_residency_statement(onprem_runs, report):
    text = (onprem_runs[0] / "compliance.md").read_text()
    for control in report["controls"]:
        assert f"| {control['id']} | {control['title']} |" in text
    assert "## Residency statement" in text
    assert "file:///srv/pulumi-state" in text
    assert "[U]" in text


@pytest.mark.parametrize(
    ("stack", "location", "state_region", "state_in_country"),
    [
        ("uae-cloud", "me-central-1", "me-central-1", True),
        # an Azure stack's own Blob state: its account's location is not in the URL, so the
        # statement says where it must be and `verify --preflight` checks it (not vouched here)
        ("uae-cloud-azure", "uaenorth", None, None),
    ],
)
def test_residency_statement_of_the_cloud_stacks(
    stack_plan, stack, location, state_region, state_in_country
):
    result = stack_plan(stack)
    resources = [r.to_json() for r in result.synthesis.resources]
    statement = residency.statement(resources, result.config)
    places = {loc["location"]: loc for loc in statement["locations"]}
    assert places[location]["resources"] > 0 and places[location]["inCountry"]
    assert statement["cluster"]["location"] == location
    assert statement["stateBackend"]["location"] == state_region
    assert statement["stateBackend"]["inCountry"] is state_in_country
    if state_in_country is None:
        assert "verify --preflight" in statement["stateBackend"]["where"]
    assert statement["allInCountry"] is True, statement["text"]


def test_residency_statement_flags_a_foreign_region():
    config, _ = stack_config("uae-cloud")
    resources = [
        {
            "urn": "urn:pulumi:s::p::pulumi:providers:aws::eu",
            "type": "pulumi:providers:aws",
            "name": "eu",
            "custom": True,
            "inputs": {"region": "eu-west-1"},
        },
        {
            "urn": "urn:pulumi:s::p::aws:s3/bucket:Bucket::logs",
            "type": "aws:s3/bucket:Bucket",
            "name": "logs",
            "custom": True,
            "provider": "urn:pulumi:s::p::pulumi:providers:aws::eu::id",
            "inputs": {"bucket": "logs"},
        },
    ]
    statement = residency.statement(resources, config)
    assert statement["allInCountry"] is False
    eu = next(loc for loc in statement["locations"] if loc["location"] == "eu-west-1")
    assert eu["inCountry"] is False and eu["resources"] == 2
    assert "OUTSIDE THE UAE" in statement["text"]


def test_egress_the_pack_accepts_is_a_declared_exception_in_the_report(onprem_runs, report):
    # UAE-NET-004 passes a namespace left open or a policy to any address only with a declared
    # reason (components.namespace.EGRESS_EXCEPTIONS): the report lists each, with its remedy
    from components.namespace import EGRESS_EXCEPTIONS

    egress = [e for e in report["declaredExceptions"] if e["policy"] == "UAE-NET-004"]
    for namespace, reason in EGRESS_EXCEPTIONS.items():
        entry = next(e for e in egress if f"Namespace {namespace}" in e["what"])
        assert entry["control"] == "8.22"
        assert entry["why"] and entry["why"] in reason
        assert entry["remedy"] and entry["remedy"] in reason
    text = (onprem_runs[0] / "compliance.md").read_text()
    assert "Namespace mlplatform-logging" in text


def test_egress_exceptions_group_objects_by_reason_and_ignore_blank_ones():
    def obj(kind: str, name: str, reason: str, namespace: str | None = None) -> dict:
        metadata = {"name": name, "annotations": {"mlplatform.io/egress-exception": reason}}
        if namespace:
            metadata["namespace"] = namespace
        rtype = {
            "Namespace": "kubernetes:core/v1:Namespace",
            "NetworkPolicy": "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "Pod": "kubernetes:core/v1:Pod",
        }[kind]
        return {"type": rtype, "inputs": {"metadata": metadata}}

    s3 = "S3 is reached at its public prefix list"
    declared = compliance.egress_exceptions(
        [
            obj("NetworkPolicy", "allow-object-store", s3, "mlflow"),
            obj("NetworkPolicy", "allow-object-store", s3, "feast"),
            obj("Namespace", "mlplatform-logging", "SIEM by host name. Remedy: its addresses"),
            obj("Namespace", "blank", "  "),
            obj("Pod", "not-a-declarer", "ignored"),
        ]
    )
    by_why = {e["why"]: e for e in declared}
    assert set(by_why) == {s3, "SIEM by host name."}
    assert by_why[s3]["what"].endswith(
        "NetworkPolicy feast/allow-object-store, NetworkPolicy mlflow/allow-object-store"
    )
    assert "UAE-NET-004" in by_why[s3]["remedy"]
    assert by_why["SIEM by host name."]["remedy"] == "its addresses"
    assert by_why["SIEM by host name."]["what"].endswith("Namespace mlplatform-logging")
