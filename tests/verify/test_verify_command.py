"""`mlplatform verify`: usage errors are exit 2, and the deployed suite runs end to end.

The end-to-end case puts a fake `kubectl` first on PATH: it answers discovery from the
contract's own names (one Running pod per selector, one node per GPU pool) and runs `exec`
commands on this machine. So the whole chain runs for real — outputs → kubectl discovery with
the context → testinfra `kubectl://` hosts → checks — and this machine, which is not a
hardened pod (root processes, nothing on port 5000), must fail with those messages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.cli import verify as command

pytestmark = pytest.mark.verify
MLPLATFORM = Path(sys.executable).parent / "mlplatform"

FAKE_KUBECTL = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
while args and args[0].startswith("--"):  # --context X, --context="X", --kubeconfig X
    args = args[1:] if "=" in args[0] else args[2:]
while args and args[0] in ("-n", "-c"):
    args = args[2:]
if args[0] == "version":
    print(json.dumps({{"serverVersion": {{"gitVersion": "v1.34.2"}}}}))
elif args[:2] == ["get", "pods"]:
    namespace = args[args.index("--namespace") + 1]
    print(json.dumps({{"items": [{{
        "metadata": {{"name": namespace + "-0"}}, "spec": {{"nodeName": "node-1"}},
        "status": {{"phase": "Running", "conditions": [{{"type": "Ready", "status": "True"}}]}},
    }}]}}))
elif args[:2] == ["get", "nodes"]:
    pools = args[args.index("-l") + 1].split("(")[1].rstrip(")").split(",")
    print(json.dumps({{"items": [{{
        "metadata": {{"name": "gpu-" + p + "-01", "labels": {{"mlplatform.io/gpu-pool": p}}}},
        "spec": {{"taints": [{{"key": "nvidia.com/gpu", "effect": "NoSchedule"}}]}},
        "status": {{"allocatable": {{"nvidia.com/gpu": "8"}},
                    "conditions": [{{"type": "Ready", "status": "True"}}]}},
    }} for p in pools]}}))
elif args[0] == "exec":
    command = args[args.index("--") + 1:]
    os.execvp(command[0], command)
else:
    sys.exit("fake kubectl: unexpected " + " ".join(args))
"""


@pytest.fixture(scope="module")
def outputs(stack_plan, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outputs") / "outputs.json"
    path.write_text(json.dumps(stack_plan("uae-onprem").synthesis.outputs, default=str))
    return path


def _invoke(*args: str):
    return CliRunner().invoke(app, ["verify", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give --stack NAME (a deployed stack) or --local"),
        (("--local", "--stack", "uae-onprem"), "--local takes only --state-dir"),
        (("--stack", "uae-onprem", "--state-dir", "x"), "--state-dir goes with --local"),
        (("--stack", "uae-onprem", "--outputs", "/nonexistent.json"), "cannot read"),
        (("--local", "--state-dir", "/nonexistent"), "no local platform under /nonexistent"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = _invoke(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_without_the_verify_extra_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(command, "find_spec", lambda module: None)
    result = _invoke("--local")
    assert result.exit_code == 2
    assert "verify needs pytest, testinfra: pip install 'mlplatform[verify]'" in result.output


def test_outputs_of_another_stack_exit_2(outputs):
    result = _invoke("--stack", "uae-cloud", "--outputs", str(outputs))
    assert result.exit_code == 2
    assert "holds the outputs of stack 'uae-onprem', not 'uae-cloud'" in result.output


def test_missing_kubectl_exit_2(outputs, monkeypatch):
    monkeypatch.setattr(command.shutil, "which", lambda _: None)
    result = _invoke("--stack", "uae-onprem", "--outputs", str(outputs))
    assert result.exit_code == 2
    assert "kubectl is not on PATH" in result.output


@pytest.fixture
def fake_kubectl(tmp_path, monkeypatch) -> Path:
    bin_dir, log = tmp_path / "bin", tmp_path / "kubectl.log"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
    kubectl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    return log


def test_unreachable_cluster_exit_2(outputs, fake_kubectl, tmp_path):
    broken = tmp_path / "bin" / "kubectl"
    broken.write_text("#!/bin/sh\necho 'Unable to connect to the server' >&2\nexit 1\n")
    result = _invoke("--stack", "uae-onprem", "--outputs", str(outputs))
    assert result.exit_code == 2
    assert "cannot reach the cluster (context auh-dc1-prod)" in result.output
    assert "Unable to connect to the server" in result.output


def test_deployed_suite_end_to_end_through_kubectl(outputs, fake_kubectl, tmp_path):
    junit = tmp_path / "verify.xml"
    done = subprocess.run(
        [
            str(MLPLATFORM),
            "verify",
            "--stack",
            "uae-onprem",
            "--outputs",
            str(outputs),
            "--kube-context",
            "auh-dc1-verify",
            "--skip-nodes",
            "--junit-xml",
            str(junit),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    # discovery used the given context, the selectors from the contract, and exec'd into pods
    calls = [json.loads(line) for line in fake_kubectl.read_text().splitlines()]
    assert ["--context", "auh-dc1-verify", "version", "-o", "json"] in calls
    assert [
        "--context",
        "auh-dc1-verify",
        "get",
        "pods",
        "--namespace",
        "kafka",
        "-l",
        "strimzi.io/broker-role=true,strimzi.io/cluster=mlplatform",
        "-o",
        "json",
    ] in calls
    assert ["--context=auh-dc1-verify", "-n", "mlflow", "-c", "mlflow", "exec", "mlflow-0"] in [
        call[:7] for call in calls
    ]
    # this machine is no hardened pod: the checks say so
    assert "mlflow/mlflow-0: process" in out and "runs as root" in out
    assert "mlflow/mlflow-0: nothing listens on port 5000" in out
    assert "PASSED" in out  # the GPU pools as the fake cluster reports them
    assert "--skip-nodes given: no SSH checks on GPU nodes" in out
    assert junit.read_text().count("<testcase") >= 30
