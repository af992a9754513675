"""Per-tenant Kafka access on a managed service (MSK, Event Hubs): one grant factory per kind.

When the foundation provides `Foundation.kafka` (a `ManagedKafka`), the platform does not
deploy Strimzi; `stacks.services.core.build` looks up the factory registered here for
`foundation.kafka.kind` and uses what it returns as `CoreServices.grant_kafka`.

A factory receives the stack config and the foundation once and returns the grant, called
once per tenant by `stacks.tenants` with the tenant's config and its `Tenant` component (the
namespace exists once that resource does). The grant creates whatever the service needs
(MSK: IAM policy on the tenant's workload-identity role limited to `<tenant>.*` topics and
groups, or SCRAM secrets in Secrets Manager; Event Hubs: hubs, consumer groups and role
assignments to the tenant's identity) and returns a `TenantKafkaAccess`:

    topics             ["<tenant>.<topic>", ...]
    credentials_secret Secret in the tenant namespace, or None with workload identity
    principal          the identity the service authorizes (role ARN, principal ID...)

To add a kind, write the factory in the target's module and register it below, e.g.

    def _msk(config, foundation):
        from stacks.aws_kafka import msk_grant
        return msk_grant(config, foundation)

    GRANT_FACTORIES["msk"] = _msk

(imported lazily, so on-prem never imports cloud SDKs).
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from stacks.config import StackConfig, Tenant
from stacks.foundation import Foundation
from stacks.platform import TenantKafkaAccess

Grant = Callable[[Tenant, pulumi.Resource], TenantKafkaAccess]
GrantFactory = Callable[[StackConfig, Foundation], Grant]

GRANT_FACTORIES: dict[str, GrantFactory] = {}


def grant_for(config: StackConfig, foundation: Foundation) -> Grant:
    """The grant for the foundation's managed Kafka; a clear error if none is registered."""
    if foundation.kafka is None:
        raise ValueError("the foundation provides no managed Kafka")
    kind = foundation.kafka.kind
    factory = GRANT_FACTORIES.get(kind)
    if factory is None:
        known = ", ".join(sorted(GRANT_FACTORIES)) or "none yet"
        raise NotImplementedError(
            f"no tenant Kafka grant registered for managed Kafka kind {kind!r} "
            f"(registered: {known}); add its factory to stacks/services/managed_kafka.py"
        )
    return factory(config, foundation)
