"""ML platform services: Feast, MLflow and KServe, pointed at the foundation's stores.

The same code on every target. What differs comes from the `Foundation`: where Postgres, Redis
and the object store are (in-cluster operators on-prem, RDS/ElastiCache/S3 or Azure services in
the cloud), how the services authenticate to them (Pulumi-managed credentials, a Secret the site
provides, or workload identity via service-account annotations) and which CA verifies them.

Per tenant (`MlServices.access`, a `TenantMlGrant`): an MLflow user with its own password and
the Feast client config, written into the tenant namespace
(`components.ml_access.TenantMlAccess`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import conventions as c
from components.feast import FeastTenant, FeatureStore, FeatureStoreArgs
from components.ml_access import TenantMlAccess, TenantMlAccessArgs
from components.mlflow import ModelRegistry, ModelRegistryArgs
from components.network_policies import NetworkPeer
from components.serving import ModelServing, ModelServingArgs
from stacks import artifacts, governance
from stacks.composition.placement import platform_placement
from stacks.composition.results import CoreServices, FeastEndpoints, MlServices
from stacks.config import StackConfig, Tenant
from stacks.foundation import Foundation
from version_catalogue import CHARTS


def _network_range(config: StackConfig) -> str:
    """Where managed data stores live: the stack's VPC/VNet in the cloud, anywhere on-prem."""
    if config.platform == "aws" and config.aws:
        return config.aws.vpc_cidr
    if config.platform == "azure" and config.azure:
        return config.azure.vnet_cidr
    return "0.0.0.0/0"  # a site service outside the cluster: port-restricted only


def store_peer(
    host: pulumi.Input[str], port: int, config: StackConfig, name: str = ""
) -> NetworkPeer:
    """Egress to a data store: its namespace when in-cluster (`svc.ns.svc[...]`), else a CIDR."""
    if isinstance(host, str) and ".svc" in host:
        return NetworkPeer((port,), namespace=host.split(".")[1], name=name)
    return NetworkPeer((port,), cidr=_network_range(config), name=name)


def object_store_peers(foundation: Foundation) -> list[NetworkPeer]:
    """Where MLflow and Feast reach the object store: the addresses the foundation states for
    it, as tenants get (Azure: the storage account's private endpoint; AWS: S3 through the
    gateway endpoint at public addresses only; on-prem: the site store's addresses), never
    "any address on 443" (issue 13.3)."""
    if not foundation.object_store_egress:
        raise ValueError("the foundation states no object-store egress (object_store_egress)")
    return [NetworkPeer.egress(rule) for rule in foundation.object_store_egress]


def _identity(
    foundation: Foundation, service_account: str
) -> tuple[dict, dict[str, str], list[NetworkPeer]]:
    """Annotations, pod labels and egress of a service that uses the cloud workload identity.

    A service account the foundation annotates has a cloud identity (EKS Pod Identity role,
    Azure managed identity): its pods get the foundation's identity pod labels (Azure's webhook
    only acts on labelled pods) and egress to where credentials come from (the Pod Identity
    agent; Entra ID, which the object-store rule's 443 happens to cover as well, stated anyway
    so narrowing that rule cannot break authentication). None of it on-prem.
    """
    annotations = foundation.object_store.service_account_annotations.get(service_account, {})
    if not annotations:
        return {}, {}, []
    egress = [NetworkPeer.egress(rule) for rule in foundation.workload_identity_egress]
    return annotations, dict(foundation.workload_identity_pod_labels), egress


def build_ml(config: StackConfig, foundation: Foundation, core: CoreServices) -> MlServices:
    after_core = pulumi.ResourceOptions(
        provider=foundation.k8s_provider,
        depends_on=[*foundation.ready, *core.resources.values(), *core.pki_ready],
    )
    pg = foundation.postgres
    if pg.mlflow_database in pg.databases_to_create:
        raise ValueError("the foundation must create MLflow's database; only Feast creates its own")
    mlflow = _mlflow(config, foundation, core, after_core)
    feast = _feast(config, foundation, core, after_core)
    serving = _serving(config, foundation, core, mlflow.tracking_uri, after_core)
    return MlServices(
        mlflow_tracking_uri=mlflow.tracking_uri,
        feast=FeastEndpoints(
            project=feast.project,
            feature_server=feast.feature_server,
            registry=feast.registry,
            online_store=feast.online_store,
            offline_store=feast.offline_store,
            feature_store_yaml=feast.feature_store_yaml,
            auth_roles=[],
            offline_data_uri=foundation.object_store.offline_store_uri,
        ),
        feast_tenants={t.name: _feast_tenant(feast, foundation, t) for t in config.tenants},
        tenant_peers={t.name: [feast.tenant_peers[t.name]] for t in config.tenants},
        kserve_host_pattern=serving.host_pattern,
        kserve_deployment_mode=serving.deployment_mode,
        serving_runtime=serving.runtime,
        peers=[mlflow.peer, feast.peer],
        resources={"mlflow": mlflow, "feast": feast, "kserve": serving},
        access=TenantMlGrant(
            config,
            foundation,
            mlflow,
            {t: client["feature_store_yaml"] for t, client in feast.clients.items()},
            core.cluster_issuer,
        ),
    )


