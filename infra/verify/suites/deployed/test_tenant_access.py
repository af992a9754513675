"""What a tenant reaches, checked from a pod in a tenant namespace (the sample model server).

Through the tenant's NetworkPolicies and with the platform CA bundle the pod mounts: the Kafka
listener completes a verified TLS handshake (host name and chain; TLS 1.2 or newer), MLflow and
the Feast feature server answer their health endpoints over verified HTTPS. Endpoints are the
contract's (`platform.kafka.bootstrap`, `platform.mlflow.trackingUri`, `platform.feast`).
"""

from __future__ import annotations

import urllib.parse

import pytest
import testinfra

from components import conventions as c
from infra.verify import checks

pytestmark = pytest.mark.verify
CA = f"{c.CA_BUNDLE_MOUNT}/ca.crt"


def test_platform_endpoint_reachable_over_tls(tenant_probe):
    host, endpoint = testinfra.get_host(tenant_probe.url), tenant_probe.endpoint
    python = checks.python(host)
    if endpoint.url.startswith("tls://"):
        target = urllib.parse.urlsplit(endpoint.url)
        answer = host.run(
            f"{python} -c %s %s %s %s", checks.TLS_PROBE, target.hostname, str(target.port), CA
        )
        ok = answer.rc == 0 and answer.stdout.strip().startswith("TLS")
    else:
        answer = host.run(f"{python} -c %s %s %s", checks.HTTP_PROBE, endpoint.url, CA)
        ok = answer.rc == 0 and answer.stdout.strip() == "200"
    assert ok, (
        f"{tenant_probe.id}: {endpoint.url} not reachable over verified TLS from "
        f"{tenant_probe.target.namespace}: {answer.stdout.strip() or answer.stderr.strip()[-300:]}"
    )
