"""The platform's images: one Dockerfile per image the IaC deploys, built by the same rules.

The components (components/mlflow.py, feast.py, serving.py, trainer.py, workloads.py) run every
platform image as UID 10001 with a read-only root filesystem and an emptyDir on /tmp, and the
servers through a `/bin/sh -c` wrapper (components/credentials.py). No Docker here: these tests
read the Dockerfiles and requirement files; the HEALTHCHECK probe is run for real.
"""

from __future__ import annotations

import datetime
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from workloads import health

ROOT = Path(__file__).resolve().parents[2]
WORKLOADS = ROOT / "workloads"
DOCKERFILES = sorted(WORKLOADS.glob("Dockerfile.*"))
# The base comes from the stack's mirror at the digest its lock records (scripts/build-images.sh
# passes both): never Docker Hub, never unpinned.
BASE = re.compile(r"^FROM \$\{MIRROR\}/([a-z0-9._/-]+:[A-Za-z0-9._-]+)@\$\{BASE_DIGEST\}$", re.M)
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;#]+)")


def built_here() -> set[str]:
    """Image paths version_catalogue/__init__.py says this repository builds (read, not
    imported: the workloads environment has no IaC packages)."""
    catalogue = (ROOT / "version_catalogue" / "__init__.py").read_text()
    return set(re.findall(r'Image\("([^"]+)", "[^"]+", "built by this repository"\)', catalogue))


def build_bases() -> set[str]:
    """`path:tag` of the catalogue's BUILD_IMAGES (read as text, like `built_here`)."""
    catalogue = (ROOT / "version_catalogue" / "__init__.py").read_text()
    section = catalogue.partition("BUILD_IMAGES: dict")[2]
    return {
        f"{p}:{t}" for p, t in re.findall(r'Image\("([^"]+)", "([^"]+)", "docker\.io"\)', section)
    }


def base_problems(text: str) -> list[str]:
    """What is wrong with a Dockerfile's base: it must be ${MIRROR}/<catalogue base>@${BASE_DIGEST}
    with both ARGs declared before the one FROM and without defaults (a default would let a
    build run without the mirror or the lock)."""
    steps = instructions_of(text)
    froms = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    match = BASE.search(text)
    problems = []
    if len(froms) != 1 or match is None:
        problems.append("FROM must be ${MIRROR}/<base>:<tag>@${BASE_DIGEST} (one stage)")
    elif match[1] not in build_bases():
        problems.append(f"base {match[1]} is not the catalogue's ({', '.join(build_bases())})")
    for name in ("MIRROR", "BASE_DIGEST"):
        declared = [i for i, step in enumerate(steps) if step == ("ARG", name)]
        if not declared or (froms and declared[0] > froms[0]):
            problems.append(f"ARG {name} (no default) must come before FROM")
    if "docker.io" in text:
        problems.append("names docker.io")
    return problems


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    return instructions_of(dockerfile.read_text())


def instructions_of(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def pins(requirements: Path) -> dict[str, str]:
    found = {}
    for line in requirements.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[match[1].lower().replace("_", "-")] = match[3]
    return found


def test_every_image_the_iac_deploys_has_a_dockerfile() -> None:
    images = built_here()
    assert {"mlflow-server", "feature-server", "serving", "training"} <= images
    assert {p.name.removeprefix("Dockerfile.") for p in DOCKERFILES} == images


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_each_image_follows_the_platform_rules(dockerfile: Path) -> None:
    steps = instructions(dockerfile)
    words = [word for word, _ in steps]
    text = dockerfile.read_text()
    # a Debian base with /bin/sh (the components' entrypoint wrapper), from the mirror, pinned
    assert base_problems(text) == []
    assert "ADD" not in words
    assert "HEALTHCHECK" in words
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] == "10001:10001"
    assert words.index("USER") > max(i for i, w in enumerate(words) if w in ("RUN", "COPY"))
    env = " ".join(args for word, args in steps if word == "ENV")
    # read-only root filesystem: HOME and caches on the /tmp emptyDir
    assert "HOME=/tmp" in env and "XDG_CACHE_HOME=/tmp/.cache" in env
    assert "--home-dir /tmp" in text
    # everything installed is pinned and checked
    for word, args in steps:
        if word == "RUN" and "pip install" in args:
            assert "pip check" in args
    for source in re.findall(r"workloads/requirements[\w.-]*\.txt", text):
        assert (ROOT / source).is_file(), source


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_the_healthcheck_probe_is_in_the_image(dockerfile: Path) -> None:
    steps = instructions(dockerfile)
    check = next(args for word, args in steps if word == "HEALTHCHECK")
    assert '"python", "-m", "workloads.health"' in check or "urllib.request" in check
    copies = " ".join(args for word, args in steps if word == "COPY")
    assert "workloads/ workloads/" in copies or "workloads/health.py" in copies


