"""The model server over HTTP: both protocols, tritonclient, metadata, bad input, loopback only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as triton
from conftest import PYTHON, Dataset, Service, Workspace, free_port, http_ok, wait_until
from mlflow.tracking import MlflowClient
from prometheus_client.parser import text_string_to_metric_families

from workloads.demo.traffic import v2_body

pytestmark = pytest.mark.slow
Trained = tuple[Workspace, dict[str, Any]]
Server = tuple[str, Service]
MODEL = "card-risk-test"


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample (0 if absent), whatever the label order."""
    for family in text_string_to_metric_families(metrics):
        for found in family.samples:
            if found.name == name and labels.items() <= found.labels.items():
                return found.value
    return 0.0


def known_event(dataset: Dataset) -> dict[str, Any]:
    return dataset.events[-1]


def test_v1_and_v2_score_the_same_transaction_identically(
    model_server: Server, trained: Trained, dataset: Dataset
) -> None:
    url, _ = model_server
    event = known_event(dataset)
    v1 = httpx.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [event]})
    v2 = httpx.post(f"{url}/v2/models/{MODEL}/infer", json={"id": "req-1", **v2_body([event])})
    assert v1.status_code == 200, v1.text
    assert v2.status_code == 200, v2.text
    prediction = v1.json()["predictions"][0]
    outputs = {o["name"]: o for o in v2.json()["outputs"]}
    assert 0.0 <= prediction["risk_score"] <= 1.0
    assert prediction["transaction_id"] == event["transaction_id"]
    assert prediction["known_customer"] is True
    assert outputs["risk_score"]["data"][0] == pytest.approx(prediction["risk_score"], rel=1e-6)
    assert outputs["known_customer"]["data"] == [True]
    assert v2.json()["id"] == "req-1"
    version = trained[1]["version"]
    assert v1.json()["model_version"] == version
    assert v2.json()["parameters"]["model_version"] == version


def test_an_unknown_customer_is_scored_with_defaults_and_logged(
    model_server: Server, dataset: Dataset
) -> None:
    url, server = model_server
    event = {**known_event(dataset), "customer_id": "CUST-NEVER-SEEN"}
    response = httpx.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [event]})
    assert response.status_code == 200
    assert response.json()["predictions"][0]["known_customer"] is False
    assert "unknown customer CUST-NEVER-SEEN" in server.log.read_text()


