"""Governance labels on rendered objects, and the gaps declared where a chart cannot label.

Every object a release creates carries the governance labels (`data-classification`, `owner`,
`system`, `residency=uae`, `pii`, `dpia-ref` when `pii`: the pack's UAE-GOV-001 rule, applied
here to every rendered object). The components pass the labels to every labelling value a chart
offers. Where a chart offers none for an object, the object is a declared gap, reported with
the reason in compliance.md — never counted as labelled. The namespace it lands in carries the
labels (UAE-GOV-001 checks namespaces), which is what inventory and classification fall back on.

Objects in a chart's crds/ directory are always gaps: Helm installs them as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from infra.render.checks import GOVERNANCE_LABELS, Finding, Waiver
from infra.render.objects import ClusterObject
from infra.render.views import checkov_ids, resource_view
from policies.pack_config import PackConfig
from policies.rules.governance import check_tags


@dataclass(frozen=True)
class LabelGap:
    """A chart that labels only some of its objects: these kinds/templates carry the labels."""

    reason: str
    labelled_kinds: frozenset[str] = frozenset()
    labelled_templates: tuple[str, ...] = ()  # template path prefixes (sub-charts)
    unlabelled_templates: tuple[str, ...] = ()  # ...except these, which ignore the value

    def covers(self, obj: ClusterObject) -> bool:
        template = obj.origin.template or ""
        if template in self.unlabelled_templates:
            return True
        labelled = obj.kind in self.labelled_kinds or template.startswith(self.labelled_templates)
        return not labelled


_NO_KNOB = "the chart has no values key that labels these objects (only {what})"
LABEL_GAPS: dict[str, LabelGap] = {
    "cloudnative-pg": LabelGap(_NO_KNOB.format(what="podLabels, on the operator's pods")),
    "redis-operator": LabelGap(_NO_KNOB.format(what="podLabels, on the operator's pods")),
    "gpu-operator": LabelGap(
        _NO_KNOB.format(what="daemonsets.labels, on the operands the operator creates")
    ),
    "strimzi-kafka-operator": LabelGap(
        _NO_KNOB.format(what="deploymentLabels and labels, on the operator's Deployment"),
        frozenset({"Deployment"}),
    ),
    "kserve-crd": LabelGap(_NO_KNOB.format(what="none: CRDs as templates")),
    "kserve-resources": LabelGap(
        _NO_KNOB.format(what="kserve.controller.labels, on the controller's Deployment"),
        frozenset({"Deployment"}),
    ),
    "kueue": LabelGap(_NO_KNOB.format(what="per-Service labels and pod labels")),
    "kubeflow-trainer": LabelGap(
        "kubeflow-trainer 2.3.0 reads no labelling value for its own objects (its values.yaml "
        "declares commonLabels, which no template reads); its jobset sub-chart reads "
        "jobset.commonLabels (except its metrics Service's template, which ignores it)",
        labelled_templates=("kubeflow-trainer/charts/jobset/",),
        unlabelled_templates=(
            "kubeflow-trainer/charts/jobset/templates/prometheus/manager_metrics_service.yaml",
        ),
    ),
    "fluent-bit": LabelGap(
        _NO_KNOB.format(what="labels, on the DaemonSet (podLabels on its pods)"),
        frozenset({"DaemonSet"}),
    ),
    # commonLabels reach every object but the operator webhook's cert-manager objects
    "kube-prometheus-stack": LabelGap(
        _NO_KNOB.format(what="commonLabels, on all but the webhook's Certificate/Issuer"),
        frozenset(
            {
                "Alertmanager",
                "ClusterRole",
                "ClusterRoleBinding",
                "ConfigMap",
                "Deployment",
                "MutatingWebhookConfiguration",
                "Prometheus",
                "PrometheusRule",
                "Role",
                "RoleBinding",
                "Secret",
                "Service",
                "ServiceAccount",
                "ServiceMonitor",
                "ValidatingWebhookConfiguration",
            }
        ),
    ),
}


def label_findings(objects: list[ClusterObject], cfg: PackConfig) -> Iterator[Finding | Waiver]:
    """A finding per rendered object missing a governance label; a waiver per declared gap."""
    for obj in objects:
        if obj.origin.source != "release":
            continue
        problems = list(check_tags(resource_view(obj), cfg))
        if not problems:
            continue
        gap = LABEL_GAPS.get(obj.origin.chart or "")
        if obj.origin.crd:
            yield Waiver(
                GOVERNANCE_LABELS.id,
                obj.origin.release,
                obj.describe(),
                "in the chart's crds/ directory: Helm installs it as it is",
                checkov_ids(obj),
            )
        elif gap is not None and gap.covers(obj):
            yield Waiver(
                GOVERNANCE_LABELS.id,
                obj.origin.release,
                obj.describe(),
                gap.reason,
                checkov_ids(obj),
            )
        else:
            yield Finding(
                GOVERNANCE_LABELS.id,
                GOVERNANCE_LABELS.mandatory,
                obj.origin.release,
                obj.describe(),
                f"release {obj.origin.release}: {problems[0]}",
                GOVERNANCE_LABELS.remediation,
            )
