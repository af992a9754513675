"""`ManagedIdentity`: one user-assigned identity, what it may do, and who may federate into it.

Least privilege is spelled out per identity: each `Grant` names one built-in role and one scope
(a key, a container, an event hub — never a subscription or resource group wildcard), and each
`FederatedSubject` names one Kubernetes service account allowed to exchange its token for this
identity (Azure Workload Identity).

| Args | meaning |
|---|---|
| `resource_group_name`, `location`, `tags` | where the identity lives (explicit location) |
| `subscription_id` | builds role definition IDs |
| `grants` | `Grant(role, scope)`: role names from `ROLES` |
| `issuer` | the AKS OIDC issuer URL (required when `subjects` are given) |
| `subjects` | `FederatedSubject(namespace, service_account)` allowed to use the identity |

Outputs: `identity` (the UserAssignedIdentity), `id`, `client_id`, `principal_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure

# Built-in role definition IDs (identical in every Azure public cloud tenant).
ROLES: dict[str, str] = {
    "Key Vault Crypto Service Encryption User": "e147488a-f6f5-4113-8e2d-b22465e65bf6",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Key Vault Contributor": "f25e0fa2-a7c8-4377-a976-54943a77a395",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Azure Event Hubs Data Sender": "2b629674-e913-4c01-ae53-ef4638d8f975",
    "Azure Event Hubs Data Receiver": "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    # listClusterUserCredential only: fetch a kubeconfig; Kubernetes RBAC decides the rest
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
}

# Audience Entra ID expects on Kubernetes service account tokens it exchanges.
WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
# Annotation the workload identity webhook reads on a ServiceAccount.
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"


@dataclass(frozen=True)
class Grant:
    role: str
    scope: pulumi.Input[str]


@dataclass(frozen=True)
class FederatedSubject:
    namespace: str
    service_account: str

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


@dataclass(frozen=True)
class ManagedIdentityArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    tags: dict[str, str]
    grants: tuple[Grant, ...] = ()
    issuer: pulumi.Input[str] | None = None
    subjects: tuple[FederatedSubject, ...] = ()


def role_definition_id(subscription_id: str, role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; known: {', '.join(sorted(ROLES))}")
    definitions = f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization"
    return f"{definitions}/roleDefinitions/{ROLES[role]}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class ManagedIdentity(pulumi.ComponentResource):
    identity: azure.managedidentity.UserAssignedIdentity
    id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: ManagedIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:azure:ManagedIdentity", name, None, opts)
        if args.subjects and args.issuer is None:
            raise ValueError(f"{name}: federated subjects need the cluster's OIDC issuer")
        child = pulumi.ResourceOptions(parent=self)

        self.identity = azure.managedidentity.UserAssignedIdentity(
            name,
            resource_name_=name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            opts=child,
        )
        self.id = self.identity.id
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id

        for subject in args.subjects:
            credential = f"{name}-{_slug(subject.namespace)}-{_slug(subject.service_account)}"
            azure.managedidentity.FederatedIdentityCredential(
                credential,
                federated_identity_credential_resource_name=credential,
                resource_name_=self.identity.name,
                resource_group_name=args.resource_group_name,
                issuer=args.issuer,
                subject=subject.subject,
                audiences=[WORKLOAD_IDENTITY_AUDIENCE],
                opts=child,
            )

        for index, grant in enumerate(args.grants):
            azure.authorization.RoleAssignment(
                f"{name}-{_slug(grant.role)}-{index}",
                principal_id=self.identity.principal_id,
                # Without it, ARM may look the new identity up before Entra has replicated it.
                principal_type="ServicePrincipal",
                role_definition_id=role_definition_id(args.subscription_id, grant.role),
                scope=grant.scope,
                description=f"mlplatform: {name} needs {grant.role} on this scope only",
                opts=child,
            )

        self.register_outputs(
            {"id": self.id, "clientId": self.client_id, "principalId": self.principal_id}
        )
