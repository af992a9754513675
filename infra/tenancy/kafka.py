"""The Kafka channel: whose topics, consumer groups and transactional IDs a tenant can touch.

Three implementations, one model. Each grant is (tenant, resource type, name pattern,
read/write/manage); they come from

- Strimzi: each KafkaUser's `simple` ACLs (`tenant-<name>` is the tenant's user; a tenant user
  among the Kafka cluster's `superUsers` may do anything);
- MSK: the IAM policies of the roles EKS Pod Identity gives a tenant's service accounts
  (`kafka-cluster:*` actions on topic/group/transactional-id ARNs, `*` wildcards);
- Event Hubs: the role assignments of the managed identities federated with a tenant's service
  accounts (Data Sender = write, Data Receiver = read, Data Owner = both), on a hub or on the
  whole namespace.

Tenant B owns every name prefixed `B.`. A path from A to B is a grant of A on a name B owns; or
a shared topic (one no tenant owns, e.g. `platform.*`) that A reads and B writes (B's records
reach A), that A writes and B reads (A's records reach B), or that both write (their records
mix: neither can tell which tenant wrote one). Tenants reading a topic only the platform writes
is no path.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.simulate.kube import items, mapping, name_of
from infra.tenancy.check import ChannelRun
from infra.tenancy.view import ROLE_ASSIGNMENT, PlanView

CHANNEL = "kafka"
READ, WRITE, MANAGE = "read", "write", "manage"
_STRIMZI_OPS = {
    "Read": {READ},
    "Write": {WRITE},
    "Create": {MANAGE},
    "Delete": {MANAGE},
    "Alter": {MANAGE},
    "AlterConfigs": {MANAGE},
    "All": {READ, WRITE, MANAGE},
}
_MSK_OPS = {
    "kafka-cluster:ReadData": {READ},
    "kafka-cluster:WriteData": {WRITE},
    "kafka-cluster:AlterGroup": {READ},
    "kafka-cluster:AlterTransactionalId": {WRITE},
    "kafka-cluster:CreateTopic": {MANAGE},
    "kafka-cluster:DeleteTopic": {MANAGE},
    "kafka-cluster:AlterTopic": {MANAGE},
    "kafka-cluster:AlterTopicDynamicConfiguration": {MANAGE},
    "kafka-cluster:DeleteGroup": {MANAGE},
    "kafka-cluster:*": {READ, WRITE, MANAGE},
    "kafka-cluster:Alter*": {MANAGE},
    "*": {READ, WRITE, MANAGE},
}
_EVENT_HUBS_ROLES = {
    "2b629674-e913-4c01-ae53-ef4638d8f975": ("Azure Event Hubs Data Sender", {WRITE}),
    "a638d3c7-ab3a-418d-83e6-5f17a39d4fde": ("Azure Event Hubs Data Receiver", {READ}),
    "f526a384-b230-433a-b45c-95f59c4a2dec": (
        "Azure Event Hubs Data Owner",
        {READ, WRITE, MANAGE},
    ),
}
_KINDS = {"transactionalId": "transactional-id", "transactional-id": "transactional-id"}


@dataclass(frozen=True)
class Grant:
    tenant: str
    kind: str  # topic | group | transactional-id | cluster
    pattern: str  # glob over names (`risk.*`, `platform.model-events`, `*`)
    ops: frozenset[str]
    via: str

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.pattern)

    def covers_prefix(self, prefix: str) -> bool:
        """Whether the grant reaches any name starting with `prefix` (`risk.`)."""
        return self.matches(f"{prefix}probe") or self.pattern.startswith(prefix)


def run(view: PlanView) -> ChannelRun:
    result = ChannelRun(CHANNEL)
    grants = [*_strimzi(view, result), *_msk(view, result), *_event_hubs(view, result)]
    _owned(view, grants, result)
    _shared(view, grants, result)
    return result


# --------------------------------------------------------------------------- the evaluation


def _owned(view: PlanView, grants: list[Grant], result: ChannelRun) -> None:
    """A grant on a name another tenant owns (`<other>.…`), or on the cluster itself."""
    for grant in grants:
        for other in view.tenants:
            if other == grant.tenant:
                continue
            if grant.kind == "cluster" and MANAGE in grant.ops:
                what = "manage the cluster (ACLs, every topic)"
                result.path(grant.tenant, other, what, grant.via)
            elif grant.kind != "cluster" and grant.covers_prefix(f"{other}."):
                ops = "/".join(sorted(grant.ops))
                what = f"{ops} on {grant.kind} {grant.pattern!r}, which covers {other}'s `{other}.`"
                result.path(grant.tenant, other, what, grant.via)


def _shared(view: PlanView, grants: list[Grant], result: ChannelRun) -> None:
    """Topics no tenant owns: tenant records must not flow from one tenant to another there."""
    for topic in sorted(_topics(view)):
        if any(topic.startswith(f"{t}.") for t in view.tenants):
            continue
        on_topic = [g for g in grants if g.kind == "topic" and g.matches(topic)]
        writers = {g.tenant: g.via for g in on_topic if WRITE in g.ops or MANAGE in g.ops}
        readers = {g.tenant: g.via for g in on_topic if READ in g.ops}
        for writer, via in writers.items():
            for reader in readers:
                read = f"read {writer}'s records in shared topic {topic}"
                result.path(reader, writer, read, via)
                write = f"write into shared topic {topic}, read by {reader}"
                result.path(writer, reader, write, via)
            for other in writers:
                what = f"write into shared topic {topic}, which {other} writes too (records mix)"
                result.path(writer, other, what, via)


def _topics(view: PlanView) -> set[str]:
    names = {
        str(mapping(body.get("spec")).get("topicName") or name_of(body))
        for body, _ in view.kind("KafkaTopic")
    }
    names |= {str(mapping(r.get("inputs")).get("name")) for r in view.typed("aws:msk/topic:Topic")}
    names |= {
        str(mapping(r.get("inputs")).get("eventHubName"))
        for r in view.typed("azure-native:eventhub:EventHub")
    }
    return {n for n in names if n and n != "None"}


# --------------------------------------------------------------------------- Strimzi


def _strimzi(view: PlanView, result: ChannelRun) -> Iterable[Grant]:
    super_users = {
        str(u)
        for body, _ in view.kind("Kafka")
        for u in items(
            mapping(mapping(mapping(body.get("spec")).get("kafka")).get("authorization")).get(
                "superUsers"
            )
        )
    }
    for body, origin in view.kind("KafkaUser"):
        user = name_of(body)
        tenant = user.removeprefix("tenant-") if user.startswith("tenant-") else None
        if tenant not in view.tenants:
            continue
        via = f"KafkaUser {user} ({origin})"
        result.examined.append(f"KafkaUser {user}")
        if {user, f"User:{user}", f"CN={user}", f"User:CN={user}"} & super_users:
            everything = frozenset({READ, WRITE, MANAGE})
            yield Grant(tenant, "cluster", "*", everything, f"{via}: superUser")
        for acl in items(mapping(mapping(body.get("spec")).get("authorization")).get("acls")):
            yield from _strimzi_acl(tenant, mapping(acl), via)


def _strimzi_acl(tenant: str, acl: Mapping[str, Any], via: str) -> Iterable[Grant]:
    if str(acl.get("type") or "allow") != "allow":
        return
    resource = mapping(acl.get("resource"))
    kind = _KINDS.get(str(resource.get("type")), str(resource.get("type")))
    name = str(resource.get("name") or "*")
    pattern = f"{name}*" if resource.get("patternType") == "prefix" else name
    ops: set[str] = set()
    for op in items(acl.get("operations")) or [acl.get("operation")]:
        ops |= _STRIMZI_OPS.get(str(op), set())
    if ops:
        yield Grant(tenant, kind, "*" if kind == "cluster" else pattern, frozenset(ops), via)


# --------------------------------------------------------------------------- MSK


def _msk(view: PlanView, result: ChannelRun) -> Iterable[Grant]:
    roles = view.aws_tenant_roles()
    for policy in view.typed("aws:iam/rolePolicy:RolePolicy"):
        inputs = mapping(policy.get("inputs"))
        tenant = roles.get(str(inputs.get("role")))
        if tenant is None:
            continue
        via = f"IAM role policy {policy.get('name')} of role {inputs.get('role')}"
        result.examined.append(f"IAM role policy {policy.get('name')}")
        for statement in _statements(inputs.get("policy")):
            yield from _msk_statement(tenant, statement, via)


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    found = mapping(document).get("Statement")
    return [mapping(s) for s in (found if isinstance(found, list) else [found]) if s]


def _listed(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v is not None]


def _msk_statement(tenant: str, statement: Mapping[str, Any], via: str) -> Iterable[Grant]:
    if statement.get("Effect") != "Allow":
        return
    ops: set[str] = set()
    for action in _listed(statement.get("Action")):
        ops |= _MSK_OPS.get(action, set())
    if not ops:
        return
    for resource in _listed(statement.get("Resource")):
        kind, pattern = _msk_resource(resource)
        if kind:
            yield Grant(tenant, kind, pattern, frozenset(ops), f"{via} ({statement.get('Sid')})")


def _msk_resource(arn: str) -> tuple[str | None, str]:
    """`arn:aws:kafka:…:topic/<cluster>/<uuid>/<name>` → (topic, name); `*` → every kind."""
    if arn == "*":
        return "topic", "*"
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "kafka":
        return None, ""
    kind, _, rest = parts[5].partition("/")
    if kind == "cluster":
        return "cluster", "*"
    segments = rest.split("/", 2)
    return (kind, segments[2]) if len(segments) == 3 else (kind, "*")


# --------------------------------------------------------------------------- Event Hubs


def _event_hubs(view: PlanView, result: ChannelRun) -> Iterable[Grant]:
    for assignment in view.typed(ROLE_ASSIGNMENT):
        inputs = mapping(assignment.get("inputs"))
        role = str(inputs.get("roleDefinitionId") or "").rsplit("/", 1)[-1]
        scope = str(inputs.get("scope") or "")
        if role not in _EVENT_HUBS_ROLES or "Microsoft.EventHub" not in scope:
            continue
        tenant = view.azure_tenant_of_assignment(assignment)
        if tenant is None:
            continue
        label, ops = _EVENT_HUBS_ROLES[role]
        result.examined.append(f"role assignment {assignment.get('name')}")
        hub = scope.split("/eventhubs/", 1)[1] if "/eventhubs/" in scope else "*"
        via = f"{label} at {scope} (role assignment {assignment.get('name')})"
        yield Grant(tenant, "topic", hub, frozenset(ops), via)
        if hub == "*":
            yield Grant(tenant, "group", "*", frozenset(ops), via)
