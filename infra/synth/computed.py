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


def _aws(typ: str, name: str, inputs: dict[str, Any], ident: CloudIdentity) -> dict[str, Any]:
    region = inputs.get("region") or ident.aws_region
    acct = ident.aws_account_id
    module = typ.split(":")[1].split("/")[0]
    seed = f"{typ}/{name}"
    out: dict[str, Any] = {}
    if typ in _AWS_PREFIXED_IDS:
        rid = f"{_AWS_PREFIXED_IDS[typ]}-{_hex(seed)}"
        out.update(id=rid, arn=f"arn:aws:ec2:{region}:{acct}:{rid.split('-')[0]}/{rid}")
        if typ == "aws:ec2/launchTemplate:LaunchTemplate":
            out["latestVersion"] = 1
        if typ == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Gateway":
            out["prefixListId"] = f"pl-{_hex(seed, 8)}"
        return out
    if typ == "aws:kms/key:Key":
        key_id = _uuid(seed)
        return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{acct}:key/{key_id}"}
    if typ == "aws:kms/alias:Alias":
        alias = _physical(name, inputs, "name")
        return {"id": alias, "arn": f"arn:aws:kms:{region}:{acct}:{alias}"}
    if (module == "s3" and typ.endswith(":Bucket")) or typ == "aws:s3/bucketV2:BucketV2":
        bucket = _physical(name, inputs, "bucket")
        return {
            "id": bucket,
            "bucket": bucket,
            "arn": f"arn:aws:s3:::{bucket}",
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
            "region": region,
        }
    if module == "iam":
        kind = typ.rsplit(":", 1)[1]
        resource = _physical(name, inputs, "name")
        arn_kind = {"Role": "role", "Policy": "policy", "OpenIdConnectProvider": "oidc-provider"}
        out = {"id": resource, "name": resource}
        if kind in arn_kind:
            out["arn"] = f"arn:aws:iam::{acct}:{arn_kind[kind]}/{resource}"
        return out
    if typ == "aws:eks/cluster:Cluster":
        cluster = _physical(name, inputs, "name")
        oidc = _hex(seed, 32).upper()
        return {
            "id": cluster,
            "name": cluster,
            "arn": f"arn:aws:eks:{region}:{acct}:cluster/{cluster}",
            "endpoint": f"https://{oidc}.gr7.{region}.eks.amazonaws.com",
            "certificateAuthority": {"data": base64.b64encode(b"mock-ca").decode()},
            "identities": [
                {"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc}"}]}
            ],
            "version": inputs.get("version"),
            "status": "ACTIVE",
            "platformVersion": "eks.1",
            # EKS creates the cluster security group (attached to control plane and nodes).
            "vpcConfig": {
                **(inputs.get("vpcConfig") or {}),
                "clusterSecurityGroupId": f"sg-{_hex(seed + '/cluster-sg')}",
            },
        }
    if typ == "aws:msk/configuration:Configuration":
        config_name = _physical(name, inputs, "name")
        return {
            "id": f"arn:aws:kafka:{region}:{acct}:configuration/{config_name}/{_uuid(seed)}",
            "arn": f"arn:aws:kafka:{region}:{acct}:configuration/{config_name}/{_uuid(seed)}",
            "latestRevision": 1,
        }
    if typ == "aws:msk/topic:Topic":
        cluster_arn = str(inputs.get("clusterArn") or f"arn:aws:kafka:{region}:{acct}:cluster/x/y")
        topic_arn = cluster_arn.replace(":cluster/", ":topic/", 1) + f"/{inputs.get('name')}"
        return {"id": topic_arn, "arn": topic_arn}
    if typ == "aws:rds/instance:Instance" or typ == "aws:rds/cluster:Cluster":
        ident_name = _physical(name, inputs, "identifier", "clusterIdentifier")
        host = f"{ident_name}.c{_hex(seed, 10)}.{region}.rds.amazonaws.com"
        port = int(inputs.get("port") or 5432)
        return {
            "id": ident_name,
            "address": host,
            "endpoint": f"{host}:{port}",
            "port": port,
            "arn": f"arn:aws:rds:{region}:{acct}:db:{ident_name}",
        }
    if typ == "aws:elasticache/replicationGroup:ReplicationGroup":
        group = _physical(name, inputs, "replicationGroupId")
        return {
            "id": group,
            "arn": f"arn:aws:elasticache:{region}:{acct}:replicationgroup:{group}",
            "primaryEndpointAddress": f"master.{group}.{_hex(seed, 6)}.mec1.cache.amazonaws.com",
            "port": int(inputs.get("port") or 6379),
        }
    if typ == "aws:msk/cluster:Cluster":
        cluster = _physical(name, inputs, "clusterName")
        suffix = f"{cluster}.{_hex(seed, 6)}.c3.kafka.{region}.amazonaws.com"
        brokers = int(inputs.get("numberOfBrokerNodes") or 3)
        return {
            "id": f"arn:aws:kafka:{region}:{acct}:cluster/{cluster}/{_uuid(seed)}",
            "arn": f"arn:aws:kafka:{region}:{acct}:cluster/{cluster}/{_uuid(seed)}",
            "bootstrapBrokersTls": ",".join(f"b-{i}.{suffix}:9094" for i in range(1, brokers + 1)),
            "bootstrapBrokersSaslIam": ",".join(
                f"b-{i}.{suffix}:9098" for i in range(1, brokers + 1)
            ),
            "bootstrapBrokersSaslScram": ",".join(
                f"b-{i}.{suffix}:9096" for i in range(1, brokers + 1)
            ),
        }
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        group = _physical(name, inputs, "name")
        return {"id": group, "arn": f"arn:aws:logs:{region}:{acct}:log-group:{group}"}
    if typ == "aws:cloudtrail/trail:Trail":
        trail = _physical(name, inputs, "name")
        return {"id": trail, "arn": f"arn:aws:cloudtrail:{region}:{acct}:trail/{trail}"}
    if typ == "aws:ecr/repository:Repository":
        repo = _physical(name, inputs, "name")
        return {
            "id": repo,
            "arn": f"arn:aws:ecr:{region}:{acct}:repository/{repo}",
            "repositoryUrl": f"{acct}.dkr.ecr.{region}.amazonaws.com/{repo}",
            "registryId": acct,
        }
    if typ == "aws:eks/nodeGroup:NodeGroup":
        group = _physical(name, inputs, "nodeGroupName")
        return {"id": group, "arn": f"arn:aws:eks:{region}:{acct}:nodegroup/{group}/{_uuid(seed)}"}
    service = module
    resource = _physical(name, inputs, "name")
    return {"id": resource, "arn": f"arn:aws:{service}:{region}:{acct}:{resource}"}


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


