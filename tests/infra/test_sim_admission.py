"""Pod Security admission as the simulation applies it: each baseline and restricted control of
the Pod Security Standards refuses a pod that breaks it, citing the control."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from infra.simulate import admission
from infra.simulate.pods import PodTemplate

RESTRICTED_CONTAINER = {
    "name": "app",
    "image": "registry.example.ae/app:1",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}
RESTRICTED_POD = {
    "containers": [RESTRICTED_CONTAINER],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def pod(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> PodTemplate:
    return PodTemplate(
        "Deployment ns/app", "program urn", "ns", {}, annotations or {}, spec, "Deployment"
    )


def broken(change: Callable[[dict[str, Any]], None]) -> PodTemplate:
    spec = copy.deepcopy(RESTRICTED_POD)
    change(spec)
    return pod(spec)


def container(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["containers"][0]


def context(spec: dict[str, Any]) -> dict[str, Any]:
    return container(spec)["securityContext"]


BASELINE_CASES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("Host Namespaces", lambda s: s.update(hostNetwork=True)),
    ("Host Namespaces", lambda s: s.update(hostPID=True)),
    ("Privileged Containers", lambda s: context(s).update(privileged=True)),
    ("Capabilities", lambda s: context(s)["capabilities"].update(add=["SYS_ADMIN"])),
    ("HostPath Volumes", lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}})),
    ("Host Ports", lambda s: container(s).update(ports=[{"containerPort": 80, "hostPort": 80}])),
    ("AppArmor", lambda s: context(s).update(appArmorProfile={"type": "Unconfined"})),
    ("SELinux", lambda s: context(s).update(seLinuxOptions={"type": "spc_t"})),
    ("SELinux", lambda s: context(s).update(seLinuxOptions={"user": "system_u"})),
    ("/proc Mount Type", lambda s: context(s).update(procMount="Unmasked")),
    ("Seccomp", lambda s: context(s).update(seccompProfile={"type": "Unconfined"})),
    (
        "Sysctls",
        lambda s: s.update(securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}),
    ),
    ("HostProcess", lambda s: context(s).update(windowsOptions={"hostProcess": True})),
]
RESTRICTED_CASES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    (
        "Volume Types",
        lambda s: s["volumes"].append({"name": "n", "nfs": {"server": "x", "path": "/"}}),
    ),
    ("Privilege Escalation", lambda s: context(s).pop("allowPrivilegeEscalation")),
    ("Running as Non-root", lambda s: context(s).pop("runAsNonRoot")),
    ("Running as Non-root", lambda s: context(s).update(runAsNonRoot=False)),
    ("Running as Non-root user", lambda s: context(s).update(runAsUser=0)),
    ("Seccomp", lambda s: context(s).pop("seccompProfile")),
    ("Capabilities", lambda s: context(s)["capabilities"].update(drop=["NET_RAW"])),
    ("Capabilities", lambda s: context(s)["capabilities"].update(add=["CHOWN"])),
]


def test_a_restricted_pod_passes_every_level() -> None:
    for level in ("privileged", "baseline", "restricted"):
        assert admission.violations(pod(RESTRICTED_POD), level) == []


@pytest.mark.parametrize(("control", "change"), BASELINE_CASES)
def test_baseline_controls(control: str, change: Callable[[dict[str, Any]], None]) -> None:
    found = admission.violations(broken(change), "baseline")
    assert any(v.control == control and v.level == "baseline" for v in found), found
    assert admission.violations(broken(change), "privileged") == []


@pytest.mark.parametrize(("control", "change"), RESTRICTED_CASES)
def test_restricted_controls(control: str, change: Callable[[dict[str, Any]], None]) -> None:
    found = admission.violations(broken(change), "restricted")
    assert any(v.control == control and v.level == "restricted" for v in found), found
    assert not [
        v for v in admission.violations(broken(change), "baseline") if v.level == "restricted"
    ]


def test_pod_level_settings_cover_every_container_and_init_containers_count() -> None:
    spec = copy.deepcopy(RESTRICTED_POD)
    for key in ("runAsNonRoot", "seccompProfile"):
        context(spec).pop(key)
    spec["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert admission.violations(pod(spec), "restricted") == []
    spec["initContainers"] = [{"name": "init", "image": "x", "securityContext": {}}]
    controls = {v.control for v in admission.violations(pod(spec), "restricted")}
    assert controls == {"Privilege Escalation", "Capabilities"}


def test_apparmor_annotation() -> None:
    bad = pod(RESTRICTED_POD, {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"})
    assert [v.control for v in admission.violations(bad, "baseline")] == ["AppArmor"]


def namespace(name: str, level: str, exemption: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {admission.ENFORCE_LABEL: level}}
    if exemption:
        meta["annotations"] = {admission.EXEMPTION_ANNOTATION: exemption}
    return {"kind": "Namespace", "metadata": meta}


def test_the_check_cites_the_rule_and_the_namespace_level() -> None:
    no_non_root = broken(lambda s: context(s).pop("runAsNonRoot"))
    run = admission.check(
        [no_non_root], admission.namespace_levels([namespace("ns", "restricted")])
    )
    assert run.status == "fail"
    message = run.findings[0].message
    assert run.findings[0].check == "SIM-ADM-001"
    assert "enforce=restricted" in message and "[PSS restricted: Running as Non-root]" in message


def test_a_recorded_exemption_stays_an_exemption_and_shows_what_it_excuses() -> None:
    privileged = broken(lambda s: context(s).update(privileged=True))
    levels = admission.namespace_levels([namespace("ns", "privileged", "GPU drivers need it")])
    run = admission.check([privileged], levels)
    assert run.status == "pass" and not run.findings
    assert "GPU drivers need it" in run.exemptions[0].reason
    assert "Privileged Containers" in run.exemptions[0].reason


def test_an_unknown_level_is_refused() -> None:
    run = admission.check(
        [pod(RESTRICTED_POD)], admission.namespace_levels([namespace("ns", "strict")])
    )
    assert "not a Pod Security level" in run.findings[0].message
