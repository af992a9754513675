"""Mandatory tags (cloud resources) and labels (Kubernetes objects), from the stack config.

The same keys everywhere (UAE-GOV-001): data-classification, owner, cost-centre, system,
residency=uae, pii, and dpia-ref when personal data is processed (PDPL Art. 21).
"""

from __future__ import annotations

from stacks.config import StackConfig, Tenant


def platform_labels(config: StackConfig) -> dict[str, str]:
    t = config.tags
    labels = {
        "owner": t.owner,
        "cost-centre": t.cost_centre,
        "data-classification": t.data_classification,
        "system": t.system,
        "residency": t.residency,
        "pii": str(t.pii).lower(),
        "environment": config.environment,
        "app.kubernetes.io/part-of": "mlplatform",
        "app.kubernetes.io/managed-by": "pulumi",
    }
    if t.dpia_ref:
        labels["dpia-ref"] = t.dpia_ref
    return labels


def tenant_labels(config: StackConfig, tenant: Tenant) -> dict[str, str]:
    """Platform labels with the tenant's own classification and personal-data status."""
    labels = platform_labels(config)
    labels.update(
        {
            "data-classification": tenant.data_classification,
            "pii": str(tenant.pii).lower(),
        }
    )
    labels.pop("dpia-ref", None)
    if tenant.dpia_ref:
        labels["dpia-ref"] = tenant.dpia_ref
    return labels


def cloud_tags(config: StackConfig) -> dict[str, str]:
    """Tags for AWS/Azure resources (Kubernetes-only keys dropped)."""
    return {
        k: v for k, v in platform_labels(config).items() if not k.startswith("app.kubernetes.io/")
    }
