"""The predictor over TLS (issue 13 item 7): with KServe's KSERVE_TLS_CERT_FILE/KSERVE_TLS_KEY_FILE
the model server answers HTTPS only, verified with the CA that signed its certificate (in the
cluster the platform CA: components.serving mounts the tenant namespace's certificate); a
half-configured or missing pair stops it naming the variable."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import kube_api
import pytest
from conftest import PYTHON, Service, Workspace, free_port, wait_until

from workloads.serving import rollout
from workloads.serving.server import TLS_CERT_ENV, TLS_KEY_ENV, tls_files

METRICS = 'card_risk_requests_total{code="200"} 7.0\ncard_risk_requests_total{code="500"} 1.0\n'


def test_no_tls_variables_means_plain_http() -> None:
    assert tls_files({}) is None


def test_one_variable_without_the_other_is_refused_naming_the_missing_one(tmp_path) -> None:
    cert = tmp_path / "tls.crt"
    cert.write_text("x")
    with pytest.raises(ValueError, match=TLS_KEY_ENV):
        tls_files({TLS_CERT_ENV: str(cert)})
    with pytest.raises(ValueError, match=TLS_CERT_ENV):
        tls_files({TLS_KEY_ENV: str(cert)})
    with pytest.raises(ValueError, match=f"{TLS_KEY_ENV}=.*no such file"):
        tls_files({TLS_CERT_ENV: str(cert), TLS_KEY_ENV: str(tmp_path / "absent.key")})


@pytest.mark.slow
def test_the_model_server_answers_https_only_verified_with_its_ca(
    trained: tuple[Workspace, dict], tmp_path
) -> None:
    ws, _ = trained
    kube_api.self_signed(tmp_path)  # ca.crt (for 127.0.0.1) and tls.key
    env = {**ws.env, TLS_CERT_ENV: str(tmp_path / "ca.crt"), TLS_KEY_ENV: str(tmp_path / "tls.key")}
    port = free_port()
    server = Service(
        [PYTHON, "-m", "workloads.serving", "local", "--port", str(port)], tmp_path / "tls.log", env
    )
    secure = httpx.Client(verify=str(tmp_path / "ca.crt"), timeout=5)

    def ready() -> bool:
        try:
            return secure.get(f"https://127.0.0.1:{port}/v2/health/ready").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 300, "model server over TLS", server.process, tmp_path / "tls.log")
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the same port gets no answer
            httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=5)
        with pytest.raises(httpx.ConnectError):  # and an unverified peer is refused
            httpx.get(f"https://127.0.0.1:{port}/v2/health/ready", timeout=5)
    finally:
        server.stop()


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = METRICS.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_the_canary_guard_reads_https_metrics_only_verified_with_the_ca_it_is_given(
    tmp_path,
) -> None:
    """The guard's `--ca-file` (the platform CA bundle in the cluster) verifies the canary."""
    kube_api.self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "ca.crt", tmp_path / "tls.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        snapshot = rollout.scrape(url, ca_file=str(tmp_path / "ca.crt"))
        assert (snapshot.requests, snapshot.errors) == (8.0, 1.0)
        with pytest.raises(httpx.ConnectError):  # the system's trust store does not know it
            rollout.scrape(url)
    finally:
        server.shutdown()
        server.server_close()
