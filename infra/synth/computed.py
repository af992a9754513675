"""Realistic computed values for the mock provider: what AWS, Azure and Kubernetes would return.

Under mocks nothing is created, but the program still wires outputs into inputs (a key ARN into
a bucket's encryption, an EKS endpoint into a Kubernetes provider). Returning values shaped like
the real ones (ARNs in me-central-1, Azure IDs in uaenorth, deterministic per resource) keeps
those wirings honest and lets the policies check regions inside ARNs and IDs.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CloudIdentity:
    """Account-level facts the mocks need to build identifiers."""

    aws_account_id: str = "111122223333"
    aws_region: str = "me-central-1"
    azure_subscription_id: str = "00000000-0000-4000-8000-000000000000"
    azure_location: str = "uaenorth"


def _hex(seed: str, length: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _uuid(seed: str) -> str:
    h = _hex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def _physical(name: str, inputs: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return name


# --------------------------------------------------------------------------- AWS

_AWS_PREFIXED_IDS = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/networkAcl:NetworkAcl": "acl",
    "aws:ec2/vpcSecurityGroupIngressRule:VpcSecurityGroupIngressRule": "sgr",
    "aws:ec2/vpcSecurityGroupEgressRule:VpcSecurityGroupEgressRule": "sgr",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "sgrule",
}


@dataclass(frozen=True)
class _AwsResource:
    """One AWS resource being mocked: its type, name, inputs, and the account and region."""

    typ: str
    name: str
    inputs: dict[str, Any]
    region: str
    acct: str

    @property
    def seed(self) -> str:
        return f"{self.typ}/{self.name}"

    def physical(self, *keys: str) -> str:
        return _physical(self.name, self.inputs, *keys)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.acct}:{resource}"


def _aws(typ: str, name: str, inputs: dict[str, Any], ident: CloudIdentity) -> dict[str, Any]:
    region = inputs.get("region") or ident.aws_region
    r = _AwsResource(typ, name, inputs, region, ident.aws_account_id)
    module = typ.split(":")[1].split("/")[0]
    if typ in _AWS_PREFIXED_IDS:
        return _aws_ec2(r)
    if typ in _AWS_BUILDERS:
        return _AWS_BUILDERS[typ](r)
    if module == "s3" and typ.endswith(":Bucket"):
        return _aws_bucket(r)
    if module == "iam":
        return _aws_iam(r)
    resource = r.physical("name")
    return {"id": resource, "arn": r.arn(module, resource)}


def _aws_ec2(r: _AwsResource) -> dict[str, Any]:
    rid = f"{_AWS_PREFIXED_IDS[r.typ]}-{_hex(r.seed)}"
    out: dict[str, Any] = {"id": rid, "arn": r.arn("ec2", f"{rid.split('-')[0]}/{rid}")}
    if r.typ == "aws:ec2/launchTemplate:LaunchTemplate":
        out["latestVersion"] = 1
    if r.typ == "aws:ec2/vpcEndpoint:VpcEndpoint" and r.inputs.get("vpcEndpointType") == "Gateway":
        out["prefixListId"] = f"pl-{_hex(r.seed, 8)}"
    return out


def _aws_kms_key(r: _AwsResource) -> dict[str, Any]:
    key_id = _uuid(r.seed)
    return {"id": key_id, "keyId": key_id, "arn": r.arn("kms", f"key/{key_id}")}


def _aws_kms_alias(r: _AwsResource) -> dict[str, Any]:
    alias = r.physical("name")
    return {"id": alias, "arn": r.arn("kms", alias)}


def _aws_bucket(r: _AwsResource) -> dict[str, Any]:
    bucket = r.physical("bucket")
    return {
        "id": bucket,
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketRegionalDomainName": f"{bucket}.s3.{r.region}.amazonaws.com",
        "region": r.region,
    }


def _aws_iam(r: _AwsResource) -> dict[str, Any]:
    kind = r.typ.rsplit(":", 1)[1]
    resource = r.physical("name")
    arn_kind = {"Role": "role", "Policy": "policy", "OpenIdConnectProvider": "oidc-provider"}
    out = {"id": resource, "name": resource}
    if kind in arn_kind:
        out["arn"] = f"arn:aws:iam::{r.acct}:{arn_kind[kind]}/{resource}"
    return out


def _aws_eks_cluster(r: _AwsResource) -> dict[str, Any]:
    cluster = r.physical("name")
    oidc = _hex(r.seed, 32).upper()
    return {
        "id": cluster,
        "name": cluster,
        "arn": r.arn("eks", f"cluster/{cluster}"),
        "endpoint": f"https://{oidc}.gr7.{r.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": base64.b64encode(b"mock-ca").decode()},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{r.region}.amazonaws.com/id/{oidc}"}]}
        ],
        "version": r.inputs.get("version"),
        "status": "ACTIVE",
        "platformVersion": "eks.1",
        # EKS creates the cluster security group (attached to control plane and nodes).
        "vpcConfig": {
            **(r.inputs.get("vpcConfig") or {}),
            "clusterSecurityGroupId": f"sg-{_hex(r.seed + '/cluster-sg')}",
        },
    }


def _aws_msk_configuration(r: _AwsResource) -> dict[str, Any]:
    arn = r.arn("kafka", f"configuration/{r.physical('name')}/{_uuid(r.seed)}")
    return {"id": arn, "arn": arn, "latestRevision": 1}


def _aws_msk_topic(r: _AwsResource) -> dict[str, Any]:
    cluster_arn = str(r.inputs.get("clusterArn") or r.arn("kafka", "cluster/x/y"))
    topic_arn = cluster_arn.replace(":cluster/", ":topic/", 1) + f"/{r.inputs.get('name')}"
    return {"id": topic_arn, "arn": topic_arn}


def _aws_rds(r: _AwsResource) -> dict[str, Any]:
    ident_name = r.physical("identifier", "clusterIdentifier")
    host = f"{ident_name}.c{_hex(r.seed, 10)}.{r.region}.rds.amazonaws.com"
    port = int(r.inputs.get("port") or 5432)
    return {
        "id": ident_name,
        "address": host,
        "endpoint": f"{host}:{port}",
        "port": port,
        "arn": r.arn("rds", f"db:{ident_name}"),
    }


def _aws_replication_group(r: _AwsResource) -> dict[str, Any]:
    group = r.physical("replicationGroupId")
    return {
        "id": group,
        "arn": r.arn("elasticache", f"replicationgroup:{group}"),
        "primaryEndpointAddress": f"master.{group}.{_hex(r.seed, 6)}.mec1.cache.amazonaws.com",
        "port": int(r.inputs.get("port") or 6379),
    }


def _aws_msk_cluster(r: _AwsResource) -> dict[str, Any]:
    cluster = r.physical("clusterName")
    suffix = f"{cluster}.{_hex(r.seed, 6)}.c3.kafka.{r.region}.amazonaws.com"
    brokers = range(1, int(r.inputs.get("numberOfBrokerNodes") or 3) + 1)
    arn = r.arn("kafka", f"cluster/{cluster}/{_uuid(r.seed)}")
    return {
        "id": arn,
        "arn": arn,
        "bootstrapBrokersTls": ",".join(f"b-{i}.{suffix}:9094" for i in brokers),
        "bootstrapBrokersSaslIam": ",".join(f"b-{i}.{suffix}:9098" for i in brokers),
        "bootstrapBrokersSaslScram": ",".join(f"b-{i}.{suffix}:9096" for i in brokers),
    }


def _aws_log_group(r: _AwsResource) -> dict[str, Any]:
    group = r.physical("name")
    return {"id": group, "arn": r.arn("logs", f"log-group:{group}")}


def _aws_trail(r: _AwsResource) -> dict[str, Any]:
    trail = r.physical("name")
    return {"id": trail, "arn": r.arn("cloudtrail", f"trail/{trail}")}


def _aws_ecr_repository(r: _AwsResource) -> dict[str, Any]:
    repo = r.physical("name")
    return {
        "id": repo,
        "arn": r.arn("ecr", f"repository/{repo}"),
        "repositoryUrl": f"{r.acct}.dkr.ecr.{r.region}.amazonaws.com/{repo}",
        "registryId": r.acct,
    }


def _aws_node_group(r: _AwsResource) -> dict[str, Any]:
    group = r.physical("nodeGroupName")
    return {"id": group, "arn": r.arn("eks", f"nodegroup/{group}/{_uuid(r.seed)}")}


_AWS_BUILDERS: dict[str, Callable[[_AwsResource], dict[str, Any]]] = {
    "aws:kms/key:Key": _aws_kms_key,
    "aws:kms/alias:Alias": _aws_kms_alias,
    "aws:s3/bucketV2:BucketV2": _aws_bucket,
    "aws:eks/cluster:Cluster": _aws_eks_cluster,
    "aws:msk/configuration:Configuration": _aws_msk_configuration,
    "aws:msk/topic:Topic": _aws_msk_topic,
    "aws:rds/instance:Instance": _aws_rds,
    "aws:rds/cluster:Cluster": _aws_rds,
    "aws:elasticache/replicationGroup:ReplicationGroup": _aws_replication_group,
    "aws:msk/cluster:Cluster": _aws_msk_cluster,
    "aws:cloudwatch/logGroup:LogGroup": _aws_log_group,
    "aws:cloudtrail/trail:Trail": _aws_trail,
    "aws:ecr/repository:Repository": _aws_ecr_repository,
    "aws:eks/nodeGroup:NodeGroup": _aws_node_group,
}


# --------------------------------------------------------------------------- Azure

# azure-native module → Azure resource provider namespace
_AZURE_NAMESPACES = {
    "resources": "Microsoft.Resources",
    "containerservice": "Microsoft.ContainerService",
    "keyvault": "Microsoft.KeyVault",
    "storage": "Microsoft.Storage",
    "network": "Microsoft.Network",
    "managedidentity": "Microsoft.ManagedIdentity",
    "compute": "Microsoft.Compute",
    "dbforpostgresql": "Microsoft.DBforPostgreSQL",
    "redis": "Microsoft.Cache",
    "cache": "Microsoft.Cache",
    "eventhub": "Microsoft.EventHub",
    "operationalinsights": "Microsoft.OperationalInsights",
    "insights": "Microsoft.Insights",
    "monitor": "Microsoft.Insights",
    "authorization": "Microsoft.Authorization",
    "containerregistry": "Microsoft.ContainerRegistry",
    "privatedns": "Microsoft.Network",
}


# Child resources: the input that names them (the generic lookup below would pick the parent's
# name first, e.g. `vaultName` for a Key), and where their ID nests under the parent's.
_AZURE_CHILD_NAMES: dict[str, str] = {
    "Key": "keyName",
    "Subnet": "subnetName",
    "SecurityRule": "securityRuleName",
    "EventHub": "eventHubName",
    "BlobContainer": "containerName",
    "BlobContainerImmutabilityPolicy": "containerName",
    "BlobServiceProperties": "blobServicesName",
    "Database": "databaseName",
    "Configuration": "configurationName",
    "Administrator": "objectId",
    "PrivateZone": "privateZoneName",
    "VirtualNetworkLink": "virtualNetworkLinkName",
    "PrivateDnsZoneGroup": "privateDnsZoneGroupName",
    "FlowLog": "flowLogName",
    "FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
    "AgentPool": "agentPoolName",
    "NetworkSecurityGroup": "networkSecurityGroupName",
    "NetworkWatcher": "networkWatcherName",
    "DiagnosticSetting": "name",
}
# kind → (input naming the parent, parent collection, child collection)
_AZURE_CHILD_PATHS: dict[str, tuple[str, str, str]] = {
    "Key": ("vaultName", "vaults", "keys"),
    "Subnet": ("virtualNetworkName", "virtualNetworks", "subnets"),
    "EventHub": ("namespaceName", "namespaces", "eventhubs"),
    "BlobContainer": ("accountName", "storageAccounts", "blobServices/default/containers"),
    "Database": ("serverName", "flexibleServers", "databases"),
    "Configuration": ("serverName", "flexibleServers", "configurations"),
    "VirtualNetworkLink": ("privateZoneName", "privateDnsZones", "virtualNetworkLinks"),
    "FlowLog": ("networkWatcherName", "networkWatchers", "flowLogs"),
    "FederatedIdentityCredential": (
        "resourceName",
        "userAssignedIdentities",
        "federatedIdentityCredentials",
    ),
    "AgentPool": ("resourceName", "managedClusters", "agentPools"),
}
# ARM collection names that are not `<kind>s`
_AZURE_PLURALS: dict[tuple[str, str], str] = {
    ("dbforpostgresql", "Server"): "flexibleServers",
    ("redis", "Redis"): "redis",
    ("containerregistry", "Registry"): "registries",
    ("privatedns", "PrivateZone"): "privateDnsZones",
    ("managedidentity", "UserAssignedIdentity"): "userAssignedIdentities",
}


_AZURE_NAME_INPUTS = (
    "resourceName",
    "vaultName",
    "accountName",
    "serverName",
    "name",
    "keyName",
    "virtualNetworkName",
    "subnetName",
    "namespaceName",
    "workspaceName",
    "registryName",
    "diskEncryptionSetName",
    "privateEndpointName",
)


def _azure(typ: str, name: str, inputs: dict[str, Any], ident: CloudIdentity) -> dict[str, Any]:
    module, kind = typ.split(":")[1], typ.split(":")[2]
    seed = f"{typ}/{name}"
    physical, rid = _azure_id(module, kind, name, inputs, ident)
    if kind == "RoleAssignment" and inputs.get("scope"):
        rid = f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{_uuid(seed)}"
    out: dict[str, Any] = {"id": rid, "name": physical}
    identity = inputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # ARM returns user-assigned identities as a map keyed by identity ID.
        out["identity"] = {
            **identity,
            "userAssignedIdentities": {
                i: {"clientId": _uuid(f"{i}client"), "principalId": _uuid(f"{i}principal")}
                for i in identity["userAssignedIdentities"]
            },
        }
    if isinstance(identity, dict) and "SystemAssigned" in str(identity.get("type")):
        # ARM creates the system-assigned principal with the resource and returns its IDs.
        out["identity"] = {
            **out.get("identity", identity),
            "principalId": _uuid(seed + "system-principal"),
            "tenantId": _uuid("tenant"),
        }
    location = inputs.get("location")
    if location:
        out["location"] = location
    loc = location or ident.azure_location
    out.update(_azure_computed(module, kind, physical, seed, inputs, loc))
    return out


def _azure_id(
    module: str, kind: str, name: str, inputs: dict[str, Any], ident: CloudIdentity
) -> tuple[str, str]:
    """(physical name, ARM resource ID), children nested under their parent's ID."""
    sub = ident.azure_subscription_id
    rg = inputs.get("resourceGroupName") or "rg"
    keys = (*_AZURE_NAME_INPUTS, "resourceGroupName" if kind == "ResourceGroup" else "")
    physical = _physical(name, inputs, *keys)
    namespace = _AZURE_NAMESPACES.get(module, f"Microsoft.{module.capitalize()}")
    plural = _AZURE_PLURALS.get((module, kind), kind[0].lower() + kind[1:] + "s")
    if kind in _AZURE_CHILD_NAMES:
        physical = _physical(name, inputs, _AZURE_CHILD_NAMES[kind])
    if kind == "ResourceGroup":
        rid = f"/subscriptions/{sub}/resourceGroups/{physical}"
    else:
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{namespace}/{plural}/{physical}"
    if kind in _AZURE_CHILD_PATHS and inputs.get(_AZURE_CHILD_PATHS[kind][0]):
        parent_key, parents, children = _AZURE_CHILD_PATHS[kind]
        parent = f"{namespace}/{parents}/{inputs[parent_key]}"
        rid = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{parent}/{children}/{physical}"
    return physical, rid


