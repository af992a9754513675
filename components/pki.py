"""`PlatformPki`: cert-manager, the platform's private CA and its distribution to every namespace.

Every platform service serves TLS with a certificate from the ClusterIssuer `mlplatform-ca`
(`components.conventions.CLUSTER_ISSUER`); clients verify it with the CA bundle that
trust-manager copies into every namespace labelled `app.kubernetes.io/part-of=mlplatform`
(all platform and tenant namespaces carry the governance labels) as ConfigMap *and* Secret
`mlplatform-ca-bundle`, key `ca.crt` (Secret for clients that only read Secrets, e.g. a
Postgres `sslrootcert`).

Two ways to root the CA (Args `vault`):
- self-signed (default): a bootstrap self-signed issuer signs a long-lived in-cluster root
  (ECDSA P-384) whose key stays in the cert-manager namespace; `mlplatform-ca` signs with it.
- Vault: `mlplatform-ca` is a cert-manager Vault issuer on the site's in-country Vault PKI
  (e.g. `pki_int/sign/mlplatform`), authenticating with a Kubernetes service-account token;
  the site's CA chain (public) is what trust-manager distributes. No CA key is in the cluster.

| child | purpose |
|---|---|
| Namespace `cert-manager` | PSS restricted; ingress denied except the two webhook ports |
| helm Release cert-manager | pinned, CRDs on, 2 replicas + PDB, images from the mirror |
| helm Release trust-manager | pinned, no public CA package, may write the bundle Secret only |
| ClusterIssuer `mlplatform-selfsigned` | bootstraps self-signed roots (this CA, Kafka clients CA) |
| Certificate + Secret `mlplatform-root-ca` | the root (self-signed mode; protected) |
| ClusterIssuer `mlplatform-ca` | CA issuer (self-signed mode) or Vault issuer |
| ServiceAccount, Role, RoleBinding | Vault mode: cert-manager may mint `vault-issuer` tokens only |
| Bundle `mlplatform-ca-bundle` | CA to every labelled namespace |

Outputs: `cluster_issuer`, `selfsigned_issuer`, `ca_bundle` (ConfigMap/Secret name),
`ca_bundle_key`, `ready` (resources CRs must depend on).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.flows import operator_flows
from components.helm import chart_labels, helm_release
from components.namespace import ingress_policies, platform_namespace, pull_secrets
from components.placement import Placement
from version_catalogue.artifacts import Chart, Image

CA_BUNDLE = "mlplatform-ca-bundle"
CA_BUNDLE_KEY = "ca.crt"
SELFSIGNED_ISSUER = "mlplatform-selfsigned"
ROOT_CA_SECRET = "mlplatform-root-ca"
VAULT_ISSUER_SA = "vault-issuer"
PART_OF_MLPLATFORM = {"app.kubernetes.io/part-of": "mlplatform"}


@dataclass(frozen=True)
class VaultIssuer:
    """The site's Vault PKI the platform CA chains to (on-prem, in-country)."""

    server: str  # https://vault.dc1.example.ae
    path: str  # pki_int/sign/mlplatform
    role: str  # Vault Kubernetes-auth role bound to cert-manager/vault-issuer
    ca_bundle_pem: str  # the Vault PKI chain (public certificates only)
    auth_mount_path: str = "/v1/auth/kubernetes"


@dataclass(frozen=True)
class PkiImages:
    """The images the cert-manager and trust-manager charts run (pinned in the catalogue)."""

    controller: Image
    webhook: Image
    cainjector: Image
    acmesolver: Image
    startupapicheck: Image
    trust_manager: Image


@dataclass(frozen=True, kw_only=True)
class PkiArgs:
    mirror: str
    labels: dict[str, str]
    cert_manager_chart: Chart
    trust_manager_chart: Chart
    images: PkiImages
    # From the stack config (no defaults here: the config model holds them)
    pull_secret: str | None
    organization: str  # the root's subject organisation (the stack owner)
    vault: VaultIssuer | None  # None: a self-signed in-cluster root
    replicas: int = 2
    ca_common_name: str = "mlplatform internal CA"
    ca_duration: str = "87600h"  # 10 years; the root only signs, leaf certs last 90 days
    ca_renew_before: str = "8760h"
    bundle_namespace_labels: dict[str, str] = field(
        default_factory=lambda: dict(PART_OF_MLPLATFORM)
    )
    protect: bool = True
    placement: Placement = field(default_factory=Placement)  # components.placement


def _image(image: Image, mirror: str) -> dict[str, str]:
    return {"repository": f"{mirror}/{image.path}", "tag": image.pinned_tag}


