"""The access matrix's channels over small hand-built plans: each opened on purpose must report
a path naming the channel and the two tenants; the isolated plan reports none.

The plans are what the channels read: Kubernetes objects as the API server receives them (with
an origin, as `infra.render` gives them) and recorded cloud resources (resources.json entries).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from components import conventions as c
from components.feast_tenancy import (
    SPEC_CONFIG_MAP,
    SPEC_KEY,
    pinned_feast,
    spec_json,
    tenant_project,
)
from infra.tenancy import access_matrix

Body = dict[str, Any]
TENANTS = ("risk", "marketing")
ACCOUNT = "111122223333"
CLUSTER_ARN = f"arn:aws:kafka:me-central-1:{ACCOUNT}:cluster/mlp/0000-1111"


@dataclass(frozen=True)
class _Origin:
    where: str = "test"
    patch: bool = False

    def describe(self) -> str:
        return self.where


@dataclass(frozen=True)
class _Object:
    body: Body
    origin: _Origin = _Origin()


def ns(tenant: str) -> str:
    return c.tenant_namespace(tenant)


def meta(name: str, namespace: str | None = None, **labels: str) -> Body:
    found: Body = {"name": name, "labels": dict(labels)}
    if namespace:
        found["namespace"] = namespace
    return found


def binding(
    kind: str, name: str, namespace: str | None, role: tuple[str, str], *subjects: Body
) -> Body:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta(name, namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role[0], "name": role[1]},
        "subjects": list(subjects),
    }


def group(name: str) -> Body:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}


def netpol(name: str, namespace: str, spec: Body) -> Body:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(name, namespace),
        "spec": spec,
    }


def deployment(
    name: str, namespace: str, labels: dict[str, str], container: Body, volumes: list[Body]
) -> Body:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, namespace),
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [container], "volumes": volumes},
            },
        },
    }


def config_map(name: str, namespace: str, data: dict[str, str]) -> Body:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(name, namespace),
        "data": data,
    }


def _tenant_objects(tenant: str) -> list[Body]:
    namespace = ns(tenant)
    client = {
        "project": tenant_project(tenant),
        "provider": "local",
        "auth": {"type": "kubernetes"},
    }
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": meta(namespace, None, **{c.TENANT_LABEL: tenant}),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta("tenant-developer", namespace),
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        },
        binding(
            "RoleBinding",
            "tenant-developer",
            namespace,
            ("Role", "tenant-developer"),
            group(f"idp-{tenant}"),
        ),
        netpol(
            "default-deny", namespace, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        ),
        netpol(
            "allow-same-namespace",
            namespace,
            {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{"to": [{"podSelector": {}}]}],
            },
        ),
        netpol(
            "allow-to-feast",
            namespace,
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "feast"}
                                }
                            }
                        ]
                    }
                ],
            },
        ),
        config_map(c.FEAST_CLIENT_CONFIG, namespace, {"feature_store.yaml": json.dumps(client)}),
        {
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "KafkaUser",
            "metadata": meta(f"tenant-{tenant}", "kafka"),
            "spec": {
                "authorization": {
                    "type": "simple",
                    "acls": [
                        {
                            "resource": {
                                "type": "topic",
                                "name": f"{tenant}.",
                                "patternType": "prefix",
                            },
                            "operations": ["Read", "Write"],
                        },
                        {
                            "resource": {
                                "type": "topic",
                                "name": "platform.model-events",
                                "patternType": "literal",
                            },
                            "operations": ["Read"],
                        },
                    ],
                }
            },
        },
    ]


def _feast_objects() -> list[Body]:
    tenants = {t: ns(t) for t in TENANTS}
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("feast")},
        config_map(SPEC_CONFIG_MAP, "feast", {SPEC_KEY: spec_json("mlplatform", tenants)}),
        netpol("default-deny", "feast", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    ]
    for tenant in TENANTS:
        labels = {"app": f"online-{tenant}"}
        config = f"feast-server-config-{tenant}"
        objects += [
            config_map(
                config,
                "feast",
                {"feature_store.yaml": json.dumps({"project": tenant_project(tenant)})},
            ),
            deployment(
                f"feast-online-{tenant}",
                "feast",
                labels,
                {
                    "name": "online",
                    "command": pinned_feast(["feast", "serve", "--port", "6566"]),
                    "ports": [{"containerPort": 6566}],
                },
                [{"name": "config", "configMap": {"name": config}}],
            ),
            netpol(
                f"online-{tenant}",
                "feast",
                {
                    "podSelector": {"matchLabels": labels},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {"kubernetes.io/metadata.name": ns(tenant)}
                                    }
                                }
                            ],
                            "ports": [{"port": 6566}],
                        }
                    ],
                },
            ),
        ]
    objects.append(
        deployment(
            "feast-offline",
            "feast",
            {"app": "offline"},
            {
                "name": "offline",
                "command": ["feast", "serve_offline", "--port", "8815"],
                "ports": [{"containerPort": 8815}],
            },
            [],
        )
    )
    return objects


def _mlflow_objects(default: str = "NO_PERMISSIONS") -> list[Body]:
    ini = f"[mlflow]\ndefault_permission = {default}\nadmin_username = admin\n"
    return [
        config_map("mlflow-auth-config", "mlflow", {"basic_auth.ini": ini}),
        deployment(
            "mlflow",
            "mlflow",
            {"app": "mlflow"},
            {
                "name": "mlflow",
                "command": [
                    "/bin/sh",
                    "-c",
                    'exec "$@"',
                    "mlflow",
                    "mlflow",
                    "server",
                    "--app-name",
                    "basic-auth",
                    "--serve-artifacts",
                ],
            },
            [{"name": "auth", "configMap": {"name": "mlflow-auth-config"}}],
        ),
    ]


def plan_objects() -> list[Body]:
    objects = [*(_tenant_objects(t) for t in TENANTS)]
    flat = [o for group_ in objects for o in group_]
    flat += [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("kafka")},
        {
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "KafkaTopic",
            "metadata": meta("platform.model-events", "kafka"),
        },
        *_feast_objects(),
        *_mlflow_objects(),
    ]
    return flat


def role_policy(tenant: str, statements: list[Body]) -> dict[str, Any]:
    role = f"mlp-tenant-{tenant}"
    return {
        "type": "aws:iam/rolePolicy:RolePolicy",
        "name": f"{role}-policy",
        "inputs": {
            "role": role,
            "policy": json.dumps({"Version": "2012-10-17", "Statement": statements}),
        },
    }


def aws_resources() -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for tenant in TENANTS:
        resources.append(
            {
                "type": "aws:eks/podIdentityAssociation:PodIdentityAssociation",
                "name": f"{tenant}-association",
                "inputs": {
                    "namespace": ns(tenant),
                    "serviceAccount": "workloads",
                    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/mlp-tenant-{tenant}",
                },
            }
        )
        resources.append(
            role_policy(
                tenant,
                [
                    {
                        "Sid": "OwnTopics",
                        "Effect": "Allow",
                        "Action": ["kafka-cluster:ReadData", "kafka-cluster:WriteData"],
                        "Resource": [CLUSTER_ARN.replace(":cluster/", ":topic/") + f"/{tenant}.*"],
                    },
                    {
                        "Sid": "OwnPrefix",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": [f"arn:aws:s3:::offline/feast/{tenant}/*"],
                    },
                    {
                        "Sid": "ListOwn",
                        "Effect": "Allow",
                        "Action": ["s3:ListBucket"],
                        "Resource": ["arn:aws:s3:::offline"],
                        "Condition": {"StringLike": {"s3:prefix": [f"feast/{tenant}/*"]}},
                    },
                    {
                        "Sid": "KeyViaS3",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": [f"arn:aws:kms:me-central-1:{ACCOUNT}:key/k"],
                        "Condition": {
                            "StringEquals": {"kms:ViaService": "s3.me-central-1.amazonaws.com"}
                        },
                    },
                ],
            )
        )
    resources.append(
        {
            "type": "aws:kms/key:Key",
            "name": "data",
            "inputs": {
                "policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Sid": "Admins",
                                "Effect": "Allow",
                                "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/admin"]},
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ]
                    }
                )
            },
        }
    )
    return resources


def matrix(objects: list[Body], resources: list[dict[str, Any]] | None = None) -> Any:
    return access_matrix([_Object(o) for o in objects], resources or [], {})


def paths(
    objects: list[Body], resources: list[dict[str, Any]] | None = None
) -> set[tuple[str, str, str]]:
    return {(p.channel, p.source, p.target) for p in matrix(objects, resources).paths}


def test_the_isolated_plan_has_no_path_on_any_channel() -> None:
    found = matrix(plan_objects(), aws_resources())
    assert found.passed, [(p.channel, p.source, p.target, p.what) for p in found.paths]
    statuses = {r.channel: r.status for r in found.runs}
    assert statuses == {ch: "pass" for ch in statuses}, statuses


# --------------------------------------------------------------------------- each channel opened


def find(objects: list[Body], kind: str, namespace: str | None, name: str) -> Body:
    for o in objects:
        if (
            o["kind"] == kind
            and o["metadata"]["name"] == name
            and o["metadata"].get("namespace") == namespace
        ):
            return o
    raise AssertionError(f"{kind} {namespace}/{name} missing")


def rbac_group_in_other_namespace(objects: list[Body], _: list[dict[str, Any]]) -> None:
    objects.append(
        binding(
            "RoleBinding", "helper", ns("risk"), ("ClusterRole", "view"), group("idp-marketing")
        )
    )


def rbac_cluster_wide_secrets(objects: list[Body], _: list[dict[str, Any]]) -> None:
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta("reader"),
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
        }
    )
    subject = {"kind": "ServiceAccount", "name": "workloads", "namespace": ns("marketing")}
    objects.append(
        binding("ClusterRoleBinding", "reader", None, ("ClusterRole", "reader"), subject)
    )


def rbac_aggregated_role(objects: list[Body], _: list[dict[str, Any]]) -> None:
    # A chart's aggregated role picks up another chart's rules; binding it cluster-wide leaks.
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta("agg"),
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "true"}}]},
            "rules": [],
        }
    )
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta("part", agg="true"),
            "rules": [
                {
                    "apiGroups": ["serving.kserve.io"],
                    "resources": ["inferenceservices"],
                    "verbs": ["get"],
                }
            ],
        }
    )
    objects.append(
        binding(
            "ClusterRoleBinding", "agg", None, ("ClusterRole", "agg"), group("system:authenticated")
        )
    )


def network_admits_other_tenant(objects: list[Body], _: list[dict[str, Any]]) -> None:
    policy = find(objects, "NetworkPolicy", ns("risk"), "allow-same-namespace")
    policy["spec"]["ingress"][0]["from"].append(
        {"namespaceSelector": {"matchLabels": {c.TENANT_LABEL: "marketing"}}}
    )
    other = find(objects, "NetworkPolicy", ns("marketing"), "allow-same-namespace")
    other["spec"]["egress"].append({"to": [{"namespaceSelector": {}}]})


def kafka_strimzi_prefix(objects: list[Body], _: list[dict[str, Any]]) -> None:
    user = find(objects, "KafkaUser", "kafka", "tenant-marketing")
    user["spec"]["authorization"]["acls"].append(
        {
            "resource": {"type": "topic", "name": "r", "patternType": "prefix"},
            "operations": ["Read"],
        }
    )


def kafka_platform_topic_write(objects: list[Body], _: list[dict[str, Any]]) -> None:
    for tenant in TENANTS:
        user = find(objects, "KafkaUser", "kafka", f"tenant-{tenant}")
        user["spec"]["authorization"]["acls"].append(
            {
                "resource": {
                    "type": "topic",
                    "name": "platform.model-events",
                    "patternType": "literal",
                },
                "operations": ["Write"],
            }
        )


def kafka_msk_wildcard(_: list[Body], resources: list[dict[str, Any]]) -> None:
    policy = next(r for r in resources if r["name"] == "mlp-tenant-marketing-policy")
    document = json.loads(policy["inputs"]["policy"])
    document["Statement"][0]["Resource"] = [CLUSTER_ARN.replace(":cluster/", ":topic/") + "/*"]
    policy["inputs"]["policy"] = json.dumps(document)


def feast_no_permission(objects: list[Body], _: list[dict[str, Any]]) -> None:
    objects.remove(find(objects, "ConfigMap", "feast", SPEC_CONFIG_MAP))


def feast_admits_other_namespace(objects: list[Body], _: list[dict[str, Any]]) -> None:
    spec_map = find(objects, "ConfigMap", "feast", SPEC_CONFIG_MAP)
    spec = json.loads(spec_map["data"][SPEC_KEY])
    spec["projects"][tenant_project("risk")][0]["policy"]["namespaces"].append(ns("marketing"))
    spec_map["data"][SPEC_KEY] = json.dumps(spec)


def feast_platform_scope_admits_other_project(objects: list[Body], _: list[dict[str, Any]]) -> None:
    spec_map = find(objects, "ConfigMap", "feast", SPEC_CONFIG_MAP)
    spec = json.loads(spec_map["data"][SPEC_KEY])
    own = next(p for p in spec["projects"]["mlplatform"] if p["name"] == "tenant-marketing-project")
    own["namePatterns"] = ["tenant_.*"]
    spec_map["data"][SPEC_KEY] = json.dumps(spec)


def feast_role_policy(objects: list[Body], _: list[dict[str, Any]]) -> None:
    spec_map = find(objects, "ConfigMap", "feast", SPEC_CONFIG_MAP)
    spec = json.loads(spec_map["data"][SPEC_KEY])
    spec["projects"][tenant_project("risk")][0]["policy"] = {"type": "role", "roles": ["risk"]}
    spec_map["data"][SPEC_KEY] = json.dumps(spec)


def feast_unpinned_reachable_online(objects: list[Body], _: list[dict[str, Any]]) -> None:
    server = find(objects, "Deployment", "feast", "feast-online-risk")
    server["spec"]["template"]["spec"]["containers"][0]["command"] = [
        "feast",
        "serve",
        "--port",
        "6566",
    ]
    policy = find(objects, "NetworkPolicy", "feast", "online-risk")
    policy["spec"]["ingress"][0]["from"] = [
        {"namespaceSelector": {"matchLabels": {c.TENANT_LABEL: "marketing"}}}
    ]


def feast_offline_reachable(objects: list[Body], _: list[dict[str, Any]]) -> None:
    objects.append(
        netpol(
            "offline",
            "feast",
            {
                "podSelector": {"matchLabels": {"app": "offline"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchExpressions": [
                                        {"key": c.TENANT_LABEL, "operator": "Exists"}
                                    ]
                                }
                            }
                        ]
                    }
                ],
            },
        )
    )


def feast_shared_project(objects: list[Body], _: list[dict[str, Any]]) -> None:
    client = find(objects, "ConfigMap", ns("marketing"), c.FEAST_CLIENT_CONFIG)
    client["data"]["feature_store.yaml"] = json.dumps({"project": tenant_project("risk")})


def mlflow_default_read(objects: list[Body], _: list[dict[str, Any]]) -> None:
    config = find(objects, "ConfigMap", "mlflow", "mlflow-auth-config")
    config["data"]["basic_auth.ini"] = config["data"]["basic_auth.ini"].replace(
        "NO_PERMISSIONS", "READ"
    )


def mlflow_without_auth(objects: list[Body], _: list[dict[str, Any]]) -> None:
    server = find(objects, "Deployment", "mlflow", "mlflow")
    command = server["spec"]["template"]["spec"]["containers"][0]["command"]
    del command[command.index("--app-name") : command.index("--app-name") + 2]


def object_store_whole_bucket(_: list[Body], resources: list[dict[str, Any]]) -> None:
    policy = next(r for r in resources if r["name"] == "mlp-tenant-marketing-policy")
    document = json.loads(policy["inputs"]["policy"])
    document["Statement"][1]["Resource"] = ["arn:aws:s3:::offline/feast/*"]
    policy["inputs"]["policy"] = json.dumps(document)


def object_store_list_everything(_: list[Body], resources: list[dict[str, Any]]) -> None:
    policy = next(r for r in resources if r["name"] == "mlp-tenant-marketing-policy")
    document = json.loads(policy["inputs"]["policy"])
    del document["Statement"][2]["Condition"]
    policy["inputs"]["policy"] = json.dumps(document)


def keys_named_in_key_policy(_: list[Body], resources: list[dict[str, Any]]) -> None:
    key = next(r for r in resources if r["type"] == "aws:kms/key:Key")
    document = json.loads(key["inputs"]["policy"])
    document["Statement"].append(
        {
            "Sid": "Tenant",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": "*",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/mlp-tenant-marketing"},
        }
    )
    key["inputs"]["policy"] = json.dumps(document)


def keys_direct_decrypt(_: list[Body], resources: list[dict[str, Any]]) -> None:
    policy = next(r for r in resources if r["name"] == "mlp-tenant-marketing-policy")
    document = json.loads(policy["inputs"]["policy"])
    del document["Statement"][3]["Condition"]
    policy["inputs"]["policy"] = json.dumps(document)


Mutation = Callable[[list[Body], list[dict[str, Any]]], None]
CASES: list[tuple[str, Mutation, str, str, str]] = [
    (
        "rbac: another tenant's group bound in the namespace",
        rbac_group_in_other_namespace,
        "rbac",
        "marketing",
        "risk",
    ),
    (
        "rbac: cluster-wide Secrets for a tenant SA",
        rbac_cluster_wide_secrets,
        "rbac",
        "marketing",
        "risk",
    ),
    (
        "rbac: aggregated ClusterRole bound to everyone",
        rbac_aggregated_role,
        "rbac",
        "risk",
        "marketing",
    ),
    ("network: tenant admits tenant", network_admits_other_tenant, "network", "marketing", "risk"),
    ("kafka: ACL prefix covers another tenant", kafka_strimzi_prefix, "kafka", "marketing", "risk"),
    (
        "kafka: tenants write a platform topic",
        kafka_platform_topic_write,
        "kafka",
        "marketing",
        "risk",
    ),
    ("kafka: MSK policy on every topic", kafka_msk_wildcard, "kafka", "marketing", "risk"),
    ("feast: no Permission", feast_no_permission, "feast", "marketing", "risk"),
    (
        "feast: Permission admits another namespace",
        feast_admits_other_namespace,
        "feast",
        "marketing",
        "risk",
    ),
    ("feast: role-based policy (forgeable)", feast_role_policy, "feast", "marketing", "risk"),
    (
        "feast: platform scope admits another tenant's Project",
        feast_platform_scope_admits_other_project,
        "feast",
        "marketing",
        "risk",
    ),
    (
        "feast: unpinned online server reachable",
        feast_unpinned_reachable_online,
        "feast",
        "marketing",
        "risk",
    ),
    (
        "feast: tenants reach the offline server",
        feast_offline_reachable,
        "feast",
        "marketing",
        "risk",
    ),
    ("feast: shared project", feast_shared_project, "feast", "marketing", "risk"),
    ("mlflow: default READ", mlflow_default_read, "mlflow", "marketing", "risk"),
    ("mlflow: no auth app", mlflow_without_auth, "mlflow", "marketing", "risk"),
    (
        "object-store: a prefix above every tenant's",
        object_store_whole_bucket,
        "object-store",
        "marketing",
        "risk",
    ),
    (
        "object-store: list without a prefix",
        object_store_list_everything,
        "object-store",
        "marketing",
        "risk",
    ),
    ("keys: tenant in the key policy", keys_named_in_key_policy, "keys", "marketing", "risk"),
    ("keys: decrypt outside S3", keys_direct_decrypt, "keys", "marketing", "risk"),
]


@pytest.mark.parametrize(
    ("mutate", "channel", "source", "target"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_opened_channel_reports_the_path(
    mutate: Mutation, channel: str, source: str, target: str
) -> None:
    objects, resources = copy.deepcopy(plan_objects()), copy.deepcopy(aws_resources())
    mutate(objects, resources)
    found = paths(objects, resources)
    assert (channel, source, target) in found, found
    assert {p[0] for p in found} == {channel}, f"only {channel} should open: {found}"


def test_a_shared_platform_topic_only_the_platform_writes_is_no_path() -> None:
    # Both tenants READ platform.model-events (plan_objects); nobody of theirs writes it.
    assert not {p for p in paths(plan_objects()) if p[0] == "kafka"}


def test_the_matrix_names_every_pair_and_channel() -> None:
    objects = plan_objects()
    mlflow_default_read(objects, [])
    report = matrix(objects).to_dict()
    assert report["policy"]["id"] == "UAE-TEN-001" and report["passed"] is False
    pairs = {(row["source"], row["target"]): row["channels"] for row in report["matrix"]}
    assert set(pairs) == {("marketing", "risk"), ("risk", "marketing")}
    assert pairs[("marketing", "risk")]["mlflow"] >= 1 and pairs[("marketing", "risk")]["rbac"] == 0
    assert all(f["remediation"] and f["via"] for f in report["findings"])


def test_a_literal_grant_on_another_tenants_topic_is_a_path() -> None:
    objects = plan_objects()
    user = find(objects, "KafkaUser", "kafka", "tenant-marketing")
    user["spec"]["authorization"]["acls"].append(
        {
            "resource": {"type": "topic", "name": "risk.scores", "patternType": "literal"},
            "operations": ["Read"],
        }
    )
    assert ("kafka", "marketing", "risk") in paths(objects)
