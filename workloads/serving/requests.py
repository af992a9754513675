"""Scoring requests and responses in both KServe protocols; invalid ones get a 400 naming why.

V1 (`POST /v1/models/<name>:predict`):
    {"instances": [{"customer_id": "CUST-000042", "amount_aed": 250.0,
                    "merchant_category": "grocery", "channel": "contactless",
                    "merchant_country": "AE", "timestamp": "2026-11-26T09:00:00Z",
                    "transaction_id": "optional"}]}
    → {"predictions": [{"transaction_id", "customer_id", "risk_score", "known_customer"}],
       "model_version": "3"}

Open Inference Protocol V2 (`POST /v2/models/<name>/infer`): one BYTES or FP32/FP64 input per
field above, all of the same length, e.g.
    {"inputs": [{"name": "customer_id", "shape": [1], "datatype": "BYTES", "data": ["CUST-000042"]},
                {"name": "amount_aed", "shape": [1], "datatype": "FP64", "data": [250.0]}, ...]}
    → outputs `risk_score` (FP32) and `known_customer` (BOOL); parameters.model_version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse

from workloads.data.events import InvalidTransaction, Transaction, parse_transaction

MAX_INSTANCES = 1000
REQUIRED_INPUTS = (
    "customer_id",
    "amount_aed",
    "merchant_category",
    "channel",
    "merchant_country",
    "timestamp",
)
OPTIONAL_INPUTS = ("transaction_id", "currency")
NUMERIC_DATATYPES = {
    "FP16",
    "FP32",
    "FP64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
}


def _transactions(records: list[Any], where: str) -> list[Transaction]:
    if not records:
        raise InvalidInput(f"'{where}' is empty: send at least one transaction")
    if len(records) > MAX_INSTANCES:
        raise InvalidInput(f"'{where}' has {len(records)} entries; at most {MAX_INSTANCES}")
    parsed = []
    for index, record in enumerate(records):
        try:
            parsed.append(parse_transaction(record, require_id=False))
        except InvalidTransaction as reason:
            raise InvalidInput(f"{where}[{index}]: {reason}") from None
    return parsed


def parse_v1(payload: object) -> list[Transaction]:
    if not isinstance(payload, Mapping):
        raise InvalidInput(
            f"the V1 body must be a JSON object with 'instances', got {type(payload).__name__}"
        )
    if "instances" not in payload:
        raise InvalidInput("the V1 body has no 'instances' list")
    instances = payload["instances"]
    if not isinstance(instances, list):
        raise InvalidInput(f"'instances' must be a list, got {type(instances).__name__}")
    return _transactions(instances, "instances")


def _decode(value: object) -> object:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("a BYTES input element is not UTF-8") from None
    return value


def parse_v2(request: InferRequest) -> list[Transaction]:
    columns: dict[str, list[object]] = {}
    for tensor in request.inputs:
        name = tensor.name
        if name not in REQUIRED_INPUTS + OPTIONAL_INPUTS:
            allowed = ", ".join(REQUIRED_INPUTS + OPTIONAL_INPUTS)
            raise InvalidInput(f"unknown input '{name}'; allowed: {allowed}")
        if name in columns:
            raise InvalidInput(f"input '{name}' appears twice")
        data = tensor.data
        if not isinstance(data, list):
            raise InvalidInput(f"input '{name}' must carry its values in 'data' as a JSON list")
        expected = "numeric" if name == "amount_aed" else "BYTES"
        if (expected == "BYTES") != (tensor.datatype == "BYTES") or (
            expected == "numeric" and tensor.datatype not in NUMERIC_DATATYPES
        ):
            raise InvalidInput(
                f"input '{name}' must have a {expected} datatype, got {tensor.datatype}"
            )
        columns[name] = [_decode(value) for value in data]
    missing = [name for name in REQUIRED_INPUTS if name not in columns]
    if missing:
        raise InvalidInput(f"missing input(s): {', '.join(missing)}")
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) != 1:
        raise InvalidInput(f"inputs must all have the same length, got {lengths}")
    count = next(iter(lengths.values()))
    records = [{name: values[i] for name, values in columns.items()} for i in range(count)]
    return _transactions(records, "inputs")


def parse(payload: object) -> list[Transaction]:
    if isinstance(payload, InferRequest):
        return parse_v2(payload)
    if isinstance(payload, bytes | str):
        raise InvalidInput("the body must be JSON (Content-Type: application/json)")
    return parse_v1(payload)


def v1_response(
    transactions: list[Transaction], scores: list[float], known: list[bool], version: str
) -> dict[str, Any]:
    return {
        "predictions": [
            {
                "transaction_id": txn.transaction_id,
                "customer_id": txn.customer_id,
                "risk_score": score,
                "known_customer": is_known,
            }
            for txn, score, is_known in zip(transactions, scores, known, strict=True)
        ],
        "model_version": version,
    }


def v2_response(
    request: InferRequest, model_name: str, scores: list[float], known: list[bool], version: str
) -> InferResponse:
    return InferResponse(
        response_id=request.id or "",
        model_name=model_name,
        model_version=version,
        infer_outputs=[
            InferOutput(name="risk_score", shape=[len(scores)], datatype="FP32", data=scores),
            InferOutput(name="known_customer", shape=[len(known)], datatype="BOOL", data=known),
        ],
        parameters={"model_version": version},
    )