def malformed_requests(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, httpx request kwargs): 200 broken requests of every kind a client can send."""
    v1, v2 = f"/v1/models/{MODEL}:predict", f"/v2/models/{MODEL}/infer"
    good_v2 = v2_body([event])
    cases: list[tuple[str, dict[str, Any]]] = []
    for field in event:
        if field in ("transaction_id", "currency"):  # optional fields
            continue
        cases.append(
            (v1, {"json": {"instances": [{k: v for k, v in event.items() if k != field}]}})
        )
        cases.append(
            (v2, {"json": {"inputs": [i for i in good_v2["inputs"] if i["name"] != field]}})
        )
        for bad in (None, "", -5, "x" * 300, [1], {"a": 1}, True, float("nan")):
            body = json.dumps({"instances": [{**event, field: bad}]}, allow_nan=True)
            cases.append((v1, {"content": body, "headers": {"content-type": "application/json"}}))
    for raw in (b"", b"{", b"null", b"[]", b"42", b'"text"', b"\xff\xfe", b"{" * 5000):
        cases.append((v1, {"content": raw, "headers": {"content-type": "application/json"}}))
        cases.append((v2, {"content": raw, "headers": {"content-type": "application/json"}}))
    cases += [
        (v1, {"json": {"instances": []}}),
        (v1, {"json": {"instances": "all"}}),
        (v1, {"json": {"instances": [event] * 1001}}),
        (v1, {"content": b"customer_id=1", "headers": {"content-type": "text/plain"}}),
        (v2, {"json": {"inputs": [{"name": "customer_id", "shape": [1], "datatype": "BYTES"}]}}),
        (
            v2,
            {
                "json": {
                    "inputs": [
                        *good_v2["inputs"],
                        {"name": "extra", "shape": [1], "datatype": "BYTES", "data": ["x"]},
                    ]
                }
            },
        ),
        (v2, {"json": {"inputs": "none"}}),
        ("/v1/models/no-such-model:predict", {"json": {"instances": [event]}}),
        ("/v2/models/no-such-model/infer", {"json": good_v2}),
    ]
    for index in range(len(cases), 200):  # fill up with varied amounts and ids
        cases.append(
            (
                v2 if index % 2 else v1,
                {
                    "json": {"instances": [{**event, "amount_aed": -index}]}
                    if index % 2 == 0
                    else {
                        "inputs": [
                            {**i, "data": [f"bad-{index}"]} if i["name"] == "amount_aed" else i
                            for i in good_v2["inputs"]
                        ]
                    }
                },
            )
        )
    return cases[:200]


def test_200_malformed_requests_get_4xx_and_the_server_stays_ready(
    model_server: Server, dataset: Dataset
) -> None:
    url, server = model_server
    cases = malformed_requests(known_event(dataset))
    assert len(cases) == 200
    statuses = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for path, kwargs in cases:
            response = client.post(path, **kwargs)
            statuses.append(response.status_code)
            assert 400 <= response.status_code < 500, (path, kwargs, response.text[:300])
            assert response.text  # the reason is in the body
        assert client.get("/v2/health/ready").status_code == 200
        assert client.get(f"/v1/models/{MODEL}").json()["ready"] is True
        ok = client.post(f"/v1/models/{MODEL}:predict", json={"instances": [known_event(dataset)]})
        assert ok.status_code == 200
        metrics = client.get("/metrics").text
    assert server.process.poll() is None
    assert 400 in statuses and 404 in statuses
    invalid = re.search(r"^card_risk_invalid_requests_total (\S+)$", metrics, re.MULTILINE)
    assert invalid is not None and float(invalid.group(1)) >= 150


def test_a_400_names_the_problem(model_server: Server, dataset: Dataset) -> None:
    url, _ = model_server
    event = {**known_event(dataset), "channel": "carrier-pigeon"}
    response = httpx.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [event]})
    assert response.status_code == 400
    assert "instances[0]: field 'channel' must be one of" in response.json()["error"]


def test_metrics_and_health_endpoints(model_server: Server, dataset: Dataset) -> None:
    url, _ = model_server
    httpx.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [known_event(dataset)]})
    metrics = httpx.get(f"{url}/metrics").text
    assert "card_risk_predictions_total{model_version=" in metrics
    assert sample(metrics, "card_risk_requests_total", protocol="v1", code="200") >= 1
    assert sample(metrics, "card_risk_request_seconds_count", protocol="v1") >= 1
    assert httpx.get(f"{url}/v2/health/live").status_code == 200


def test_the_model_metadata_declares_inputs_and_outputs(
    model_server: Server, trained: Trained
) -> None:
    url, _ = model_server
    meta = httpx.get(f"{url}/v2/models/{MODEL}").json()
    inputs = {i["name"]: (i["datatype"], i["shape"]) for i in meta["inputs"]}
    assert inputs["amount_aed"] == ("FP64", [-1]) and inputs["timestamp"] == ("BYTES", [-1])
    assert {o["name"]: o["datatype"] for o in meta["outputs"]} == {
        "risk_score": "FP32",
        "known_customer": "BOOL",
    }
    version = trained[1]["version"]
    assert meta["versions"] == [version]
    assert httpx.get(f"{url}/v2/models/{MODEL}/versions/{version}").json() == meta
    assert httpx.get(f"{url}/v2/models/{MODEL}/versions/{version}/ready").json()["ready"]
    assert httpx.get(f"{url}/v2/models/{MODEL}/versions/0").status_code == 404


def tritonclient_inputs(meta: dict[str, Any], event: dict[str, Any], binary: bool) -> list:
    """What a generic OIP client builds from the discovered metadata alone."""
    inputs = []
    for spec in meta["inputs"]:
        if spec["name"] not in event:
            continue
        dtype = np.float64 if spec["datatype"] == "FP64" else np.object_
        array = np.array([event[spec["name"]]], dtype=dtype)
        tensor = triton.InferInput(spec["name"], list(array.shape), spec["datatype"])
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    return inputs


@pytest.mark.parametrize(
    ("binary", "compression"),
    [(False, None), (True, None), (False, "gzip"), (True, "deflate")],
    ids=["json", "binary", "json-gzip", "binary-deflate"],
)
def test_tritonclient_discovers_the_model_and_scores_in_json_and_binary_mode(
    model_server: Server, dataset: Dataset, binary: bool, compression: str | None
) -> None:
    url, _ = model_server
    event = known_event(dataset)
    reference = httpx.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [event]})
    expected = reference.json()["predictions"][0]["risk_score"]
    client = triton.InferenceServerClient(url.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_model_ready(MODEL)
        meta = client.get_model_metadata(MODEL)
        inputs = tritonclient_inputs(meta, event, binary)
        outputs = [
            triton.InferRequestedOutput(o["name"], binary_data=binary) for o in meta["outputs"]
        ]
        result = client.infer(
            MODEL,
            inputs,
            outputs=outputs,
            request_id="t-1",
            request_compression_algorithm=compression,
        )
        # no outputs named: tritonclient asks for every output in binary
        default = client.infer(MODEL, inputs)
    finally:
        client.close()
    assert result.as_numpy("risk_score")[0] == pytest.approx(expected, rel=1e-6)
    assert result.as_numpy("known_customer").tolist() == [True]
    assert result.get_response()["id"] == "t-1"
    assert default.as_numpy("risk_score")[0] == pytest.approx(expected, rel=1e-6)


def test_the_local_server_listens_on_loopback_only(model_server: Server) -> None:
    url, _ = model_server
    port = int(url.rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"], listening  # 127.0.0.1, and nothing else


def test_batch_scoring_scores_valid_rows_and_reports_rejects(
    trained: Trained, dataset: Dataset
) -> None:
    ws, result = trained
    source = ws.root / "batch.jsonl"
    events = dataset.events[-50:]
    broken = [{**events[0], "amount_aed": "lots"}, {"transaction_id": "T-x"}]
    source.write_text("".join(json.dumps(e) + "\n" for e in [*events, *broken]))
    output = ws.root / "scored.parquet"
    summary = ws.run("workloads.serving", "batch", "--input", str(source), "--output", str(output))
    assert summary["scored"] == 50 and summary["rejected"] == 2
    assert summary["model_version"] == result["version"]
    scored = pd.read_parquet(output)
    assert scored["risk_score"].between(0, 1).all()
    assert set(scored["transaction_id"]) == {e["transaction_id"] for e in events}
    rejects = [json.loads(line) for line in Path(summary["rejects"]).read_text().splitlines()]
    assert [r["line"] for r in rejects] == [51, 52]
    assert "amount_aed" in rejects[0]["reason"]


def test_the_canary_predictor_serves_the_challenger_its_alias_names(
    trained: Trained, dataset: Dataset
) -> None:
    """components/sample_workloads.py gives the canary predictor MLP_MODEL_ALIAS=challenger.

    A registered model of its own (a copy of the trained version as its champion, another as
    its challenger), so the aliases other tests read stay as training left them.
    """
    ws, result = trained
    client = MlflowClient(tracking_uri=ws.settings.mlflow_tracking_uri)
    name = f"{MODEL}-canary"
    source = f"models:/{MODEL}/{result['version']}"
    champion = client.copy_model_version(source, name)
    challenger = client.copy_model_version(source, name)
    client.set_registered_model_alias(name, "champion", champion.version)
    client.set_registered_model_alias(name, "challenger", challenger.version)
    port = free_port()
    canary = Service(
        [PYTHON, "-m", "workloads.serving", "local", "--port", str(port), "--no-prediction-log"],
        ws.root / "canary-server.log",
        {**ws.env, "MLP_MODEL_NAME": name, "MLP_MODEL_ALIAS": "challenger"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: http_ok(f"{url}/v2/health/ready"), 300, "canary", canary.process, canary.log
        )
        body = {"instances": [known_event(dataset)]}
        answer = httpx.post(f"{url}/v1/models/{name}:predict", json=body)
    finally:
        canary.stop()
    assert answer.status_code == 200, answer.text
    assert answer.json()["model_version"] == challenger.version != champion.version
    assert f"version {challenger.version} (@challenger)" in canary.log.read_text()