def _cert_manager_values(args: PkiArgs) -> dict[str, Any]:
    images, secrets = args.images, pull_secrets(args.pull_secret)
    pdb = {"enabled": args.replicas > 1, "minAvailable": 1}
    return {
        "crds": {"enabled": True, "keep": True},
        "global": {
            "imagePullSecrets": secrets,
            "commonLabels": chart_labels(args.labels),
            # Leases in our own namespace: no write access to kube-system needed.
            "leaderElection": {"namespace": c.NS_CERT_MANAGER},
        },
        "replicaCount": args.replicas,
        "podDisruptionBudget": pdb,
        "image": _image(images.controller, args.mirror),
        **args.placement.chart(),
        "webhook": {
            "replicaCount": args.replicas,
            "podDisruptionBudget": pdb,
            "image": _image(images.webhook, args.mirror),
            **args.placement.chart(),
        },
        "cainjector": {
            "replicaCount": args.replicas,
            "podDisruptionBudget": pdb,
            "image": _image(images.cainjector, args.mirror),
            **args.placement.chart(),
        },
        "acmesolver": {"image": _image(images.acmesolver, args.mirror)},
        "startupapicheck": {
            "image": _image(images.startupapicheck, args.mirror),
            **args.placement.chart(),
        },
        "enableCertificateOwnerRef": False,  # deleting a Certificate keeps its key
    }


def _trust_manager_values(args: PkiArgs) -> dict[str, Any]:
    return {
        "crds": {"enabled": True, "keep": True},
        "replicaCount": args.replicas,
        "podDisruptionBudget": {"enabled": args.replicas > 1, "minAvailable": 1},
        "imagePullSecrets": pull_secrets(args.pull_secret),
        "image": _image(args.images.trust_manager, args.mirror),
        # Only our CA is trusted in-cluster: no public CA package, no useDefaultCAs.
        "defaultPackage": {"enabled": False},
        "app": {"trust": {"namespace": c.NS_CERT_MANAGER}},
        # trust-manager may write exactly one Secret name cluster-wide: the bundle.
        "secretTargets": {"enabled": True, "authorizedSecrets": [CA_BUNDLE]},
        "commonLabels": chart_labels(args.labels),
        **args.placement.chart(),
    }


def _vault_issuer(vault: VaultIssuer) -> tuple[dict, dict]:
    """(issuer spec, bundle source): a Vault issuer on the site PKI, its public chain."""
    spec = {
        "vault": {
            "server": vault.server,
            "path": vault.path,
            "caBundle": base64.b64encode(vault.ca_bundle_pem.encode()).decode(),
            "auth": {
                "kubernetes": {
                    "role": vault.role,
                    "mountPath": vault.auth_mount_path,
                    "serviceAccountRef": {"name": VAULT_ISSUER_SA},
                }
            },
        }
    }
    return spec, {"inLine": vault.ca_bundle_pem}


