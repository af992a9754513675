"""Request parsing of both protocols: every malformed request is an InvalidInput (a 400)."""

from __future__ import annotations

import pytest
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput, InferRequest

from workloads.serving import requests

INSTANCE = {
    "customer_id": "CUST-000001",
    "amount_aed": 99.5,
    "merchant_category": "fuel",
    "channel": "pos_chip",
    "merchant_country": "AE",
    "timestamp": "2026-11-20T08:00:00Z",
}


def v2(**columns: tuple[str, list]) -> InferRequest:
    inputs = [
        InferInput(name, [len(data)], datatype, data) for name, (datatype, data) in columns.items()
    ]
    return InferRequest("card-risk", inputs, request_id="r1")


def full_v2(**changes: tuple[str, list]) -> InferRequest:
    columns = {
        name: ("FP64" if name == "amount_aed" else "BYTES", [value])
        for name, value in INSTANCE.items()
    }
    return v2(**{**columns, **changes})


def test_v1_and_v2_parse_to_the_same_transaction() -> None:
    (from_v1,) = requests.parse({"instances": [INSTANCE]})
    (from_v2,) = requests.parse(full_v2())
    assert from_v1 == from_v2


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ([INSTANCE], "JSON object"),
        ({"inputs": [INSTANCE]}, "no 'instances'"),
        ({"instances": INSTANCE}, "must be a list"),
        ({"instances": []}, "empty"),
        ({"instances": [INSTANCE] * 1001}, "at most 1000"),
        ({"instances": [{**INSTANCE, "amount_aed": None}]}, r"instances\[0\]: missing"),
        ({"instances": [INSTANCE, {**INSTANCE, "channel": "x"}]}, r"instances\[1\].*channel"),
        (b"raw", "must be JSON"),
    ],
)
def test_v1_problems(payload: object, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        requests.parse(payload)


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (full_v2(colour=("BYTES", ["red"])), "unknown input 'colour'"),
        (v2(customer_id=("BYTES", ["CUST-000001"])), "missing input"),
        (full_v2(amount_aed=("BYTES", ["99"])), "amount_aed' must have a numeric"),
        (full_v2(channel=("FP32", [1.0])), "channel' must have a BYTES"),
        (full_v2(channel=("BYTES", ["pos_chip", "atm"])), "same length"),
        (full_v2(amount_aed=("FP64", [-3.0])), r"inputs\[0\].*amount_aed"),
        (full_v2(customer_id=("BYTES", [b"\xff\xfe"])), "not UTF-8"),
    ],
)
def test_v2_problems(request_: InferRequest, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        requests.parse(request_)


def test_responses_carry_scores_and_the_model_version() -> None:
    transactions = requests.parse({"instances": [INSTANCE, INSTANCE]})
    body = requests.v1_response(transactions, [0.1, 0.9], [True, False], "4")
    assert [p["risk_score"] for p in body["predictions"]] == [0.1, 0.9]
    assert body["model_version"] == "4"
    response = requests.v2_response(full_v2(), "card-risk", [0.25], [True], "4")
    rest = response.to_rest()[0]
    assert rest["outputs"][0]["name"] == "risk_score" and rest["outputs"][0]["data"] == [0.25]
    assert rest["id"] == "r1"
