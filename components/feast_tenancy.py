"""Feast per tenant: a project each, Permissions the platform applies, and the pieces that make
Feast 0.67's authorization hold.

What Feast 0.67 does (each proved against a real Feast server in
tests/workloads/test_tenant_isolation.py):

1. With no Permission in a project, every authenticated caller may do everything there — and a
   caller is "authenticated" by a JWT whose subject Feast decodes WITHOUT verifying it (only
   the TokenReview's groups and namespaces are verified).
2. `Permission(required_tags=...)` matches every resource (the matcher reads an attribute no
   Feast object has), so tag-scoped permissions isolate nothing.
3. Role names come from the unverified subject: `RoleBasedPolicy` trusts a forged token.
   `NamespaceBasedPolicy` uses the namespaces of the TokenReview: it holds.
4. The online server scopes permissions by the caller's `?project=` query parameter but reads
   from its own project: `?project=<anything without permissions>` bypasses all of them.
5. The offline server reads whatever path a data-source definition names, with the server's
   identity: a tenant that can define a source reads any tenant's offline data through it.

So, per tenant: its own project `tenant_<name>` holding its objects, a Permission there for its
namespace only (`NamespaceBasedPolicy`, every action, every type but Permission and Project, so
a tenant's `feast apply` cannot drop the platform's Permissions), the platform's own project
apart (the `feast` namespace only); an online server per tenant serving its project, with the
permission scope pinned to that project (`PROJECT_PIN`) and reachable only from the tenant's
namespace; and no tenant access to a shared offline server (tenants read their offline data
under their own object-store prefix with their own identity).

`permissions_spec` is the document the platform's Job applies (`APPLY_PERMISSIONS`) with the
servers' registry configuration, straight into the SQL registry (no server, no token): each
project is created if missing and its platform-managed Permissions made exactly the spec's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from components import conventions as c

SPEC_KEY = "permissions.json"
SPEC_CONFIG_MAP = "feast-permissions"
MANAGED_TAG = "mlplatform.io/managed-by"
# Feast 0.67 resource types (`feast.feast_object.ALL_RESOURCE_TYPES`) by class name.
ALL_TYPES = (
    "Project",
    "FeatureView",
    "OnDemandFeatureView",
    "BatchFeatureView",
    "StreamFeatureView",
    "LabelView",
    "Entity",
    "FeatureService",
    "DataSource",
    "ValidationReference",
    "SavedDataset",
    "Permission",
)
TENANT_TYPES = tuple(t for t in ALL_TYPES if t not in ("Permission", "Project"))
ALL_ACTIONS = (
    "CREATE",
    "DESCRIBE",
    "UPDATE",
    "DELETE",
    "READ_ONLINE",
    "READ_OFFLINE",
    "WRITE_ONLINE",
    "WRITE_OFFLINE",
)
# Marks the online server's entrypoint that pins the permission scope (finding 4 above); the
# access matrix (infra.tenancy.feast) looks for it.
PROJECT_PIN_MARKER = "mlplatform: Feast permission scope pinned to the server's project"


# The per-tenant online servers: their pods' label, service account (no cloud identity: an
# online server never reads the object store) and names.
TENANT_POD_LABEL = "mlplatform.io/feast-tenant"
ONLINE_SERVICE_ACCOUNT = "feast-online"


@dataclass(frozen=True)
class FeastTenant:
    """A tenant of the feature store: its name and namespace."""

    name: str
    namespace: str

    @property
    def project(self) -> str:
        return tenant_project(self.name)

    @property
    def online_service(self) -> str:
        return f"feast-online-{self.name}"

    @property
    def server_config(self) -> str:
        return f"feast-server-config-{self.name}"


def tenant_project(tenant: str) -> str:
    """A tenant's Feast project (Feast names: letters, digits and underscores)."""
    return f"tenant_{tenant.replace('-', '_')}"


PROJECT_ACTIONS = ("DESCRIBE", "UPDATE")