def _azure_computed(
    module: str, kind: str, physical: str, seed: str, inputs: dict[str, Any], loc: str
) -> dict[str, Any]:
    """What ARM computes for a kind: URIs, host names, identities' IDs."""
    if kind == "Vault":
        return {
            "properties": {
                **(inputs.get("properties") or {}),
                "vaultUri": f"https://{physical}.vault.azure.net/",
            }
        }
    if kind == "Key":
        uri = f"https://{inputs.get('vaultName', 'vault')}.vault.azure.net/keys/{physical}"
        return {"keyUri": uri, "keyUriWithVersion": f"{uri}/{_hex(seed, 32)}"}
    if kind == "UserAssignedIdentity":
        return {
            "clientId": _uuid(seed + "client"),
            "principalId": _uuid(seed + "principal"),
            "tenantId": _uuid("tenant"),
        }
    if kind == "ManagedCluster":
        return _azure_managed_cluster(physical, seed, inputs, loc)
    if kind == "StorageAccount":
        return {
            "primaryEndpoints": {
                "blob": f"https://{physical}.blob.core.windows.net/",
                "dfs": f"https://{physical}.dfs.core.windows.net/",
            }
        }
    if kind == "Server" and module == "dbforpostgresql":
        return {"fullyQualifiedDomainName": f"{physical}.postgres.database.azure.com"}
    if kind == "Redis":
        return {"hostName": f"{physical}.redis.cache.windows.net", "sslPort": 6380, "port": 6379}
    if kind == "Namespace" and module == "eventhub":
        return {"serviceBusEndpoint": f"https://{physical}.servicebus.windows.net:443/"}
    if kind == "Registry":
        return {"loginServer": f"{physical}.azurecr.io"}
    if kind == "Workspace":
        return {"customerId": _uuid(seed)}
    return {}


