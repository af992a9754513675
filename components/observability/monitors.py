"""What Prometheus scrapes: one PodMonitor per target, and the ingress each target must allow.

A `ScrapeTarget` names pods (namespace + labels) and the port serving `/metrics`. The
monitoring stack turns each into a PodMonitor in its own namespace (Prometheus reads monitors
from there only) and a NetworkPolicy `allow-prometheus-<name>` in the target's namespace
admitting Prometheus on exactly that port (every platform and tenant namespace is default-deny
ingress). PodMonitors select pods directly, so no target needs a Service of its own.

`platform_targets()` lists the platform's targets; the stacks pass the tenant namespaces and
which optional services exist (Strimzi's Kafka exporter, the GPU operator's DCGM exporter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import conventions as c
from components.pki import CA_BUNDLE
from components.serving import PREDICTOR_PORT, PREDICTOR_SERVER_NAME

# Prometheus pods as kube-prometheus-stack labels them (the NetworkPolicies admit these)
PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus"}
TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
PLATFORM_CA_BUNDLE = CA_BUNDLE  # trust-manager's ConfigMap in every platform namespace


@dataclass(frozen=True)
class ScrapeTarget:
    name: str
    namespaces: tuple[str, ...]
    selector: dict[str, Any]  # a LabelSelector: matchLabels / matchExpressions
    port: int
    path: str = "/metrics"
    scheme: str = "http"
    # HTTPS endpoints whose certificate comes from the component's own self-signed CA
    # (Kueue's internal certificate controller): encrypted, not verified. Declared here.
    skip_verify_reason: str | None = None
    # HTTPS endpoints whose certificate comes from the platform CA: Prometheus verifies it with
    # the CA bundle in its namespace (trust-manager's ConfigMap, key ca.crt) against this name
    # (pods are scraped by address, so the name the certificate carries is given explicitly)
    verify_server_name: str | None = None
    # Scrape through a Service (ServiceMonitor) with these labels and port name, where the
    # endpoint needs Prometheus's own ServiceAccount token (only ServiceMonitors read a token
    # file; PodMonitors would need a long-lived token Secret)
    service: tuple[dict[str, str], str] | None = None
    interval: str = "30s"

    def monitor(self, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
        """The PodMonitor or ServiceMonitor (monitoring.coreos.com/v1), monitoring namespace."""
        endpoint: dict[str, Any] = {
            "path": self.path,
            "scheme": self.scheme,
            "interval": self.interval,
        }
        if self.skip_verify_reason:
            endpoint["tlsConfig"] = {"insecureSkipVerify": True}
        elif self.verify_server_name:
            endpoint["tlsConfig"] = {
                "ca": {"configMap": {"name": PLATFORM_CA_BUNDLE, "key": "ca.crt"}},
                "serverName": self.verify_server_name,
            }
        spec: dict[str, Any] = {"namespaceSelector": {"matchNames": list(self.namespaces)}}
        if self.service is not None:
            service_labels, port_name = self.service
            endpoint |= {"port": port_name, "bearerTokenFile": TOKEN_FILE}
            kind, spec = (
                "ServiceMonitor",
                spec
                | {
                    "selector": {"matchLabels": dict(service_labels)},
                    "endpoints": [endpoint],
                },
            )
        else:
            endpoint["portNumber"] = self.port
            kind, spec = (
                "PodMonitor",
                spec
                | {
                    "selector": self.selector,
                    "podMetricsEndpoints": [endpoint],
                },
            )
        return {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": kind,
            "metadata": {"name": self.name, "namespace": namespace, "labels": labels},
            "spec": spec,
        }

    def ingress(self, namespace: str, monitoring: str) -> dict[str, Any]:
        """NetworkPolicy spec admitting Prometheus to the target's pods in `namespace`."""
        return {
            "podSelector": self.selector,
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": monitoring}
                            },
                            "podSelector": {"matchLabels": dict(PROMETHEUS_POD)},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": self.port}],
                }
            ],
        }


def _labels(**labels: str) -> dict[str, Any]:
    return {"matchLabels": labels}


def platform_targets(
    tenant_namespaces: tuple[str, ...],
    kafka: tuple[str, str] | None,  # (namespace, Strimzi cluster name) when Strimzi runs
    gpus: bool,
) -> tuple[ScrapeTarget, ...]:
    """The platform's scrape targets (tenant workloads, operators, exporters)."""
    targets = [
        ScrapeTarget(
            "predictor",
            tenant_namespaces,
            {
                "matchExpressions": [
                    {"key": "serving.kserve.io/inferenceservice", "operator": "Exists"}
                ]
            },
            PREDICTOR_PORT,
            scheme="https",  # the predictors serve HTTPS only (components.serving)
            verify_server_name=PREDICTOR_SERVER_NAME,
        ),
        # tenant workloads that say so: the stream processor, the model-events exporter (the
        # drift/performance verdicts), the retraining controller (components.ml_loop)
        ScrapeTarget(
            "tenant-workloads", tenant_namespaces, _labels(**{SCRAPE_LABEL: "true"}), 9100
        ),
        ScrapeTarget(
            "cert-manager",
            (c.NS_CERT_MANAGER,),
            _labels(
                **{
                    "app.kubernetes.io/name": "cert-manager",
                    "app.kubernetes.io/component": "controller",
                }
            ),
            9402,
        ),
        ScrapeTarget(
            "kueue",
            (c.NS_KUEUE,),
            _labels(**{"control-plane": "controller-manager"}),
            8443,
            scheme="https",
            skip_verify_reason=(
                "Kueue serves metrics with the certificate of its internal self-signed CA "
                "(no issuer the platform controls): encrypted, identity not verified"
            ),
            service=(
                {
                    "app.kubernetes.io/name": "kueue",
                    "app.kubernetes.io/component": "metrics-service",
                },
                "https",
            ),
        ),
    ]
    if kafka is not None:
        namespace, cluster = kafka
        targets.append(
            ScrapeTarget(
                "kafka-exporter",
                (namespace,),
                _labels(**{"strimzi.io/name": f"{cluster}-kafka-exporter"}),
                9404,
            )
        )
    if gpus:
        targets.append(
            ScrapeTarget(
                "dcgm-exporter",
                (c.NS_GPU_OPERATOR,),
                _labels(app="nvidia-dcgm-exporter"),
                9400,
            )
        )
    return tuple(targets)


# Tenant pods carrying this label (and serving /metrics on port 9100) are scraped.
SCRAPE_LABEL = "mlplatform.io/scrape"
