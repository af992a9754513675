"""The key channel: a tenant identity named in a key policy, or granted a key, beyond using it
through the storage service for its own data.

The platform's keys encrypt every tenant's data. A tenant principal that may administer a key
(change its policy or grants, disable or delete it) or use it directly (Decrypt, ReEncrypt,
GenerateDataKey, CreateGrant without a `kms:ViaService` condition) can undo what the other
channels protect, for every tenant. Read are KMS key policies (principals by role ARN) and the
policies of tenants' IAM roles on AWS; Key Vault role assignments of tenants' managed identities
on Azure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.simulate.kube import mapping
from infra.tenancy.check import ChannelRun
from infra.tenancy.documents import allows, condition_values, listed, statements
from infra.tenancy.object_store import role_documents
from infra.tenancy.view import ROLE_ASSIGNMENT, PlanView

CHANNEL = "keys"
_USE = ("kms:Decrypt", "kms:ReEncrypt", "kms:GenerateDataKey", "kms:CreateGrant")
_ADMIN = ("kms:Put", "kms:Create", "kms:Update", "kms:Delete", "kms:Disable", "kms:Schedule")


def run(view: PlanView) -> ChannelRun:
    result = ChannelRun(CHANNEL)
    _key_policies(view, result)
    _role_policies(view, result)
    _key_vault(view, result)
    return result


def _kms_power(statement: Mapping[str, Any]) -> str | None:
    actions = listed(statement.get("Action"))
    if any(a in ("*", "kms:*") or a.startswith(_ADMIN) for a in actions):
        return f"administer ({', '.join(actions)})"
    used = [a for a in actions if a.startswith(_USE)]
    if used and condition_values(statement, "kms:ViaService") is None:
        return f"use directly ({', '.join(used)}), not only through the storage service"
    return None


def _everyone_else(view: PlanView, result: ChannelRun, tenant: str, what: str, via: str) -> None:
    for target in view.tenants:
        result.path(tenant, target, what, via)


def _key_policies(view: PlanView, result: ChannelRun) -> None:
    roles = view.aws_tenant_roles()
    for key in view.typed("aws:kms/key:Key"):
        result.examined.append(f"KMS key {key.get('name')}")
        for statement in statements(mapping(key.get("inputs")).get("policy")):
            principals = listed(mapping(statement.get("Principal")).get("AWS"))
            tenants = {t for arn in principals for r, t in roles.items() if arn.endswith(f"/{r}")}
            power = _kms_power(statement) if allows(statement) else None
            for tenant in sorted(tenants) if power else ():
                via = f"key policy of KMS key {key.get('name')} ({statement.get('Sid')})"
                _everyone_else(view, result, tenant, f"{power} the shared key", via)


def _role_policies(view: PlanView, result: ChannelRun) -> None:
    for tenant, where, document in role_documents(view):
        for statement in statements(document):
            resources = listed(statement.get("Resource"))
            on_keys = any(r == "*" or r.startswith("arn:aws:kms:") for r in resources)
            power = _kms_power(statement) if allows(statement) and on_keys else None
            if power:
                _everyone_else(view, result, tenant, f"{power} the platform's keys", where)


_KEY_VAULT_ROLES = {
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "14b46e9e-c2b7-41b4-b07b-48a6ebf60603": "Key Vault Crypto Officer",
    "12338af0-0e69-4776-bea7-57ae8d297424": "Key Vault Crypto User",
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": "Key Vault Crypto Service Encryption User",
    "f25e0fa2-a7c8-4377-a976-54943a77a395": "Key Vault Contributor",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
}


def _key_vault(view: PlanView, result: ChannelRun) -> None:
    for assignment in view.typed(ROLE_ASSIGNMENT):
        inputs = mapping(assignment.get("inputs"))
        role = str(inputs.get("roleDefinitionId") or "").rsplit("/", 1)[-1]
        scope = str(inputs.get("scope") or "")
        if role not in _KEY_VAULT_ROLES or "Microsoft.KeyVault" not in scope:
            continue
        result.examined.append(f"role assignment {assignment.get('name')}")
        tenant = view.azure_tenant_of_assignment(assignment)
        if tenant:
            what = f"{_KEY_VAULT_ROLES[role]} on {scope}"
            _everyone_else(view, result, tenant, what, f"role assignment {assignment.get('name')}")
