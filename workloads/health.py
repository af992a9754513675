"""Liveness of the workloads that serve no HTTP: a heartbeat file, and the check that reads it.

The stream processor (per poll), training (per step) and the drift monitor (per read) touch the
file named by MLP_HEARTBEAT_FILE; the image's HEALTHCHECK (and a Kubernetes exec probe) runs
`python -m workloads.health --max-age SECONDS`, which fails when the file is older than that:
a wedged consumer or a hung collective is reported, not just a dead process. Without the
variable (local runs, tests) beating is a no-op.

The server images (MLflow, Feast) have no heartbeat; their HEALTHCHECK probes the server:
`--url https://127.0.0.1:5000/health --ca-file CA --server-name NAME` connects to the loopback
address but verifies the certificate chain against CA and the name the certificate was issued
for (TLS is verified, never switched off); `--tcp HOST:PORT ...` passes when any of the listed
ports accepts a connection (one image, several servers: whichever this container runs).
Standard library only: the server images carry this module and nothing else of `workloads`.
"""

from __future__ import annotations

import argparse
import os
import socket
import ssl
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

HEARTBEAT_ENV = "MLP_HEARTBEAT_FILE"


_last_beat = float("-inf")


def beat() -> None:
    """Touch the heartbeat file, at most once a second (it sits in per-step loops; the probes'
    `--max-age` is minutes)."""
    global _last_beat
    path = os.environ.get(HEARTBEAT_ENV)
    now = time.monotonic()
    if path and now - _last_beat >= 1.0:
        Path(path).touch()
        _last_beat = now


def check_heartbeat(max_age: float) -> str | None:
    """None when the heartbeat is fresh, else what is wrong."""
    path = os.environ.get(HEARTBEAT_ENV)
    if not path:
        return f"{HEARTBEAT_ENV} is not set"
    try:
        age = time.time() - Path(path).stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat yet at {path}"
    if age > max_age:
        return f"last heartbeat {age:.0f} s ago (limit {max_age:.0f} s)"
    return None


def check_url(url: str, ca_file: str | None, server_name: str | None, timeout: float) -> str | None:
    """GET `url`; None on a 2xx answer. HTTPS verifies the chain (CA file, else the OS store)
    and the certificate's name (`server_name`, else the URL's host)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url}: not an http(s) URL"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    name = server_name or parts.hostname
    try:
        sock: socket.socket = socket.create_connection((parts.hostname, port), timeout=timeout)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=ca_file)
            sock = context.wrap_socket(sock, server_hostname=name)
        with sock:
            request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {name}\r\nConnection: close"
            sock.sendall(f"{request}\r\n\r\n".encode())
            status_line = sock.makefile("rb").readline().decode("latin-1").strip()
    except (OSError, ssl.SSLError) as error:
        return f"{url}: {error}"
    fields = status_line.split()
    if len(fields) < 2 or not fields[1].startswith("2"):
        return f"{url}: {status_line or 'no answer'}"
    return None


def check_tcp(addresses: list[str], timeout: float) -> str | None:
    """None when any HOST:PORT accepts a TCP connection."""
    errors = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
                return None
        except (OSError, ValueError) as error:
            errors.append(f"{address}: {error}")
    return "; ".join(errors) or "no address given"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workloads.health", description=__doc__)
    parser.add_argument("--max-age", type=float, default=120.0, help="heartbeat age, seconds")
    parser.add_argument("--url", help="probe this http(s) URL instead of the heartbeat")
    parser.add_argument("--ca-file", help="CA bundle that verifies --url (default: OS store)")
    parser.add_argument("--server-name", help="name the --url certificate must carry")
    parser.add_argument("--tcp", nargs="+", metavar="HOST:PORT", help="any of these accepts")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds")
    args = parser.parse_args(argv)
    if args.url:
        problem = check_url(args.url, args.ca_file, args.server_name, args.timeout)
    elif args.tcp:
        problem = check_tcp(args.tcp, args.timeout)
    else:
        problem = check_heartbeat(args.max_age)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
