"""TrainJobs from the tenant's template: the body against the Trainer CRD's schema, the template's
checks, and creation through the official kubernetes client against a local HTTP server standing
in for the API server (what it receives is what a cluster would)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from api_server import RecordingApiServer, Reply, status
from conftest import PYTHON, REPO_ROOT, Service, wait_until
from test_retraining import (
    Running,
    decisions,
    make_settings,
    publish,
    request,
    wait_decided,
)

from tests.support.schemas import custom_resource_errors, require_crds
from workloads.monitoring.events import RetrainingRequest
from workloads.retraining import trainjob
from workloads.retraining.controller import Controller, ControllerArgs
from workloads.retraining.state import Policy, Run

NAMESPACE = "tenant-a"
TOKEN = "test-service-account-token"
TEMPLATE: dict[str, Any] = {
    "apiVersion": "trainer.kubeflow.org/v1alpha1",
    "kind": "TrainJob",
    "metadata": {
        "name": "card-risk-train",
        "namespace": NAMESPACE,
        "labels": {
            "app.kubernetes.io/part-of": "mlplatform",
            "mlplatform.io/tenant": NAMESPACE,
            "kueue.x-k8s.io/queue-name": "tenant-a-training",
        },
        # what `kubectl get -o yaml` adds, and a template copied from a live object carries
        "uid": "5d1c9b1e-0000-4000-8000-000000000000",
        "resourceVersion": "4242",
        "creationTimestamp": "2026-11-01T00:00:00Z",
    },
    "spec": {
        "runtimeRef": {
            "name": "torch-distributed",
            "apiGroup": "trainer.kubeflow.org",
            "kind": "ClusterTrainingRuntime",
        },
        "trainer": {
            "image": "registry.mlplatform.ae/mlplatform/training:1.0.0",
            "command": ["torchrun", "-m", "workloads.training"],
            "args": [
                "--labelled",
                "s3://offline/tenant-a/labelled.parquet",
                "--work-dir",
                "/tmp/w",
            ],
            "numNodes": 1,
            "resourcesPerNode": {
                "requests": {"cpu": "4", "memory": "16Gi"},
                "limits": {"cpu": "4", "memory": "16Gi"},
            },
            "env": [
                {"name": "MLP_MODEL_NAME", "value": "card-risk"},
                {"name": "MLP_RETRAINING_RUN", "value": "stale"},
            ],
        },
        "runtimePatches": [
            {
                "manager": "mlplatform.io/platform",
                "trainingRuntimeSpec": {
                    "template": {
                        "spec": {
                            "replicatedJobs": [
                                {
                                    "name": "node",
                                    "template": {
                                        "spec": {
                                            "template": {
                                                "spec": {
                                                    "serviceAccountName": "workloads",
                                                    "containers": [{"name": "node"}],
                                                }
                                            }
                                        }
                                    },
                                }
                            ]
                        }
                    }
                },
            }
        ],
    },
    "status": {"conditions": []},
}


def a_request(reason: str = "drift") -> RetrainingRequest:
    return RetrainingRequest(
        request_id=str(uuid.uuid4()),
        model="card-risk",
        reason=reason,  # type: ignore[arg-type]
        detail="drift in amount_aed, channel",
        requested_at=datetime.now(UTC),  # type: ignore[arg-type]
    )


def a_run(request: RetrainingRequest) -> Run:
    return Run("0123456789", "card-risk", request.reason, [request.request_id], 0.0)


# ---------------------------------------------------------------- a stand-in API server


class FakeApiServer(RecordingApiServer):
    """Answers the TrainJob calls the controller makes, records every request."""

    PREFIX = "/apis/trainer.kubeflow.org/v1alpha1/namespaces/"

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        super().__init__()

    def route(self, request: dict[str, Any]) -> Reply:
        method, path, query, body = (request[k] for k in ("method", "path", "query", "body"))
        if not path.startswith(self.PREFIX):
            return 404, status(404, "NotFound")
        namespace, _, rest = path[len(self.PREFIX) :].partition("/")
        plural, _, name = rest.partition("/")
        if plural != "trainjobs" or namespace != NAMESPACE:
            return 403, status(403, "Forbidden")
        if method == "POST":
            name = body["metadata"]["name"]
            if name in self.objects:
                return 409, status(409, "AlreadyExists")
            invalid = custom_resource_errors(body)  # as the real one checks the CRD's schema
            if invalid:
                return 422, status(422, "Invalid", "; ".join(invalid))
            stored = copy.deepcopy(body)
            stored["metadata"]["creationTimestamp"] = datetime.now(UTC).isoformat()
            self.objects[name] = stored
            return 201, stored
        if name:
            found = self.objects.get(name)
            return (200, found) if found else (404, status(404, "NotFound"))
        selector = dict(
            s.split("=", 1) for s in query.get("labelSelector", [""])[0].split(",") if s
        )
        items = [
            o
            for o in self.objects.values()
            if all(o["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())
        ]
        return 200, {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJobList",
                     "metadata": {}, "items": items}  # fmt: skip

    def posts(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["method"] == "POST"]

    def finish(self, name: str, condition: str = "Complete") -> None:
        with self.lock:
            self.objects[name]["status"] = {
                "conditions": [
                    {
                        "type": condition,
                        "status": "True",
                        "reason": "JobsCompleted",
                        "message": "done",
                        "lastTransitionTime": datetime.now(UTC).isoformat(),
                    }
                ]
            }


@pytest.fixture
def api_server() -> Iterator[FakeApiServer]:
    require_crds()  # the stand-in checks what is created against the TrainJob CRD's schema
    server = FakeApiServer()
    yield server
    server.close()


@pytest.fixture
def kubeconfig(tmp_path: Path, api_server: FakeApiServer) -> Path:
    return api_server.kubeconfig(tmp_path / "kubeconfig", TOKEN)


# ---------------------------------------------------------------- the body and the template


def test_the_trainjob_body_is_valid_against_the_trainer_crd() -> None:
    require_crds()
    launcher = trainjob.TrainJobLauncher(trainjob.client.ApiClient(), NAMESPACE, TEMPLATE)
    request = a_request()
    body = launcher.body(a_run(request), request)
    assert custom_resource_errors(body) == []
    metadata = body["metadata"]
    assert metadata["name"] == "card-risk-train-0123456789"
    assert metadata["namespace"] == NAMESPACE
    assert metadata["labels"]["kueue.x-k8s.io/queue-name"] == "tenant-a-training"
    assert metadata["labels"]["mlplatform.io/retraining-model"] == "card-risk"
    assert metadata["labels"]["mlplatform.io/retraining-reason"] == "drift"
    assert json.loads(metadata["annotations"]["mlplatform.io/retraining-requests"]) == [
        request.request_id
    ]
    assert not {"uid", "resourceVersion", "creationTimestamp"} & set(metadata)
    assert "status" not in body
    env = {e["name"]: e["value"] for e in body["spec"]["trainer"]["env"]}
    assert env["MLP_RETRAINING_RUN"] == "0123456789"  # the template's stale value replaced
    assert env["MLP_RETRAINING_REQUEST_IDS"] == request.request_id
    assert env["MLP_MODEL_NAME"] == "card-risk"
    assert TEMPLATE["metadata"]["name"] == "card-risk-train"  # the template is not modified


def test_a_misspelt_body_field_would_be_caught_by_the_schema_check() -> None:
    """The validation above is not vacuous: an unknown field in the spec is reported."""
    require_crds()
    broken = copy.deepcopy(TEMPLATE)
    broken.pop("status")
    broken["spec"]["trainer"]["numNode"] = 1
    assert any("numNode" in error for error in custom_resource_errors(broken))


def _without(path: str) -> dict[str, Any]:
    broken = copy.deepcopy(TEMPLATE)
    *parents, last = path.split(".")
    node = broken
    for key in parents:
        node = node[key]
    node.pop(last)
    return broken


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ({**TEMPLATE, "apiVersion": "trainer.kubeflow.org/v2"}, "apiVersion"),
        ({**TEMPLATE, "kind": "PyTorchJob"}, "kind"),
        (_without("metadata.name"), "metadata.name"),
        (_without("spec.runtimeRef"), "spec.runtimeRef"),
        ("just a string", "not a mapping"),
    ],
)
def test_an_unusable_template_is_refused_naming_the_field(template: Any, named: str) -> None:
    with pytest.raises(trainjob.TemplateError, match=named.replace(".", r"\.")):
        trainjob.check_template(template)


def test_a_template_without_a_kueue_queue_is_refused() -> None:
    broken = copy.deepcopy(TEMPLATE)
    del broken["metadata"]["labels"]["kueue.x-k8s.io/queue-name"]
    with pytest.raises(trainjob.TemplateError, match=r"kueue\.x-k8s\.io/queue-name"):
        trainjob.check_template(broken)


def test_a_template_for_another_namespace_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "trainjob.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE))
    template = trainjob.load_template(path)
    with pytest.raises(trainjob.TemplateError, match=r"metadata\.namespace 'tenant-a'"):
        trainjob.TrainJobLauncher(trainjob.client.ApiClient(), "tenant-b", template)


# ---------------------------------------------------------------- through the REST layer


def test_creating_twice_adopts_the_existing_trainjob(
    api_server: FakeApiServer, kubeconfig: Path
) -> None:
    launcher = trainjob.TrainJobLauncher(trainjob.api_client(kubeconfig), NAMESPACE, TEMPLATE)
    request = a_request()
    run = a_run(request)
    first = launcher.start(run, request)
    again = launcher.start(run, request)  # a restart between creating and saving the state
    assert first == again == {"trainjob": "card-risk-train-0123456789", "namespace": NAMESPACE}
    assert len(api_server.objects) == 1 and len(api_server.posts()) == 2
    assert launcher.poll(run)[0] == "running"
    api_server.finish("card-risk-train-0123456789", "Failed")
    status_, finished_at, _ = launcher.poll(run)
    assert status_ == "failed" and finished_at is not None


@pytest.mark.slow
def test_the_controller_creates_one_trainjob_and_keeps_its_cool_down_across_a_restart(
    broker: str, tmp_path: Path, api_server: FakeApiServer, kubeconfig: Path
) -> None:
    require_crds()
    settings = make_settings(broker)
    template = tmp_path / "trainjob.yaml"
    template.write_text(yaml.safe_dump(TEMPLATE))
    env = {
        "MLP_KAFKA_BOOTSTRAP": broker,
        "MLP_TOPIC_RETRAINING": settings.topics.retraining,
        "MLP_MODEL_NAME": "card-risk",
        "PYTHONPATH": str(REPO_ROOT),
        "HOME": str(tmp_path),
    }
    group = f"ctl-{uuid.uuid4().hex[:6]}"

    def controller(name: str, state_file: Path) -> Service:
        argv = [
            PYTHON, "-m", "workloads.retraining", "cluster",
            "--template", str(template), "--namespace", NAMESPACE,
            "--kubeconfig", str(kubeconfig), "--state-file", str(state_file),
            "--group-id", group, "--cooldown", "3600", "--poll-seconds", "0.2",
            "--metrics-port", "0",
        ]  # fmt: skip
        return Service(argv, tmp_path / f"{name}.log", env)

    first_state = tmp_path / "state-1.json"
    first, absorbed = request("drift"), request("performance")
    publish(settings, first)
    running = controller("controller-1", first_state)
    try:
        wait_decided(first_state, first["request_id"], timeout=60)
        publish(settings, absorbed)
        assert wait_decided(first_state, absorbed["request_id"])[absorbed["request_id"]] == (
            "absorbed"
        )
        (post,) = api_server.posts()
        assert post["path"] == f"{FakeApiServer.PREFIX}{NAMESPACE}/trainjobs"
        assert post["authorization"] == f"Bearer {TOKEN}"
        assert custom_resource_errors(post["body"]) == []
        name = post["body"]["metadata"]["name"]
        api_server.finish(name)
        wait_until(
            lambda: json.loads(first_state.read_text())["runs"][0]["status"] == "succeeded",
            30,
            "the controller to see the TrainJob complete",
        )
    finally:
        running.stop()

    # A new pod: no state file; the TrainJobs in the namespace say what happened.
    second_state = tmp_path / "state-2.json"
    late = request("performance")  # another reason: not a duplicate, but cooling down
    publish(settings, late)
    running = controller("controller-2", second_state)
    try:
        assert wait_decided(second_state, late["request_id"], timeout=60) == {
            first["request_id"]: "start",
            late["request_id"]: "cooling-down",
        }
    finally:
        running.stop()
    assert len(api_server.posts()) == 1
    lists = [r for r in api_server.requests if r["method"] == "GET" and r["query"]]
    assert lists and lists[0]["query"]["labelSelector"] == [
        "mlplatform.io/retraining-model=card-risk"
    ]
    assert absorbed["request_id"] not in decisions(second_state)  # not re-decided: committed


@pytest.mark.slow
def test_a_refused_trainjob_fails_its_run_and_the_controller_goes_on(
    broker: str, tmp_path: Path, api_server: FakeApiServer, kubeconfig: Path
) -> None:
    """A template the API server rejects (a misspelt field: 422) fails each run; the
    controller keeps consuming."""
    require_crds()
    settings = make_settings(broker)
    misspelt = copy.deepcopy(TEMPLATE)
    misspelt["spec"]["trainer"]["numNode"] = misspelt["spec"]["trainer"].pop("numNodes")
    launcher = trainjob.TrainJobLauncher(trainjob.api_client(kubeconfig), NAMESPACE, misspelt)
    state_file = tmp_path / "state.json"
    group = f"ctl-{uuid.uuid4().hex[:6]}"
    running = Running(
        Controller(
            settings, launcher, ControllerArgs("card-risk", group, Policy(0, 0), state_file, 0.2)
        )
    )
    try:
        first, second = request("drift"), request("performance")
        publish(settings, first)
        wait_decided(state_file, first["request_id"])
        publish(settings, second)
        assert wait_decided(state_file, second["request_id"])[second["request_id"]] == "start"
    finally:
        running.close()  # raises if the controller stopped on an error
    runs = json.loads(state_file.read_text())["runs"]
    assert [r["status"] for r in runs] == ["failed", "failed"]
    assert "422" in runs[0]["result"]["error"] and "numNode" in runs[0]["result"]["error"]
    assert api_server.objects == {} and len(api_server.posts()) == 2
