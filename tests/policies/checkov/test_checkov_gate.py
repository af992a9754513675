"""The checkov gate: explicit IDs fail the plan, skips carry reasons, reports parse.

Offline every checkov severity is None, so nothing here may depend on severity.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from infra.evidence import checkov

FIXTURES = Path(__file__).parent / "fixtures"
GATE = FIXTURES / "gate"
DOCKERFILES = FIXTURES / "dockerfiles"

# The CK checks the catalogue names on its critical and high rows: all must fail the plan.
MANDATORY_ROW_CHECKS = {
    "UAE-K8S-001": {f"CKV_K8S_{n}" for n in (16, 17, 18, 19, 20, 23, 28, 31, 37, 40)},
    "UAE-K8S-003": {"CKV_K8S_14", "CKV_K8S_43"},
    "UAE-K8S-004": {"CKV_K8S_35"},
    "UAE-IAM-001": {"CKV_K8S_49", *(f"CKV_K8S_{n}" for n in range(155, 159))}
    | {f"CKV2_K8S_{n}" for n in range(1, 6)},
    "UAE-IAM-002": {"CKV_K8S_38", "CKV_K8S_41"},
    "UAE-NET-004": {"CKV2_K8S_6"},
    "UAE-RES-005": {"CKV_UAE_K8S_1"},
    "UAE-GOV-001": {"CKV2_UAE_K8S_2"},
}
# Medium rows start advisory (catalogue); these are reported but never gate.
ADVISORY_ROW_CHECKS = {
    "UAE-K8S-002": {f"CKV_K8S_{n}" for n in (8, 9, 10, 11, 12, 13, 22)},
}


@pytest.fixture(scope="module")
def gate() -> checkov.Gate:
    return checkov.Gate.load()


@pytest.fixture(scope="module")
def known_ids(checkov_bin: Path) -> set[str]:
    listing = subprocess.run(
        [str(checkov_bin), "--list", "--framework", "kubernetes", "dockerfile"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return {cell.strip() for line in listing.splitlines() for cell in line.split("|")[2:3]}


def test_every_gate_id_exists_in_the_pinned_checkov(gate, known_ids):
    requirement = (checkov.CHECKOV_DIR / "requirements.txt").read_text()
    assert "checkov==3.3.30" in requirement
    builtin = gate.mentioned() - set(checkov.CUSTOM_CHECK_IDS)
    assert builtin - known_ids == set()


def test_mandatory_catalogue_checks_are_gated(gate):
    for policy, ids in MANDATORY_ROW_CHECKS.items():
        for check_id in ids:
            assert check_id in gate.gated, check_id
            assert gate.policy(check_id) == policy


def test_medium_rows_are_advisory(gate):
    for policy, ids in ADVISORY_ROW_CHECKS.items():
        for check_id in ids:
            assert gate.gate_class(check_id) == checkov.ADVISORY
            assert gate.policy(check_id) == policy


def test_every_row_the_gate_names_has_catalogue_metadata_in_one_place(gate):
    """Rows come from the policy pack; gate.yaml describes only the checkov-only rows."""
    from policies.registry import ALL_POLICIES, CHECKOV_ONLY

    pack = {p.id for p in ALL_POLICIES}
    for row in gate.policies():
        assert (row in pack) != (row in gate.rows), row
    assert set(gate.rows) == set(CHECKOV_ONLY)


def test_every_skip_has_a_reason_and_targets_a_known_check(gate):
    assert gate.skips
    for skip in gate.skips:
        assert len(skip.reason) > 40
        assert skip.check_id in gate.gated or skip.check_id in gate.advisory


def test_hardened_workload_passes_every_check(run_checkov):
    result = run_checkov(GATE / "compliant")
    assert result.ok
    assert [r for r in result.records if r.status == checkov.FAILED] == []
    # the gated checks really ran on it (the gate is not passing because nothing was examined)
    ran = {r.check_id for r in result.records if r.status == checkov.PASSED}
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_40", "CKV2_K8S_6", "CKV_UAE_K8S_1"} <= ran


@pytest.fixture(scope="module")
def undigested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compliant workload with its image pinned by tag only (no digest)."""
    folder = tmp_path_factory.mktemp("undigested")
    for source in (GATE / "compliant").iterdir():
        text = source.read_text()
        if "@sha256:" in text:
            text = text.split("@sha256:")[0] + "\n" + text.split("@sha256:")[1].split("\n", 1)[1]
        (folder / source.name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def mixed(run_checkov, undigested, tmp_path_factory) -> checkov.CheckovResult:
    """One scan: the privileged workload, a tag-only workload, both Dockerfiles."""
    folder = tmp_path_factory.mktemp("mixed")
    shutil.copytree(GATE / "privileged", folder, dirs_exist_ok=True)
    tagonly = (undigested / "deployment-scorer.yaml").read_text()
    tagonly = tagonly.replace("privileged: false", "privileged: true")
    tagonly = tagonly.replace("name: scorer\n  namespace", "name: tagonly\n  namespace")
    (folder / "deployment-tagonly.yaml").write_text(tagonly)
    # two workloads that mount their token: one states why (annotation), one does not
    base = (GATE / "compliant" / "deployment-scorer.yaml").read_text()
    mounted = base.replace(
        "      automountServiceAccountToken: false", "      automountServiceAccountToken: true"
    )
    stated = mounted.replace("name: scorer\n  namespace", "name: operator\n  namespace").replace(
        "    metadata:\n      labels:\n        app: scorer",
        "    metadata:\n      annotations:\n        mlplatform.io/service-account-token: "
        "watches InferenceServices through the API server\n      labels:\n        app: scorer",
    )
    bare = mounted.replace("name: scorer\n  namespace", "name: tokenbare\n  namespace")
    (folder / "deployment-operator.yaml").write_text(stated)
    (folder / "deployment-tokenbare.yaml").write_text(bare)
    return run_checkov(folder, dockerfiles=tuple(sorted(DOCKERFILES.glob("Dockerfile.*"))))


def test_privileged_container_fails_the_gate(mixed):
    failures = {
        (r.check_id, r.resource) for r in mixed.gated_failures if r.check_id == "CKV_K8S_16"
    }
    assert failures == {
        ("CKV_K8S_16", "Deployment.tenant-risk.scorer"),
        ("CKV_K8S_16", "Deployment.tenant-risk.tagonly"),
    }
    assert not mixed.ok


def test_token_mount_is_skipped_only_with_a_stated_reason(mixed):
    token = {r.resource: r for r in mixed.records if r.check_id == "CKV_K8S_38"}
    assert token["Deployment.tenant-risk.tokenbare"].gated_failure
    operator = token["Deployment.tenant-risk.operator"]
    assert operator.status == checkov.SKIPPED
    assert (operator.skip_reason or "").endswith(
        "Stated reason: watches InferenceServices through the API server"
    )
    assert token["Deployment.tenant-risk.scorer"].status == checkov.PASSED


def test_dockerfile_without_user_fails_the_gate(mixed):
    dockerfile = [r for r in mixed.gated_failures if r.framework == "dockerfile"]
    assert [(r.check_id, r.file) for r in dockerfile] == [
        ("CKV_DOCKER_3", "tests/policies/checkov/fixtures/dockerfiles/Dockerfile.no-user")
    ]
    hardened = {
        r.check_id
        for r in mixed.records
        if r.file.endswith("Dockerfile.hardened") and r.status == checkov.PASSED
    }
    assert {"CKV_DOCKER_3", "CKV_DOCKER_7", "CKV_DOCKER_8"} <= hardened


def test_digest_skip_applies_only_where_the_registry_enforces_immutable_tags(
    run_checkov, undigested
):
    immutable = run_checkov(undigested, config={"registry": {"immutableTags": True}})
    digest = [r for r in immutable.records if r.check_id == "CKV_K8S_43"]
    assert [r.status for r in digest] == [checkov.SKIPPED]
    assert "immutab" in (digest[0].skip_reason or "")
    assert immutable.ok
    assert ("CKV_K8S_43", 1) in [(s.check_id, n) for s, n in immutable.skip_usage()]

    mutable = run_checkov(undigested, config={"registry": {"immutableTags": False}})
    assert [(r.check_id, r.resource) for r in mutable.gated_failures] == [
        ("CKV_K8S_43", "Deployment.tenant-risk.scorer")
    ]


def test_sarif_and_junit_are_written_and_parse(mixed):
    result = mixed
    files = result.files
    assert {p.name for p in files.values()} == {
        "checkov.json",
        "checkov.sarif",
        "checkov.junit.xml",
    }

    sarif = json.loads(files["sarif"].read_text())
    assert sarif["version"] == "2.1.0"
    results = [r for run in sarif["runs"] for r in run["results"]]
    levels = {(r["ruleId"], r["level"]) for r in results}
    assert ("CKV_K8S_16", "error") in levels
    assert ("CKV_DOCKER_3", "error") in levels
    suppressed = [r for r in results if r.get("suppressions")]
    assert sorted(r["ruleId"] for r in suppressed) == ["CKV_K8S_38", "CKV_K8S_43"]
    assert all(r["suppressions"][0]["justification"] for r in suppressed)
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        for loc in r["locations"]
    }
    assert "tests/policies/checkov/fixtures/dockerfiles/Dockerfile.no-user" in uris
    assert "manifests/deployment-tagonly.yaml" in uris
    assert not any(uri.startswith(("/", "tmp/")) for uri in uris)

    junit = ET.parse(files["junit"]).getroot()
    assert junit.tag == "testsuites"
    gated = [s for s in junit if s.get("name") == "checkov.kubernetes.gated"]
    failures = [c.get("classname") for s in gated for c in s if c.find("failure") is not None]
    assert "CKV_K8S_16" in failures
    skipped = [c for s in junit for c in s if c.find("skipped") is not None]
    assert sorted(c.get("classname") for c in skipped) == ["CKV_K8S_38", "CKV_K8S_43"]
    assert int(junit.get("failures")) >= 2

    reports = json.loads(files["json"].read_text())
    assert {r["check_type"] for r in reports} == {"kubernetes", "dockerfile"}


def test_missing_checkov_environment_is_reported_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("MLPLATFORM_CHECKOV", str(tmp_path / "nowhere" / "checkov"))
    with pytest.raises(checkov.CheckovUnavailable, match=r"make \.venv-checkov/\.installed"):
        checkov.scan(GATE / "compliant", [], tmp_path, allowed_registries=[])
