"""The Feast channel: Feast 0.67's authorization as it actually behaves, over the projects,
Permissions and servers the plan declares (`components.feast_tenancy` lists the behaviours and
the tests that prove them against a real Feast server).

A tenant's data is its project (the `project` of its client `feature_store.yaml`, ConfigMap
`feast-client` in its namespace). A path from A to B is

- a project B shares with A (both clients name it);
- B's project without a Permission (Feast then lets every caller do everything, even one whose
  token it never verified);
- a Permission in B's project whose policy admits A: a namespace policy naming A's namespace, a
  group policy naming one of A's groups, and any role-based or allow-all policy (Feast takes role
  names from the unverified token subject: any caller can claim them);
- an online server serving B's project whose permission scope is not pinned to it
  (`components.feast_tenancy.PROJECT_PIN_MARKER`) and that A's pods can reach: `?project=`
  would choose whose Permissions apply;
- an offline server A's pods can reach: it reads whatever path a data-source definition names
  with its own identity, so A reads every other tenant's offline data through it.

Reachability is the NetworkPolicy evaluator's (`infra.simulate`), on every CNI of the target.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from components import conventions as c
from components.feast_tenancy import PROJECT_PIN_MARKER, SPEC_CONFIG_MAP, SPEC_KEY
from infra.simulate.isolation import candidate_pods
from infra.simulate.kube import items, mapping, name_of, namespace_of
from infra.simulate.netpol import NetworkPolicies
from infra.simulate.peers import Pod
from infra.simulate.pods import pod_templates
from infra.simulate.podspec import PodTemplate
from infra.tenancy.check import ChannelRun
from infra.tenancy.view import PlanView

CHANNEL = "feast"
CLIENT_FILE = "feature_store.yaml"
_SERVERS = {"serve": "online", "serve_offline": "offline", "serve_registry": "registry"}


@dataclass(frozen=True)
class Server:
    role: str  # online | offline | registry
    pod: PodTemplate
    project: str | None
    pinned: bool
    port: int | None


def run(view: PlanView, models: Mapping[str, NetworkPolicies]) -> ChannelRun:
    result = ChannelRun(CHANNEL)
    projects = _client_projects(view, result)
    if not projects:
        return result
    spec, spec_via = _spec(view)
    _permissions(view, result, projects, spec, spec_via)
    servers = list(_servers(view))
    result.examined += [f"{s.role} server {s.pod.subject}" for s in servers]
    pods = pod_templates(view.sources)
    for server in servers:
        reaching = _reaching(view, models, server, pods)
        _server_paths(view, result, projects, server, reaching)
    return result


# --------------------------------------------------------------------------- projects


def _client_projects(view: PlanView, result: ChannelRun) -> dict[str, str]:
    """tenant → the project its client config names."""
    found: dict[str, str] = {}
    for tenant in view.tenants.values():
        for body, _ in view.kind("ConfigMap", tenant.namespace):
            if name_of(body) != c.FEAST_CLIENT_CONFIG:
                continue
            document = _yaml(mapping(body.get("data")).get(CLIENT_FILE))
            if document.get("project"):
                found[tenant.name] = str(document["project"])
                result.examined.append(f"client config of {tenant.name}: {document['project']}")
    return found


def _yaml(text: Any) -> Mapping[str, Any]:
    try:
        return mapping(yaml.safe_load(text)) if isinstance(text, str) else {}
    except yaml.YAMLError:
        return {}


def _spec(view: PlanView) -> tuple[Mapping[str, list[Any]], str]:
    for body, origin in view.kind("ConfigMap", c.NS_FEAST):
        if name_of(body) == SPEC_CONFIG_MAP:
            try:
                document = json.loads(str(mapping(body.get("data")).get(SPEC_KEY)))
            except ValueError:
                return {}, origin
            return mapping(mapping(document).get("projects")), f"ConfigMap feast/{SPEC_CONFIG_MAP}"
    return {}, ""


def _permissions(
    view: PlanView,
    result: ChannelRun,
    projects: dict[str, str],
    spec: Mapping[str, list[Any]],
    spec_via: str,
) -> None:
    for owner, project in sorted(projects.items()):
        for other, theirs in projects.items():
            if other != owner and theirs == project:
                what = f"use Feast project {project!r}, which {owner} uses too"
                result.path(other, owner, what, f"ConfigMap {c.FEAST_CLIENT_CONFIG} of both")
        permissions = [mapping(p) for p in items(spec.get(project))]
        if not permissions:
            what = (
                f"everything in Feast project {project!r}: it has no Permission, and Feast 0.67 "
                "then allows every caller (even an unverified token)"
            )
            for other in view.tenants:
                result.path(other, owner, what, spec_via or "no Feast Permission in the plan")
            continue
        for permission in permissions:
            for other in _admitted(view, permission):
                what = f"{_show(permission)} in {owner}'s Feast project {project!r}"
                result.path(other, owner, what, f"{spec_via}: {project}/{permission.get('name')}")
    _project_objects(view, result, projects, spec, spec_via)


def _project_objects(
    view: PlanView,
    result: ChannelRun,
    projects: dict[str, str],
    spec: Mapping[str, list[Any]],
    spec_via: str,
) -> None:
    """Permissions of projects no tenant owns (the platform's, where the registry server judges
    `Commit` and project-less calls) that admit a tenant to another tenant's Project object."""
    for scope, permissions in spec.items():
        if scope in projects.values():
            continue
        for permission in (mapping(p) for p in items(permissions)):
            types = {str(t) for t in items(permission.get("types"))}
            if "Project" not in types:
                continue
            patterns = [str(p) for p in items(permission.get("namePatterns"))]
            for other in _admitted(view, permission):
                for owner, project in projects.items():
                    if owner != other and _named(project, patterns):
                        what = f"{_show(permission)} on {owner}'s Project {project!r}"
                        result.path(
                            other, owner, what, f"{spec_via}: {scope}/{permission.get('name')}"
                        )


