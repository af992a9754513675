"""`mlplatform verify --preflight`: the contract's site prerequisites, looked up on a cluster.

A fake `kubectl` first on PATH answers like the real one: `version -o json`, and `get <resource>
<name> [--namespace NS] -o json` from a state file — an object when it exists, otherwise
`Error from server (NotFound): <resource>s "<name>" not found` on stderr and exit 1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli import app
from infra.verify import preflight
from infra.verify.contract import ContractError

FAKE_KUBECTL = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
while args and args[0].startswith("--") and args[0] not in ("--namespace",):
    args = args[1:] if "=" in args[0] else args[2:]
if os.environ.get("FAKE_KUBECTL_DOWN"):
    sys.stderr.write("The connection to the server 10.0.0.1:6443 was refused\\n")
    sys.exit(1)
if args[0] == "version":
    print(json.dumps({{"serverVersion": {{"gitVersion": "v1.34.2"}}}}))
    sys.exit(0)
assert args[0] == "get" and args[-2:] == ["-o", "json"], args
resource, name = args[1], args[2]
namespace = args[args.index("--namespace") + 1] if "--namespace" in args else ""
state = json.load(open(os.environ["FAKE_KUBECTL_STATE"]))
found = state.get(f"{{resource}}/{{namespace}}/{{name}}")
if found is None:
    sys.stderr.write(f'Error from server (NotFound): {{resource}}s "{{name}}" not found\\n')
    sys.exit(1)
print(json.dumps(found))
"""

CONTEXT = ["--context", "auh-dc1-prod"]  # the on-prem contract's kube context
PREREQUISITES = [
    {
        "kind": "Secret",
        "name": "harbor-pull",
        "namespaces": ["mlflow", "feast"],
        "keys": [".dockerconfigjson"],
        "purpose": "pulls images from the mirror",
        "howToCreate": "kubectl -n <ns> create secret docker-registry harbor-pull ...",
    },
    {
        "kind": "StorageClass",
        "name": "encrypted-ssd",
        "purpose": "encrypted volumes",
        "howToCreate": "the site's CSI driver",
    },
]


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fake kubectl on PATH and the objects it knows (edit `state`, then `save()`)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
    kubectl.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(tmp_path / "kubectl.log"))
    monkeypatch.setenv("FAKE_KUBECTL_STATE", str(tmp_path / "state.json"))
    state: dict[str, Any] = {
        "secret/mlflow/harbor-pull": {"data": {".dockerconfigjson": "e30="}},
        "secret/feast/harbor-pull": {"data": {".dockerconfigjson": "e30="}},
        "storageclass//encrypted-ssd": {"provisioner": "csi.example"},
    }

    class Cluster:
        def __init__(self) -> None:
            self.state = state
            self.log = tmp_path / "kubectl.log"

        def save(self) -> None:
            (tmp_path / "state.json").write_text(json.dumps(self.state))

        def calls(self) -> list[list[str]]:
            return [json.loads(line) for line in self.log.read_text().splitlines()]

    found = Cluster()
    found.save()
    return found


@pytest.fixture
def outputs(stack_plan, tmp_path: Path) -> Path:
    contract = json.loads(json.dumps(stack_plan("uae-onprem").synthesis.outputs, default=str))
    contract["stack"]["prerequisites"] = PREREQUISITES
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(contract))
    return path


def preflight_cli(outputs: Path, *extra: str):
    return CliRunner().invoke(
        app, ["verify", "--preflight", "--stack", "uae-onprem", "--outputs", str(outputs), *extra]
    )


def test_every_prerequisite_present_passes_and_uses_the_contracts_context(cluster, outputs) -> None:
    result = preflight_cli(outputs)
    assert result.exit_code == 0, result.output
    assert "3 of 3 site prerequisites present" in result.output
    gets = [c for c in cluster.calls() if "get" in c]
    assert gets == [
        [*CONTEXT, "get", "secret", "harbor-pull", "--namespace", "mlflow", "-o", "json"],
        [*CONTEXT, "get", "secret", "harbor-pull", "--namespace", "feast", "-o", "json"],
        [*CONTEXT, "get", "storageclass", "encrypted-ssd", "-o", "json"],
    ]


def test_a_missing_secret_fails_naming_it_and_how_to_create_it(cluster, outputs) -> None:
    del cluster.state["secret/feast/harbor-pull"]
    cluster.save()
    result = preflight_cli(outputs)
    assert result.exit_code == 1
    assert "MISSING Secret feast/harbor-pull: not found" in result.output
    assert "kubectl -n <ns> create secret docker-registry harbor-pull" in result.output
    assert "2 of 3 site prerequisites present" in result.output


def test_a_secret_without_its_keys_does_not_count(cluster, outputs) -> None:
    cluster.state["secret/mlflow/harbor-pull"] = {"data": {"username": "eA=="}}
    cluster.save()
    result = preflight_cli(outputs)
    assert result.exit_code == 1
    assert "Secret mlflow/harbor-pull: lacks key(s) .dockerconfigjson" in result.output


def test_no_reachable_cluster_is_exit_2(cluster, outputs, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_KUBECTL_DOWN", "1")
    result = preflight_cli(outputs)
    assert result.exit_code == 2
    assert "cannot reach the cluster (context auh-dc1-prod)" in result.output


def test_no_kubectl_is_exit_2(outputs, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = preflight_cli(outputs)
    assert result.exit_code == 2 and "kubectl is not on PATH" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "--preflight"], "--preflight needs --stack NAME"),
        (["verify", "--preflight", "--local"], "drop --local"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and message in result.output


def test_malformed_prerequisites_are_a_contract_error() -> None:
    with pytest.raises(ContractError, match="not one of"):
        preflight.prerequisites({"stack": {"prerequisites": [{"kind": "Pod", "name": "x"}]}})
    with pytest.raises(ContractError, match="has no namespace"):
        preflight.prerequisites(
            {
                "stack": {
                    "prerequisites": [{"kind": "StorageClass", "name": "x", "namespaces": ["a"]}]
                }
            }
        )
    items = preflight.prerequisites({"stack": {"prerequisites": PREREQUISITES}})
    assert [i.describe() for i in items] == [
        "Secret mlflow/harbor-pull",
        "Secret feast/harbor-pull",
        "StorageClass encrypted-ssd",
    ]
