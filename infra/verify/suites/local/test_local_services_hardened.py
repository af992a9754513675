"""The embedded local platform, checked with testinfra's `local://` backend.

Per recorded service: its processes are the ones recorded (PID, start time, command line) and
run as the current user; every socket they listen on is on loopback (127.0.0.1 / ::1), the
service's own port included; its health check answers. For the state directory: nothing in it
is readable or writable by group or others, and nothing in it belongs to another user.
"""

from __future__ import annotations

import os

import pytest

from infra.local import processes
from infra.local.services import SERVICES, healthy
from infra.verify import checks
from infra.verify.suites.local.conftest import NOTHING_RECORDED

pytestmark = [pytest.mark.verify, pytest.mark.integration]


def _record(local_platform, name: str) -> processes.ProcessRecord:
    root = local_platform.state.root
    if name == NOTHING_RECORDED:
        pytest.fail(
            f"no service is recorded under {root}/run: is the local platform up "
            "(`mlplatform local up`)?",
            pytrace=False,
        )
    record = processes.ProcessRecord.load(local_platform.state.record(name))
    if record is None:
        pytest.fail(f"{name}: unreadable process record {local_platform.state.record(name)}")
    return record


def test_service_process_is_the_recorded_one_and_ours(local_platform, local_service, local_host):
    record = _record(local_platform, local_service)
    assert processes.is_ours(record), (
        f"{local_service}: recorded pid {record.pid} is not running, or that PID now belongs "
        f"to another process (start time or command line differ); see {record.log}"
    )
    me = local_host.user()
    for pid in processes.members(record):
        status = checks.parse_status(local_host.file(f"/proc/{pid}/status").content_string)
        uids = status[0].uids if status else ()
        assert uids and all(u == me.uid for u in uids), (
            f"{local_service}: process {pid} runs as uids {uids}, not as {me.name} ({me.uid})"
        )


def test_service_listens_on_loopback_only(local_platform, local_service, local_host):
    record = _record(local_platform, local_service)
    inodes = set()
    for pid in processes.members(record):
        inodes |= checks.socket_inodes(local_host.run("ls -l /proc/%s/fd", str(pid)).stdout)
    owned = [s for s in checks.listeners(local_host) if s.inode in inodes]
    problems = checks.exposed(owned, f"{local_service} (pid {record.pid})")
    if local_service in SERVICES:
        port = local_platform.platform.service(local_service).port
        if not any(s.port == port and s.loopback for s in owned):
            problems.append(f"{local_service} does not listen on 127.0.0.1:{port} (its state port)")
    assert not problems, "\n".join(problems)


def test_service_health_endpoint_answers(local_platform, local_service):
    if local_service not in SERVICES:
        pytest.skip(f"no health check is defined for {local_service!r}")
    _record(local_platform, local_service)
    service = local_platform.platform.service(local_service)
    ok, detail = healthy(service, timeout=5.0)
    assert ok, f"{local_service}: {service.url}{service.health_path or ''} unhealthy: {detail}"


def test_state_directory_is_owner_only(local_platform, local_host):
    root = str(local_platform.state.root)
    loose = local_host.check_output("find %s ! -type l -perm /077 -printf %s", root, "%m %p\\n")
    foreign = local_host.check_output(
        "find %s ! -user %s -printf %s", root, str(os.getuid()), "%u %p\\n"
    )
    problems = checks.loose_files(loose, root) + [
        f"{line.split(' ', 1)[1]} belongs to {line.split(' ', 1)[0]}, not to the current user"
        for line in foreign.splitlines()
        if " " in line
    ]
    assert not problems, "\n".join(problems)
