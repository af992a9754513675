"""One scoring request, body in and body out, in either protocol: what the HTTP layer runs per call.

`handle_v1` / `handle_v2` take the raw body (and, for V2, the binary extension's
`Inference-Header-Content-Length`), decode it with orjson (strict JSON: no NaN or Infinity, no
lone surrogates, nesting at most 1024 deep, integers beyond 64 bits refused or read as floats
that no integer datatype accepts), validate it (`requests`, `tensors`), score it
(`CardRiskModel.score`) and encode the answer. A client's mistake raises `Rejected` with the
status and a message that names the problem and never quotes more than a few dozen characters
of the input. Nothing here knows about HTTP framing: the benchmark's in-process path calls these
same functions, so the server's overhead is exactly what the HTTP layer adds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import orjson

from workloads.data.events import EventLimits, Transaction
from workloads.serving import requests, tensors

JSON = b"application/json"


class Scorer(Protocol):
    name: str
    limits: EventLimits  # the validator's bounds, resolved once at start-up

    @property
    def version(self) -> str: ...

    def score(self, transactions: list[Transaction]) -> requests.Scored: ...


class ServedModel(Scorer, Protocol):
    """What the HTTP layer needs of the predictor (`CardRiskModel`)."""

    ready: bool


class Rejected(Exception):
    """A request the server refuses: `status` (4xx) and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message if len(message) <= 500 else message[:500] + "…"


@dataclass(frozen=True)
class Reply:
    body: bytes
    content_type: bytes = JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    status: int = 200


def error_body(message: str) -> bytes:
    return orjson.dumps({"error": message})


def _json(body: bytes, what: str) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Rejected(400, f"{what} is not valid JSON: {str(error)[:200]}") from None


def handle_v1(model: Scorer, body: bytes) -> Reply:
    try:
        transactions = requests.parse_v1(_json(body, "the body"), model.limits)
    except requests.InvalidRequest as error:
        raise Rejected(400, str(error)) from None
    scored = model.score(transactions)
    return Reply(orjson.dumps(requests.v1_response(transactions, scored)))


def handle_v2(model: Scorer, body: bytes, header_length: str | None = None) -> Reply:
    try:
        header, binary = tensors.split_binary(body, header_length)
        request = tensors.decode_request(_json(header, "the JSON header"), binary)
        tensors.check_requested_outputs(request, list(requests.OUTPUTS))
        transactions = requests.parse_v2(request, model.limits)
    except (tensors.TensorError, requests.InvalidRequest) as error:
        raise Rejected(400, str(error)) from None
    scored = model.score(transactions)
    outputs, data = tensors.encode_outputs(request, requests.v2_outputs(scored))
    answer: dict[str, object] = {"model_name": model.name, "model_version": scored.version}
    if request.id is not None:
        answer["id"] = request.id
    answer["parameters"] = {"model_version": scored.version}
    answer["outputs"] = outputs
    encoded = orjson.dumps(answer)
    if not data:
        return Reply(encoded)
    return Reply(
        encoded + data,
        b"application/octet-stream",
        [(b"inference-header-content-length", str(len(encoded)).encode())],
    )


def handle_metadata(model: Scorer) -> Reply:
    return Reply(orjson.dumps(requests.metadata(model.name, model.version)))
