"""Rendering Helm releases with their real charts (infra.render): the chart cache, strict YAML,
the values check, the image reader, and the CLI's exit codes for the render checks.

Tests that render need the upstream chart trees in ../shared/reference/charts (not vendored):
they skip, saying so, only when that directory is absent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.plan import PlanResult
from infra.render import ChartCache, ChartMissing, ClusterObject, Origin
from infra.render.cache import CHARTS_ENV, REFERENCE_CHARTS
from infra.render.checks import MIRROR_IMAGES
from infra.render.evaluate import image_findings
from infra.render.images import images
from infra.render.releases import ReleaseSpec
from infra.render.rendering import render_release
from infra.render.strict_yaml import load_all
from infra.render.values import unknown_keys
from policies.pack_config import PackConfig
from tests.support.charts import requires_reference_charts

MIRROR = "harbor.dc1.example.ae/mlplatform"
runner = CliRunner()


# --------------------------------------------------------------------------- strict YAML


def test_duplicate_keys_are_found_with_their_line_not_overwritten() -> None:
    text = "a: 1\nmetadata:\n  labels:\n    x: one\n    x: two\n"
    documents, duplicates = load_all(text)
    assert documents == [{"a": 1, "metadata": {"labels": {"x": "two"}}}]
    assert [(d.key, d.line) for d in duplicates] == [("x", 5)]


def test_documents_split_where_helm_splits_them() -> None:
    # Helm ends a document at a line-leading `---` even with a comment after it; PyYAML alone
    # cannot read this text at all.
    documents, duplicates = load_all("kind: A\n---# a comment\nkind: B\n---\n\n---\nkind: C\n")
    assert [d["kind"] for d in documents] == ["A", "B", "C"] and duplicates == []


# --------------------------------------------------------------------------- chart cache


def test_a_chart_missing_from_the_cache_names_chart_version_and_cache(tmp_path: Path) -> None:
    with pytest.raises(ChartMissing, match=r"chart kueue 0\.19\.2 is not in the chart cache"):
        ChartCache.resolve(tmp_path).path("kueue", "0.19.2")


@requires_reference_charts
def test_a_chart_at_another_version_is_missing_and_says_what_was_found() -> None:
    cache = ChartCache.resolve(REFERENCE_CHARTS)
    assert cache.path("kueue", "0.19.2") == REFERENCE_CHARTS / "kueue"
    assert cache.path("cert-manager", "v1.21.1").name == "cert-manager"  # v-prefix either way
    with pytest.raises(ChartMissing, match=r"kueue 0\.18\.0 .*found version 0\.19\.2"):
        cache.path("kueue", "0.18.0")


# --------------------------------------------------------------------------- values


def _spec(chart: str, version: str, values: dict[str, Any]) -> ReleaseSpec:
    return ReleaseSpec("urn:test", chart, "ns", chart, version, values, "components/x.py")


@requires_reference_charts
def test_unknown_values_keys_are_found_in_sub_charts_free_maps_stay_free() -> None:
    values = {
        "global": {"anything": True},
        "jobset": {"image": {"registry": MIRROR, "repository": "x", "tag": "t"}},
        "commonLabels": {"owner": "ml"},  # declared as {}: free-form below
        "manager": {"replicas": 2, "nodeSelector": {"pool": "system"}},
        "webhook": {"failurePolicy": "Fail", "failurePolicyy": "Ignore"},
    }
    rendered = render_release(
        _spec("kubeflow-trainer", "2.3.0", values), ChartCache.resolve(REFERENCE_CHARTS)
    )
    found = unknown_keys("kubeflow-trainer", values, rendered.defaults, rendered.schema)
    assert found == ["jobset.image.registry", "webhook.failurePolicyy"]


@requires_reference_charts
def test_keys_declared_only_in_values_schema_json_are_known() -> None:
    # cert-manager's values.yaml leaves image.tag commented out; its schema declares it ($ref)
    values = {"image": {"repository": "r", "tag": "v1"}, "imag": {}}
    rendered = render_release(
        _spec("cert-manager", "v1.21.1", values), ChartCache.resolve(REFERENCE_CHARTS)
    )
    assert unknown_keys("cert-manager", values, rendered.defaults, rendered.schema) == ["imag"]


# --------------------------------------------------------------------------- images


def _object(body: dict[str, Any]) -> ClusterObject:
    return ClusterObject(Origin("release", "urn:r", "rel", "chart", "1", "t.yaml"), body)


def test_cluster_policy_operands_are_images_only_where_they_run() -> None:
    policy = _object(
        {
            "apiVersion": "nvidia.com/v1",
            "kind": "ClusterPolicy",
            "metadata": {"name": "cluster-policy"},
            "spec": {
                "driver": {
                    "enabled": True,
                    "repository": f"{MIRROR}/nvidia",
                    "image": "driver",
                    "version": "580",
                    "manager": {
                        "repository": "nvcr.io/nvidia/cloud-native",
                        "image": "k8s-driver-manager",
                        "version": "v0.9.1",
                    },
                },
                "gds": {"enabled": False, "repository": "nvcr.io/x", "image": "nvidia-fs"},
                "vfioManager": {"enabled": True, "repository": "nvcr.io/nvidia", "image": "cuda"},
                "sandboxWorkloads": {"enabled": False},
            },
        }
    )
    refs = {u.path: u.ref for u in images([policy])}
    assert refs == {
        "spec.driver": f"{MIRROR}/nvidia/driver:580",
        "spec.driver.manager": "nvcr.io/nvidia/cloud-native/k8s-driver-manager:v0.9.1",
    }
    (finding,) = image_findings([policy], PackConfig(allowed_registries=(MIRROR,)))
    assert finding.check == MIRROR_IMAGES.id and "spec.driver.manager" in finding.message
    assert "not on the stack's mirror" in finding.message


def test_operator_settings_name_the_images_they_inject() -> None:
    config = _object(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "inferenceservice-config", "namespace": "kserve"},
            "data": {
                "explainers": json.dumps(
                    {"art": {"image": "kserve/art-explainer", "defaultImageVersion": "v0.20.0"}}
                ),
                "localModel": json.dumps({"defaultJobImage": "kserve/storage-initializer:v1"}),
                "_example": "not json",
            },
        }
    )
    operator = _object(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "op", "namespace": "kafka"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "op",
                                "image": f"{MIRROR}/op:1",
                                "args": ["--solver-image=quay.io/x/solver:1"],
                                "env": [
                                    {"name": "KAFKA_IMAGES", "value": "4.2=a/k:1\n4.3=b/k:2\n"},
                                    {"name": "OPERATOR_IMAGE_NAME", "value": f"{MIRROR}/op:1"},
                                    {"name": "STRIMZI_IMAGE_PULL_POLICY", "value": "Always"},
                                ],
                            }
                        ]
                    }
                }
            },
        }
    )
    refs = sorted((u.ref, u.injected) for u in images([config, operator]))
    assert refs == [
        ("a/k:1", True),
        ("b/k:2", True),
        (f"{MIRROR}/op:1", False),
        (f"{MIRROR}/op:1", True),
        ("kserve/art-explainer:v0.20.0", True),
        ("kserve/storage-initializer:v1", True),
        ("quay.io/x/solver:1", True),
    ]


# --------------------------------------------------------------------------- the CLI


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "400"})
    return result.exit_code, result.output


def test_plan_exits_2_naming_the_chart_missing_from_the_cache(tmp_path: Path) -> None:
    empty = tmp_path / "charts"
    empty.mkdir()
    code, output = _invoke(
        "plan", "--stack", "uae-onprem", "--out", str(tmp_path / "out"), "--skip-checkov",
        "--charts", str(empty),
    )  # fmt: skip
    assert code == 2, output
    assert "is not in the chart cache" in output and str(empty) in output
    assert "0.26.1" in output or "v1.21.1" in output  # the first release's pinned version


def test_check_exits_2_without_a_chart_cache_naming_where_it_looked_and_every_way_to_give_one(
    recorded: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone without ../shared/reference/charts and no MLP_CHARTS: the usage error says so."""
    absent = tmp_path / "shared" / "reference" / "charts"
    monkeypatch.setattr("infra.render.cache.REFERENCE_CHARTS", absent)
    monkeypatch.delenv(CHARTS_ENV, raising=False)
    code, output = _invoke("check", "--resources", str(recorded("kueue", lambda values: None)))
    assert code == 2, output
    text = " ".join(output.split())
    assert re.search(
        r"error: chart [\w-]+ v?\d+\.\d+\.\d+ is needed and there is no chart cache", text
    )
    assert f"--charts was not given, MLP_CHARTS is not set and {absent} " in text
    assert "`--charts DIR` or `export MLP_CHARTS=DIR`" in text
    assert "`mlplatform charts pull --stack NAME --charts DIR [--mirror REGISTRY]`" in text


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """resources.json of the on-prem plan, with one release's values changed by `mutate`."""
    from infra.plan import synthesize_stack

    plan: PlanResult = synthesize_stack("uae-onprem")
    entries = [r.to_json() for r in sorted(plan.synthesis.resources, key=lambda r: r.urn)]

    def write(release: str, mutate: Callable[[dict[str, Any]], None]) -> Path:
        copy = json.loads(json.dumps(entries))
        (target,) = [
            r
            for r in copy
            if r["type"] == "kubernetes:helm.sh/v3:Release" and r["inputs"]["name"] == release
        ]
        mutate(target["inputs"]["values"])
        path = tmp_path_factory.mktemp("plan") / "resources.json"
        path.write_text(json.dumps(copy))
        return path

    return write


