"""The shipped stacks and variants CI plans and checks (`mlplatform plan --all`).

One stack file per deployable target, each with its own in-country state backend and secrets
provider: `uae-onprem` (file:// state, the site's Vault), `uae-cloud` (AWS me-central-1: S3
state, KMS) and `uae-cloud-azure` (Azure uaenorth: Blob state, Key Vault). Managed Kafka (MSK,
Event Hubs) is a variant of its cloud's stack, not a stack of its own: it is a choice inside one
deployment (same account or subscription, state, keys and network; `kafka.mode` switches it on an
existing stack), so a second stack file would repeat the whole configuration to differ by one
key. Every stack file is planned (tests/infra/test_variants.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """A stack plus overrides that CI plans and checks (every shipped combination)."""

    name: str
    stack: str
    overrides: tuple[str, ...] = ()


VARIANTS: tuple[Variant, ...] = (
    Variant("uae-onprem", "uae-onprem"),
    Variant("uae-cloud", "uae-cloud"),
    Variant("uae-cloud-msk", "uae-cloud", ("kafka.mode=managed",)),
    Variant("uae-cloud-azure", "uae-cloud-azure"),
    Variant("uae-cloud-azure-eventhubs", "uae-cloud-azure", ("kafka.mode=managed",)),
)
