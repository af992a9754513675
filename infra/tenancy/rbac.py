"""The RBAC channel: bindings that let one tenant's principals act on another tenant's data.

Every Role, ClusterRole (aggregated ones resolved) and binding the cluster would receive is
read: the program's own and every rendered chart's. A path from tenant A to tenant B is

- a RoleBinding in B's namespace whose subjects include a principal of A, for any rule;
- a ClusterRoleBinding whose subjects include a principal of A, for a rule that reaches
  namespaced data (anything but reading cluster-scoped metadata such as nodes or namespaces) or
  that impersonates, escalates or binds — B being every other tenant;
- a RoleBinding in a platform namespace giving A's principals a rule that yields other tenants'
  credentials there (Secrets, exec into pods, tokens, workloads that mount them) — B being every
  other tenant (platform namespaces hold the Kafka, store and MLflow credentials of all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.simulate.kube import items, labels_of, mapping, name_of, namespace_of, selector_matches
from infra.tenancy.check import ChannelRun
from infra.tenancy.view import PlanView

CHANNEL = "rbac"
METADATA_ONLY = frozenset(
    {
        "namespaces",
        "nodes",
        "storageclasses",
        "priorityclasses",
        "customresourcedefinitions",
        "ingressclasses",
        "runtimeclasses",
        "clusterqueues",
        "resourceflavors",
        "clustertrainingruntimes",
        "clusterservingruntimes",
        "clusterstoragecontainers",
        "tokenreviews",
        "subjectaccessreviews",
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
    }
)
READ_VERBS = frozenset({"get", "list", "watch"})
ESCALATING_VERBS = frozenset({"impersonate", "escalate", "bind", "*"})
CREDENTIAL_RESOURCES = frozenset(
    {
        "secrets",
        "pods",
        "pods/exec",
        "pods/attach",
        "pods/portforward",
        "serviceaccounts/token",
        "deployments",
        "statefulsets",
        "daemonsets",
        "replicasets",
        "jobs",
        "cronjobs",
        "persistentvolumeclaims",
        "*",
    }
)
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection", "*"})


def run(view: PlanView) -> ChannelRun:
    result = ChannelRun(CHANNEL)
    roles = _roles(view)
    for body, origin in view.kind("RoleBinding") + view.kind("ClusterRoleBinding"):
        result.examined.append(f"{body.get('kind')} {_where(body)}")
        sources = _sources(view, body)
        if not sources:
            continue
        rules = _rules(roles, body)
        for source in sorted(sources):
            for target, what in _targets(view, body, rules, source):
                result.path(source, target, what, f"{body.get('kind')} {_where(body)} ({origin})")
    return result


def _where(body: Mapping[str, Any]) -> str:
    ns = namespace_of(body)
    return f"{ns}/{name_of(body)}" if ns else name_of(body)


def _sources(view: PlanView, binding: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for subject in items(binding.get("subjects")):
        found |= view.tenants_of_subject(mapping(subject))
    return found


def _roles(view: PlanView) -> dict[tuple[str, str | None], list[Mapping[str, Any]]]:
    """(kind, namespace) → rules, ClusterRoles' aggregation rules resolved."""
    cluster_roles = [body for body, _ in view.kind("ClusterRole")]
    found: dict[tuple[str, str | None], list[Mapping[str, Any]]] = {}
    for body in cluster_roles:
        rules = [mapping(r) for r in items(body.get("rules"))]
        selectors = items(mapping(body.get("aggregationRule")).get("clusterRoleSelectors"))
        for selector in selectors:
            rules += [
                mapping(r)
                for other in cluster_roles
                if other is not body and selector_matches(mapping(selector), labels_of(other))
                for r in items(other.get("rules"))
            ]
        found[("ClusterRole:" + name_of(body), None)] = rules
    for body, _ in view.kind("Role"):
        found[("Role:" + name_of(body), namespace_of(body))] = [
            mapping(r) for r in items(body.get("rules"))
        ]
    return found


def _rules(
    roles: dict[tuple[str, str | None], list[Mapping[str, Any]]], binding: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    ref = mapping(binding.get("roleRef"))
    kind, name = str(ref.get("kind")), str(ref.get("name"))
    key = (
        (f"ClusterRole:{name}", None)
        if kind == "ClusterRole"
        else (f"Role:{name}", namespace_of(binding))
    )
    if key in roles:
        return roles[key]
    # Not in the plan: a built-in ClusterRole (view, edit, admin, cluster-admin) or one created
    # later; either way the binding may grant anything, so it counts as every verb on everything.
    verbs = ["get", "list", "watch"] if name == "view" else ["*"]
    return [{"apiGroups": ["*"], "resources": ["*"], "verbs": verbs, "roleNotInPlan": name}]


def _targets(
    view: PlanView, binding: Mapping[str, Any], rules: list[Mapping[str, Any]], source: str
) -> Iterable[tuple[str, str]]:
    others = [t for t in view.tenants if t != source]
    if binding.get("kind") == "ClusterRoleBinding":
        reaching = [_show(r) for r in rules if _reaches_data(r)]
        if reaching:
            what = f"cluster-wide {'; '.join(reaching)} in every namespace"
            yield from ((t, what) for t in others)
        return
    owner = view.tenant_of_namespace(namespace_of(binding))
    if owner is not None:
        if owner != source and rules:
            shown = "; ".join(_show(r) for r in rules)
            yield owner, f"{shown} in namespace {namespace_of(binding)}"
        return
    credentials = [_show(r) for r in rules if _yields_credentials(r)]
    if credentials:
        what = (
            f"{'; '.join(credentials)} in platform namespace {namespace_of(binding)}, which holds "
            "every tenant's service credentials"
        )
        yield from ((t, what) for t in others)


def _resources(rule: Mapping[str, Any]) -> set[str]:
    return {str(r) for r in items(rule.get("resources"))}


def _verbs(rule: Mapping[str, Any]) -> set[str]:
    return {str(v) for v in items(rule.get("verbs"))}


def _reaches_data(rule: Mapping[str, Any]) -> bool:
    resources, verbs = _resources(rule), _verbs(rule)
    if not resources:  # nonResourceURLs only
        return False
    if verbs & ESCALATING_VERBS:
        return True
    return not (resources <= METADATA_ONLY and verbs <= READ_VERBS | {"create"})


def _yields_credentials(rule: Mapping[str, Any]) -> bool:
    resources, verbs = _resources(rule), _verbs(rule)
    if verbs & ESCALATING_VERBS:
        return True
    if resources & {"secrets", "pods/exec", "pods/attach", "pods/portforward", "*"}:
        return True
    if resources & {"serviceaccounts/token"} and "create" in verbs:
        return True
    return bool(resources & CREDENTIAL_RESOURCES and verbs & WRITE_VERBS)


def _show(rule: Mapping[str, Any]) -> str:
    groups = ",".join(str(g) or "core" for g in items(rule.get("apiGroups"))) or "core"
    return f"{'/'.join(sorted(_verbs(rule)))} {','.join(sorted(_resources(rule)))} [{groups}]"
