"""Running the predictor: standard KServe in the cluster, the same KServe app on loopback locally.

In the cluster (`serve_cluster`) the predictor runs under `kserve.ModelServer`, exactly as an
InferenceService expects: HTTP on 0.0.0.0:8080 inside the pod, gRPC, signal handling.

Locally every service must listen on 127.0.0.1 only, and KServe 0.21's ModelServer has no host
option (its RESTServer hard-codes `host="0.0.0.0"` in the uvicorn config). `serve_local`
therefore builds the same pieces ModelServer builds (ModelRepository, DataPlane,
ModelRepositoryExtension, RESTServer with KServe's FastAPI app, endpoints, exception handlers
and metrics) and hands RESTServer a socket already bound to 127.0.0.1: `RESTServer.run` accepts
pre-bound sockets (KServe's multi-process server uses the same path), and uvicorn then serves on
that socket instead of binding its configured host. Same routes, same error mapping, same
/metrics; only the listening address differs. gRPC is not started locally.
"""

from __future__ import annotations

import logging
import socket

from kserve.constants.constants import FASTAPI_APP_IMPORT_STRING
from kserve.model_repository import ModelRepository
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.model_repository_extension import ModelRepositoryExtension
from kserve.protocol.rest.server import RESTServer

from workloads.serving.predictor import CardRiskModel

log = logging.getLogger(__name__)


def loopback_socket(host: str, port: int) -> socket.socket:
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError(f"the local model server listens on loopback only, not {host!r}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1" if host == "localhost" else host, port))
    sock.set_inheritable(True)
    return sock


def serve_local(model: CardRiskModel, host: str = "127.0.0.1", port: int = 18080) -> None:
    from kserve import logging as kserve_logging

    kserve_logging.configure_logging()
    model.load()
    repository = ModelRepository()
    repository.update(model)
    rest = RESTServer(
        FASTAPI_APP_IMPORT_STRING,
        DataPlane(model_registry=repository),
        ModelRepositoryExtension(model_registry=repository),
        http_port=port,
        workers=1,
        grace_period=10,
    )
    sock = loopback_socket(host, port)
    log.info("KServe REST app for %s on http://%s:%d", model.name, host, port)
    try:
        rest.run(sockets=[sock])  # uvicorn handles SIGTERM/SIGINT: graceful shutdown
    finally:
        model.stop()
        sock.close()


def serve_cluster(model: CardRiskModel) -> None:
    from kserve import ModelServer

    model.load()
    ModelServer().start([model])