def _azure_managed_cluster(
    physical: str, seed: str, inputs: dict[str, Any], loc: str
) -> dict[str, Any]:
    issuer = f"https://{loc}.oic.prod-aks.azure.com/{_uuid('tenant')}/{_uuid(seed)}/"
    return {
        "fqdn": f"{physical}-{_hex(seed, 8)}.hcp.{loc}.azmk8s.io",
        "privateFQDN": f"{physical}-{_hex(seed, 8)}.privatelink.{loc}.azmk8s.io",
        "oidcIssuerProfile": {**(inputs.get("oidcIssuerProfile") or {}), "issuerURL": issuer},
        "identityProfile": {
            "kubeletidentity": {
                "clientId": _uuid(seed + "kubelet"),
                "objectId": _uuid(seed + "kubelet-obj"),
            }
        },
    }


# --------------------------------------------------------------------------- Kubernetes & others


def _kubernetes(
    typ: str, name: str, inputs: dict[str, Any], ident: CloudIdentity
) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", name)
    metadata["uid"] = _uuid(f"{typ}/{name}")
    namespace = metadata.get("namespace")
    rid = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
    out: dict[str, Any] = {"id": rid, "metadata": metadata}
    if typ == "kubernetes:helm.sh/v3:Release":
        release = inputs.get("name") or name
        out = {
            "id": f"{inputs.get('namespace', 'default')}/{release}",
            "name": release,
            "status": {
                "name": release,
                "namespace": inputs.get("namespace"),
                "status": "deployed",
                "version": inputs.get("version"),
            },
        }
    return out