def _named(name: str, patterns: list[str]) -> bool:
    """Feast's name filter: no pattern matches every name, else any pattern in full."""
    try:
        return not patterns or any(re.fullmatch(p, name) for p in patterns)
    except re.error:
        return True


def _admitted(view: PlanView, permission: Mapping[str, Any]) -> set[str]:
    if not items(permission.get("types")) or not items(permission.get("actions")):
        return set()
    policy = mapping(permission.get("policy"))
    kind = policy.get("type")
    if kind == "namespace":
        namespaces = {str(n) for n in items(policy.get("namespaces"))}
        return {t.name for t in view.tenants.values() if t.namespace in namespaces}
    if kind == "group":
        groups = {str(g) for g in items(policy.get("groups"))}
        return {t.name for t in view.tenants.values() if _groups(t) & groups}
    return set(view.tenants)  # role-based (forgeable in 0.67), allow-all, or unknown


def _groups(tenant: Any) -> set[str]:
    """The groups Feast 0.67 sees for a tenant's service account: the TokenReview's, plus every
    group bound in the service account's namespace."""
    base = {"system:authenticated", "system:serviceaccounts"}
    return base | {f"system:serviceaccounts:{tenant.namespace}", *tenant.groups}


def _show(permission: Mapping[str, Any]) -> str:
    actions = ",".join(str(a) for a in items(permission.get("actions")))
    return f"{actions} (Permission {permission.get('name')})"


# --------------------------------------------------------------------------- servers


def _servers(view: PlanView) -> Iterable[Server]:
    configs = {
        (namespace_of(body), name_of(body)): _yaml(mapping(body.get("data")).get(CLIENT_FILE))
        for body, _ in view.kind("ConfigMap")
        if CLIENT_FILE in mapping(body.get("data"))
    }
    for pod in pod_templates(view.sources):
        for _, container in pod.containers():
            command = [
                str(a) for a in [*items(container.get("command")), *items(container.get("args"))]
            ]
            role = next((_SERVERS[a] for a in command if a in _SERVERS), None)
            if role is None or not any("feast" in a for a in command):
                continue
            yield Server(
                role,
                pod,
                _server_project(pod, configs),
                any(PROJECT_PIN_MARKER in a for a in command),
                _port(command, container),
            )


def _server_project(
    pod: PodTemplate, configs: Mapping[tuple[str | None, str], Mapping[str, Any]]
) -> str | None:
    for volume in items(pod.spec.get("volumes")):
        name = str(mapping(mapping(volume).get("configMap")).get("name"))
        if (pod.namespace, name) in configs:
            project = configs[(pod.namespace, name)].get("project")
            return str(project) if project else None
    return None


def _port(command: list[str], container: Mapping[str, Any]) -> int | None:
    for i, arg in enumerate(command[:-1]):
        if arg == "--port" and command[i + 1].isdigit():
            return int(command[i + 1])
    ports = [mapping(p).get("containerPort") for p in items(container.get("ports"))]
    return int(ports[0]) if ports and isinstance(ports[0], int | float) else None


def _reaching(
    view: PlanView,
    models: Mapping[str, NetworkPolicies],
    server: Server,
    pods: list[PodTemplate],
) -> set[str]:
    """The tenants whose pods may open a connection to the server, on any CNI."""
    if server.port is None:
        return set(view.tenants)
    destination = Pod(server.pod.namespace, dict(server.pod.labels), server.pod.named_ports())
    found: set[str] = set()
    for tenant in view.tenants.values():
        for model in models.values():
            sources = candidate_pods(model, tenant.namespace, pods)
            if any(model.can_reach(s, destination, server.port).allowed for s in sources):
                found.add(tenant.name)
                break
    return found


def _server_paths(
    view: PlanView,
    result: ChannelRun,
    projects: dict[str, str],
    server: Server,
    reaching: set[str],
) -> None:
    via = f"{server.pod.subject} ({server.pod.origin})"
    if server.role == "offline":
        what = (
            f"read any tenant's offline data through the offline server {server.pod.subject}: "
            "it reads whatever path a data source names, with its own identity"
        )
        for source in sorted(reaching):
            for target in view.tenants:
                result.path(source, target, what, via)
    elif server.role == "online" and not server.pinned:
        owners = [t for t, p in projects.items() if p == server.project]
        what = (
            f"read {server.project!r} through the online server {server.pod.subject}: its "
            "permission scope follows the caller's ?project= (not pinned to its project)"
        )
        for source in sorted(reaching):
            for owner in owners:
                result.path(source, owner, what, via)
