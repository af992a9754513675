"""Opening each channel of the cross-tenant access matrix on a shipped stack: the mutation makes
`mlplatform check --resources … --charts …` and `mlplatform plan` exit 1 naming UAE-TEN-001 and
the channel, with a path the shipped plan does not have.

Each case starts from a synthesized shipped variant and changes or adds a recorded resource the
way a careless change would (a RoleBinding, an ACL, an IAM statement, a Feast Permission...).
`check --resources` reads the mutated resources.json with the stack's policy-config.json and
contract beside it; `plan` gets the mutated synthesis in place of the real one. Rendering needs
the reference charts (../shared/reference/charts): the tests skip, saying so, when absent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from components import conventions as c
from components.feast_tenancy import SPEC_CONFIG_MAP, SPEC_KEY, permissions_spec
from infra import plan as planning
from infra.cli import app
from infra.render.cache import REFERENCE_CHARTS
from infra.synth.recording import Resource
from policies.config_file import policy_config_file
from tests.support.charts import requires_reference_charts

pytestmark = [
    pytest.mark.slow,
    requires_reference_charts,
]
Resources = list[dict[str, Any]]
VARIANTS = {
    "onprem": ("uae-onprem",),
    "msk": ("uae-cloud", "kafka.mode=managed"),
    "eventhubs": ("uae-cloud-azure", "kafka.mode=managed"),
}
runner = CliRunner()


# --------------------------------------------------------------------------- finding things


def k8s(rs: Resources, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
    for r in rs:
        meta = r["inputs"].get("metadata") or {}
        if (
            r["type"].endswith(f":{kind}")
            and meta.get("name") == name
            and meta.get("namespace") == namespace
        ):
            return r
    raise AssertionError(f"the stack no longer declares {kind} {namespace}/{name}")


def named(rs: Resources, type_: str, contains: str) -> dict[str, Any]:
    for r in rs:
        if r["type"] == type_ and contains in r["name"]:
            return r
    raise AssertionError(f"the stack no longer declares a {type_} named like {contains!r}")


def added(rs: Resources, like: dict[str, Any], name: str, inputs: dict[str, Any]) -> None:
    """A new resource shaped like `like` (same type, parent and provider)."""
    new = copy.deepcopy(like)
    new.update(name=name, urn=f"{like['urn'].rsplit('::', 1)[0]}::{name}", inputs=inputs, id=None)
    rs.append(new)


def edit_document(
    resource: dict[str, Any], key: str, change: Callable[[dict[str, Any]], None]
) -> None:
    document = json.loads(resource["inputs"][key])
    change(document)
    resource["inputs"][key] = json.dumps(document)


# --------------------------------------------------------------------------- mutations


def rbac_other_tenants_group(rs: Resources) -> None:
    own = k8s(rs, "RoleBinding", c.tenant_namespace("risk"), "tenant-developer")
    theirs = k8s(rs, "RoleBinding", c.tenant_namespace("marketing"), "tenant-developer")
    inputs = copy.deepcopy(own["inputs"])
    inputs["metadata"]["name"] = "helping-hand"
    inputs["subjects"] = copy.deepcopy(theirs["inputs"]["subjects"])
    added(rs, own, "tenant-risk-helping-hand", inputs)


def network_tenant_to_tenant(rs: Resources) -> None:
    risk = k8s(rs, "NetworkPolicy", c.tenant_namespace("risk"), "allow-same-namespace")
    risk["inputs"]["spec"]["ingress"][0]["from"].append(
        {"namespaceSelector": {"matchLabels": {c.TENANT_LABEL: "marketing"}}}
    )
    marketing = k8s(rs, "NetworkPolicy", c.tenant_namespace("marketing"), "allow-same-namespace")
    marketing["inputs"]["spec"]["egress"].append({"to": [{"namespaceSelector": {}}]})


def kafka_strimzi_acl(rs: Resources) -> None:
    user = k8s(rs, "KafkaUser", c.NS_KAFKA, "tenant-marketing")
    user["inputs"]["spec"]["authorization"]["acls"].append(
        {
            "resource": {"type": "topic", "name": "risk.", "patternType": "prefix"},
            "operations": ["Read"],
        }
    )


def kafka_msk_topics(rs: Resources) -> None:
    policy = named(rs, "aws:iam/rolePolicy:RolePolicy", "tenant-marketing")

    def widen(document: dict[str, Any]) -> None:
        own = next(s for s in document["Statement"] if s["Sid"] == "OwnTopics")
        own["Resource"] = [r.replace("/marketing.*", "/*") for r in own["Resource"]]

    edit_document(policy, "policy", widen)


def kafka_event_hubs_role(rs: Resources) -> None:
    receiver = named(
        rs,
        "azure-native:authorization:RoleAssignment",
        "evh-marketing-azure-event-hubs-data-receiver",
    )
    inputs = copy.deepcopy(receiver["inputs"])
    inputs["scope"] = inputs["scope"].rsplit("/eventhubs/", 1)[0] + "/eventhubs/risk.transactions"
    added(rs, receiver, "evh-marketing-reads-risk", inputs)


def _risk_project(rs: Resources) -> str:
    client = k8s(rs, "ConfigMap", c.tenant_namespace("risk"), c.FEAST_CLIENT_CONFIG)
    text = client["inputs"]["data"]["feature_store.yaml"]
    return next(
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("project:")
    )


def feast_permission_for_another_namespace(rs: Resources) -> None:
    project = _risk_project(rs)
    try:
        spec_map = k8s(rs, "ConfigMap", c.NS_FEAST, SPEC_CONFIG_MAP)
    except AssertionError:  # no Permission declared yet: declare one that admits marketing
        like = k8s(rs, "ConfigMap", c.NS_FEAST, "feast-server-config")
        spec = permissions_spec(project, {"risk": c.tenant_namespace("risk")})
        inputs = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": SPEC_CONFIG_MAP, "namespace": c.NS_FEAST},
            "data": {SPEC_KEY: json.dumps(spec)},
        }
        added(rs, like, "feast-permissions", inputs)
        spec_map = rs[-1]
    spec = json.loads(spec_map["inputs"]["data"][SPEC_KEY])
    spec["projects"].setdefault(project, [])
    spec["projects"][project].append(
        {
            "name": "helping-hand",
            "types": ["FeatureView"],
            "namePatterns": [],
            "actions": ["READ_ONLINE"],
            "policy": {"type": "namespace", "namespaces": [c.tenant_namespace("marketing")]},
            "tags": {},
        }
    )
    spec_map["inputs"]["data"][SPEC_KEY] = json.dumps(spec)


def mlflow_default_read(rs: Resources) -> None:
    config = k8s(rs, "ConfigMap", c.NS_MLFLOW, "mlflow-auth-config")
    data = config["inputs"]["data"]
    data["basic_auth.ini"] = data["basic_auth.ini"].replace("NO_PERMISSIONS", "READ")


def _marketing_role_policy(rs: Resources) -> dict[str, Any]:
    return named(rs, "aws:iam/rolePolicy:RolePolicy", "tenant-marketing")


def object_store_every_prefix(rs: Resources) -> None:
    bucket = named(rs, "aws:s3/bucket:Bucket", "offline")["inputs"]["bucket"]

    def read_all(document: dict[str, Any]) -> None:
        document["Statement"].append(
            {
                "Sid": "ReadOffline",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/feast/*"],
            }
        )

    edit_document(_marketing_role_policy(rs), "policy", read_all)


def keys_tenant_in_key_policy(rs: Resources) -> None:
    role = _marketing_role_policy(rs)["inputs"]["role"]
    key = named(rs, "aws:kms/key:Key", "data")

    def name_tenant(document: dict[str, Any]) -> None:
        document["Statement"].append(
            {
                "Sid": "TenantDecrypt",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Principal": {"AWS": f"arn:aws:iam::111122223333:role/{role}"},
            }
        )

    edit_document(key, "policy", name_tenant)


@dataclass(frozen=True)
class Case:
    channel: str
    variant: str
    mutate: Callable[[Resources], None]
    expect: str  # part of the new path's description


CASES = (
    Case("rbac", "onprem", rbac_other_tenants_group, "tenant-risk"),
    Case("network", "onprem", network_tenant_to_tenant, "connect"),
    Case("kafka", "onprem", kafka_strimzi_acl, "risk."),
    Case("kafka", "msk", kafka_msk_topics, "'*'"),
    Case("kafka", "eventhubs", kafka_event_hubs_role, "risk.transactions"),
    Case("feast", "onprem", feast_permission_for_another_namespace, "helping-hand"),
    Case("mlflow", "onprem", mlflow_default_read, "READ"),
    Case("object-store", "msk", object_store_every_prefix, "feast/*"),
    Case("keys", "msk", keys_tenant_in_key_policy, "kms:Decrypt"),
)
IDS = [f"{c.channel}-{c.variant}" for c in CASES]


# --------------------------------------------------------------------------- the runs

_SHIPPED: dict[str, planning.PlanResult] = {}
_BASELINES: dict[str, set[tuple[str, str, str, str]]] = {}


def shipped(stack_plan: Callable[..., planning.PlanResult], variant: str) -> planning.PlanResult:
    if variant not in _SHIPPED:
        _SHIPPED[variant] = stack_plan(*VARIANTS[variant])
    return _SHIPPED[variant]


def recorded(result: planning.PlanResult) -> Resources:
    resources = [r.to_json() for r in sorted(result.synthesis.resources, key=lambda r: r.urn)]
    return json.loads(json.dumps(resources, default=str))


def run_check(
    directory: Path, result: planning.PlanResult, resources: Resources
) -> tuple[int, dict]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "resources.json").write_text(json.dumps(resources))
    config = policy_config_file(planning.policy_config(result.config))
    (directory / planning.POLICY_CONFIG_FILE).write_text(json.dumps(config))
    (directory / "outputs.json").write_text(json.dumps(result.synthesis.outputs, default=str))
    args = [
        "check",
        "--resources",
        str(directory / "resources.json"),
        "--charts",
        str(REFERENCE_CHARTS),
        "--json",
    ]
    done = runner.invoke(app, args)
    assert done.exit_code in (0, 1), done.output
    return done.exit_code, json.loads(done.stdout)


def paths(tenancy: dict) -> set[tuple[str, str, str, str]]:
    return {(f["channel"], f["source"], f["target"], f["what"]) for f in tenancy["findings"]}


def baseline(
    variant: str, result: planning.PlanResult, tmp_path: Path
) -> set[tuple[str, str, str, str]]:
    if variant not in _BASELINES:
        _, report = run_check(tmp_path / "baseline", result, recorded(result))
        _BASELINES[variant] = paths(report["tenancy"])
    return _BASELINES[variant]


def new_paths(case: Case, found: set[tuple[str, str, str, str]], before: set) -> list[tuple]:
    return [
        p
        for p in found - before
        if p[0] == case.channel and p[1:3] == ("marketing", "risk") and case.expect in p[3]
    ]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_resources_fails_naming_the_channel(case: Case, stack_plan, tmp_path: Path) -> None:
    result = shipped(stack_plan, case.variant)
    before = baseline(case.variant, result, tmp_path)
    resources = recorded(result)
    case.mutate(resources)
    code, report = run_check(tmp_path / "mutated", result, resources)
    ours = new_paths(case, paths(report["tenancy"]), before)
    now = paths(report["tenancy"]) - before
    assert ours, f"UAE-TEN-001 did not report a new {case.channel} path; new paths: {now}"
    assert code == 1
    assert report["tenancy"]["passed"] is False


def mutated_synthesis(
    result: planning.PlanResult, mutate: Callable[[Resources], None]
) -> planning.PlanResult:
    """The same synthesis with `mutate` applied to its resources (unredacted inputs)."""
    original = [copy.deepcopy(r) for r in result.synthesis.resources]
    as_json = [
        {
            "urn": r.urn,
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "provider": r.provider,
            "custom": r.custom,
            "id": r.id,
            "options": r.options,
            "inputs": r.inputs,
        }
        for r in original
    ]
    mutate(as_json)
    synthesis = copy.copy(result.synthesis)
    synthesis.resources = [
        Resource(
            d["urn"],
            d["type"],
            d["name"],
            d["parent"],
            d["provider"],
            d["custom"],
            d["inputs"],
            {},
            d["options"],
            d["id"],
        )
        for d in as_json
    ]
    return planning.PlanResult(result.name, result.config, synthesis)


ONE_PER_CHANNEL = list({c.channel: c for c in reversed(CASES)}.values())


@pytest.mark.parametrize("case", ONE_PER_CHANNEL, ids=lambda c: f"{c.channel}-{c.variant}")
def test_plan_fails_naming_the_channel(case: Case, stack_plan, tmp_path: Path, monkeypatch) -> None:
    result = shipped(stack_plan, case.variant)
    before = baseline(case.variant, result, tmp_path)
    broken = mutated_synthesis(result, case.mutate)
    monkeypatch.setattr(planning, "synthesize_stack", lambda *args, **kwargs: broken)
    args = [
        "plan",
        "--stack",
        VARIANTS[case.variant][0],
        "--out",
        str(tmp_path),
        "--skip-checkov",
        "--charts",
        str(REFERENCE_CHARTS),
    ]
    done = runner.invoke(app, args)
    assert done.exit_code == 1, done.output
    written = json.loads((tmp_path / result.name / "tenancy.json").read_text())
    assert new_paths(case, paths(written), before), (
        f"UAE-TEN-001 did not report a new {case.channel} path"
    )
    assert f"UAE-TEN-001 ({case.channel}) marketing → risk" in done.output
    report = json.loads((tmp_path / result.name / "compliance.json").read_text())
    assert report["summary"]["tenancyPaths"] >= 1 and report["result"] == "fail"
