"""The shipped stacks and variants CI plans and checks (`mlplatform plan --all`)."""

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
    Variant("uae-cloud-azure", "uae-cloud", ("cloud=azure",)),
    Variant("uae-cloud-azure-eventhubs", "uae-cloud", ("cloud=azure", "kafka.mode=managed")),
)
