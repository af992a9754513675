"""Finding the pods and GPU nodes to verify (kubectl, with the given context) and their URLs."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import conventions as c
from infra.verify.contract import PodTarget

ENV_OUTPUTS = "MLP_VERIFY_OUTPUTS"
ENV_KUBE_CONTEXT = "MLP_VERIFY_KUBE_CONTEXT"
ENV_KUBECONFIG = "MLP_VERIFY_KUBECONFIG"
ENV_SSH_CONFIG = "MLP_VERIFY_SSH_CONFIG"
ENV_SSH_IDENTITY = "MLP_VERIFY_SSH_IDENTITY"
ENV_SKIP_NODES = "MLP_VERIFY_SKIP_NODES"
ENV_LOCAL_STATE_DIR = "MLP_VERIFY_LOCAL_STATE_DIR"


Runner = Callable[[list[str]], str]  # argv → stdout; raises KubectlError


class KubectlError(RuntimeError):
    """kubectl failed; the message quotes the command and its error output."""


def run_command(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KubectlError(f"`{' '.join(argv)}` failed: {error}") from None
    if done.returncode != 0:
        raise KubectlError(f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.stdout}")
    return done.stdout


@dataclass(frozen=True)
class Pod:
    name: str
    ready: bool
    node: str


@dataclass(frozen=True)
class GpuNode:
    name: str
    pool: str
    ready: bool
    gpus: int
    tainted: bool


@dataclass
class Kubectl:
    """kubectl with a fixed context/kubeconfig; `runner` is injectable for tests."""

    context: str | None = None
    kubeconfig: str | None = None
    runner: Runner = field(default=run_command)

    def argv(self, *args: str) -> list[str]:
        prefix = ["kubectl"]
        if self.kubeconfig:
            prefix += ["--kubeconfig", self.kubeconfig]
        if self.context:
            prefix += ["--context", self.context]
        return [*prefix, *args]

    def server_version(self) -> str:
        """The API server's version; raises KubectlError if the context or cluster is wrong."""
        out = self.runner(self.argv("version", "-o", "json"))
        try:
            return str(json.loads(out)["serverVersion"]["gitVersion"])
        except (ValueError, KeyError, TypeError):
            raise KubectlError(f"`{' '.join(self.argv('version'))}`: no server version") from None

    def get(self, *args: str) -> dict[str, Any]:
        out = self.runner(self.argv("get", *args, "-o", "json"))
        try:
            return dict(json.loads(out))
        except ValueError:
            raise KubectlError(f"`{' '.join(self.argv('get', *args))}` printed no JSON") from None

    def running_pods(self, target: PodTarget) -> list[Pod]:
        listing = self.get("pods", "--namespace", target.namespace, "-l", target.label_selector)
        pods = []
        for item in listing.get("items", []):
            meta, status = item.get("metadata", {}), item.get("status", {})
            if status.get("phase") != "Running" or meta.get("deletionTimestamp"):
                continue
            conditions = {k["type"]: k["status"] for k in status.get("conditions", [])}
            pods.append(
                Pod(meta["name"], conditions.get("Ready") == "True", item["spec"].get("nodeName"))
            )
        return sorted(pods, key=lambda p: p.name)

    def gpu_nodes(self, pools: tuple[str, ...]) -> list[GpuNode]:
        if not pools:
            return []
        selector = f"{c.GPU_POOL_LABEL} in ({','.join(pools)})"
        nodes = []
        for item in self.get("nodes", "-l", selector).get("items", []):
            meta, spec, status = item["metadata"], item.get("spec", {}), item.get("status", {})
            conditions = {k["type"]: k["status"] for k in status.get("conditions", [])}
            taints = spec.get("taints") or []
            nodes.append(
                GpuNode(
                    name=meta["name"],
                    pool=meta.get("labels", {}).get(c.GPU_POOL_LABEL, ""),
                    ready=conditions.get("Ready") == "True",
                    gpus=int(status.get("allocatable", {}).get(c.GPU_RESOURCE, 0)),
                    tainted=any(
                        t.get("key") == c.GPU_TAINT["key"]
                        and t.get("effect") == c.GPU_TAINT["effect"]
                        for t in taints
                    ),
                )
            )
        return sorted(nodes, key=lambda n: n.name)


def kubectl_url(
    pod: str, namespace: str, container: str, context: str | None, kubeconfig: str | None
) -> str:
    """The testinfra host of one container: `kubectl://pod?namespace=…&container=…[&context=…]`."""
    query = {"namespace": namespace, "container": container}
    if context:
        query["context"] = context
    if kubeconfig:
        query["kubeconfig"] = kubeconfig
    return f"kubectl://{pod}?{urllib.parse.urlencode(query)}"


def ssh_url(host: str, ssh_config: str | None, identity: str | None) -> str:
    """The testinfra host of one node: `ssh://host[?ssh_config=…&ssh_identity_file=…]`."""
    query = {}
    if ssh_config:
        query["ssh_config"] = ssh_config
    if identity:
        query["ssh_identity_file"] = identity
    return f"ssh://{host}" + (f"?{urllib.parse.urlencode(query)}" if query else "")


@dataclass(frozen=True)
class VerifySettings:
    """What the suite verifies, from MLP_VERIFY_* (set by `mlplatform verify`)."""

    outputs: Path | None = None
    kube_context: str | None = None
    kubeconfig: str | None = None
    ssh_config: str | None = None
    ssh_identity: str | None = None
    skip_nodes: bool = False
    local_state_dir: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VerifySettings:
        env = os.environ if env is None else env

        def value(name: str) -> str | None:
            return env.get(name) or None

        outputs, state = value(ENV_OUTPUTS), value(ENV_LOCAL_STATE_DIR)
        return cls(
            outputs=Path(outputs) if outputs else None,
            kube_context=value(ENV_KUBE_CONTEXT),
            kubeconfig=value(ENV_KUBECONFIG),
            ssh_config=value(ENV_SSH_CONFIG),
            ssh_identity=value(ENV_SSH_IDENTITY),
            skip_nodes=value(ENV_SKIP_NODES) in ("1", "true", "yes"),
            local_state_dir=Path(state) if state else None,
        )

    def env(self) -> dict[str, str]:
        values = {
            ENV_OUTPUTS: self.outputs,
            ENV_KUBE_CONTEXT: self.kube_context,
            ENV_KUBECONFIG: self.kubeconfig,
            ENV_SSH_CONFIG: self.ssh_config,
            ENV_SSH_IDENTITY: self.ssh_identity,
            ENV_SKIP_NODES: "1" if self.skip_nodes else None,
            ENV_LOCAL_STATE_DIR: self.local_state_dir,
        }
        return {k: str(v) for k, v in values.items() if v is not None}
