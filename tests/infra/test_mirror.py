"""The mirror's parts without a registry: the lock file, what a plan needs, where copies come
from, and skopeo's absence. (End to end against a real registry: test_mirror_registry.py.)"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.mirror import ImageNeed, LockFile, Skopeo, SkopeoError, Source, inventory
from infra.mirror.inventory import ChartNeed, needed_images
from infra.mirror.ping import RegistryUnreachable, ping
from infra.plan import PlanResult
from infra.render import ChartCache, ClusterObject, Origin, PlanObjects, render_plan
from infra.render.cache import REFERENCE_CHARTS
from tests.support.charts import requires_reference_charts
from version_catalogue import CHARTS, IMAGES, Image
from version_catalogue.lock import Locked, LockError, MirrorLock, read_lock, write_lock

DIGEST = "sha256:" + "ab" * 32


def _lock_json(**changes: Any) -> str:
    body = {
        "version": 1,
        "stack": "s",
        "mirror": "harbor.example.ae/mlp",
        "images": {"strimzi/operator:1.2.0": {"digest": DIGEST, "source": "quay.io/x"}},
    }
    return json.dumps({**body, **changes})


def test_a_lock_round_trips_and_pins_an_image_by_its_digest(tmp_path: Path) -> None:
    lock = MirrorLock(stack="s", mirror="m.ae/p").with_image(
        "strimzi/operator:1.2.0", Locked(digest=DIGEST, source="quay.io/strimzi/operator:1.2.0")
    )
    path = write_lock(lock, tmp_path / "locks" / "s.lock.json")
    assert read_lock(path) == lock
    pinned = lock.pin(IMAGES["strimzi-operator"])
    assert pinned.ref("m.ae/p") == f"m.ae/p/strimzi/operator:1.2.0@{DIGEST}"
    assert lock.pin(IMAGES["kueue"]) == IMAGES["kueue"]  # not in the lock: unchanged


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"images": {"a/b:1": {"digest": "sha256:short", "source": "x"}}}, "images.a/b:1.digest"),
        ({"images": {"a/b@sha256:x": {"digest": DIGEST, "source": "x"}}}, "must be <path>:<tag>"),
        ({"mirror": ""}, "mirror"),
        ({"extra": 1}, "extra"),
        ({"version": 2}, "version"),
    ],
)
def test_a_broken_lock_is_refused_naming_file_and_field(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "bad.lock.json"
    path.write_text(_lock_json(**changes))
    with pytest.raises(LockError) as error:
        read_lock(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_a_lock_of_another_mirror_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.lock.json"
    path.write_text(_lock_json())
    with pytest.raises(LockError, match=r"records mirror harbor\.example\.ae/mlp.*--lock FILE"):
        LockFile.open(path, "s", "other.example.ae/mlp")
    assert read_lock(tmp_path / "absent.json") is None


def test_recording_drops_pending_and_rewrites_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.lock.json"
    path.write_text(_lock_json(pending="the example mirror does not exist"))
    lock = LockFile.open(path, "s", "harbor.example.ae/mlp")
    assert lock.lock.pending
    lock.record("chart", "kueue:0.19.2", DIGEST, "oci://src/charts 0.19.2")
    stored = read_lock(path)
    assert stored is not None and stored.pending is None
    assert stored.charts["kueue:0.19.2"].digest == DIGEST
    assert "strimzi/operator:1.2.0" in stored.images  # earlier entries kept


def _deployment(image: str) -> ClusterObject:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "team"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
    }
    return ClusterObject(
        Origin("program", "urn:pulumi:s::p::kubernetes:apps/v1:Deployment::app"), body
    )


def test_an_image_off_the_mirror_cannot_be_mirrored_and_says_why() -> None:
    objects = PlanObjects([], [_deployment("docker.io/library/nginx:1.27")])
    found = needed_images(objects, "harbor.example.ae/mlp")
    assert found.problems == [
        "Deployment team/app spec.template.spec.containers.0.image: image "
        "'docker.io/library/nginx:1.27' is not on the stack's mirror harbor.example.ae/mlp "
        "(RENDER-004): point it at <mirror>/<path>:<tag> before mirroring"
    ]
    # the build bases are always needed: the workload images are built FROM the mirror
    assert [n.key for n in found.images] == ["library/python:3.11-slim-bookworm"]


def test_a_pinned_reference_on_the_mirror_is_needed_by_path_and_tag() -> None:
    ref = f"harbor.example.ae/mlp/kueue/kueue:v0.19.2@{DIGEST}"
    found = needed_images(PlanObjects([], [_deployment(ref)]), "harbor.example.ae/mlp")
    need = next(n for n in found.images if n.key == "kueue/kueue:v0.19.2")
    assert need.image.upstream == "registry.k8s.io"
    assert need.uses == ("Deployment team/app spec.template.spec.containers.0.image",)


@requires_reference_charts
def test_the_onprem_plan_needs_its_charts_images_and_the_driver_for_the_nodes_os(
    stack_plan: Callable[..., PlanResult],
) -> None:
    plan = stack_plan("uae-onprem")
    resources = [r.to_json() for r in plan.synthesis.resources]
    objects = render_plan(resources, ChartCache(REFERENCE_CHARTS))
    mirror = plan.config.image_registry
    without = inventory(resources, objects, mirror)
    assert any("--gpu-driver-os" in p for p in without.problems)
    found = inventory(resources, objects, mirror, ("ubuntu22.04", "rhel9.6"))
    keys = {n.key for n in found.images}
    assert {"nvidia/driver:580.105.08-ubuntu22.04", "nvidia/driver:580.105.08-rhel9.6"} <= keys
    assert {"strimzi/kafka:1.2.0-kafka-4.3.1", "mlflow-server:3.17.2", "training:0.1.0"} <= keys
    # Strimzi offers an image per supported Kafka version; only the stack's one is pulled
    offered = {n.key for n in found.offered}
    assert "strimzi/kafka:1.2.0-kafka-4.2.0" in offered and not offered & keys
    assert {n.key for n in found.charts} >= {"kueue:0.19.2", "cert-manager:v1.21.1"}
    assert next(n for n in found.charts if n.key == "kueue:0.19.2").releases == ("kueue",)


def test_sources_name_each_artifact_where_it_lives(tmp_path: Path) -> None:
    kueue = ImageNeed(IMAGES["kueue"], ())
    built = ImageNeed(IMAGES["mlflow"], ())
    chart = ChartNeed(CHARTS["cert-manager"], ("cert-manager",))
    upstream, registry = Source.of(None, None), Source.of("oci://staging.example.ae/p/", None)
    layout = Source.of(None, tmp_path)
    assert upstream.image(kueue) == "docker://registry.k8s.io/kueue/kueue:v0.19.2"
    assert upstream.image(built) is None  # the workload build pushes it
    assert upstream.chart(chart) == "https://charts.jetstack.io"
    assert registry.image(built) == "docker://staging.example.ae/p/mlflow-server:3.17.2"
    assert registry.chart(chart) == "oci://staging.example.ae/p/charts"
    assert layout.image(kueue) == f"oci:{tmp_path / 'images'}:kueue/kueue:v0.19.2"
    assert layout.chart(chart) == str(tmp_path / "charts")


def test_without_skopeo_the_error_says_how_to_install_it() -> None:
    with pytest.raises(SkopeoError, match=r"skopeo is not installed \(Debian/Ubuntu: apt-get"):
        Skopeo(binary="no-such-skopeo").digest("docker://harbor.example.ae/mlp/x:1")


def test_an_image_not_in_the_catalogue_has_no_upstream_to_copy_from() -> None:
    need = ImageNeed(Image("team/app", "1.0", "(not in the catalogue)"), ())
    assert Source.of(None, None).image(need) is None


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns


def test_mirroring_into_a_registry_that_does_not_answer_stops_before_copying(
    tmp_path: Path,
) -> None:
    mirror = f"127.0.0.1:{_closed_port()}/mlp"
    with pytest.raises(RegistryUnreachable, match=r"http://127\.0\.0\.1:\d+/v2/"):
        ping(mirror, plain_http=True)
    result = CliRunner().invoke(
        app,
        ["mirror", "--stack", "uae-onprem", "--set", f"registry.mirror={mirror}", "--plain-http",
         "--lock", str(tmp_path / "lock.json")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"the stack's mirror {mirror} does not answer" in " ".join(result.output.split())
    assert not (tmp_path / "lock.json").exists()


@pytest.mark.parametrize("command", [[], ["export"], ["list"], ["builds"], ["record"]])
def test_every_mirror_command_explains_itself(command: list[str]) -> None:
    result = CliRunner().invoke(app, ["mirror", *command, "--help"])
    assert result.exit_code == 0, result.output
    assert "--stack" in result.output