def _feast_tenant(feast: FeatureStore, foundation: Foundation, tenant: Tenant) -> FeastEndpoints:
    """A tenant's own Feast project, online server and client file; its offline data lives
    under its own prefix of the offline store, read with its own identity."""
    client = feast.clients[tenant.name]
    root = foundation.object_store.offline_store_uri
    return FeastEndpoints(
        project=client["project"],
        feature_server=client["feature_server"],
        registry=client["registry"],
        online_store=client["online_store"],
        offline_store=client["offline_store"],
        feature_store_yaml=client["feature_store_yaml"],
        auth_roles=[],
        offline_data_uri=pulumi.Output.concat(root, f"/{tenant.name}"),
    )


def _mlflow(
    config: StackConfig,
    foundation: Foundation,
    core: CoreServices,
    opts: pulumi.ResourceOptions,
) -> ModelRegistry:
    # Which CA verifies each store is the foundation's call (`ca_secret`): the platform CA
    # bundle for the on-prem operators, a site's internal CA, else the OS trust store.
    pg = foundation.postgres
    sa_annotations, pod_labels, identity_egress = _identity(foundation, c.SA_MLFLOW)
    return ModelRegistry(
        "mlflow",
        ModelRegistryArgs(
            image=artifacts.image(config, "mlflow").ref(config.image_registry),
            labels=governance.platform_labels(config),
            postgres=pg,
            object_store=foundation.object_store,
            replicas=config.mlflow.replicas,
            users=tuple(t.name for t in config.tenants),
            store_egress=(
                store_peer(pg.host, pg.port, config, "postgres"),
                *object_store_peers(foundation),
                *identity_egress,
            ),
            service_account_annotations=sa_annotations,
            pod_labels=pod_labels,
            image_pull_secret=config.registry.pull_secret,
            cluster_issuer=core.cluster_issuer,
            placement=platform_placement(config),
        ),
        opts=opts,
    )


def _feast(
    config: StackConfig,
    foundation: Foundation,
    core: CoreServices,
    opts: pulumi.ResourceOptions,
) -> FeatureStore:
    pg, redis = foundation.postgres, foundation.redis
    pg_peer = store_peer(pg.host, pg.port, config, "postgres")
    sa_annotations, pod_labels, identity_egress = _identity(foundation, c.SA_FEAST)
    return FeatureStore(
        "feast",
        FeatureStoreArgs(
            image=artifacts.image(config, "feast").ref(config.image_registry),
            labels=governance.platform_labels(config),
            project=config.feast.project,
            postgres=pg,
            redis=redis,
            object_store=foundation.object_store,
            replicas=config.feast.replicas,
            tenants=tuple(FeastTenant(t.name, c.tenant_namespace(t.name)) for t in config.tenants),
            store_egress=(
                pg_peer,
                store_peer(redis.host, redis.port, config, "redis"),
                *object_store_peers(foundation),
                *identity_egress,
            ),
            postgres_egress=(pg_peer,),
            api_server=foundation.api_server,
            client_ca_file=f"{c.CA_BUNDLE_MOUNT}/{core.ca_bundle_key}",
            service_account_annotations=sa_annotations,
            pod_labels=pod_labels,
            image_pull_secret=config.registry.pull_secret,
            cluster_issuer=core.cluster_issuer,
            placement=platform_placement(config),
        ),
        opts=opts,
    )


def _serving(
    config: StackConfig,
    foundation: Foundation,
    core: CoreServices,
    tracking_uri: str,
    opts: pulumi.ResourceOptions,
) -> ModelServing:
    mirror = config.image_registry
    return ModelServing(
        "kserve",
        ModelServingArgs(
            mirror=mirror,
            labels=governance.platform_labels(config),
            crd_chart=CHARTS["kserve-crd"],
            chart=CHARTS["kserve"],
            images=artifacts.kserve_images(artifacts.pin_for(config)),
            runtime_image=artifacts.image(config, "serving").ref(mirror),
            tracking_uri=tracking_uri,
            host_domain=config.kserve.host_domain,
            deployment_mode=config.kserve.deployment_mode,
            ca_bundle=core.ca_bundle,
            pull_secret=config.registry.pull_secret,
            api_server=foundation.api_server,
            placement=platform_placement(config),
        ),
        opts=opts,
    )


@dataclass(frozen=True)
class TenantMlGrant:
    """Per tenant: its MLflow user's credentials and the Feast client config, in its namespace."""

    config: StackConfig
    foundation: Foundation
    mlflow: ModelRegistry
    feature_store_yaml: dict[str, str]  # tenant → its Feast client file
    cluster_issuer: str  # the platform CA's issuer (the predictors' certificate)

    def grant(self, tenant: Tenant, depends_on: pulumi.Resource) -> TenantMlAccess:
        return TenantMlAccess(
            f"ml-access-{tenant.name}",
            TenantMlAccessArgs(
                namespace=c.tenant_namespace(tenant.name),
                labels=governance.tenant_labels(self.config, tenant),
                mlflow_username=tenant.name,
                mlflow_password=self.mlflow.user_passwords[tenant.name],
                feature_store_yaml=self.feature_store_yaml[tenant.name],
                cluster_issuer=self.cluster_issuer,
            ),
            opts=pulumi.ResourceOptions(
                provider=self.foundation.k8s_provider,
                # the server and its users Job, not the component: its children include every
                # tenant's password, which made each grant's dependencies grow with tenants
                depends_on=[depends_on, *self.mlflow.users_ready],
            ),
        )
