"""`EksCluster`: a private EKS control plane with envelope encryption, audit logs and API auth.

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect |
| `cluster_name`, `version` | cluster name and Kubernetes minor (from config) |
| `role_arn` | the EKS service role (`ClusterRoles.cluster_role`) |
| `subnet_ids` | the control-plane subnets, one per zone ID (its endpoint ENIs go there) |
| `secrets_key_arn` | CMK for Secrets envelope encryption (UAE-ENC-002) |
| `logs_key_arn`, `log_retention_days` | CMK and retention of the control-plane log group |
| `admin_role_arns` | IAM roles given cluster-admin through EKS access entries |
| `namespace_access` | `NamespaceAccess` per tenant: its IAM role, namespace, Kubernetes group |
| `bootstrap_creator_admin` | give the deploying identity admin implicitly (off by default) |
| `deletion_protection` | EKS deletion protection (off only for ephemeral stacks) |
| `log_types` | control-plane log types (all five by default, UAE-LOG-002) |

Outputs: `cluster`, `name`, `arn`, `endpoint`, `cluster_security_group_id`, `log_group`,
`base_addons` (Pod Identity agent, VPC CNI, kube-proxy: what nodes need to become Ready),
`access` (the access-policy associations), `kubeconfig` (exec `aws eks get-token --region`).

The API endpoint is private only (UAE-NET-001): `pulumi up` runs from inside the VPC or over
the site's private link to it. Authentication is EKS access entries only
(`authenticationMode=API`, no aws-auth ConfigMap), so who can reach the cluster is declared
here and visible in CloudTrail. A tenant's role gets an access entry that makes it its IdP group
inside Kubernetes (bound by the platform's `tenant-developer` Role in its namespace only) and
the AmazonEKSViewPolicy scoped to that namespace — never AmazonEKSEditPolicy, whose `edit`
rights include NetworkPolicies (a tenant could reopen its egress) and Secrets writes.
Self-managed bootstrap add-ons are off: the VPC CNI (with network policy enforcement,
UAE-NET-004), kube-proxy and CoreDNS are EKS add-ons the stack declares. Workload IAM uses
the EKS Pod Identity agent (no OIDC provider, no static keys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite
from components.aws.iam import PodIdentityRole, PodIdentityRoleArgs

CONTROL_PLANE_LOG_TYPES: tuple[str, ...] = (
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
)
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
NAMESPACE_VIEW_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


@dataclass(frozen=True)
class NamespaceAccess:
    """A tenant's way into the cluster: its IAM role, acting as `group` in `namespace` only."""

    principal_arn: str
    namespace: str
    group: str  # the Kubernetes group the tenant's RoleBinding names (its IdP group)


@dataclass(frozen=True)
class EksClusterArgs:
    site: AwsSite
    cluster_name: str
    version: str
    role_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    secrets_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    admin_role_arns: tuple[str, ...] = ()
    namespace_access: tuple[NamespaceAccess, ...] = ()
    bootstrap_creator_admin: bool = False
    deletion_protection: bool = True
    log_types: tuple[str, ...] = CONTROL_PLANE_LOG_TYPES
    # add-on name → pinned EKS build (e.g. v1.19.0-eksbuild.1); absent: EKS's default build
    addon_versions: Mapping[str, str] = field(default_factory=dict)


def kubeconfig(
    cluster_name: pulumi.Input[str],
    endpoint: pulumi.Input[str],
    ca_data: pulumi.Input[str],
    region: str,
) -> pulumi.Output[str]:
    """A kubeconfig that gets short-lived tokens from `aws eks get-token` in `region`."""
    return pulumi.Output.json_dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
            ],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        }
    )


