"""GPU nodes: Ready and schedulable as declared (kubectl), hardened and GPU-capable (SSH).

SSH checks run as the SSH user; `sshd -T` needs root and runs through `sudo -n` (the user needs
passwordless sudo for it). On-prem, the kubelet's and containerd's data must sit on dm-crypt
(LUKS); cloud nodes' disks are encrypted by the provider with the stack's customer-managed key,
which the policy pack checks, so that case is skipped with that reason.
"""

from __future__ import annotations

import pytest
import testinfra

from components import conventions as c
from infra.verify.contract import DATA_PATHS

pytestmark = pytest.mark.verify


def test_gpu_pool_nodes_ready_tainted_with_gpus(gpu_pool):
    pool = gpu_pool.id.removeprefix("pool-")
    assert gpu_pool.nodes, f"GPU pool {pool}: no node labelled {c.GPU_POOL_LABEL}={pool}"
    labelled = {n.name for n in gpu_pool.nodes}
    declared = gpu_pool.expected.gpu_nodes.get(pool, ())
    problems = [
        f"{name}: declared in the stack outputs but not labelled {c.GPU_POOL_LABEL}={pool}"
        for name in declared
        if name not in labelled
    ]
    problems += [
        f"{n.name}: {what}"
        for n in gpu_pool.nodes
        for what, bad in (
            ("not Ready", not n.ready),
            (f"no allocatable {c.GPU_RESOURCE}", n.gpus <= 0),
            (f"missing the {c.GPU_TAINT['key']}:{c.GPU_TAINT['effect']} taint", not n.tainted),
        )
        if bad
    ]
    assert not problems, f"GPU pool {pool}:\n" + "\n".join(problems)


def test_nvidia_driver_loaded(gpu_node):
    host = testinfra.get_host(gpu_node.url)
    version = host.file("/proc/driver/nvidia/version")
    assert version.exists and "NVRM" in version.content_string, (
        f"{gpu_node.id}: the NVIDIA kernel driver is not loaded (/proc/driver/nvidia/version)"
    )


def test_nvidia_container_toolkit_present(gpu_node):
    host = testinfra.get_host(gpu_node.url)
    toolkit = any(host.exists(b) for b in ("nvidia-ctk", "nvidia-container-runtime")) or (
        # where the GPU operator installs it (on-prem, driver not preinstalled)
        host.file("/usr/local/nvidia/toolkit/nvidia-container-runtime").exists
    )
    assert toolkit, f"{gpu_node.id}: NVIDIA container toolkit not found"
    runtime = host.run("grep -rqs nvidia /etc/containerd /etc/crio")
    assert runtime.rc == 0, f"{gpu_node.id}: the container runtime has no nvidia runtime configured"


@pytest.mark.parametrize("module", ["br_netfilter", "overlay"])
def test_kernel_module_loaded(gpu_node, module):
    host = testinfra.get_host(gpu_node.url)
    assert host.file(f"/sys/module/{module}").is_directory, (
        f"{gpu_node.id}: kernel module {module} is not loaded"
    )


@pytest.mark.parametrize("key", ["net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables"])
def test_kubernetes_sysctl_enabled(gpu_node, key):
    host = testinfra.get_host(gpu_node.url)
    answer = host.run("sysctl -n %s", key)
    assert answer.rc == 0 and answer.stdout.strip() == "1", (
        f"{gpu_node.id}: {key} = {answer.stdout.strip() or answer.stderr.strip()}, expected 1"
    )


def test_time_synchronised(gpu_node):
    host = testinfra.get_host(gpu_node.url)
    synced = host.run("timedatectl show -p NTPSynchronized --value").stdout.strip() == "yes"
    if not synced:  # chrony without systemd-timedated
        synced = "Leap status     : Normal" in host.run("chronyc tracking").stdout
    assert synced, f"{gpu_node.id}: the clock is not NTP-synchronised"


def test_auditd_running(gpu_node):
    host = testinfra.get_host(gpu_node.url)
    assert host.service("auditd").is_running, f"{gpu_node.id}: auditd is not running"


def test_ssh_password_login_disabled(gpu_node):
    host = testinfra.get_host(gpu_node.url)
    with host.sudo():
        answer = host.run("sshd -T")
    assert answer.rc == 0, f"{gpu_node.id}: `sudo sshd -T` failed: {answer.stderr.strip()}"
    effective = dict(
        line.split(None, 1) for line in answer.stdout.splitlines() if len(line.split(None, 1)) == 2
    )
    problems = [
        f"{key} {effective.get(key)}"
        for key in (
            "passwordauthentication",
            "kbdinteractiveauthentication",
            "permitemptypasswords",
        )
        if key in effective and effective[key] != "no"
    ]
    assert "passwordauthentication" in effective, f"{gpu_node.id}: sshd -T printed no settings"
    assert not problems, f"{gpu_node.id}: sshd allows password logins: {', '.join(problems)}"


@pytest.mark.parametrize("path", DATA_PATHS)
def test_data_volume_encrypted(gpu_node, path):
    if gpu_node.expected.disk_encryption != "dm-crypt":
        pytest.skip(
            f"{gpu_node.expected.platform}: node disks are encrypted by the provider with the "
            "stack's customer-managed key (checked by the policy pack), not with dm-crypt"
        )
    host = testinfra.get_host(gpu_node.url)
    source = host.check_output("findmnt -n -o SOURCE --target %s", path).split("[")[0]
    chain = host.check_output("lsblk -n -s -o TYPE %s", source).split()
    assert "crypt" in chain, (
        f"{gpu_node.id}: {path} is on {source} ({' <- '.join(chain)}), "
        "not on a dm-crypt (LUKS) device"
    )
