"""Every predictor in every variant's plan serves HTTPS from the platform CA (issue 13 item 7):
each tenant namespace holds the predictor certificate the platform's ClusterIssuer signs, the
serving runtime mounts it and hands it to KServe's TLS variables, every InferenceService probes
HTTPS, and whatever calls the predictors (the canary guard, Prometheus) speaks HTTPS verified
with the platform CA."""

from __future__ import annotations

import fnmatch

import pytest

from components import conventions as c
from components.serving import PREDICTOR_TLS_SECRET, TLS_CERT_ENV, TLS_KEY_ENV
from infra.synth import manifests

VARIANTS = {
    "strimzi-onprem": ("uae-onprem",),
    "strimzi-aws": ("uae-cloud",),
    "msk": ("uae-cloud", "kafka.mode=managed"),
    "strimzi-azure": ("uae-cloud-azure",),
    "event-hubs": ("uae-cloud-azure", "kafka.mode=managed"),
}


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def plan(request, stack_plan):
    return stack_plan(*VARIANTS[request.param])


def _objects(plan, kind: str) -> list[dict]:
    return [
        manifests.to_object(r)
        for r in plan.synthesis.resources
        if manifests.is_kubernetes_object(r) and r.type.split(":")[-1] == kind
    ]


def _certificates(plan) -> dict[str, dict]:
    """namespace → its predictor Certificate."""
    return {
        cert["metadata"]["namespace"]: cert
        for cert in _objects(plan, "Certificate")
        if cert["spec"]["secretName"] == PREDICTOR_TLS_SECRET
    }


def test_every_tenant_namespace_holds_a_predictor_certificate_from_the_platform_ca(plan):
    issuers = {i["metadata"]["name"] for i in _objects(plan, "ClusterIssuer")}
    assert c.CLUSTER_ISSUER in issuers
    certificates = _certificates(plan)
    tenants = {c.tenant_namespace(t.name) for t in plan.config.tenants}
    assert set(certificates) == tenants  # one per tenant namespace, nowhere else
    for namespace, cert in certificates.items():
        assert cert["spec"]["issuerRef"]["name"] == c.CLUSTER_ISSUER, namespace
        assert cert["spec"]["issuerRef"]["kind"] == "ClusterIssuer", namespace


def test_the_runtime_serves_https_with_the_mounted_certificate(plan):
    (runtime,) = _objects(plan, "ClusterServingRuntime")
    (container,) = runtime["spec"]["containers"]
    volumes = {v["name"]: v for v in runtime["spec"]["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    for variable in (TLS_CERT_ENV, TLS_KEY_ENV):
        directory, _, key = env[variable].rpartition("/")
        secret = mounts[directory]["secret"]
        assert secret["secretName"] == PREDICTOR_TLS_SECRET, variable
        assert key in {i["path"] for i in secret["items"]}, variable
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert container["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"


def test_every_inference_service_is_https_and_its_host_is_in_its_certificate(plan):
    services = _objects(plan, "InferenceService")
    assert services  # the sample tenant's model
    certificates = _certificates(plan)
    for isvc in services:
        namespace, name = isvc["metadata"]["namespace"], isvc["metadata"]["name"]
        model = isvc["spec"]["predictor"]["model"]
        assert model.get("runtime", c.SERVING_RUNTIME) == c.SERVING_RUNTIME
        for probe in ("readinessProbe", "livenessProbe"):
            assert model[probe]["httpGet"]["scheme"] == "HTTPS", (name, probe)
        host = f"{name}-predictor.{namespace}.svc.cluster.local"
        names = certificates[namespace]["spec"]["dnsNames"]
        assert any(fnmatch.fnmatchcase(host, pattern) for pattern in names), (host, names)


def test_callers_of_the_predictor_speak_https_verified_with_the_platform_ca(plan):
    (monitor,) = [m for m in _objects(plan, "PodMonitor") if m["metadata"]["name"] == "predictor"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["scheme"] == "https"
    assert endpoint["tlsConfig"]["ca"]["configMap"]["key"] == "ca.crt"
    guards = [j for j in _objects(plan, "CronJob") if j["metadata"]["name"].endswith("-guard")]
    for guard in guards:
        pod = guard["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        command = pod["containers"][0]["command"]
        url = command[command.index("--metrics-url") + 1]
        assert url.startswith("https://"), url
        assert command[command.index("--ca-file") + 1] == f"{c.CA_BUNDLE_MOUNT}/ca.crt"
