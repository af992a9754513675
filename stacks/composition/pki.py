"""The platform PKI, declared once per cluster as its own step of the program.

cert-manager, trust-manager, the platform CA (self-signed, or chained to the site's Vault PKI
with `onprem.vaultPki`) and its bundle in every platform and tenant namespace
(`components.pki.PlatformPki`). The program declares it right after the target's cluster
exists and before the target's foundation, because the on-prem data stores serve
certificates from it; every platform service then serves TLS from it too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.namespace import EGRESS_EXCEPTION_ANNOTATION, egress_policies
from components.pki import PkiArgs, PlatformPki, VaultIssuer
from stacks import artifacts, governance
from stacks.composition.placement import platform_placement
from stacks.config import StackConfig
from stacks.foundation import Foundation
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


def close_pki_egress(config: StackConfig, foundation: Foundation, pki: PlatformPki) -> None:
    """cert-manager's namespace default-denies egress, then DNS, itself and the API server.

    Declared after the foundation, the only step that knows where the API server is; the PKI
    itself comes before it. cert-manager issues from the platform CA in the cluster (no ACME).
    """
    labels = governance.platform_labels(config)
    opts = pulumi.ResourceOptions(
        parent=pki, provider=foundation.k8s_provider, depends_on=list(pki.ready)
    )
    egress_policies("pki", c.NS_CERT_MANAGER, labels, opts, foundation.api_server)
    vault = config.onprem.vault_pki if config.onprem else None
    if vault is not None:
        _vault_egress(vault.server, labels, opts)


VAULT_EXCEPTION = (
    "cert-manager signs through the site's Vault PKI, which the configuration names by URL "
    "only (onprem.vaultPki.server): its controller may open that URL's port to any address. "
    "Remedy: the Vault servers' addresses in config, then egress to those only."
)


def _vault_egress(server: str, labels: dict[str, str], opts: pulumi.ResourceOptions) -> None:
    """cert-manager's controller → Vault, on the server URL's port (a declared exception)."""
    port = urlparse(server).port or 443
    controller = {
        "app.kubernetes.io/name": "cert-manager",
        "app.kubernetes.io/component": "controller",
    }
    metadata: Any = {
        "name": "allow-vault-pki",
        "namespace": c.NS_CERT_MANAGER,
        "labels": labels,
        "annotations": {EGRESS_EXCEPTION_ANNOTATION: VAULT_EXCEPTION},
    }
    spec: Any = {
        "podSelector": {"matchLabels": controller},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                "ports": [{"protocol": "TCP", "port": port}],
            }
        ],
    }
    k8s.networking.v1.NetworkPolicy("pki-np-vault", metadata=metadata, spec=spec, opts=opts)