@requires_reference_charts
def test_check_resources_exits_1_on_an_unknown_values_key(recorded: Callable[..., Path]) -> None:
    path = recorded("kueue", lambda v: v.setdefault("controllerManager", {}).update(replica=3))
    code, output = _invoke("check", "--resources", str(path), "--charts", str(REFERENCE_CHARTS))
    assert code == 1, output
    assert "RENDER-002" in output
    assert "release kueue (kueue 0.19.2): values key 'controllerManager.replica'" in output
    assert "set in components/kueue.py" in output


@requires_reference_charts
def test_check_resources_exits_1_on_a_public_image(recorded: Callable[..., Path]) -> None:
    def public(values: dict[str, Any]) -> None:
        values["image"]["repository"] = "ghcr.io/cloudnative-pg/cloudnative-pg"

    path = recorded("cloudnative-pg", public)
    code, output = _invoke("check", "--resources", str(path), "--charts", str(REFERENCE_CHARTS))
    assert code == 1, output
    assert "RENDER-004" in output
    assert "Deployment mlplatform-data/cloudnative-pg" in output
    assert "'ghcr.io/cloudnative-pg/cloudnative-pg:1.27.1', which is not on the stack's mirror" in (
        output
    )


def _kueue_values(monkeypatch: pytest.MonkeyPatch, change: Callable[[dict], None]) -> None:
    """The kueue component passes `change`d values to its release (the rest of it unchanged)."""
    import components.kueue as kueue

    original = kueue.helm_release

    def changed(*args: Any, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        values = json.loads(json.dumps(values or {}))
        change(values)
        return original(*args, values=values, **kwargs)

    monkeypatch.setattr(kueue, "helm_release", changed)


@requires_reference_charts
def test_plan_exits_1_naming_an_unknown_values_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kueue_values(monkeypatch, lambda v: v["controllerManager"].update(replica=3))
    code, output = _invoke(
        "plan", "--stack", "uae-onprem", "--out", str(tmp_path), "--skip-checkov",
        "--charts", str(REFERENCE_CHARTS),
    )  # fmt: skip
    assert code == 1, output
    assert (
        "FAIL RENDER-002 release kueue (kueue 0.19.2): values key 'controllerManager.replica'"
        in (output)
    )
    assert "set in components/kueue.py" in output
    report = json.loads((tmp_path / "uae-onprem" / "render-report.json").read_text())
    assert any(f["subject"] == "controllerManager.replica" for f in report["findings"])


@requires_reference_charts
def test_plan_exits_1_naming_a_public_image_in_a_releases_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def public(values: dict[str, Any]) -> None:
        values["controllerManager"]["manager"]["image"]["repository"] = (
            "registry.k8s.io/kueue/kueue"
        )

    _kueue_values(monkeypatch, public)
    code, output = _invoke(
        "plan", "--stack", "uae-onprem", "--out", str(tmp_path), "--skip-checkov",
        "--charts", str(REFERENCE_CHARTS),
    )  # fmt: skip
    assert code == 1, output
    assert "FAIL RENDER-004 Deployment kueue-system/kueue-controller-manager" in output
    assert "'registry.k8s.io/kueue/kueue:v0.19.2', which is not on the stack's mirror" in output
    written = tmp_path / "uae-onprem" / "releases" / "kueue"
    assert (written / "deployment-kueue-system-kueue-controller-manager.yaml").is_file()


def test_render_waivers_become_checkov_skips_for_exactly_their_objects(tmp_path: Path) -> None:
    from infra.evidence.checkov import Gate
    from infra.evidence.checkov.findings import FAILED, Record
    from infra.evidence.checkov.render_skips import render_skips

    waivers = [
        {"check": "RENDER-005", "release": "kueue", "subject": "Deployment kueue-system/k",
         "reason": "the chart has no values key that labels these objects",
         "objects": ["Deployment.kueue-system.k", "Deployment.kueue-system.k.template"],
         "policy": None},
        {"check": "RENDER-008", "release": "gpu-operator", "subject": "UAE-K8S-001 DaemonSet",
         "reason": "exemption namespace=gpu-operator: privileged by design",
         "objects": ["DaemonSet.gpu-operator.d"], "policy": "UAE-K8S-001"},
    ]  # fmt: skip
    (tmp_path / "render-report.json").write_text(json.dumps({"waivers": waivers}))
    gate = Gate.load()
    skips = render_skips(tmp_path, gate)
    labels = [s for s in skips if s.check_id == "CKV2_UAE_K8S_2"]
    assert [s.resources for s in labels] == [tuple(waivers[0]["objects"])]
    assert {s.check_id for s in skips if s not in labels} == gate.checks_of("UAE-K8S-001")

    def record(check: str, resource: str) -> Record:
        return Record(check, "", "kubernetes", resource, "releases/x.yaml", (1, 2), FAILED,
                      gate.gate_class(check), gate.policy(check))  # fmt: skip

    accepted = [s.applies_to(record("CKV2_UAE_K8S_2", "Deployment.kueue-system.k.template"))
                for s in labels]  # fmt: skip
    assert accepted[0] is not None and "no values key that labels" in accepted[0]
    assert all(s.applies_to(record("CKV2_UAE_K8S_2", "Deployment.kueue-system.other")) is None
               for s in labels)  # fmt: skip
