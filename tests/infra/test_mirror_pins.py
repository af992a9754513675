"""The plan's supply-chain checks (MIRROR-001/002): every image pinned by the lock's digest.

Each check is broken on purpose — no lock, a lock of another mirror, an image the lock lacks, a
digest the lock does not record — and must name its id, the image and the fix; a pending lock
turns the findings advisory and shows its reason as an exception in compliance.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.evidence.mirror import markdown
from infra.mirror import inventory
from infra.mirror.pins import check_pins
from infra.plan import PlanResult, pin_plan, render_and_check, synthesize_stack
from infra.render import ChartCache, ClusterObject, Origin, PlanObjects, render_plan
from infra.render.cache import REFERENCE_CHARTS
from infra.render.images import images
from stacks.pins import pinned, stack_lock
from tests.support.charts import requires_charts, requires_reference_charts
from version_catalogue import IMAGES
from version_catalogue.lock import Locked, MirrorLock, lock_path, write_lock

MIRROR = "harbor.example.ae/mlp"
A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def _pod(image: str, env: dict[str, str] | None = None) -> ClusterObject:
    container = {"name": "c", "image": image}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]  # type: ignore[assignment]
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "team"},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }
    return ClusterObject(Origin("program", "urn:pulumi:s::p::k:Deployment::app"), body)


def _lock(**images: str) -> MirrorLock:
    entries = {
        k.replace("__", "/").replace("_", ":"): Locked(digest=v, source="x")
        for k, v in images.items()
    }
    return MirrorLock(stack="s", mirror=MIRROR, images=entries)


def test_an_image_pinned_by_the_locks_digest_passes() -> None:
    lock = _lock(kueue__kueue_v0=A)
    report = check_pins([_pod(f"{MIRROR}/kueue/kueue:v0@{A}")], MIRROR, lock, Path("l.json"))
    assert (report.passed, report.pinned, report.images, report.findings) == (True, 1, 1, [])


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (f"{MIRROR}/kueue/kueue:v0", "has no digest"),
        (f"{MIRROR}/kueue/kueue:v0@{B}", f"is pinned to {B}, the lock has {A}"),
        (f"{MIRROR}/other/app:1@{A}", "is not in the lock"),
        (f"{MIRROR}/kueue/kueue@{B}", f"is pinned to {B}, which the lock has not"),
    ],
)
def test_an_image_not_pinned_by_the_lock_fails_mirror_001(ref: str, message: str) -> None:
    report = check_pins([_pod(ref)], MIRROR, _lock(kueue__kueue_v0=A), Path("l.json"))
    [finding] = report.findings
    assert (finding.check, finding.mandatory, report.passed) == ("MIRROR-001", True, False)
    assert message in finding.message and "Deployment team/app" in finding.message
    assert "mlplatform mirror --stack" in finding.remediation


def test_a_digest_alone_passes_when_the_lock_has_it_for_that_path() -> None:
    # the GPU operator pins the driver by digest alone (no OS suffix then)
    report = check_pins(
        [_pod(f"{MIRROR}/kueue/kueue@{A}")], MIRROR, _lock(kueue__kueue_v0=A), Path("l")
    )
    assert report.passed and report.pinned == 1


def test_an_image_an_operator_only_offers_is_not_checked() -> None:
    offered = {"STRIMZI_DEFAULT_KAFKA_BRIDGE_IMAGE": f"{MIRROR}/strimzi/kafka-bridge:1.1.0"}
    pod = _pod(f"{MIRROR}/kueue/kueue:v0@{A}", offered)
    assert check_pins([pod], MIRROR, _lock(kueue__kueue_v0=A), Path("l")).passed


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        (None, "l.json is no lock"),
        (MirrorLock(stack="s", mirror="x.ae/y"), "a lock of mirror x.ae/y"),
    ],
)
def test_no_lock_for_the_stacks_mirror_fails_mirror_002(
    lock: MirrorLock | None, expected: str
) -> None:
    report = check_pins([_pod(f"{MIRROR}/kueue/kueue:v0")], MIRROR, lock, Path("l.json"))
    [finding] = report.findings
    assert (finding.check, finding.mandatory) == ("MIRROR-002", True)
    assert expected in finding.message and "none of the plan's 1 images" in finding.message


def test_a_pending_lock_is_advisory_and_shown_as_an_exception() -> None:
    lock = MirrorLock(stack="s", mirror=MIRROR, pending="the example registry does not exist")
    report = check_pins([_pod(f"{MIRROR}/kueue/kueue:v0")], MIRROR, lock, Path("l.json"))
    assert report.passed and [f.mandatory for f in report.findings] == [False]
    text = "\n".join(markdown(report.to_dict()))
    assert "**Exception:** the lock is pending: the example registry does not exist" in text
    assert "| MIRROR-001 | advisory |" in text


def test_compliance_md_lists_each_unpinned_image_as_mandatory() -> None:
    report = check_pins(
        [_pod(f"{MIRROR}/kueue/kueue:v0")], MIRROR, _lock(kueue__kueue_v0=A), Path("l")
    )
    text = "\n".join(markdown(report.to_dict()))
    assert "0 of 1 images the plan pulls are pinned" in text
    assert f"| MIRROR-001 | mandatory | {MIRROR}/kueue/kueue:v0 has no digest" in text


@requires_reference_charts
def test_the_plan_step_reads_the_stacks_lock_and_names_it(
    stack_plan: Callable[..., PlanResult], tmp_path: Path
) -> None:
    plan = stack_plan("uae-onprem")
    objects = render_plan(plan.synthesis.resources, ChartCache(REFERENCE_CHARTS))
    missing = pin_plan(plan, objects, root=tmp_path)
    assert [f.check for f in missing.findings] == ["MIRROR-002"]
    assert missing.lock == "locks/mirror/uae-onprem.lock.json" and missing.images > 20
    write_lock(MirrorLock(stack="uae-onprem", mirror=plan.config.image_registry),
               lock_path("uae-onprem", tmp_path))  # fmt: skip
    empty = pin_plan(plan, objects, root=tmp_path)
    assert {f.check for f in empty.findings} == {"MIRROR-001"}
    assert len(empty.findings) == empty.images and not empty.passed


def test_the_program_pins_a_catalogue_image_with_the_stacks_lock(
    stack_plan: Callable[..., PlanResult], tmp_path: Path
) -> None:
    config = stack_plan("uae-onprem").config
    kueue = IMAGES["kueue"]
    assert pinned(config, "uae-onprem", kueue, tmp_path) == kueue  # no lock: unchanged
    lock = MirrorLock(stack="uae-onprem", mirror=config.image_registry).with_image(
        "kueue/kueue:v0.19.2", Locked(digest=A, source="registry.k8s.io/kueue/kueue:v0.19.2")
    )
    write_lock(lock, lock_path("uae-onprem", tmp_path))
    assert (
        pinned(config, "uae-onprem", kueue, tmp_path)
        .ref(config.image_registry)
        .endswith(f"/kueue/kueue:v0.19.2@{A}")
    )
    write_lock(lock.model_copy(update={"mirror": "other.ae/m"}), lock_path("uae-onprem", tmp_path))
    assert stack_lock(config, "uae-onprem", tmp_path) is None  # another mirror's lock pins nothing


def _full_lock(plan: PlanResult, objects: PlanObjects, driver_os: str) -> MirrorLock:
    """A lock holding a (made-up, distinct) digest for every image the plan needs."""
    mirror = plan.config.image_registry
    resources = [r.to_json() for r in plan.synthesis.resources]
    needs = inventory(resources, objects, mirror, (driver_os,))
    lock = MirrorLock(stack=plan.synthesis.stack, mirror=mirror)
    for i, need in enumerate(needs.images):
        lock = lock.with_image(need.key, Locked(digest=f"sha256:{i:064x}", source="test"))
    return lock


@requires_reference_charts
@pytest.mark.parametrize("stack", ["uae-onprem", "uae-cloud", "uae-cloud-azure"])
def test_with_a_filled_lock_the_program_pins_every_image_it_deploys(
    stack: str,
    stack_plan: Callable[..., PlanResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    charts = ChartCache(REFERENCE_CHARTS)
    unpinned = stack_plan(stack)
    before = render_and_check(unpinned, charts)
    lock = _full_lock(unpinned, before.objects, "ubuntu22.04")
    write_lock(lock, lock_path(stack, tmp_path))
    monkeypatch.setattr("stacks.pins.LOCK_ROOT", tmp_path)
    plan = synthesize_stack(stack)  # the program reads the lock
    rendered = render_and_check(plan, charts)
    report = pin_plan(plan, rendered.objects)
    assert report.findings == [] and report.pinned == report.images > 20
    # the digests go where each chart reads them: no values key the chart ignores
    known = {f.message for f in before.report.findings if f.check == "RENDER-002"}
    assert sorted(f.message for f in rendered.report.findings if f.check == "RENDER-002") == sorted(
        known
    )
    refs = [u.ref for u in images(rendered.objects.objects)]
    assert any(f"@{lock.images['kueue/kueue:v0.19.2'].digest}" in r for r in refs)


@requires_charts  # `check --stack` renders with the default chart cache
def test_check_fails_a_stack_without_a_lock_naming_mirror_002(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stacks.pins.LOCK_ROOT", tmp_path)  # a repository with no locks
    result = CliRunner().invoke(app, ["check", "--stack", "uae-onprem", "--json"])
    assert result.exit_code == 1
    mirror = json.loads(result.stdout)["mirror"]
    assert [f["check"] for f in mirror["findings"]] == ["MIRROR-002"]
    assert "locks/mirror/uae-onprem.lock.json is no lock" in mirror["findings"][0]["message"]
