"""The model server's HTTP front: scoring and model metadata here, everything else to KServe's app.

An ASGI app in front of KServe's FastAPI app (`server.py` builds both). It answers itself:

| route | |
|---|---|
| `POST /v1/models/<name>:predict` | V1 scoring (`protocols.handle_v1`) |
| `POST /v2/models/<name>[/versions/<v>]/infer` | OIP scoring, JSON or binary (`handle_v2`) |
| `GET /v2/models/<name>[/versions/<v>]` | OIP model metadata: inputs, outputs, datatypes, shapes |
| `GET /v2/models/<name>/versions/<v>/ready` | readiness of the served version |
| another model's or version's scoring/metadata, `:explain` | 404 naming what is served |
| `POST /v2/repository/...` (load/unload) | 403: clients cannot unload the model |

and hands the rest (health, readiness, `/metrics`, server metadata) to KServe unchanged. Why
not KServe's own routes for scoring: its V2 route validates bodies with pydantic after Python's
`json` (which accepts NaN and 400-digit integers), answers 500/501 to several client mistakes,
insists on a Content-Type the OIP does not require, echoes whole bodies in 422s and costs about
0.4 ms a request; here a request is one orjson decode, the checks, the model and one encode.

Every request body is limited to `max_body_bytes`: a larger Content-Length gets 413 before
anything is read, a chunked body is cut off at the limit, a gzip/deflate body (Content-Encoding)
may not inflate past it. Client mistakes are 4xx with
`{"error": "..."}`; only a fault of the server (the model raising) is a 500, logged with its
traceback. Metrics: `card_risk_requests_total{protocol,code}`, `card_risk_request_seconds{protocol}`
(what the canary guard reads), `card_risk_invalid_requests_total`.
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from prometheus_client import Counter, Histogram

from workloads.serving import protocols
from workloads.serving.protocols import Rejected, Reply, ServedModel

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUESTS = Counter(
    "card_risk_requests", "Scoring requests by protocol and HTTP status", ["protocol", "code"]
)
LATENCY = Histogram(
    "card_risk_request_seconds",
    "Time to answer a scoring request, from its first byte read to its answer sent",
    ["protocol"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
INVALID_REQUESTS = Counter("card_risk_invalid_requests", "Requests rejected with a 4xx")

_V1 = re.compile(r"^/v1/models/(?P<model>[^/]+):(?P<verb>predict|explain)$")
_V2 = re.compile(
    r"^/v2/models/(?P<model>[^/]+)(?:/versions/(?P<version>[^/]+))?(?P<tail>/infer|/ready)?$"
)
_REPOSITORY = re.compile(r"^/v2/repository(?:/|$)")
_MODEL_ROUTES = {("/infer", "POST"), ("/ready", "GET"), (None, "GET")}


class Disconnected(Exception):
    """The client went away before its body arrived."""


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = header(scope, b"content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Rejected(400, f"Content-Length must be an integer, got {declared!r:.40}")
        if int(declared) > limit:
            raise Rejected(413, f"the body has {int(declared)} bytes; at most {limit} accepted")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"the body is larger than the {limit} bytes accepted")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def decompress(scope: Scope, body: bytes, limit: int) -> bytes:
    """The body as sent under `Content-Encoding` gzip or deflate (tritonclient's request
    compression), inflated to at most `limit` bytes: a small bomb gets 413, not the memory."""
    encoding = (header(scope, b"content-encoding") or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in ("gzip", "deflate"):
        raise Rejected(415, f"Content-Encoding {encoding!r:.40} is not supported: gzip, deflate")
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        inflated = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise Rejected(400, f"the body is not valid {encoding}: {error}") from None
    if len(inflated) > limit or inflater.unconsumed_tail:
        raise Rejected(413, f"the body inflates to more than the {limit} bytes accepted")
    return inflated


async def respond(send: Send, reply: Reply) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [
                (b"content-type", reply.content_type),
                (b"content-length", str(len(reply.body)).encode()),
                *reply.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply.body})


def error_reply(status: int, message: str) -> Reply:
    return Reply(protocols.error_body(message), status=status)


class ScoringApp:
    def __init__(self, model: ServedModel, fallback: ASGIApp, max_body_bytes: int) -> None:
        self.model = model
        self.fallback = fallback
        self.max_body_bytes = max_body_bytes
        name = model.name
        self._scoring = {
            f"/v1/models/{name}:predict": "v1",
            f"/v2/models/{name}/infer": "v2",
        }
        self._outcomes: dict[tuple[str, int], Any] = {}
        self._latency = {p: LATENCY.labels(p) for p in ("v1", "v2")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)  # lifespan
            return
        protocol = self._scoring.get(scope["path"]) if scope["method"] == "POST" else None
        if protocol is not None:
            await self._score(protocol, scope, receive, send)
        else:
            await self._route(scope, receive, send)

    async def _score(self, protocol: str, scope: Scope, receive: Receive, send: Send) -> None:
        began = time.perf_counter()
        try:
            body = await read_body(scope, receive, self.max_body_bytes)
            body = decompress(scope, body, self.max_body_bytes)
            if not self.model.ready:
                reply = error_reply(503, f"model {self.model.name} is not ready")
            elif protocol == "v1":
                reply = protocols.handle_v1(self.model, body)
            else:
                header_length = header(scope, b"inference-header-content-length")
                reply = protocols.handle_v2(self.model, body, header_length)
        except Disconnected:
            return
        except Rejected as rejected:
            INVALID_REQUESTS.inc()
            log.debug("%s %s: %d %s", scope["method"], scope["path"], rejected.status, rejected)
            reply = error_reply(rejected.status, rejected.message)
        except Exception:
            log.exception("scoring failed: %s %s", scope["method"], scope["path"])
            reply = error_reply(500, "internal error while scoring; see the server log")
        await respond(send, reply)
        self._latency[protocol].observe(time.perf_counter() - began)
        self._count(protocol, reply.status)

    def _count(self, protocol: str, status: int) -> None:
        counter = self._outcomes.get((protocol, status))
        if counter is None:
            counter = self._outcomes[(protocol, status)] = REQUESTS.labels(protocol, str(status))
        counter.inc()

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Everything but the two scoring paths of the served model."""
        path, method = scope["path"], scope["method"]
        try:
            if _REPOSITORY.match(path):
                raise Rejected(403, "model repository control (load/unload) is disabled")
            v1, v2 = _V1.match(path), _V2.match(path)
            if v1 is not None and method == "POST":
                self._check_served(v1["model"], None)
                raise Rejected(404, f"model {self.model.name} has no explainer")
            route = (v2["tail"], method) if v2 is not None else None
            if v2 is not None and route in _MODEL_ROUTES:
                self._check_served(v2["model"], v2["version"])
                if route == ("/infer", "POST"):
                    await self._score("v2", scope, receive, send)
                elif route == ("/ready", "GET"):
                    await respond(send, self._readiness())
                else:
                    await respond(send, protocols.handle_metadata(self.model))
                return
            body = await read_body(scope, receive, self.max_body_bytes)
        except Disconnected:
            return
        except Rejected as rejected:
            INVALID_REQUESTS.inc()
            await respond(send, error_reply(rejected.status, rejected.message))
            return
        await self.fallback(scope, _replay(body), send)

    def _readiness(self) -> Reply:
        ready = bool(self.model.ready)
        body = orjson.dumps({"name": self.model.name, "ready": ready})
        return Reply(body, status=200 if ready else 503)

    def _check_served(self, model: str, version: str | None) -> None:
        name = self.model.name
        if model != name:
            raise Rejected(
                404, f"model {model!r:.80} is not served here; this server serves {name}"
            )
        if version is not None and version != self.model.version:
            raise Rejected(
                404,
                f"version {version!r:.40} of {name} is not served; "
                f"this server serves version {self.model.version}",
            )


def _replay(body: bytes) -> Receive:
    """A receive() that hands over a body already read (and size-checked) once."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
