"""The bootstrap phase: only what the in-country mirror needs, before the platform.

A first `pulumi up` cannot install the platform: every chart and image comes from the stack's
mirror, which starts empty. So the first run of a stack is `phase: bootstrap`: it declares the
registry, the keys it is encrypted with and what they need, then `mlplatform mirror --stack
NAME` fills it and locks the digests, and the next `pulumi up` (phase `platform`, the default)
installs everything from it.

| target | bootstrap declares |
|---|---|
| aws | `ClusterRoles`, `PlatformKeys` (the `data` CMK encrypts ECR), `ImageRegistry` |
| azure | resource group, Log Analytics, network, Key Vault(s), CMK identity, `ContainerRegistry` |
| onprem | nothing: the site's registry (Harbor) exists; `mlplatform mirror` checks it answers |

ECR: one repository per catalogue path (images, charts, build bases), immutable tags, scan on
push, encrypted with the `data` CMK (the `secrets` CMK names the EKS role, hence the roles).
ACR: Premium, the CMK, a private endpoint (the mirror's runner reaches it from the VNet).

Each is declared exactly as the platform phase declares it — the same functions, names and
parents — so the platform's `pulumi up` on the same stack finds them in its state and changes
nothing (tests/stacks/test_bootstrap.py compares the URNs). The state backend and the secrets
provider's key come before any `pulumi` command and are not Pulumi's to create (README, "Before
the first pulumi up").
"""

from __future__ import annotations

import pulumi

from stacks.config import StackConfig


def build_bootstrap(config: StackConfig) -> None:
    """Declare the target's registry and its keys; export where the mirror is."""
    if config.platform == "aws":
        _aws(config)
    elif config.platform == "azure":
        _azure(config)
    pulumi.export("phase", "bootstrap")
    pulumi.export("mirror", config.image_registry)


def _aws(config: StackConfig) -> None:
    from components.aws.iam import ClusterRoles, ClusterRolesArgs
    from components.aws.registry import ImageRegistry, ImageRegistryArgs
    from stacks.targets.aws.cluster import platform_keys
    from stacks.targets.aws.context import context, repositories

    ctx = context(config)
    roles = ClusterRoles(
        "eks-roles", ClusterRolesArgs(site=ctx.site, prefix=ctx.names.prefix), ctx.opts
    )
    keys = platform_keys(ctx, roles)
    ImageRegistry(
        "registry",
        ImageRegistryArgs(
            site=ctx.site,
            repositories=repositories(ctx.config, ctx.aws_config),
            kms_key_arn=keys.arns["data"],
            force_delete=ctx.config.ephemeral,
        ),
        ctx.opts,
    )


def _azure(config: StackConfig) -> None:
    from stacks.targets.azure.cluster import _registry
    from stacks.targets.azure.security import build_security
    from stacks.targets.azure.site import open_site

    site = open_site(config)
    _registry(site, build_security(site))