def _azure(typ: str, name: str, inputs: dict[str, Any], ident: CloudIdentity) -> dict[str, Any]:
    module, kind = typ.split(":")[1], typ.split(":")[2]
    sub = ident.azure_subscription_id
    seed = f"{typ}/{name}"
    rg = inputs.get("resourceGroupName") or "rg"
    physical = _physical(
        name,
        inputs,
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
        "resourceGroupName" if kind == "ResourceGroup" else "",
    )
    namespace = _AZURE_NAMESPACES.get(module, f"Microsoft.{module.capitalize()}")
    plural = kind[0].lower() + kind[1:] + "s"
    plural = _AZURE_PLURALS.get((module, kind), plural)
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
    location = inputs.get("location")
    if location:
        out["location"] = location
    if kind == "Vault":
        out["properties"] = {
            **(inputs.get("properties") or {}),
            "vaultUri": f"https://{physical}.vault.azure.net/",
        }
    elif kind == "Key":
        vault = inputs.get("vaultName", "vault")
        uri = f"https://{vault}.vault.azure.net/keys/{physical}"
        out.update(keyUri=uri, keyUriWithVersion=f"{uri}/{_hex(seed, 32)}")
    elif kind == "UserAssignedIdentity":
        out.update(clientId=_uuid(seed + "client"), principalId=_uuid(seed + "principal"))
        out["tenantId"] = _uuid("tenant")
    elif kind == "ManagedCluster":
        loc = location or ident.azure_location
        out.update(
            fqdn=f"{physical}-{_hex(seed, 8)}.hcp.{loc}.azmk8s.io",
            privateFQDN=f"{physical}-{_hex(seed, 8)}.privatelink.{loc}.azmk8s.io",
            oidcIssuerProfile={
                **(inputs.get("oidcIssuerProfile") or {}),
                "issuerURL": f"https://{loc}.oic.prod-aks.azure.com/{_uuid('tenant')}/{_uuid(seed)}/",
            },
            identityProfile={
                "kubeletidentity": {
                    "clientId": _uuid(seed + "kubelet"),
                    "objectId": _uuid(seed + "kubelet-obj"),
                }
            },
        )
    elif kind == "StorageAccount":
        out["primaryEndpoints"] = {
            "blob": f"https://{physical}.blob.core.windows.net/",
            "dfs": f"https://{physical}.dfs.core.windows.net/",
        }
    elif kind == "Server" and module == "dbforpostgresql":
        out["fullyQualifiedDomainName"] = f"{physical}.postgres.database.azure.com"
    elif kind == "Redis":
        out.update(hostName=f"{physical}.redis.cache.windows.net", sslPort=6380, port=6379)
    elif kind == "Namespace" and module == "eventhub":
        out["serviceBusEndpoint"] = f"https://{physical}.servicebus.windows.net:443/"
    elif kind == "Registry":
        out["loginServer"] = f"{physical}.azurecr.io"
    elif kind == "Workspace":
        out["customerId"] = _uuid(seed)
    return out


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
