"""The platform PKI, declared once per cluster as its own step of the program.

cert-manager, trust-manager, the platform CA (self-signed, or chained to the site's Vault PKI
with `onprem.vaultPki`) and its bundle in every platform and tenant namespace
(`components.pki.PlatformPki`). The program declares it right after the target's cluster
exists and before the target's foundation, because the on-prem data stores serve
certificates from it; every platform service then serves TLS from it too.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.pki import PkiArgs, PlatformPki, VaultIssuer
from stacks import artifacts, governance
from stacks.composition.placement import platform_placement
from stacks.config import StackConfig
from version_catalogue import CHARTS


def build_pki(config: StackConfig, provider: k8s.Provider) -> PlatformPki:
    return PlatformPki(
        "pki",
        PkiArgs(
            mirror=config.image_registry,
            labels=governance.platform_labels(config),
            cert_manager_chart=CHARTS["cert-manager"],
            trust_manager_chart=CHARTS["trust-manager"],
            images=artifacts.pki_images(artifacts.pin_for(config)),
            pull_secret=config.registry.pull_secret,
            organization=config.tags.owner,
            protect=not config.ephemeral,
            vault=_vault_issuer(config),
            placement=platform_placement(config),
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def _vault_issuer(config: StackConfig) -> VaultIssuer | None:
    vault = config.onprem.vault_pki if config.onprem else None
    if vault is None:
        return None
    return VaultIssuer(
        server=vault.server,
        path=vault.path,
        role=vault.role,
        ca_bundle_pem=vault.ca_bundle,
        auth_mount_path=vault.auth_mount_path,
    )