def _random(typ: str, name: str, inputs: dict[str, Any], ident: CloudIdentity) -> dict[str, Any]:
    length = int(inputs.get("length") or 32)
    value = (_hex(f"{typ}/{name}", 64) * 2)[:length]
    return {"id": "none", "result": value}


_BY_PACKAGE: dict[str, Callable[[str, str, dict[str, Any], CloudIdentity], dict[str, Any]]] = {
    "aws": _aws,
    "azure-native": _azure,
    "kubernetes": _kubernetes,
    "random": _random,
}


def _aks_kubeconfig(cluster: str, ident: CloudIdentity) -> str:
    """The exec kubeconfig `listManagedClusterUserCredentials` returns for an Entra ID cluster."""
    server = (
        f"https://{cluster}-{_hex(cluster, 8)}.privatelink.{ident.azure_location}.azmk8s.io:443"
    )
    ca = base64.b64encode(b"mock-aks-ca").decode()
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {cluster}\n  cluster:\n    server: {server}\n"
        f"    certificate-authority-data: {ca}\n"
        f"contexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n"
        f"    user: clusterUser_{cluster}\n"
        f"current-context: {cluster}\n"
        f"users:\n- name: clusterUser_{cluster}\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n"
        "      args: [get-token, --login, devicecode, --server-id,"
        " 6dae42f8-4368-4678-94ff-3960e28e3630]\n"
    )


def computed_call(token: str, args: dict[str, Any], ident: CloudIdentity) -> dict[str, Any] | None:
    """Results of provider functions (invokes) the program uses; None for unknown tokens."""
    if token == "azure-native:containerservice:listManagedClusterUserCredentials":
        cluster = str(args.get("resourceName") or "cluster")
        value = base64.b64encode(_aks_kubeconfig(cluster, ident).encode()).decode()
        return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}
    if token == "azure-native:redis:listRedisKeys":
        seed = f"{token}/{args.get('name')}"
        return {"primaryKey": _hex(seed + "1", 44), "secondaryKey": _hex(seed + "2", 44)}
    return None


def computed_state(
    typ: str, name: str, inputs: dict[str, Any], ident: CloudIdentity
) -> tuple[str, dict[str, Any]]:
    """Return (physical id, output state) for a resource the program registered."""
    if typ.startswith("pulumi:providers:"):
        return _uuid(f"{typ}/{name}"), dict(inputs)
    handler = _BY_PACKAGE.get(typ.split(":", 1)[0])
    extra = handler(typ, name, inputs, ident) if handler else {"id": f"{name}-{_hex(typ, 8)}"}
    rid = str(extra.pop("id", name))
    return rid, {**inputs, **extra}
