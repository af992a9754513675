"""The object-store channel: which tenants' prefixes a tenant's own identity may read or write.

A tenant's area is every object key with its name as a whole path segment (e.g.
`feast/offline/risk/…`); `documents.reach` decides what a granted path covers. Read are

- AWS: the inline and attached policies of the IAM roles EKS Pod Identity gives a tenant's
  service accounts: S3 object actions on `arn:aws:s3:::<bucket>/<key glob>`, `s3:ListBucket`
  with its `s3:prefix` condition (none: every key), `s3:*`/`*` on `*`;
- Azure: role assignments of the managed identities federated with a tenant's service
  accounts: a data or management role on a storage account (every container), on a container
  (a tenant's own when named after it), narrowed by a `blobs:path StringStartsWith` condition.

On-prem, a tenant's object-store credentials are the site's own Secret (a declared site
prerequisite): what they may reach is the site's configuration, stated here, not provable from
the plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from infra.simulate.kube import mapping
from infra.tenancy.check import ChannelRun
from infra.tenancy.documents import allows, condition_values, listed, reach, statements
from infra.tenancy.view import ROLE_ASSIGNMENT, PlanView

CHANNEL = "object-store"
S3_OBJECT = re.compile(r"^(s3:(\*|Get|Put|Delete|Restore|Abort|Replicate)|\*$)")
_STORAGE_DATA_ROLES = {
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
}
_PATH_CONDITION = re.compile(r"blobs:path\]\s*StringStartsWith\s*'([^']*)'", re.IGNORECASE)


def run(view: PlanView) -> ChannelRun:
    result = ChannelRun(CHANNEL)
    _aws(view, result)
    _azure(view, result)
    if view.tenants and not result.examined and not _cloud(view):
        result.notes.append(
            "On-prem, tenants reach the site's S3-compatible store with credentials the site "
            "issues (a declared site prerequisite): scope each tenant's to its own prefix."
        )
    return result


def _cloud(view: PlanView) -> bool:
    return any(str(r.get("type", "")).startswith(("aws:", "azure-native:")) for r in view.resources)


# --------------------------------------------------------------------------- AWS


def role_documents(view: PlanView) -> Iterable[tuple[str, str, Any]]:
    """(tenant, where, document) for every policy of a tenant's IAM role."""
    roles = view.aws_tenant_roles()
    for policy in view.typed("aws:iam/rolePolicy:RolePolicy"):
        inputs = mapping(policy.get("inputs"))
        tenant = roles.get(str(inputs.get("role")))
        if tenant:
            yield tenant, f"IAM role policy {policy.get('name')}", inputs.get("policy")
    managed = {
        str(mapping(p.get("inputs")).get("name")): mapping(p.get("inputs")).get("policy")
        for p in view.typed("aws:iam/policy:Policy")
    }
    for attachment in view.typed("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        inputs = mapping(attachment.get("inputs"))
        tenant = roles.get(str(inputs.get("role")))
        arn = str(inputs.get("policyArn") or "")
        if tenant:
            name = arn.rsplit("/", 1)[-1]
            document = managed.get(name, _UNREADABLE)
            yield tenant, f"policy {arn} attached to {inputs.get('role')}", document


_UNREADABLE = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _aws(view: PlanView, result: ChannelRun) -> None:
    for tenant, where, document in role_documents(view):
        result.examined.append(where)
        for statement in statements(document):
            if allows(statement):
                for target, what in _s3_statement(view, tenant, statement):
                    result.path(tenant, target, what, where)


def _s3_statement(
    view: PlanView, tenant: str, statement: Mapping[str, Any]
) -> Iterable[tuple[str, str]]:
    actions = listed(statement.get("Action"))
    objects = [a for a in actions if S3_OBJECT.match(a)]
    listing = [a for a in actions if a in ("s3:ListBucket", "s3:ListBucketVersions", "s3:*", "*")]
    for resource in listed(statement.get("Resource")):
        if resource == "*" and (objects or listing):
            yield from _all(view, tenant, f"{','.join(objects or listing)} on every bucket")
            continue
        if not resource.startswith("arn:aws:s3:::"):
            continue
        bucket, _, key = resource.removeprefix("arn:aws:s3:::").partition("/")
        if key and objects:
            yield from _covered(view, tenant, key, f"{','.join(objects)} on {bucket}/{key}")
        elif not key and listing:
            prefixes = condition_values(statement, "s3:prefix")
            for prefix in prefixes if prefixes is not None else ["*"]:
                yield from _covered(view, tenant, prefix or "*", f"list {bucket}/{prefix}")


def _covered(view: PlanView, tenant: str, path: str, what: str) -> Iterable[tuple[str, str]]:
    for target in sorted(reach(path, tenant, view.tenants) or ()):
        yield target, f"{what}, which covers {target}'s prefix"


def _all(view: PlanView, tenant: str, what: str) -> Iterable[tuple[str, str]]:
    return ((t, what) for t in view.tenants if t != tenant)


# --------------------------------------------------------------------------- Azure


def _azure(view: PlanView, result: ChannelRun) -> None:
    for assignment in view.typed(ROLE_ASSIGNMENT):
        inputs = mapping(assignment.get("inputs"))
        role = str(inputs.get("roleDefinitionId") or "").rsplit("/", 1)[-1]
        scope = str(inputs.get("scope") or "")
        if role not in _STORAGE_DATA_ROLES or "Microsoft.Storage/storageAccounts" not in scope:
            continue
        tenant = view.azure_tenant_of_assignment(assignment)
        if tenant is None:
            continue
        where = f"role assignment {assignment.get('name')} ({_STORAGE_DATA_ROLES[role]})"
        result.examined.append(where)
        for target, what in _azure_scope(view, tenant, scope, inputs.get("condition")):
            result.path(tenant, target, f"{_STORAGE_DATA_ROLES[role]}: {what}", where)


def _azure_scope(
    view: PlanView, tenant: str, scope: str, condition: Any
) -> Iterable[tuple[str, str]]:
    container = scope.split("/containers/", 1)[1] if "/containers/" in scope else None
    paths = _PATH_CONDITION.findall(str(condition or ""))
    if paths:
        for path in paths:
            yield from _covered(view, tenant, f"{path}*", f"blobs under {path!r} at {scope}")
        return
    if container is None:
        yield from _all(view, tenant, f"every container of {scope}")
    elif not _owns_container(tenant, container):
        yield from _all(view, tenant, f"the whole shared container {container!r}")


def _owns_container(tenant: str, container: str) -> bool:
    return container == tenant or container.endswith(f"-{tenant}")