def _permission(
    name: str,
    types: tuple[str, ...],
    namespaces: list[str],
    actions: tuple[str, ...] = ALL_ACTIONS,
    names: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "name": name,
        "types": list(types),
        "namePatterns": list(names),
        "actions": list(actions),
        "policy": {"type": "namespace", "namespaces": namespaces},
        "tags": {MANAGED_TAG: "platform"},
    }


def permissions_spec(platform_project: str, tenants: dict[str, str]) -> dict[str, Any]:
    """tenant → namespace in; the Permissions of every project out (see the module docstring).

    Besides its objects, a tenant may describe and update its own Project object, in its
    project and in the registry server's own (the platform's) project: the registry server
    authorizes `Commit` (what every `FeatureStore.apply` ends with) against the server's project,
    requiring UPDATE on at least one Project there.
    """
    # `.*`: the same objects as none, but Feast 0.67 then filters what it denies in list calls
    # (and in `Commit`'s "any project you may update") instead of failing the whole call.
    platform = _permission("platform", ALL_TYPES, [c.NS_FEAST], names=(".*",))
    projects: dict[str, list[dict[str, Any]]] = {platform_project: [platform]}
    for tenant, namespace in sorted(tenants.items()):
        own_project = _permission(
            f"tenant-{tenant}-project",
            ("Project",),
            [namespace],
            PROJECT_ACTIONS,
            (tenant_project(tenant),),
        )
        own = _permission(f"tenant-{tenant}", TENANT_TYPES, [namespace])
        projects[tenant_project(tenant)] = [own, own_project, platform]
        projects[platform_project].append(own_project)
    return {"version": 1, "projects": projects}


def spec_json(platform_project: str, tenants: dict[str, str]) -> str:
    return json.dumps(permissions_spec(platform_project, tenants), indent=2, sort_keys=True)


# Runs in the Feast image with the servers' feature_store.yaml (SQL registry): applies the spec.
APPLY_PERMISSIONS = """
import json, sys
from feast import FeatureStore
from feast.feast_object import ALL_RESOURCE_TYPES
from feast.permissions.action import AuthzedAction
from feast.permissions.permission import Permission
from feast.permissions.policy import NamespaceBasedPolicy
from feast.project import Project

TYPES = {t.__name__: t for t in ALL_RESOURCE_TYPES}
spec = json.load(open(sys.argv[2]))
registry = FeatureStore(repo_path=sys.argv[1]).registry
for project, permissions in sorted(spec["projects"].items()):
    try:
        registry.get_project(project, allow_cache=False)
    except Exception:
        registry.apply_project(Project(name=project), commit=True)
    wanted = set()
    for p in permissions:
        if p["policy"]["type"] != "namespace":
            raise SystemExit(f"{project}/{p['name']}: only namespace policies are applied")
        registry.apply_permission(
            Permission(
                name=p["name"],
                types=[TYPES[t] for t in p["types"]],
                name_patterns=p["namePatterns"],
                actions=[AuthzedAction[a] for a in p["actions"]],
                policy=NamespaceBasedPolicy(namespaces=p["policy"]["namespaces"]),
                tags=p["tags"],
            ),
            project,
            commit=True,
        )
        wanted.add(p["name"])
    for existing in registry.list_permissions(project, allow_cache=False):
        managed = existing.tags.get("%(tag)s") == "platform"
        if managed and existing.name not in wanted:
            registry.delete_permission(existing.name, project, commit=True)
    print(project, sorted(wanted))
""".replace("%(tag)s", MANAGED_TAG)


# The online server's entrypoint: Feast's CLI with the REST permission scope pinned to the
# server's own project (the caller's `?project=` no longer chooses whose Permissions apply).
PROJECT_PIN = f"""
# {PROJECT_PIN_MARKER}
import sys
from feast.permissions.server import rest
rest._extract_project_from_request = lambda request: None
from feast.cli.cli import cli
sys.exit(cli(sys.argv[1:]))
"""


def pinned_feast(args: list[str]) -> list[str]:
    """`feast <args>` with the permission scope pinned (`python -c PROJECT_PIN feast <args>`)."""
    return ["python", "-c", PROJECT_PIN, *args]
