"""Request parsing of both protocols: every malformed request is refused with its reason."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest

from workloads.data.events import DEFAULT_LIMITS, EventLimits
from workloads.serving import protocols, requests, tensors
from workloads.serving.requests import Scored

INSTANCE = {
    "customer_id": "CUST-000001",
    "amount_aed": 99.5,
    "merchant_category": "fuel",
    "channel": "pos_chip",
    "merchant_country": "AE",
    "timestamp": "2026-11-20T08:00:00Z",
}


def v2_input(name: str, datatype: str, data: list[Any], shape: list[int] | None = None) -> dict:
    return {"name": name, "datatype": datatype, "shape": shape or [len(data)], "data": data}


def full_v2(**changes: dict[str, Any]) -> dict[str, Any]:
    inputs = {
        name: v2_input(name, "FP64" if name == "amount_aed" else "BYTES", [value])
        for name, value in INSTANCE.items()
    }
    inputs.update(changes)
    return {"id": "r1", "inputs": list(inputs.values())}


def test_v1_and_v2_parse_to_the_same_transaction() -> None:
    (from_v1,) = requests.parse_v1({"instances": [INSTANCE]})
    (from_v2,) = parse_v2(full_v2())
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
        ({"instances": [{**INSTANCE, "timestamp": "2300-01-01T00:00:00Z"}]}, "timestamp"),
        ({"instances": [{**INSTANCE, "timestamp": "0001-01-01T00:00:00+01:00"}]}, "timestamp"),
        ({"instances": [{**INSTANCE, "amount_aed": 10**400}]}, "amount_aed"),
    ],
)
def test_v1_problems(payload: object, reason: str) -> None:
    with pytest.raises(requests.InvalidRequest, match=reason):
        requests.parse_v1(payload)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (full_v2(colour=v2_input("colour", "BYTES", ["red"])), "unknown input 'colour'"),
        ({"inputs": [v2_input("customer_id", "BYTES", ["C-1"])]}, "missing input"),
        (full_v2(amount_aed=v2_input("amount_aed", "BYTES", ["99"])), "numeric datatype"),
        (full_v2(channel=v2_input("channel", "FP32", [1.0])), "channel' must have datatype BYTES"),
        (full_v2(channel=v2_input("channel", "BYTES", ["pos_chip", "atm"])), "same shape"),
        (full_v2(amount_aed=v2_input("amount_aed", "FP64", [-3.0])), r"inputs\[0\].*amount_aed"),
        (full_v2(channel=v2_input("channel", "BYTES", [["pos_chip"]], [1, 1])), r"shape \[N\]"),
        (
            full_v2(timestamp=v2_input("timestamp", "BYTES", ["2300-01-01T00:00:00Z"])),
            "timestamp",
        ),
    ],
)
def test_v2_problems(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(requests.InvalidRequest, match=reason):
        parse_v2(body)


def test_the_bounds_the_server_was_started_with_apply_to_both_protocols() -> None:
    limits = EventLimits.from_env({"MLP_EVENTS_EARLIEST": "2026-11-21"})
    with pytest.raises(requests.InvalidRequest, match=r"instances\[0\]: field 'timestamp'"):
        requests.parse_v1({"instances": [INSTANCE]}, limits)
    with pytest.raises(requests.InvalidRequest, match=r"inputs\[0\]: field 'timestamp'"):
        parse_v2(full_v2(), limits)
    assert requests.parse_v1({"instances": [INSTANCE]})  # 2026-11-20 is inside the defaults


def parse_v2(body: dict[str, Any], limits: EventLimits = DEFAULT_LIMITS) -> list:
    return requests.parse_v2(tensors.decode_request(body), limits)


def test_the_metadata_declares_every_input_and_output_with_datatype_and_shape() -> None:
    meta = requests.metadata("card-risk", "7")
    inputs = {i["name"]: (i["datatype"], i["shape"]) for i in meta["inputs"]}
    assert set(requests.REQUIRED_INPUTS) <= set(inputs)
    assert inputs["amount_aed"] == ("FP64", [-1])
    assert inputs["customer_id"] == ("BYTES", [-1])
    outputs = {o["name"]: (o["datatype"], o["shape"]) for o in meta["outputs"]}
    assert outputs == {"risk_score": ("FP32", [-1]), "known_customer": ("BOOL", [-1])}
    assert meta["versions"] == ["7"]


class FixedScorer:
    """The Scorer contract with fixed scores: the codec tests need no model."""

    name = "card-risk"
    version = "4"
    limits = DEFAULT_LIMITS

    def score(self, transactions: list) -> Scored:
        return Scored(self.version, [0.25] * len(transactions), [True] * len(transactions))


def test_responses_carry_scores_and_the_model_version() -> None:
    body = json.loads(
        protocols.handle_v1(FixedScorer(), json.dumps({"instances": [INSTANCE]}).encode()).body
    )
    assert body["predictions"][0]["risk_score"] == 0.25
    assert body["model_version"] == "4"
    reply = protocols.handle_v2(FixedScorer(), json.dumps(full_v2()).encode())
    answer = json.loads(reply.body)
    assert answer["outputs"][0] == {
        "name": "risk_score",
        "datatype": "FP32",
        "shape": [1],
        "data": [0.25],
    }
    assert answer["id"] == "r1" and answer["model_version"] == "4"


def binary_body(header: dict[str, Any], chunks: list[bytes]) -> tuple[bytes, str]:
    encoded = json.dumps(header).encode()
    return encoded + b"".join(chunks), str(len(encoded))


def strings(*values: str) -> bytes:
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def test_binary_requests_and_binary_outputs() -> None:
    inputs, chunks = [], []
    for name, value in INSTANCE.items():
        raw = np.array([value]).astype("<f8").tobytes() if name == "amount_aed" else strings(value)
        datatype = "FP64" if name == "amount_aed" else "BYTES"
        inputs.append(
            {
                "name": name,
                "datatype": datatype,
                "shape": [1],
                "parameters": {"binary_data_size": len(raw)},
            }
        )
        chunks.append(raw)
    body, length = binary_body(
        {"inputs": inputs, "parameters": {"binary_data_output": True}}, chunks
    )
    reply = protocols.handle_v2(FixedScorer(), body, length)
    size = int(dict(reply.headers)[b"inference-header-content-length"])
    answer = json.loads(reply.body[:size])
    assert [o["parameters"]["binary_data_size"] for o in answer["outputs"]] == [4, 1]
    score = np.frombuffer(reply.body[size : size + 4], dtype="<f4")
    assert score.tolist() == [0.25] and reply.body[size + 4 :] == b"\x01"


@pytest.mark.parametrize(
    ("header", "chunks", "length", "reason"),
    [
        ({"inputs": []}, [], "abc", "Inference-Header-Content-Length must be an integer"),
        ({"inputs": []}, [], "99999", "Inference-Header-Content-Length must be an integer"),
        (
            {
                "inputs": [
                    {
                        "name": "amount_aed",
                        "datatype": "FP64",
                        "shape": [2],
                        "parameters": {"binary_data_size": 8},
                    }
                ]
            },
            [b"\x00" * 8],
            None,
            "2 FP64 elements take 16 bytes",
        ),
        (
            {
                "inputs": [
                    {
                        "name": "amount_aed",
                        "datatype": "FP64",
                        "shape": [1],
                        "parameters": {"binary_data_size": 64},
                    }
                ]
            },
            [b"\x00" * 8],
            None,
            "binary_data_size must be an integer within",
        ),
        (
            {
                "inputs": [
                    {
                        "name": "amount_aed",
                        "datatype": "FP64",
                        "shape": [1],
                        "parameters": {"binary_data_size": 8},
                    }
                ]
            },
            [np.array([np.nan]).astype("<f8").tobytes()],
            None,
            "must be finite",
        ),
        (
            {
                "inputs": [
                    {
                        "name": "channel",
                        "datatype": "BYTES",
                        "shape": [1],
                        "parameters": {"binary_data_size": 6},
                    }
                ]
            },
            [struct.pack("<I", 50) + b"ab"],
            None,
            "longer than the data sent",
        ),
        (
            {
                "inputs": [
                    {
                        "name": "channel",
                        "datatype": "BYTES",
                        "shape": [1],
                        "parameters": {"binary_data_size": 6},
                    }
                ]
            },
            [struct.pack("<I", 2) + b"\xff\xfe"],
            None,
            "not UTF-8",
        ),
        (
            {
                "inputs": [
                    {
                        "name": "amount_aed",
                        "datatype": "FP64",
                        "shape": [1],
                        "parameters": {"binary_data_size": 8},
                    }
                ]
            },
            [b"\x00" * 12],
            None,
            "4 bytes of binary data after the JSON header belong to no input",
        ),
    ],
)
def test_binary_problems(
    header: dict[str, Any], chunks: list[bytes], length: str | None, reason: str
) -> None:
    body, real_length = binary_body(header, chunks)
    with pytest.raises(protocols.Rejected, match=reason) as refused:
        protocols.handle_v2(FixedScorer(), body, length or real_length)
    assert refused.value.status == 400
