"""The card-risk scoring request and response in both protocols; a bad request names its problem.

V1 (`POST /v1/models/<name>:predict`):
    {"instances": [{"customer_id": "CUST-000042", "amount_aed": 250.0,
                    "merchant_category": "grocery", "channel": "contactless",
                    "merchant_country": "AE", "timestamp": "2026-11-26T09:00:00Z",
                    "transaction_id": "optional"}]}
    → {"predictions": [{"transaction_id", "customer_id", "risk_score", "known_customer"}],
       "model_version": "3"}

Open Inference Protocol V2 (`POST /v2/models/<name>/infer`): one 1-D tensor of shape [N] per
field above (`INPUTS`: BYTES, `amount_aed` any numeric type, FP64 declared), JSON or binary
(see `tensors`), e.g.
    {"inputs": [{"name": "customer_id", "shape": [1], "datatype": "BYTES", "data": ["CUST-000042"]},
                {"name": "amount_aed", "shape": [1], "datatype": "FP64", "data": [250.0]}, ...]}
    → outputs `risk_score` (FP32 [N]) and `known_customer` (BOOL [N]); model_version.

`GET /v2/models/<name>` (`metadata`) declares exactly these inputs and outputs, so a generic
client (tritonclient) can discover them. Every transaction then goes through the validator the
stream uses (`workloads.data.events.parse_transaction`, with the `EventLimits` the server resolved
from `MLP_EVENTS_*` at start-up): a row the stream would dead-letter is a 400 here, with the same
reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workloads.data.events import DEFAULT_LIMITS, EventLimits, Transaction, parse_transaction
from workloads.serving import tensors

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
# What the model metadata declares: name -> datatype (shape [-1]: one element per transaction).
INPUTS = {
    **{name: "BYTES" for name in REQUIRED_INPUTS + OPTIONAL_INPUTS},
    "amount_aed": "FP64",
}
OUTPUTS = {"risk_score": "FP32", "known_customer": "BOOL"}


class InvalidRequest(ValueError):
    """The request is not a valid scoring request; `str()` says where and why (a 400)."""


@dataclass(frozen=True)
class Scored:
    """What the model answered for one request's transactions."""

    version: str
    scores: list[float]
    known: list[bool]


def metadata(model_name: str, version: str) -> dict[str, Any]:
    """OIP model metadata: the inputs and outputs a client must send and will get."""
    return {
        "name": model_name,
        "versions": [version],
        "platform": "pytorch_mlflow",
        "inputs": [{"name": n, "datatype": t, "shape": [-1]} for n, t in INPUTS.items()],
        "outputs": [{"name": n, "datatype": t, "shape": [-1]} for n, t in OUTPUTS.items()],
    }


def _transactions(records: Sequence[object], where: str, limits: EventLimits) -> list[Transaction]:
    if not records:
        raise InvalidRequest(f"'{where}' is empty: send at least one transaction")
    if len(records) > MAX_INSTANCES:
        raise InvalidRequest(f"'{where}' has {len(records)} entries; at most {MAX_INSTANCES}")
    parsed = []
    for index, record in enumerate(records):
        try:
            parsed.append(parse_transaction(record, require_id=False, limits=limits))
        except (ValueError, ArithmeticError) as reason:  # InvalidTransaction is a ValueError
            raise InvalidRequest(f"{where}[{index}]: {_reason(reason)}") from None
    return parsed


def _reason(error: Exception) -> str:
    try:
        text = str(error)
    except ValueError:
        text = type(error).__name__
    return text if len(text) <= 300 else text[:300] + "…"


def parse_v1(payload: object, limits: EventLimits = DEFAULT_LIMITS) -> list[Transaction]:
    if not isinstance(payload, Mapping):
        raise InvalidRequest(
            f"the V1 body must be a JSON object with 'instances', got {type(payload).__name__}"
        )
    if "instances" not in payload:
        raise InvalidRequest("the V1 body has no 'instances' list")
    instances = payload["instances"]
    if not isinstance(instances, list):
        raise InvalidRequest(f"'instances' must be a list, got {type(instances).__name__}")
    return _transactions(instances, "instances", limits)


def _column(tensor: tensors.Tensor) -> list[Any]:
    name = tensor.name
    if name not in INPUTS:
        raise InvalidRequest(f"unknown input '{name:.60}'; allowed: {', '.join(INPUTS)}")
    if name == "amount_aed":
        if tensor.datatype not in tensors.NUMERIC:
            raise InvalidRequest(
                f"input 'amount_aed' must have a numeric datatype (FP64 declared), "
                f"got {tensor.datatype}"
            )
    elif tensor.datatype != "BYTES":
        raise InvalidRequest(f"input '{name}' must have datatype BYTES, got {tensor.datatype}")
    if len(tensor.shape) != 1:
        raise InvalidRequest(
            f"input '{name}' must have shape [N] (one element per transaction), "
            f"got {list(tensor.shape)}"
        )
    return tensor.values


def parse_v2(
    request: tensors.InferenceRequest, limits: EventLimits = DEFAULT_LIMITS
) -> list[Transaction]:
    columns: dict[str, list[Any]] = {}
    for tensor in request.inputs:
        if tensor.name in columns:
            raise InvalidRequest(f"input '{tensor.name:.60}' appears twice")
        columns[tensor.name] = _column(tensor)
    missing = [name for name in REQUIRED_INPUTS if name not in columns]
    if missing:
        raise InvalidRequest(f"missing input(s): {', '.join(missing)}")
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) != 1:
        raise InvalidRequest(f"inputs must all have the same shape [N], got {lengths}")
    count = next(iter(lengths.values()))
    if count > MAX_INSTANCES:
        raise InvalidRequest(f"inputs have {count} elements; at most {MAX_INSTANCES}")
    records = [{name: values[i] for name, values in columns.items()} for i in range(count)]
    return _transactions(records, "inputs", limits)


def v1_response(transactions: list[Transaction], scored: Scored) -> dict[str, Any]:
    return {
        "predictions": [
            {
                "transaction_id": txn.transaction_id,
                "customer_id": txn.customer_id,
                "risk_score": score,
                "known_customer": is_known,
            }
            for txn, score, is_known in zip(transactions, scored.scores, scored.known, strict=True)
        ],
        "model_version": scored.version,
    }


def v2_outputs(scored: Scored) -> list[tensors.Output]:
    return [
        tensors.Output("risk_score", OUTPUTS["risk_score"], scored.scores),
        tensors.Output("known_customer", OUTPUTS["known_customer"], scored.known),
    ]