def test_all_images_build_from_the_catalogues_one_base() -> None:
    bases = {BASE.search(p.read_text())[1] for p in DOCKERFILES}  # type: ignore[index]
    assert bases == build_bases() == {"library/python:3.11-slim-bookworm"}


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("FROM python:3.11-slim-bookworm@sha256:" + "a" * 64, "FROM must be ${MIRROR}/"),
        ("FROM docker.io/library/python:3.11-slim-bookworm", "names docker.io"),
        ("ARG MIRROR\nFROM ${MIRROR}/library/python:3.11-slim-bookworm@${BASE_DIGEST}",
         "ARG BASE_DIGEST (no default) must come before FROM"),
        ("ARG MIRROR=docker.io\nARG BASE_DIGEST\n"
         "FROM ${MIRROR}/library/python:3.11-slim-bookworm@${BASE_DIGEST}", "ARG MIRROR"),
        ("ARG MIRROR\nARG BASE_DIGEST\nFROM ${MIRROR}/library/python:3.12-slim@${BASE_DIGEST}",
         "base library/python:3.12-slim is not the catalogue's"),
    ],
)  # fmt: skip
def test_a_base_off_the_mirror_or_unpinned_is_refused(header: str, problem: str) -> None:
    text = DOCKERFILES[0].read_text()
    start, end = (
        text.index("ARG MIRROR\n"),
        text.index("@${BASE_DIGEST}\n") + len("@${BASE_DIGEST}"),
    )
    broken = text[:start] + header + text[end:]
    assert any(problem in p for p in base_problems(broken)), base_problems(broken)


@pytest.mark.parametrize("image", ["mlflow-server", "feature-server"])
def test_server_images_install_only_their_hashed_lock(image: str) -> None:
    steps = instructions(WORKLOADS / f"Dockerfile.{image}")
    copies = [args for word, args in steps if word == "COPY" and "requirements" in args]
    assert copies == [f"locks/image-{image}.txt /tmp/requirements.txt"]
    install = next(args for word, args in steps if word == "RUN" and "pip install" in args)
    assert "--require-hashes -r /tmp/requirements.txt" in install
    assert (ROOT / "locks" / f"image-{image}.txt").is_file()


@pytest.mark.parametrize("image", ["mlflow-server", "feature-server"])
def test_server_images_point_libpq_at_the_os_trust_store(image: str) -> None:
    # The psycopg wheels' libpq uses their own OpenSSL, whose default CA path is a directory of
    # the wheel's build machine; `sslrootcert=system` (the components' default for cloud
    # Postgres) fails "certificate verify failed" unless SSL_CERT_FILE points at Debian's bundle.
    env = " ".join(
        args for w, args in instructions(WORKLOADS / f"Dockerfile.{image}") if w == "ENV"
    )
    assert "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in env


def test_server_requirements_carry_what_the_components_use() -> None:
    mlflow = pins(WORKLOADS / "requirements-mlflow-server.txt")
    feast = pins(WORKLOADS / "requirements-feature-server.txt")
    mlflow_text = (WORKLOADS / "requirements-mlflow-server.txt").read_text()
    feast_text = (WORKLOADS / "requirements-feature-server.txt").read_text()
    # `--app-name basic-auth`, postgresql:// (psycopg2), s3:// (boto3), wasbs:// (azure)
    assert (
        mlflow["mlflow"] == "3.17.2" and "auth" in re.search(r"mlflow\[([^\]]*)\]", mlflow_text)[1]
    )  # type: ignore[index]
    assert {"psycopg2-binary", "boto3", "azure-storage-blob", "azure-identity", "uvicorn"} <= set(
        mlflow
    )
    # registry on Postgres (psycopg 3), Redis, S3 and ADLS for dask, k8s authz, gRPC registry
    extras = set(re.search(r"feast\[([^\]]*)\]", feast_text)[1].split(","))  # type: ignore[index]
    assert feast["feast"] == "0.67.0"
    assert {"postgres", "redis", "aws", "k8s", "grpcio"} <= extras
    assert {"psycopg", "psycopg-binary", "redis", "kubernetes", "s3fs", "adlfs"} <= set(feast)
    assert {"azure-storage-blob", "azure-identity", "grpcio"} <= set(feast)


def test_pins_agree_across_the_requirement_files() -> None:
    files = sorted(WORKLOADS.glob("requirements*.txt"))
    assert len(files) >= 3
    seen: dict[str, tuple[str, str]] = {}
    for path in files:
        for name, version in pins(path).items():
            if name in seen:
                assert seen[name][1] == version, f"{name}: {seen[name]} vs {path.name} {version}"
            seen[name] = (path.name, version)


# ----------------------------------------------------------------- the HEALTHCHECK probe


def certificate(name: str, issuer_key: ec.EllipticCurvePrivateKey, issuer: x509.Name, ca: bool):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
        )
    return key, builder.sign(issuer_key if not ca else key, hashes.SHA256())


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on loopback whose certificate names `mlflow`, signed by a private CA."""
    folder = tmp_path_factory.mktemp("tls")
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    ca_key, ca_cert = certificate("test-ca", None, ca_name, ca=True)  # type: ignore[arg-type]
    key, cert = certificate("mlflow", ca_key, ca_name, ca=False)
    (folder / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 503)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "tls.crt", folder / "tls.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], folder / "ca.crt"
    finally:
        server.shutdown()
        server.server_close()


def test_the_https_probe_verifies_the_ca_and_the_name(https_server: tuple[int, Path]) -> None:
    port, ca = https_server
    url = f"https://127.0.0.1:{port}/health"
    assert health.main(["--url", url, "--ca-file", str(ca), "--server-name", "mlflow"]) == 0
    assert "certificate verify failed" in str(health.check_url(url, None, "mlflow", 5))
    assert "mismatch" in str(health.check_url(url, str(ca), "not-mlflow", 5))
    unhealthy = f"https://127.0.0.1:{port}/not-health"
    assert "503" in str(health.check_url(unhealthy, str(ca), "mlflow", 5))


def test_the_tcp_probe_passes_when_any_server_listens() -> None:
    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))  # bound, not listening: refuses connections
        up, down = (f"127.0.0.1:{s.getsockname()[1]}" for s in (listening, closed))
        assert health.main(["--tcp", down, up]) == 0
        assert health.main(["--tcp", down]) == 1
