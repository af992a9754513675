"""The bootstrap phase: only what the in-country mirror needs, before the platform.

A first `pulumi up` cannot install the platform: every chart and image comes from the stack's
mirror, which starts empty. So a new cloud stack's first `pulumi up` runs with `phase:
bootstrap` (`pulumi config set mlplatform:phase bootstrap`): it declares the registry, the keys
it is encrypted with and what they need. Then `mlplatform mirror --stack NAME` fills it and
locks the digests, `scripts/build-images.sh NAME` adds the platform's own images, and the next
`pulumi up` (phase `platform`, the default: `pulumi config rm mlplatform:phase`) installs
everything from it. README, "Day 0", states the same sequence (a test keeps them equal).

| target | bootstrap declares |
|---|---|
| aws | `ClusterRoles`, `PlatformKeys` (`data` encrypts ECR), `ImageRegistry`, `AuditTrail` |
| azure | `build_security`'s (group, Log Analytics, network, Key Vaults), `ContainerRegistry` |
| onprem | nothing: the site's registry (Harbor) exists; `mlplatform mirror` checks it answers |

ECR: one repository per catalogue path (images, charts, build bases), immutable tags, scan on
push, encrypted with the `data` CMK (the `secrets` CMK names the EKS role, hence the roles).
ACR: Premium, the CMK, a private endpoint (the mirror's runner reaches it from the VNet); it
is created encrypting with the CMK identity (the only kind ACR accepts at creation) and its
system identity is granted the key, to which the platform phase switches its encryption (the
identity that reaches the firewalled vault as a trusted service).
CloudTrail (AWS) and the Activity Log export (Azure, in `build_security`) come with it: the
account is audited from its first resource. The platform phase adds the data buckets' events to
the same trail (an in-place update of its event selectors, nothing else).

Each is declared by the same functions the platform phase calls (`roles_and_keys`,
`image_registry`, `audit_trail`; `build_security`, `container_registry`), with the same names and
parents, so the platform's `pulumi up` on the same stack finds them in its state and changes
nothing but the trail's data events and ACR's encryption identity
(tests/stacks/test_bootstrap.py compares URNs, providers, options and inputs). The state backend
and the secrets provider's key come before any `pulumi` command and are not Pulumi's to create
(README, "Before the first `pulumi up`").

Outputs: `phase` (`bootstrap`), `mirror` (what `mlplatform mirror` fills) and `next` (the rest
of the sequence, for whoever ran the `pulumi up`). No tenant contract (`contract_version`,
`stack`, `platform`, `tenants`): there is no platform to describe yet, and a tenant's
StackReference finds none of its keys until the platform phase exports them.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from stacks.config import StackConfig
from version_catalogue.lock import lock_path

# How README deploys every phase: the policy pack with the config `mlplatform plan` wrote.
POLICY_FLAGS = "--policy-pack policies --policy-pack-config build/{stack}/policy-config.json"


def build_bootstrap(config: StackConfig) -> None:
    """Declare the target's registry and its keys; export where the mirror is and what next."""
    if config.platform == "aws":
        _aws(config)
    elif config.platform == "azure":
        _azure(config)
    pulumi.export("phase", "bootstrap")
    pulumi.export("mirror", config.image_registry)
    pulumi.export("next", next_steps(pulumi.get_stack()))


def next_steps(stack: str) -> list[str]:
    """After the bootstrap's `pulumi up`: fill the mirror, build the platform's images, lock
    their digests, then the platform phase (README, "Day 0", lists the same commands)."""
    return [
        f"mlplatform mirror --stack {stack}",
        f"scripts/build-images.sh {stack}",
        f"git commit {lock_path(stack, Path())}",
        f"pulumi config rm -s {stack} mlplatform:phase",
        f"mlplatform plan --stack {stack}",
        f"pulumi up -s {stack} {POLICY_FLAGS.format(stack=stack)}",
    ]


def _aws(config: StackConfig) -> None:
    from stacks.targets.aws.cluster import roles_and_keys
    from stacks.targets.aws.context import context
    from stacks.targets.aws.data import audit_trail, image_registry

    ctx = context(config)
    _, keys = roles_and_keys(ctx)
    image_registry(ctx, keys)
    audit_trail(ctx, keys, ())  # the account is audited from its first resource


def _azure(config: StackConfig) -> None:
    from stacks.targets.azure.cluster import container_registry
    from stacks.targets.azure.security import build_security
    from stacks.targets.azure.site import open_site

    site = open_site(config)
    container_registry(site, build_security(site), creating=True)
