"""`helm_release`: the one way the platform installs a Helm chart.

Every operator chart (cert-manager, trust-manager, Strimzi, Kueue, Kubeflow Trainer, KServe,
the GPU operator, CloudNativePG, redis-operator, the EKS Cluster Autoscaler) is a
`helm.v3.Release` of the same shape: the pinned chart pulled from the in-country mirror
(`oci://<mirror>/charts/<name>`, `Chart.oci`), installed atomically (a failed install or
upgrade rolls back) and cleaned up on failure. Only the release name, namespace, values and,
for slow charts, the timeout differ. `chart_labels` is what a component passes to a chart's
labelling values (commonLabels and the like).

`helm.v3.Release` rather than `helm.v4.Chart`: the release is one resource the engine tracks
(and synthesis under mocks can see), with Helm's own rollback semantics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from version_catalogue.artifacts import Chart

# Helm sets this label on every object a chart renders; passing it again in a chart's labelling
# values makes the key appear twice in one map (strict decoders and server-side apply refuse it).
HELM_MANAGED_BY = "app.kubernetes.io/managed-by"


def chart_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The governance labels as a chart's labelling values take them: Helm's own left out."""
    return {k: v for k, v in labels.items() if k != HELM_MANAGED_BY}


def helm_release(
    resource_name: str,
    *,
    release: str,
    chart: Chart,
    mirror: str,
    namespace: str,
    opts: pulumi.ResourceOptions,
    values: dict[str, Any] | None = None,
    timeout: int | None = None,
) -> k8s.helm.v3.Release:
    """Install `chart` (pinned, from the mirror) as Helm release `release` in `namespace`."""
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=chart.oci(mirror),
        version=chart.version,
        namespace=namespace,
        atomic=True,
        cleanup_on_fail=True,
        timeout=timeout,
        values=values,
        opts=opts,
    )
