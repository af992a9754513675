"""Pod Security admission, as the API server would apply it to every pod the plan implies.

The baseline and restricted controls of the Kubernetes Pod Security Standards
(kubernetes.io/docs/concepts/security/pod-security-standards), each checked on the pod and on
every init, regular and ephemeral container, and named in the finding as the standard names it:
`[PSS baseline: Host Namespaces]`. A namespace's level is its
`pod-security.kubernetes.io/enforce` label (`privileged` enforces nothing). A namespace the
stack exempts (`components.namespace.PSS_EXEMPTIONS`, written on the Namespace as the
`mlplatform.io/pss-exemption` annotation) keeps its weaker level; what its pods would break at
`restricted` is listed as exemptions, never silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from infra.simulate.checks import ADMISSION, CheckRun
from infra.simulate.kube import annotations_of, items, labels_of, mapping, name_of
from infra.simulate.pods import PodTemplate

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
EXEMPTION_ANNOTATION = "mlplatform.io/pss-exemption"
LEVELS = ("privileged", "baseline", "restricted")

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
_VOLUME_FIELDS_IGNORED = frozenset({"name"})


@dataclass(frozen=True)
class Violation:
    level: str  # the level whose control it breaks
    control: str  # the control's name in the standard
    detail: str

    def __str__(self) -> str:
        return f"[PSS {self.level}: {self.control}] {self.detail}"


def violations(pod: PodTemplate, level: str) -> list[Violation]:
    """What `pod` breaks at `level` (baseline controls apply at restricted too)."""
    if level not in ("baseline", "restricted"):
        return []
    found = _baseline(pod)
    if level == "restricted":
        found += _restricted(pod)
    return found


# --------------------------------------------------------------------------- baseline


def _baseline(pod: PodTemplate) -> list[Violation]:
    spec, found = pod.spec, []

    def add(control: str, detail: str) -> None:
        found.append(Violation("baseline", control, detail))

    pod_ctx = mapping(spec.get("securityContext"))
    contexts = [("pod", pod_ctx)] + [
        (f"{kind}[{c.get('name')}]", mapping(c.get("securityContext")))
        for kind, c in pod.containers()
    ]
    for where, ctx in contexts:
        if mapping(ctx.get("windowsOptions")).get("hostProcess") is True:
            add("HostProcess", f"{where}: windowsOptions.hostProcess must be false or unset")
        _selinux(where, mapping(ctx.get("seLinuxOptions")), add)
        apparmor = mapping(ctx.get("appArmorProfile")).get("type")
        if apparmor not in (None, "RuntimeDefault", "Localhost"):
            add("AppArmor", f"{where}: appArmorProfile.type {apparmor!r} is not allowed")
        if mapping(ctx.get("seccompProfile")).get("type") == "Unconfined":
            add("Seccomp", f"{where}: seccompProfile.type must not be Unconfined")
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            add("Host Namespaces", f"pod: {field} must be false or unset")
    for kind, c in pod.containers():
        where, ctx = f"{kind}[{c.get('name')}]", mapping(c.get("securityContext"))
        if ctx.get("privileged") is True:
            add("Privileged Containers", f"{where}: privileged must be false or unset")
        added = {str(a) for a in items(mapping(ctx.get("capabilities")).get("add"))}
        if added - BASELINE_CAPABILITIES:
            extra = ", ".join(sorted(added - BASELINE_CAPABILITIES))
            add("Capabilities", f"{where}: adds {extra} (beyond the baseline set)")
        if ctx.get("procMount") not in (None, "Default"):
            add("/proc Mount Type", f"{where}: procMount must be Default or unset")
        for port in items(c.get("ports")):
            if mapping(port).get("hostPort") not in (None, 0):
                add("Host Ports", f"{where}: hostPort {mapping(port)['hostPort']} is not allowed")
    for volume in items(spec.get("volumes")):
        if "hostPath" in mapping(volume):
            add("HostPath Volumes", f"volume {mapping(volume).get('name')!r} is a hostPath")
    for sysctl in items(pod_ctx.get("sysctls")):
        if mapping(sysctl).get("name") not in SAFE_SYSCTLS:
            add("Sysctls", f"pod: sysctl {mapping(sysctl).get('name')!r} is not in the safe set")
    for key, value in pod.annotations.items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            add("AppArmor", f"annotation {key}={value!r} is not allowed")
    return found


def _selinux(where: str, options: Mapping[str, Any], add: Any) -> None:
    if str(options.get("type") or "") not in SELINUX_TYPES:
        add("SELinux", f"{where}: seLinuxOptions.type {options.get('type')!r} is not allowed")
    for field in ("user", "role"):
        if options.get(field):
            add("SELinux", f"{where}: seLinuxOptions.{field} must be unset")


# --------------------------------------------------------------------------- restricted


def _restricted(pod: PodTemplate) -> list[Violation]:
    spec, found = pod.spec, []

    def add(control: str, detail: str) -> None:
        found.append(Violation("restricted", control, detail))

    pod_ctx = mapping(spec.get("securityContext"))
    for volume in items(spec.get("volumes")):
        kinds = set(mapping(volume)) - _VOLUME_FIELDS_IGNORED
        if not kinds <= RESTRICTED_VOLUMES:
            bad = ", ".join(sorted(kinds - RESTRICTED_VOLUMES))
            add("Volume Types", f"volume {mapping(volume).get('name')!r} is of type {bad}")
    if pod_ctx.get("runAsUser") == 0:
        add("Running as Non-root user", "pod: runAsUser must not be 0")
    pod_non_root = pod_ctx.get("runAsNonRoot") is True
    pod_seccomp = mapping(pod_ctx.get("seccompProfile")).get("type")
    for kind, c in pod.containers():
        where, ctx = f"{kind}[{c.get('name')}]", mapping(c.get("securityContext"))
        if ctx.get("allowPrivilegeEscalation") is not False:
            add("Privilege Escalation", f"{where}: allowPrivilegeEscalation must be false")
        non_root = ctx.get("runAsNonRoot")
        if non_root is False or (non_root is None and not pod_non_root):
            add(
                "Running as Non-root",
                f"{where}: runAsNonRoot must be true (on the container or the pod); "
                f"got {'false' if non_root is False else 'unset'}",
            )
        if ctx.get("runAsUser") == 0:
            add("Running as Non-root user", f"{where}: runAsUser must not be 0")
        seccomp = mapping(ctx.get("seccompProfile")).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            add(
                "Seccomp",
                f"{where}: seccompProfile.type must be RuntimeDefault or Localhost "
                f"(on the container or the pod); got {seccomp or 'unset'}",
            )
        capabilities = mapping(ctx.get("capabilities"))
        if "ALL" not in {str(d) for d in items(capabilities.get("drop"))}:
            add("Capabilities", f"{where}: capabilities.drop must include ALL")
        added = {str(a) for a in items(capabilities.get("add"))} - {"NET_BIND_SERVICE"}
        if added:
            add("Capabilities", f"{where}: may add only NET_BIND_SERVICE; adds {sorted(added)}")
    return found


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class NamespaceLevel:
    level: str
    exemption: str | None  # the recorded reason when the stack exempts the namespace
    declared: bool  # False: the namespace is not in the plan (the cluster's default applies)


def namespace_levels(namespaces: Iterable[Mapping[str, Any]]) -> dict[str, NamespaceLevel]:
    """Namespace name → its enforced Pod Security level, from the plan's Namespace objects."""
    found = {}
    for body in namespaces:
        level = labels_of(body).get(ENFORCE_LABEL, "privileged")
        exemption = annotations_of(body).get(EXEMPTION_ANNOTATION)
        found[name_of(body)] = NamespaceLevel(level, exemption, True)
    return found


def check(pods: Iterable[PodTemplate], levels: Mapping[str, NamespaceLevel]) -> CheckRun:
    run = CheckRun(ADMISSION)
    for pod in pods:
        ns = levels.get(pod.namespace, NamespaceLevel("privileged", None, False))
        subject = pod.describe()
        run.examined.append(subject)
        if ns.level not in LEVELS:
            run.fail(
                subject,
                f"namespace {pod.namespace} enforces {ns.level!r}, not a Pod Security level "
                f"({', '.join(LEVELS)}): the API server refuses the label",
                pod.origin,
            )
            continue
        for violation in violations(pod, ns.level):
            run.fail(
                subject,
                f"rejected in namespace {pod.namespace} (enforce={ns.level}): {violation}",
                pod.origin,
            )
        if ns.exemption is not None and ns.level != "restricted":
            broken = violations(pod, "restricted")
            if broken:
                run.exempt(
                    subject,
                    f"namespace {pod.namespace} enforces {ns.level} by a recorded exemption "
                    f"({ns.exemption}); at restricted it would break: "
                    + "; ".join(str(v) for v in broken),
                )
    return run