class EksCluster(pulumi.ComponentResource):
    cluster: aws.eks.Cluster
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    log_group: aws.cloudwatch.LogGroup
    base_addons: list[aws.eks.Addon]
    access: list[aws.eks.AccessPolicyAssociation]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:aws:EksCluster", name, None, opts)
        site, cluster_name = args.site, args.cluster_name

        # Pre-created so EKS does not create it without retention or CMK (UAE-LOG-003).
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=site.tags_for(f"{cluster_name}-control-plane-logs"),
            opts=site.stateful(self),
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            version=args.version,
            role_arn=args.role_arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.secrets_key_arn),
            ),
            enabled_cluster_log_types=list(args.log_types),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=args.bootstrap_creator_admin,
            ),
            bootstrap_self_managed_addons=False,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            # Lets operators move traffic away from a damaged zone (in-country resilience).
            zonal_shift_config=aws.eks.ClusterZonalShiftConfigArgs(enabled=True),
            deletion_protection=args.deletion_protection,
            tags=site.tags_for(cluster_name),
            opts=site.stateful(self, depends_on=[self.log_group]),
        )
        self.name = self.cluster.name
        self.arn = self.cluster.arn
        self.endpoint = self.cluster.endpoint
        self.cluster_security_group_id = self.cluster.vpc_config.cluster_security_group_id
        cluster_arn = site.arn("eks", f"cluster/{cluster_name}")

        self.access = self._admins(name, args) + self._tenants(name, args)
        self.base_addons = self._base_addons(name, args, cluster_arn)

        self.kubeconfig = kubeconfig(
            self.cluster.name,
            self.cluster.endpoint,
            self.cluster.certificate_authority.apply(lambda ca: (ca.data or "") if ca else ""),
            site.region,
        )
        self.register_outputs({"name": self.name, "arn": self.arn, "endpoint": self.endpoint})

    def _admins(self, name: str, args: EksClusterArgs) -> list[aws.eks.AccessPolicyAssociation]:
        """An access entry and the cluster-admin policy for each named administrator role."""
        site, cluster_name = args.site, args.cluster_name
        child = pulumi.ResourceOptions(parent=self)
        access = []
        for index, principal in enumerate(args.admin_role_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=site.tags_for(f"{cluster_name}-admin-{index}"),
                opts=child,
            )
            access.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-admin-{index}",
                    cluster_name=self.cluster.name,
                    principal_arn=principal,
                    policy_arn=CLUSTER_ADMIN_POLICY,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
                )
            )
        return access

    def _tenants(self, name: str, args: EksClusterArgs) -> list[aws.eks.AccessPolicyAssociation]:
        """Per tenant role: an access entry carrying its IdP group (for the namespace's
        RoleBinding) and read access scoped to its namespace."""
        access = []
        for tenant in args.namespace_access:
            entry = aws.eks.AccessEntry(
                f"{name}-{tenant.namespace}",
                cluster_name=self.cluster.name,
                principal_arn=tenant.principal_arn,
                type="STANDARD",
                kubernetes_groups=[tenant.group],
                tags=args.site.tags_for(f"{args.cluster_name}-{tenant.namespace}"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            access.append(
                aws.eks.AccessPolicyAssociation(
                    f"{name}-{tenant.namespace}-view",
                    cluster_name=self.cluster.name,
                    principal_arn=tenant.principal_arn,
                    policy_arn=NAMESPACE_VIEW_POLICY,
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                        type="namespace", namespaces=[tenant.namespace]
                    ),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
                )
            )
        return access

    def _base_addons(
        self, name: str, args: EksClusterArgs, cluster_arn: str
    ) -> list[aws.eks.Addon]:
        """Pod Identity agent, VPC CNI (network policies on, its own Pod Identity role) and
        kube-proxy: what nodes need to join."""
        site, cluster_name = args.site, args.cluster_name
        child = pulumi.ResourceOptions(parent=self)
        pod_identity = eks_addon(
            f"{name}-eks-pod-identity-agent",
            site,
            self.cluster,
            "eks-pod-identity-agent",
            parent=self,
            version=args.addon_versions.get("eks-pod-identity-agent"),
        )
        cni_role = PodIdentityRole(
            f"{name}-vpc-cni-identity",
            PodIdentityRoleArgs(
                site=site,
                role_name=f"{cluster_name}-vpc-cni",
                cluster_name=self.cluster.name,
                cluster_arn=cluster_arn,
                namespace="kube-system",
                service_account="aws-node",
                managed_policy_arns=(site.managed_policy("AmazonEKS_CNI_Policy"),),
                associate=False,  # the add-on below creates the association
            ),
            opts=child,
        )
        vpc_cni = eks_addon(
            f"{name}-vpc-cni",
            site,
            self.cluster,
            "vpc-cni",
            parent=self,
            version=args.addon_versions.get("vpc-cni"),
            configuration={"enableNetworkPolicy": "true"},
            pod_identity=[
                aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=cni_role.arn, service_account="aws-node"
                )
            ],
            depends_on=[pod_identity],
        )
        kube_proxy = eks_addon(
            f"{name}-kube-proxy",
            site,
            self.cluster,
            "kube-proxy",
            parent=self,
            version=args.addon_versions.get("kube-proxy"),
        )
        return [pod_identity, vpc_cni, kube_proxy]


def eks_addon(
    resource_name: str,
    site: AwsSite,
    cluster: aws.eks.Cluster,
    addon: str,
    *,
    parent: pulumi.Resource,
    configuration: dict | None = None,
    pod_identity: list[aws.eks.AddonPodIdentityAssociationArgs] | None = None,
    depends_on: list[pulumi.Resource] | None = None,
    version: str | None = None,
) -> aws.eks.Addon:
    """An EKS managed add-on, at `version` when the stack pins one (`aws.addonVersions`).

    Unpinned, EKS installs its default build for the cluster's Kubernetes minor and the state
    keeps it: builds are per minor and region, so the catalogue cannot hold one for every
    stack; a site that wants identical clusters pins them in its stack config.
    The stack's declared configuration wins over manual edits (`OVERWRITE`).
    """
    return aws.eks.Addon(
        resource_name,
        cluster_name=cluster.name,
        addon_name=addon,
        addon_version=version,
        configuration_values=json.dumps(configuration) if configuration else None,
        pod_identity_associations=pod_identity,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags={**site.tags, "Name": addon},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )
