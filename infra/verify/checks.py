"""What the verification suite reads from a host, and the rules it holds that to.

Readers take a testinfra host (`local://`, `kubectl://`, `ssh://`) and need only `sh` and `cat`
on it (slim images have no `ss`, `ps` or `netstat`): listening sockets come from
`/proc/net/tcp{,6}`, processes from `/proc/<pid>/status`, the root mount from `/proc/mounts`.
Rules are pure functions returning problem strings (empty list: fine), so each one is unit-
tested with a passing and a failing input and its message is what the engineer reads.

Why not `host.socket("tcp://127.0.0.1:P").is_listening`: testinfra answers True when the port is
bound to 0.0.0.0 (all interfaces include loopback), the very exposure the local checks must
catch. Sockets are compared by exact address here.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
from dataclasses import dataclass
from typing import Any

LISTEN = "0A"


@dataclass(frozen=True)
class Listener:
    address: str
    port: int
    inode: int

    @property
    def loopback(self) -> bool:
        ip = ipaddress.ip_address(self.address)
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        return (mapped or ip).is_loopback

    def __str__(self) -> str:
        return (
            f"[{self.address}]:{self.port}"
            if ":" in self.address
            else f"{self.address}:{self.port}"
        )


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", int(hex_address, 16)))
    # IPv6: four 32-bit words, each in host (little-endian) byte order
    ip = ipaddress.IPv6Address(struct.pack("<4I", *struct.unpack(">4I", raw)))
    return f"::ffff:{ip.ipv4_mapped}" if ip.ipv4_mapped else str(ip)


def parse_proc_net_tcp(text: str) -> list[Listener]:
    """LISTEN sockets of a /proc/net/tcp or /proc/net/tcp6 table."""
    listeners = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN:
            continue
        address, port = fields[1].rsplit(":", 1)
        listeners.append(Listener(_address(address), int(port, 16), int(fields[9])))
    return listeners


def listeners(host: Any) -> list[Listener]:
    ipv4 = host.run("cat /proc/net/tcp")
    if ipv4.rc != 0:  # never conclude "nothing listens" from a failed read
        raise AssertionError(f"cannot read /proc/net/tcp: {ipv4.stderr.strip()}")
    ipv6 = host.run("cat /proc/net/tcp6")  # absent when IPv6 is disabled
    return parse_proc_net_tcp(ipv4.stdout) + (
        parse_proc_net_tcp(ipv6.stdout) if ipv6.rc == 0 else []
    )


@dataclass(frozen=True)
class Proc:
    pid: int
    name: str
    uids: tuple[int, ...]  # real, effective, saved, filesystem


def parse_status(text: str) -> list[Proc]:
    """Processes from concatenated /proc/<pid>/status files."""
    procs: list[Proc] = []
    current: dict[str, str] = {}
    uids: tuple[int, ...] = ()
    for line in [*text.splitlines(), "Name:"]:
        key, _, value = line.partition(":")
        if key == "Name" and "Pid" in current:
            procs.append(Proc(int(current["Pid"]), current.get("Name", "?"), uids))
            current, uids = {}, ()
        if key == "Uid":
            uids = tuple(int(u) for u in value.split())
        elif key in ("Name", "Pid"):
            current[key] = value.strip()
    return procs


def processes(host: Any) -> list[Proc]:
    # One exec for every process; `cat` itself shows up too, with the container's user. A
    # process may exit between the glob and the read (rc 1): what was read still counts.
    result = host.run("cat /proc/[0-9]*/status")
    found = parse_status(result.stdout)
    if not found:
        raise AssertionError(f"cannot read /proc/*/status: {result.stderr.strip()}")
    return found


def root_mount_options(mounts: str) -> list[str]:
    """Options of the mount at / (the last one listed wins, as in the kernel's view)."""
    options: list[str] = []
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "/":
            options = fields[3].split(",")
    return options


def socket_inodes(ls_output: str) -> set[int]:
    """Socket inodes from `ls -l /proc/<pid>/fd`."""
    return {int(m) for m in re.findall(r"socket:\[(\d+)\]", ls_output)}


# -- rules -------------------------------------------------------------------------------------
def root_processes(procs: list[Proc], where: str) -> list[str]:
    return [
        f"{where}: process {p.pid} ({p.name}) runs as root (uids {p.uids})"
        for p in procs
        if 0 in p.uids
    ]


def writable_root(options: list[str], where: str) -> list[str]:
    if not options:
        return [f"{where}: no mount at / in /proc/mounts"]
    if "ro" not in options:
        return [f"{where}: root filesystem is mounted read-write ({','.join(options)})"]
    return []


def port_problems(
    found: list[Listener], expected: tuple[int, ...], allowed: tuple[int, ...], where: str
) -> list[str]:
    """Every expected port listens; no port listens that is neither expected nor allowed."""
    ports, known = {listener.port for listener in found}, sorted({*expected, *allowed})
    problems = [f"{where}: nothing listens on port {p}" for p in expected if p not in ports]
    problems += [
        f"{where}: unexpected listener on {listener} (expected only {known})"
        for listener in found
        if listener.port not in expected and listener.port not in allowed
    ]
    return problems


def exposed(found: list[Listener], owner: str) -> list[str]:
    """Listeners that are not on loopback: a local service must bind 127.0.0.1 only."""
    return [
        f"{owner} listens on {listener} — "
        + ("all interfaces" if listener.address in ("0.0.0.0", "::") else "a non-loopback address")
        + "; local platform services must bind 127.0.0.1 only"
        for listener in found
        if not listener.loopback
    ]


def loose_files(find_output: str, root: str) -> list[str]:
    """`find ROOT ! -type l -perm /077 -printf '%m %p\\n'` lines → one problem each."""
    problems = []
    for line in find_output.splitlines():
        mode, _, path = line.partition(" ")
        if path:
            problems.append(
                f"{path} has mode 0{mode}: readable or writable by group/others "
                f"(everything under {root} must be owner-only, 0600 files / 0700 directories)"
            )
    return problems


# Run with the pod's own Python: GET a URL, verifying TLS with CA if it exists ("-": not at all,
# for the in-pod check: the certificate names the Service, not 127.0.0.1), no proxy. Prints the
# HTTP status, or one line naming the error.
HTTP_PROBE = """
import os, ssl, sys, urllib.request
url, ca = sys.argv[1], sys.argv[2]
try:
    ctx = ssl.create_default_context()
    if ca == "-":
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    elif os.path.exists(ca):
        ctx.load_verify_locations(ca)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    with opener.open(url, timeout=10) as response:
        print(response.status)
except Exception as error:  # one line for the report, not a traceback
    print(f"{type(error).__name__}: {getattr(error, 'reason', error)}")
    sys.exit(1)
"""

# A TLS handshake to host:port, verifying the certificate chain (platform CA bundle, if
# mounted, plus the system store) and the host name; prints the negotiated protocol.
TLS_PROBE = """
import os, socket, ssl, sys
host, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if os.path.exists(ca):
        ctx.load_verify_locations(ca)
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            print(tls.version())
except Exception as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)
"""


def python(host: Any) -> str:
    for candidate in ("python3", "python"):
        if host.exists(candidate):
            return candidate
    raise AssertionError(
        f"{host.backend.get_pytest_id()}: no python in the container to probe with"
    )
