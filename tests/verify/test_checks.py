"""The suite's readers and rules: each rule with a passing and a failing input, and its message."""

from __future__ import annotations

import os
import socket

import pytest
import testinfra

from infra.verify import checks

pytestmark = pytest.mark.verify

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:3A98 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1
   2: 0100007F:3A98 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 1003 1
"""
PROC_NET_TCP6 = """\
  sl  local_address                         rem st tx_queue
   0: 00000000000000000000000001000000:2382 0:0 0A 0:0 0:0 0 0 0 2001 1
   1: 00000000000000000000000000000000:2383 0:0 0A 0:0 0:0 0 0 0 2002 1
   2: 0000000000000000FFFF00000100007F:2384 0:0 0A 0:0 0:0 0 0 0 2003 1
"""


def test_proc_net_tcp_listeners_with_exact_addresses():
    found = checks.parse_proc_net_tcp(PROC_NET_TCP) + checks.parse_proc_net_tcp(PROC_NET_TCP6)
    assert [(str(s), s.inode, s.loopback) for s in found] == [
        ("127.0.0.1:15000", 1001, True),
        ("0.0.0.0:8080", 1002, False),  # the established connection (st 01) is not a listener
        ("[::1]:9090", 2001, True),
        ("[::]:9091", 2002, False),
        ("[::ffff:127.0.0.1]:9092", 2003, True),
    ]


def test_listeners_of_this_machine_by_inode():
    """local:// reads the same tables; a loopback socket shows up with its inode."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        probe.listen()
        port, inode = probe.getsockname()[1], os.fstat(probe.fileno()).st_ino
        found = checks.listeners(testinfra.get_host("local://"))
    assert [(s.address, s.port) for s in found if s.inode == inode] == [("127.0.0.1", port)]


def test_exposed_names_the_owner_and_the_address():
    found = checks.parse_proc_net_tcp(PROC_NET_TCP)
    assert checks.exposed(found[:1], "mlflow (pid 7)") == []
    assert checks.exposed(found, "mlflow (pid 7)") == [
        "mlflow (pid 7) listens on 0.0.0.0:8080 — all interfaces; "
        "local platform services must bind 127.0.0.1 only"
    ]


def test_port_rules_expected_allowed_and_unexpected():
    found = checks.parse_proc_net_tcp(PROC_NET_TCP)  # 15000 and 8080
    assert checks.port_problems(found, (15000,), (8080,), "p") == []
    assert checks.port_problems(found, (15000, 5000), (), "mlflow/pod-a") == [
        "mlflow/pod-a: nothing listens on port 5000",
        "mlflow/pod-a: unexpected listener on 0.0.0.0:8080 (expected only [5000, 15000])",
    ]


STATUS = """\
Name:\tmlflow
Umask:\t0022
State:\tS (sleeping)
Pid:\t1
Uid:\t10001\t10001\t10001\t10001
Name:\tcat
Pid:\t42
Uid:\t0\t0\t0\t0
"""


def test_processes_parsed_and_root_flagged():
    procs = checks.parse_status(STATUS)
    assert procs == [
        checks.Proc(1, "mlflow", (10001,) * 4),
        checks.Proc(42, "cat", (0,) * 4),
    ]
    assert checks.root_processes(procs[:1], "mlflow/pod-a") == []
    assert checks.root_processes(procs, "mlflow/pod-a") == [
        "mlflow/pod-a: process 42 (cat) runs as root (uids (0, 0, 0, 0))"
    ]


def test_processes_reader_refuses_to_conclude_from_nothing():
    class Unreadable:
        def run(self, *_):
            return type("R", (), {"stdout": "", "stderr": "sh: cat: not found", "rc": 127})()

    with pytest.raises(AssertionError, match="cannot read /proc/\\*/status: sh: cat: not found"):
        checks.processes(Unreadable())


def test_root_filesystem_rule():
    mounts = (
        "overlay / overlay rw,relatime,lowerdir=/l 0 0\n"
        "proc /proc proc rw 0 0\n"
        "overlay / overlay ro,relatime,lowerdir=/l 0 0\n"
    )
    assert checks.root_mount_options(mounts)[0] == "ro"  # the last mount at / wins
    assert checks.writable_root(checks.root_mount_options(mounts), "p") == []
    rw = checks.root_mount_options(mounts.rsplit("\n", 2)[0])
    assert checks.writable_root(rw, "feast-online/pod-b") == [
        "feast-online/pod-b: root filesystem is mounted read-write (rw,relatime,lowerdir=/l)"
    ]


def test_socket_inodes_from_fd_listing():
    listing = (
        "lrwx------ 1 u u 64 Nov 26 10:00 3 -> socket:[4711]\n"
        "l-wx------ 1 u u 64 Nov 26 10:00 4 -> /tmp/log\n"
        "lrwx------ 1 u u 64 Nov 26 10:00 9 -> socket:[4712]\n"
    )
    assert checks.socket_inodes(listing) == {4711, 4712}


def test_loose_files_rule():
    assert checks.loose_files("", "/s") == []
    assert checks.loose_files("644 /s/state.json\n", "/s") == [
        "/s/state.json has mode 0644: readable or writable by group/others "
        "(everything under /s must be owner-only, 0600 files / 0700 directories)"
    ]
