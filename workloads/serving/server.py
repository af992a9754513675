"""Running the predictor: KServe's app behind the scoring front, on loopback locally or in the pod.

Both modes run the same thing: KServe's FastAPI app with its routes, exception handlers and
`/metrics` (ModelRepository, DataPlane, ModelRepositoryExtension, `RESTServer.create_application`)
behind `app.ScoringApp`, which answers scoring and model metadata itself and gives every body a
size limit. uvicorn serves it on one worker (httptools, uvloop), handles SIGTERM/SIGINT with a
graceful shutdown (`grace_period` seconds for requests in flight), after which the model stops:
its alias follower ends and its prediction log is drained and flushed.

- `serve_local`: a socket bound to 127.0.0.1 before uvicorn gets it. KServe 0.21's ModelServer
  has no host option (its RESTServer hard-codes 0.0.0.0), so `mlplatform local` would otherwise
  listen on every interface.
- `serve_cluster`: 0.0.0.0:8080 inside the pod, the port the InferenceService's probes and
  traffic use. KServe's gRPC port (8081) is not started (nothing in the platform speaks gRPC to
  the predictor).

TLS: with `KSERVE_TLS_CERT_FILE` and `KSERVE_TLS_KEY_FILE` (KServe's own variables) both set,
either mode serves HTTPS on its port with that pair — in the cluster the platform runtime mounts
the tenant namespace's certificate from the platform CA (`components.serving`). One without the
other, or a file that is not there, stops the server naming the variable.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any

import uvicorn
from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
from kserve.model_repository import ModelRepository
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.model_repository_extension import ModelRepositoryExtension
from kserve.protocol.rest.server import RESTServer
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from workloads.serving.app import ScoringApp
from workloads.serving.config import ServingConfig
from workloads.serving.predictor import CardRiskModel

log = logging.getLogger(__name__)
CLUSTER_PORT = 8080
GRACE_SECONDS = 10
TLS_CERT_ENV, TLS_KEY_ENV = "KSERVE_TLS_CERT_FILE", "KSERVE_TLS_KEY_FILE"


def tls_files(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(certificate, key) to serve HTTPS with, from KServe's variables; None: plain HTTP."""
    env = os.environ if environ is None else environ
    cert, key = env.get(TLS_CERT_ENV, "").strip(), env.get(TLS_KEY_ENV, "").strip()
    if bool(cert) != bool(key):
        missing = TLS_KEY_ENV if cert else TLS_CERT_ENV
        raise ValueError(f"{missing} is not set: HTTPS needs both {TLS_CERT_ENV} and {TLS_KEY_ENV}")
    if not cert:
        return None
    for name, path in ((TLS_CERT_ENV, cert), (TLS_KEY_ENV, key)):
        if not os.path.isfile(path):
            raise ValueError(f"{name}={path}: no such file")
    return cert, key


def loopback_socket(host: str, port: int) -> socket.socket:
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError(f"the local model server listens on loopback only, not {host!r}")
    return _bound("127.0.0.1" if host == "localhost" else host, port)


def _bound(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class _CoalescingTransport:
    """What one event-loop step writes leaves in one send(): a response's head and body.

    uvicorn writes the status line and headers at `http.response.start` and the body at
    `http.response.body`, two system calls; the first wakes the client, which then waits for
    the second (on a busy 2-core machine a context switch each way, a third of a request's
    wall time in profiles). Writes are gathered and sent at the end of the loop step instead.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a `_CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


def build_app(model: CardRiskModel, config: ServingConfig) -> ScoringApp:
    """KServe's app for `model` (health, readiness, metrics...) behind the scoring front."""
    repository = ModelRepository()
    repository.update(model)
    rest = RESTServer(
        FASTAPI_APP_IMPORT_STRING,
        DataPlane(model_registry=repository),
        ModelRepositoryExtension(model_registry=repository),
        http_port=0,  # unused: uvicorn below serves the app
    )
    rest.create_application()  # KServe's routes and handlers on kserve.model_server.app
    from kserve.model_server import app as kserve_app

    return ScoringApp(model, kserve_app, config.max_body_bytes)


def serve(model: CardRiskModel, config: ServingConfig, sock: socket.socket) -> None:
    from kserve import logging as kserve_logging

    kserve_logging.configure_logging()
    tls = tls_files()  # before the model loads: a bad setting stops the server at once
    try:
        model.load()
        server = uvicorn.Server(
            uvicorn.Config(
                build_app(model, config),
                http=CoalescingHttpToolsProtocol,
                proxy_headers=False,  # nothing in front of the predictor is trusted to set them
                loop="uvloop",
                lifespan="off",
                log_config=None,  # kserve's logging configuration stays in place
                access_log=config.access_log,
                timeout_graceful_shutdown=GRACE_SECONDS,
                ssl_certfile=tls[0] if tls else None,
                ssl_keyfile=tls[1] if tls else None,
            )
        )
        host, port = sock.getsockname()[:2]
        scheme = "https" if tls else "http"
        log.info("model server for %s on %s://%s:%d", model.name, scheme, host, port)
        server.run(sockets=[sock])  # uvicorn handles SIGTERM/SIGINT: graceful shutdown
    finally:
        model.stop()
        sock.close()


def serve_local(
    model: CardRiskModel, config: ServingConfig, host: str = "127.0.0.1", port: int = 18080
) -> None:
    serve(model, config, loopback_socket(host, port))


def serve_cluster(model: CardRiskModel, config: ServingConfig, port: int = CLUSTER_PORT) -> None:
    serve(model, config, _bound("0.0.0.0", port))