class PlatformPki(pulumi.ComponentResource):
    cluster_issuer: str
    selfsigned_issuer: str
    ca_bundle: str
    ca_bundle_key: str
    ready: list[pulumi.Resource]

    def __init__(self, name: str, args: PkiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:pki:PlatformPki", name, None, opts)
        ns = c.NS_CERT_MANAGER
        namespace = platform_namespace(
            f"{name}-ns",
            ns,
            args.labels,
            pulumi.ResourceOptions(parent=self),
            flows=operator_flows("cert-manager", (10250, 6443)),
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        # The API server calls the cert-manager (10250) and trust-manager (6443) webhooks.
        # Egress: declared once the foundation says where the API server is (composition.core)
        ingress_policies(name, ns, args.labels, in_ns, api_server_ports=(10250, 6443))
        cert_manager = helm_release(
            f"{name}-cert-manager",
            release="cert-manager",
            chart=args.cert_manager_chart,
            mirror=args.mirror,
            namespace=ns,
            values=_cert_manager_values(args),
            opts=in_ns,
        )
        trust_manager = helm_release(
            f"{name}-trust-manager",
            release="trust-manager",
            chart=args.trust_manager_chart,
            mirror=args.mirror,
            namespace=ns,
            values=_trust_manager_values(args),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, cert_manager]),
        )
        selfsigned = k8s.apiextensions.CustomResource(
            f"{name}-selfsigned",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata={"name": SELFSIGNED_ISSUER, "labels": args.labels},
            spec={"selfSigned": {}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cert_manager]),
        )
        if args.vault is None:
            issuer_spec, issuer_deps, bundle_source = self._self_signed_root(
                name, args, cert_manager, selfsigned
            )
        else:
            issuer_deps = [cert_manager, *self._vault_identity(name, args, in_ns)]
            issuer_spec, bundle_source = _vault_issuer(args.vault)
        issuer = k8s.apiextensions.CustomResource(
            f"{name}-issuer",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata={"name": c.CLUSTER_ISSUER, "labels": args.labels},
            spec=issuer_spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=issuer_deps),
        )
        bundle = k8s.apiextensions.CustomResource(
            f"{name}-bundle",
            api_version="trust.cert-manager.io/v1alpha1",
            kind="Bundle",
            metadata={"name": CA_BUNDLE, "labels": args.labels},
            spec={
                "sources": [bundle_source],
                "target": {
                    "configMap": {"key": CA_BUNDLE_KEY},
                    "secret": {"key": CA_BUNDLE_KEY},
                    "namespaceSelector": {"matchLabels": dict(args.bundle_namespace_labels)},
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[trust_manager, issuer]),
        )

        self.cluster_issuer = c.CLUSTER_ISSUER
        self.selfsigned_issuer = SELFSIGNED_ISSUER
        self.ca_bundle = CA_BUNDLE
        self.ca_bundle_key = CA_BUNDLE_KEY
        self.cert_manager = cert_manager
        self.ready = [cert_manager, trust_manager, issuer, bundle]
        self.register_outputs({"clusterIssuer": self.cluster_issuer, "caBundle": self.ca_bundle})

    def _self_signed_root(
        self,
        name: str,
        args: PkiArgs,
        cert_manager: pulumi.Resource,
        selfsigned: pulumi.Resource,
    ) -> tuple[dict, list[pulumi.Resource], dict]:
        """(issuer spec, what the issuer waits for, bundle source) for an in-cluster root."""
        root = k8s.apiextensions.CustomResource(
            f"{name}-root-ca",
            api_version="cert-manager.io/v1",
            kind="Certificate",
            metadata={
                "name": ROOT_CA_SECRET,
                "namespace": c.NS_CERT_MANAGER,
                "labels": args.labels,
            },
            spec={
                "isCA": True,
                "commonName": args.ca_common_name,
                "subject": {"organizations": [args.organization], "countries": ["AE"]},
                "secretName": ROOT_CA_SECRET,
                "duration": args.ca_duration,
                "renewBefore": args.ca_renew_before,
                # Renewal keeps the key: leaf certificates and every distributed bundle
                # stay valid across a root renewal. Rotate deliberately (new Certificate).
                "privateKey": {"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Never"},
                "usages": ["cert sign", "crl sign", "digital signature"],
                "issuerRef": cluster_issuer_ref(SELFSIGNED_ISSUER),
            },
            # The root key is the trust anchor of every in-cluster TLS connection.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[cert_manager, selfsigned], protect=args.protect
            ),
        )
        return (
            {"ca": {"secretName": ROOT_CA_SECRET}},
            [cert_manager, root],
            {"secret": {"name": ROOT_CA_SECRET, "key": "ca.crt"}},
        )

    def _vault_identity(
        self, name: str, args: PkiArgs, opts: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """A ServiceAccount Vault trusts, and the right for cert-manager to mint its tokens."""
        ns = c.NS_CERT_MANAGER
        sa = k8s.core.v1.ServiceAccount(
            f"{name}-vault-sa",
            metadata={"name": VAULT_ISSUER_SA, "namespace": ns, "labels": args.labels},
            automount_service_account_token=False,
            opts=opts,
        )
        meta: Any = {
            "name": f"{VAULT_ISSUER_SA}-token",
            "namespace": ns,
            "labels": args.labels,
        }
        rules: Any = [
            {
                "apiGroups": [""],
                "resources": ["serviceaccounts/token"],
                "resourceNames": [VAULT_ISSUER_SA],
                "verbs": ["create"],
            }
        ]
        role = k8s.rbac.v1.Role(f"{name}-vault-token-role", metadata=meta, rules=rules, opts=opts)
        role_ref: Any = {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": f"{VAULT_ISSUER_SA}-token",
        }
        subjects: Any = [{"kind": "ServiceAccount", "name": "cert-manager", "namespace": ns}]
        binding = k8s.rbac.v1.RoleBinding(
            f"{name}-vault-token-binding",
            metadata=meta,
            role_ref=role_ref,
            subjects=subjects,
            opts=opts,
        )
        return [sa, role, binding]


def cluster_issuer_ref(issuer: str) -> dict[str, str]:
    return {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"}


def server_certificate(
    resource_name: str,
    *,
    name: str,
    namespace: str,
    dns_names: list[str],
    labels: dict[str, str],
    opts: pulumi.ResourceOptions,
    issuer: str = c.CLUSTER_ISSUER,
    usages: tuple[str, ...] = ("server auth", "digital signature", "key encipherment"),
) -> k8s.apiextensions.CustomResource:
    """A 90-day serving certificate from the platform CA.

    Secret `name` holds tls.crt, tls.key and ca.crt (cert-manager writes the issuing CA).
    """
    return k8s.apiextensions.CustomResource(
        resource_name,
        api_version="cert-manager.io/v1",
        kind="Certificate",
        metadata={"name": name, "namespace": namespace, "labels": labels},
        spec={
            "secretName": name,
            "secretTemplate": {"labels": labels},
            "dnsNames": dns_names,
            "duration": "2160h",
            "renewBefore": "720h",
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "usages": list(usages),
            "issuerRef": cluster_issuer_ref(issuer),
        },
        opts=opts,
    )


def service_dns_names(service: str, namespace: str) -> list[str]:
    """The names a client may use for an in-cluster Service."""
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    ]
