"""The tenant namespaces' ValidatingAdmissionPolicy: its CEL evaluated against sample pods with a
CEL implementation (cel-python), and the objects the component declares.

The validations use standard CEL only (`has`, `all`, `startsWith`, `in`), which cel-python
implements; the messages also use `join`, from the Kubernetes CEL strings library
(`<list<string>>.join(<string>)`), which the test provides with the same meaning.
"""

from __future__ import annotations

import copy
from typing import Any

import celpy
import pulumi
import pulumi_kubernetes as k8s
import pytest
from celpy import celtypes

from components import conventions as c
from components.tenant_admission import (
    POLICY,
    TenantAdmission,
    TenantAdmissionArgs,
    binding_spec,
    policy_spec,
    validations,
)
from infra.synth import manifests
from tests.support.schemas import core_object_errors

MIRROR = "harbor.dc1.example.ae/mlplatform"
GOOD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p", "namespace": "tenant-risk"},
    "spec": {
        "containers": [
            {
                "name": "model",
                "image": f"{MIRROR}/serving:0.1.0@sha256:{'a' * 64}",
                "securityContext": {"privileged": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
        "initContainers": [
            {"name": "init", "image": f"{MIRROR}/kserve/storage-initializer:v0.20.0"}
        ],
    },
}


def _join(items: celtypes.ListType, separator: celtypes.StringType) -> celtypes.StringType:
    return celtypes.StringType(str(separator).join(str(i) for i in items))


def admit(pod: dict[str, Any]) -> list[str]:
    """The messages of every validation the pod fails (empty: admitted)."""
    env = celpy.Environment()
    activation = {"object": celpy.json_to_cel(pod)}
    refused = []
    for validation in validations(MIRROR):
        verdict = env.program(env.compile(validation["expression"])).evaluate(activation)
        if not bool(verdict):
            message = validation.get("message")
            if "messageExpression" in validation:
                program = env.program(
                    env.compile(validation["messageExpression"]), functions={"join": _join}
                )
                message = str(program.evaluate(activation))
            refused.append(str(message))
    return refused


def pod(change: Any) -> dict[str, Any]:
    body = copy.deepcopy(GOOD)
    change(body["spec"])
    return body


def test_a_pod_from_the_mirror_is_admitted() -> None:
    assert admit(GOOD) == []
    assert admit(pod(lambda s: s.pop("initContainers"))) == []


@pytest.mark.parametrize(
    ("where", "image"),
    [
        ("containers", "docker.io/library/python:3.11"),
        ("containers", "nvcr.io/nvidia/pytorch:24.01-py3"),
        ("containers", "harbor.dc1.example.ae/other/serving:0.1.0"),  # same host, not the mirror
        ("containers", "harbor.dc1.example.ae/mlplatform-evil/x:1"),  # prefix without the slash
        ("containers", "python:3.11"),  # Docker Hub by default
        ("initContainers", "ghcr.io/someone/init:1"),
        ("ephemeralContainers", "busybox"),
    ],
)
def test_an_image_outside_the_mirror_is_refused_naming_it(where: str, image: str) -> None:
    def change(spec: dict[str, Any]) -> None:
        spec.setdefault(where, []).append({"name": "intruder", "image": image})

    refused = admit(pod(change))
    assert refused == [f"images must come from the mirror {MIRROR}/: intruder={image}"]


def test_a_privileged_container_is_refused() -> None:
    def change(spec: dict[str, Any]) -> None:
        spec["containers"][0]["securityContext"]["privileged"] = True

    assert admit(pod(change)) == [
        "privileged containers are not allowed in tenant namespaces: model"
    ]


def test_added_capabilities_and_host_namespaces_are_refused() -> None:
    def caps(spec: dict[str, Any]) -> None:
        spec["containers"][0]["securityContext"]["capabilities"]["add"] = ["SYS_ADMIN"]

    assert admit(pod(caps)) == ["containers may add no capability but NET_BIND_SERVICE"]
    bind = pod(
        lambda s: s["containers"][0]["securityContext"]["capabilities"].update(
            add=["NET_BIND_SERVICE"]
        )
    )
    assert admit(bind) == []
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        assert admit(pod(lambda s, h=host: s.update({h: True}))) == [
            "pods in tenant namespaces may not use the host's network, PID or IPC"
        ]


def test_every_expression_compiles() -> None:
    env = celpy.Environment()
    for validation in validations(MIRROR):
        env.compile(validation["expression"])
        if "messageExpression" in validation:
            env.compile(validation["messageExpression"])


def test_the_policy_binds_deny_to_tenant_namespaces_only() -> None:
    spec = policy_spec(MIRROR)
    assert spec["failurePolicy"] == "Fail"
    (rule,) = spec["matchConstraints"]["resourceRules"]
    assert set(rule["resources"]) == {"pods", "pods/ephemeralcontainers"}
    assert set(rule["operations"]) == {"CREATE", "UPDATE"}
    binding = binding_spec()
    assert binding["policyName"] == POLICY and binding["validationActions"] == ["Deny"]
    selector = binding["matchResources"]["namespaceSelector"]
    assert selector == {"matchExpressions": [{"key": c.TENANT_LABEL, "operator": "Exists"}]}


def test_the_component_declares_valid_objects(run_program) -> None:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        TenantAdmission(
            "tenant-admission",
            TenantAdmissionArgs(mirror=MIRROR, labels={"owner": "ml-platform-team"}),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    synthesis = run_program(program)
    objects = [
        manifests.to_object(r) for r in synthesis.resources if manifests.is_kubernetes_object(r)
    ]
    kinds = {o["kind"]: o for o in objects}
    assert set(kinds) == {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
    for obj in objects:
        assert obj["apiVersion"] == "admissionregistration.k8s.io/v1"
        assert core_object_errors(obj, "1.34") == []
    assert kinds["ValidatingAdmissionPolicy"]["spec"]["validations"] == validations(MIRROR)
