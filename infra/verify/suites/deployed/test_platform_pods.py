"""Platform pods as deployed: non-root, read-only root, expected ports only, health over TLS.

Each case is one container, entered with testinfra's `kubectl://` backend (kubectl exec with
the stack's context). Hosts come from the stack outputs; see infra/verify/__init__.py.
"""

from __future__ import annotations

import pytest
import testinfra

from infra.verify import checks

pytestmark = pytest.mark.verify


def test_pods_are_running_and_ready(platform_service):
    not_ready = [p.name for p in platform_service.pods if not p.ready]
    assert not not_ready, f"{platform_service.id}: pods not Ready: {', '.join(not_ready)}"


def test_no_process_runs_as_root(service_pod):
    host = testinfra.get_host(service_pod.url)
    problems = checks.root_processes(checks.processes(host), service_pod.id)
    assert not problems, "\n".join(problems)


def test_root_filesystem_is_read_only(service_pod):
    host = testinfra.get_host(service_pod.url)
    options = checks.root_mount_options(host.check_output("cat /proc/mounts"))
    problems = checks.writable_root(options, service_pod.id)
    assert not problems, "\n".join(problems)


def test_expected_ports_listen_and_nothing_else(service_pod):
    host, target = testinfra.get_host(service_pod.url), service_pod.target
    problems = checks.port_problems(
        checks.listeners(host), target.ports, target.allowed_ports, service_pod.id
    )
    assert not problems, "\n".join(problems)


def test_health_endpoint_answers(health_pod):
    """GET the health path inside the pod; TLS services must answer over TLS and only TLS."""
    host, health = testinfra.get_host(health_pod.url), health_pod.target.health
    python = checks.python(host)
    scheme = "https" if health.tls else "http"
    url = f"{scheme}://127.0.0.1:{health.port}{health.path}"
    answer = host.run(f"{python} -c %s %s -", checks.HTTP_PROBE, url)
    assert answer.rc == 0 and answer.stdout.strip() == "200", (
        f"{health_pod.id}: GET {url} did not answer 200: "
        f"{answer.stdout.strip() or answer.stderr.strip()[-300:]}"
    )
    if health.tls:
        plain = f"http://127.0.0.1:{health.port}{health.path}"
        answer = host.run(f"{python} -c %s %s -", checks.HTTP_PROBE, plain)
        assert answer.stdout.strip() != "200", f"{health_pod.id}: {plain} answers without TLS"
