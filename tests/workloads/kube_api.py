"""A stand-in for the two Kubernetes APIs Feast's `auth: kubernetes` calls, over TLS on loopback.

- `POST /apis/authentication.k8s.io/v1/tokenreviews`: a token it issued (`issue`) is authenticated
  as its service account, with the groups the real API server gives one (`system:serviceaccounts`,
  `system:serviceaccounts:<namespace>`, `system:authenticated`); anything else is not.
- `GET /apis/rbac.authorization.k8s.io/v1/[namespaces/<ns>/]rolebindings`, `clusterrolebindings`:
  the bindings it was given (none by default).

Tokens are JWTs signed with a key only this process holds, as a cluster's are; Feast decodes the
subject without verifying it, which is what `forge` exercises.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.json_http import send_json

_SIGNING_KEY = "stand-in cluster signing key"


def self_signed(directory: Path) -> None:
    """A self-signed CA certificate for 127.0.0.1 (`ca.crt`) and its key (`tls.key`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (directory / "ca.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass
class KubeApi:
    directory: Path
    tokens: dict[str, str] = field(default_factory=dict)  # token → service account username
    rolebindings: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def issue(self, namespace: str, service_account: str) -> str:
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        token = jwt.encode({"sub": subject, "iat": int(time.time())}, _SIGNING_KEY, "HS256")
        self.tokens[token] = subject
        return token

    @staticmethod
    def forge(namespace: str, service_account: str) -> str:
        """A token naming a service account, signed with a key the cluster never had."""
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        return jwt.encode({"sub": subject}, "not the cluster's key", "HS256")

    def review(self, token: str) -> dict[str, Any]:
        username = self.tokens.get(token)
        if username is None:
            return {"authenticated": False, "error": "invalid bearer token"}
        namespace = username.split(":")[2]
        groups = [
            "system:serviceaccounts",
            f"system:serviceaccounts:{namespace}",
            "system:authenticated",
        ]
        return {"authenticated": True, "user": {"username": username, "groups": groups}}


def _handler(api: KubeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            return

        def _send(self, body: dict[str, Any], code: int = 200) -> None:
            send_json(self, code, body)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path.startswith("/apis/authentication.k8s.io/v1/tokenreviews"):
                self._send({**body, "status": api.review(body["spec"]["token"])}, 201)
            else:
                self._send({"kind": "Status", "code": 404}, 404)

        def do_GET(self) -> None:
            path = self.path.split("?")[0].strip("/").split("/")
            group = "/apis/rbac.authorization.k8s.io/v1"
            if "/" + "/".join(path) == f"{group}/clusterrolebindings":
                return self._send({"kind": "ClusterRoleBindingList", "metadata": {}, "items": []})
            if "/" + "/".join(path) == f"{group}/rolebindings":
                return self._send(
                    {"kind": "RoleBindingList", "metadata": {}, "items": api.rolebindings}
                )
            if len(path) == 6 and path[3] == "namespaces" and path[5] == "rolebindings":
                items = [b for b in api.rolebindings if b["metadata"]["namespace"] == path[4]]
                return self._send({"kind": "RoleBindingList", "metadata": {}, "items": items})
            return self._send({"kind": "Status", "code": 404}, 404)

    return Handler


def serve(directory: Path) -> tuple[KubeApi, ThreadingHTTPServer]:
    """Start it on a free loopback port; the caller shuts the server down."""
    self_signed(directory)
    api = KubeApi(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "ca.crt", directory / "tls.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    api.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return api, server
