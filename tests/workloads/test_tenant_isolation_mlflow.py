"""Tenant isolation in MLflow 3.17, proved against a real MLflow server configured as the
platform runs it (issue 13): the `basic-auth` app, the auth config `components/mlflow.py`
writes (`default_permission = NO_PERMISSIONS`, no default workspace access), proxied artifacts
(`--serve-artifacts`), one user per tenant created through the auth API by the admin (what the
platform's provisioning Job does).

Risk creates an experiment, a run with a metric and an artifact, and a registered model with a
version and an alias. Marketing, with its own valid credentials, can neither read nor change any
of it — experiment, run, metric, artifact (through the proxy), model, version, alias — and does
not see it in searches; its own experiment works. The access matrix's MLflow channel relies on
exactly this (`infra/tenancy/mlflow.py`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from conftest import PYTHON, Service, free_port, http_ok, wait_until

pytestmark = pytest.mark.slow
ADMIN_PASSWORD = "admin-password-for-the-test-only"
PASSWORDS = {"risk": "risk-password-0001", "marketing": "marketing-password-0002"}
# What components/mlflow.py writes into basic_auth.ini (database_uri aside)
AUTH_INI = """[mlflow]
default_permission = NO_PERMISSIONS
database_uri = sqlite:///{db}
admin_username = admin
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
grant_default_workspace_access = false
"""


@dataclass
class Server:
    uri: str

    def client(self, user: str, password: str) -> httpx.Client:
        return httpx.Client(base_url=self.uri, auth=(user, password), timeout=30)

    def tenant(self, name: str) -> httpx.Client:
        return self.client(name, PASSWORDS[name])


@pytest.fixture(scope="module")
def mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("mlflow-auth")
    (root / "basic_auth.ini").write_text(AUTH_INI.format(db=root / "auth.db"))
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(root / "basic_auth.ini"),
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "flask-secret-for-the-test-only",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    command = [PYTHON, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}", "--serve-artifacts"]
    command += ["--artifacts-destination", str(root / "artifacts"), "--app-name", "basic-auth"]
    command += ["--workers", "1"]
    service = Service(command, root / "mlflow.log", env)
    server = Server(f"http://127.0.0.1:{port}")
    try:
        wait_until(
            lambda: http_ok(f"{server.uri}/health"),
            300,
            "mlflow",
            service.process,
            root / "mlflow.log",
        )
        admin = server.client("admin", ADMIN_PASSWORD)
        for user, password in PASSWORDS.items():  # what the platform's provisioning Job does
            created = admin.post(
                "/api/2.0/mlflow/users/create", json={"username": user, "password": password}
            )
            assert created.status_code == 200, created.text
        yield server
    finally:
        service.stop()


@dataclass
class RiskData:
    experiment_id: str
    run_id: str
    artifact_path: str
    model: str = "risk-fraud"


@pytest.fixture(scope="module")
def risk_data(mlflow: Server) -> RiskData:
    risk = mlflow.tenant("risk")
    experiment = risk.post("/api/2.0/mlflow/experiments/create", json={"name": "risk/fraud"})
    assert experiment.status_code == 200, experiment.text
    experiment_id = experiment.json()["experiment_id"]
    run = risk.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    assert run.status_code == 200, run.text
    run_id = run.json()["run"]["info"]["run_id"]
    metric = {"run_id": run_id, "key": "auc", "value": 0.91, "timestamp": 0}
    assert risk.post("/api/2.0/mlflow/runs/log-metric", json=metric).status_code == 200
    artifact = f"{experiment_id}/{run_id}/artifacts/model/weights.bin"
    uploaded = risk.put(
        f"/api/2.0/mlflow-artifacts/artifacts/{artifact}", content=b"secret weights"
    )
    assert uploaded.status_code == 200, uploaded.text
    model = risk.post("/api/2.0/mlflow/registered-models/create", json={"name": "risk-fraud"})
    assert model.status_code == 200, model.text
    version = risk.post(
        "/api/2.0/mlflow/model-versions/create",
        json={"name": "risk-fraud", "source": f"runs:/{run_id}/model", "run_id": run_id},
    )
    assert version.status_code == 200, version.text
    alias = {"name": "risk-fraud", "alias": "champion", "version": "1"}
    assert risk.post("/api/2.0/mlflow/registered-models/alias", json=alias).status_code == 200
    return RiskData(experiment_id, run_id, artifact)


def test_the_owner_reads_its_own_experiment_run_artifact_and_model(
    mlflow: Server, risk_data: RiskData
) -> None:
    risk = mlflow.tenant("risk")
    assert (
        risk.get(
            "/api/2.0/mlflow/experiments/get", params={"experiment_id": risk_data.experiment_id}
        ).status_code
        == 200
    )
    assert (
        risk.get("/api/2.0/mlflow/runs/get", params={"run_id": risk_data.run_id}).status_code == 200
    )
    download = risk.get(f"/api/2.0/mlflow-artifacts/artifacts/{risk_data.artifact_path}")
    assert download.status_code == 200 and download.content == b"secret weights"
    alias = risk.get(
        "/api/2.0/mlflow/registered-models/alias",
        params={"name": "risk-fraud", "alias": "champion"},
    )
    assert alias.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": "{experiment}"}),
        ("GET", "/api/2.0/mlflow/experiments/get-by-name", {"experiment_name": "risk/fraud"}),
        ("GET", "/api/2.0/mlflow/runs/get", {"run_id": "{run}"}),
        ("GET", "/api/2.0/mlflow/metrics/get-history", {"run_id": "{run}", "metric_key": "auc"}),
        ("GET", "/api/2.0/mlflow-artifacts/artifacts/{artifact}", None),
        ("GET", "/api/2.0/mlflow/artifacts/list", {"run_id": "{run}"}),
        ("GET", "/api/2.0/mlflow/registered-models/get", {"name": "risk-fraud"}),
        ("GET", "/api/2.0/mlflow/model-versions/get", {"name": "risk-fraud", "version": "1"}),
        (
            "GET",
            "/api/2.0/mlflow/registered-models/alias",
            {"name": "risk-fraud", "alias": "champion"},
        ),
        (
            "POST",
            "/api/2.0/mlflow/runs/log-metric",
            {"run_id": "{run}", "key": "auc", "value": 0.1, "timestamp": 1},
        ),
        ("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": "{experiment}"}),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/{artifact}", b"tampered"),
        (
            "POST",
            "/api/2.0/mlflow/registered-models/alias",
            {"name": "risk-fraud", "alias": "champion", "version": "1"},
        ),
        (
            "POST",
            "/api/2.0/mlflow/model-versions/create",
            {"name": "risk-fraud", "source": "s3://x/y"},
        ),
        ("POST", "/api/2.0/mlflow/experiments/delete", {"experiment_id": "{experiment}"}),
        ("DELETE", "/api/2.0/mlflow/registered-models/delete", {"name": "risk-fraud"}),
    ],
)
def test_another_tenant_can_neither_read_nor_change_it(
    mlflow: Server, risk_data: RiskData, method: str, path: str, payload: object
) -> None:
    def fill(value: object) -> object:
        if isinstance(value, str):
            return value.format(
                experiment=risk_data.experiment_id,
                run=risk_data.run_id,
                artifact=risk_data.artifact_path,
            )
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    marketing = mlflow.tenant("marketing")
    url = str(fill(path))
    if method == "GET":
        response = marketing.get(url, params=fill(payload) if payload else None)
    elif method == "PUT":
        response = marketing.put(url, content=payload)
    else:
        response = marketing.request(method, url, json=fill(payload))
    assert response.status_code == 403, (
        f"{method} {url}: {response.status_code} {response.text[:200]}"
    )
    # nothing changed: the owner still reads what it wrote
    risk = mlflow.tenant("risk")
    assert (
        risk.get(f"/api/2.0/mlflow-artifacts/artifacts/{risk_data.artifact_path}").content
        == b"secret weights"
    )


def test_searches_do_not_show_another_tenants_experiments_or_models(
    mlflow: Server, risk_data: RiskData
) -> None:
    marketing = mlflow.tenant("marketing")
    own = marketing.post("/api/2.0/mlflow/experiments/create", json={"name": "marketing/churn"})
    assert own.status_code == 200, own.text
    found = marketing.post("/api/2.0/mlflow/experiments/search", json={"max_results": 100}).json()
    names = {e["name"] for e in found.get("experiments", [])}
    assert "marketing/churn" in names and "risk/fraud" not in names
    models = marketing.get("/api/2.0/mlflow/registered-models/search").json()
    assert "risk-fraud" not in {m["name"] for m in models.get("registered_models", [])}
    runs = marketing.post(
        "/api/2.0/mlflow/runs/search", json={"experiment_ids": [risk_data.experiment_id]}
    )
    assert runs.status_code == 403 or not runs.json().get("runs")


def test_a_wrong_password_is_refused(mlflow: Server) -> None:
    impostor = mlflow.client("risk", PASSWORDS["marketing"])
    assert impostor.get("/api/2.0/mlflow/experiments/search").status_code == 401
