"""`verify --preflight`'s account, subscription and Vault prerequisites (`infra.verify.accounts`).

Fake `aws` and `az` first on PATH answer like the real CLIs: JSON on stdout, or the real error
text on stderr with a non-zero exit (`An error occurred (NoSuchEntity) when calling the GetRole
operation: ...`, `ERROR: Please run 'az login' to setup account.`). The Vault check talks HTTP to a
fake Vault on 127.0.0.1 serving `GET /v1/transit/keys/<key>` like the real API.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from infra.verify import accounts
from stacks.config.loader import stack_config
from tests.support.json_http import send_json

FAKE_CLI = """#!{python}
import json, os, sys
args = sys.argv[1:]
words = []
for arg in args:
    if arg.startswith("--"):
        break
    words.append(arg)
key = " ".join(words)
if key == "provider show":
    key += " " + args[args.index("--namespace") + 1]
with open(os.environ["FAKE_CLI_LOG"], "a") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *args]) + "\\n")
state = json.load(open(os.environ["FAKE_CLI_STATE"]))
tool = os.path.basename(sys.argv[0])
rc, out, err = state.get(f"{{tool}} {{key}}", state.get(f"{{tool}} *", [0, "{{}}", ""]))
sys.stdout.write(out)
sys.stderr.write(err)
sys.exit(rc)
"""

AWS_OK = {
    "aws sts get-caller-identity": [
        0,
        json.dumps({"Account": "111122223333", "Arn": "arn:aws:iam::111122223333:role/admins"}),
        "",
    ],
    "aws account get-region-opt-status": [0, json.dumps({"RegionOptStatus": "ENABLED"}), ""],
    "aws iam get-role": [0, json.dumps({"Role": {"RoleName": "AWSServiceRoleForAutoScaling"}}), ""],
    "aws s3api get-bucket-location": [0, json.dumps({"LocationConstraint": "me-central-1"}), ""],
    "aws kms describe-key": [0, json.dumps({"KeyMetadata": {"Enabled": True}}), ""],
}
AZ_SUB = "3f2b8c1e-5a4d-4e7f-9b6a-2c1d0e9f8a7b"
AZ_TENANT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
AZ_OK = {
    "az account show": [0, json.dumps({"id": AZ_SUB, "tenantId": AZ_TENANT}), ""],
    "az feature show": [0, json.dumps({"properties": {"state": "Registered"}}), ""],
    "az *": [0, json.dumps({"registrationState": "Registered", "location": "uaenorth"}), ""],
}


@pytest.fixture
def clis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Fake aws and az on PATH; returns a function that sets their answers and a call log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("aws", "az"):
        path = bin_dir / tool
        path.write_text(FAKE_CLI.format(python=sys.executable))
        path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CLI_LOG", str(tmp_path / "calls.log"))
    monkeypatch.setenv("FAKE_CLI_STATE", str(tmp_path / "state.json"))

    def answer(responses: dict[str, list[Any]]) -> Path:
        (tmp_path / "state.json").write_text(json.dumps(responses))
        return tmp_path / "calls.log"

    return answer


def by_id(outcomes: list[accounts.Outcome]) -> dict[str, accounts.Outcome]:
    return {o.id + (o.what if o.id == "PRE-AZ-003" else ""): o for o in outcomes}


def test_aws_prerequisites_present(clis) -> None:
    log = clis(AWS_OK)
    config, _ = stack_config("uae-cloud")
    outcomes = accounts.check(config)
    assert [o.status for o in outcomes] == ["ok"] * 5, outcomes
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["aws", "kms", "describe-key", "--key-id", "alias/mlplatform-pulumi-secrets",
            "--region", "me-central-1"] in calls  # fmt: skip
    assert ["aws", "s3api", "get-bucket-location", "--bucket",
            "mlplatform-pulumi-state-111122223333"] in calls  # fmt: skip


def test_aws_missing_prerequisites_say_how_to_create_them(clis) -> None:
    error = "\nAn error occurred ({code}) when calling the {op} operation: {text}\n"
    clis(
        {
            **AWS_OK,
            "aws account get-region-opt-status": [0, '{"RegionOptStatus": "DISABLED"}', ""],
            "aws iam get-role": [
                254,
                "",
                error.format(
                    code="NoSuchEntity",
                    op="GetRole",
                    text="The role with name AWSServiceRoleForAutoScaling cannot be found.",
                ),
            ],
            "aws s3api get-bucket-location": [
                254,
                "",
                error.format(
                    code="NoSuchBucket",
                    op="GetBucketLocation",
                    text="The specified bucket does not exist",
                ),
            ],
            "aws kms describe-key": [
                254,
                "",
                error.format(
                    code="NotFoundException", op="DescribeKey", text="Alias is not found."
                ),
            ],
        }
    )
    config, _ = stack_config("uae-cloud")
    found = by_id(accounts.check(config))
    assert found["PRE-AWS-001"].status == "ok"
    assert found["PRE-AWS-002"].status == "missing"
    assert "aws account enable-region --region-name me-central-1" in found["PRE-AWS-002"].how
    assert found["PRE-AWS-003"].status == "missing"
    assert found["PRE-AWS-003"].how == (
        "aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com"
    )
    assert (
        found["PRE-AWS-004"].status == "missing"
        and "--region me-central-1" in found["PRE-AWS-004"].how
    )
    assert found["PRE-AWS-005"].status == "missing" and "create-alias" in found["PRE-AWS-005"].how


def test_aws_wrong_account_stops_the_checks(clis) -> None:
    clis({**AWS_OK, "aws sts get-caller-identity": [0, '{"Account": "999988887777"}', ""]})
    config, _ = stack_config("uae-cloud")
    (outcome,) = accounts.check(config)
    assert outcome.status == "missing" and "999988887777" in outcome.detail


def test_aws_without_credentials_is_unchecked_and_says_why(clis) -> None:
    text = 'Unable to locate credentials. You can configure credentials by running "aws configure".'
    clis({"aws sts get-caller-identity": [253, "", f"\n{text}\n"]})
    config, _ = stack_config("uae-cloud")
    (outcome,) = accounts.check(config)
    assert outcome.status == "unchecked" and "Unable to locate credentials" in outcome.detail


def test_azure_encryption_at_host_and_providers_checked(clis) -> None:
    clis(
        {
            **AZ_OK,
            "az feature show": [0, json.dumps({"properties": {"state": "NotRegistered"}}), ""],
            "az provider show Microsoft.ContainerService": [
                0,
                json.dumps({"registrationState": "NotRegistered"}),
                "",
            ],
            "az storage account show": [0, json.dumps({"location": "westeurope"}), ""],
            "az keyvault key show": [
                3,
                "",
                "ERROR: (KeyNotFound) A key with (name/id) pulumi-secrets was not found in this "
                "key vault.\n",
            ],
        }
    )
    config, _ = stack_config("uae-cloud-azure")
    found = by_id(accounts.check(config))
    assert found["PRE-AZ-001"].status == "ok"
    feature = found["PRE-AZ-002"]
    assert feature.status == "missing"
    assert (
        "az feature register --namespace Microsoft.Compute --name EncryptionAtHost" in feature.how
    )
    aks = found["PRE-AZ-003resource provider Microsoft.ContainerService registered"]
    assert aks.status == "missing" and "az provider register" in aks.how
    assert found["PRE-AZ-003resource provider Microsoft.KeyVault registered"].status == "ok"
    assert found["PRE-AZ-004"].status == "missing" and "westeurope" in found["PRE-AZ-004"].detail
    assert (
        found["PRE-AZ-005"].status == "missing"
        and "az keyvault key create" in found["PRE-AZ-005"].how
    )


def test_azure_not_logged_in_is_unchecked(clis) -> None:
    clis({"az account show": [1, "", "ERROR: Please run 'az login' to setup account.\n"]})
    config, _ = stack_config("uae-cloud-azure")
    (outcome,) = accounts.check(config)
    assert outcome.status == "unchecked" and "az login" in outcome.detail


class _Vault(BaseHTTPRequestHandler):
    keys: dict[str, Any] = {}

    def do_GET(self) -> None:
        token = self.headers.get("X-Vault-Token")
        name = self.path.removeprefix("/v1/transit/keys/")
        if token != "s.test":
            self._send(403, {"errors": ["permission denied"]})
        elif name in self.keys:
            self._send(200, {"data": {"name": name, "type": "aes256-gcm96"}})
        else:
            self._send(404, {"errors": []})

    def _send(self, code: int, body: dict[str, Any]) -> None:
        send_json(self, code, body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def vault() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Vault)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_vault_transit_key_of_the_secrets_provider(vault: str) -> None:
    _Vault.keys = {"pulumi-uae-onprem": {}}
    env = {"VAULT_ADDR": vault, "VAULT_TOKEN": "s.test"}
    (ok,) = accounts._vault("hashivault://pulumi-uae-onprem", env)
    assert ok.status == "ok" and vault in ok.detail
    _Vault.keys = {}
    (missing,) = accounts._vault("hashivault://pulumi-uae-onprem", env)
    assert missing.status == "missing"
    assert missing.how.endswith("vault write -f transit/keys/pulumi-uae-onprem")
    (denied,) = accounts._vault("hashivault://pulumi-uae-onprem", {"VAULT_ADDR": vault})
    assert denied.status == "unchecked" and "HTTP 403" in denied.detail
    (no_addr,) = accounts._vault("hashivault://pulumi-uae-onprem", {})
    assert no_addr.status == "unchecked" and "VAULT_ADDR" in no_addr.detail


def test_verify_preflight_reports_account_prerequisites_first(clis, tmp_path: Path) -> None:
    """`mlplatform verify --preflight --stack uae-cloud`: a missing service-linked role exits 1
    naming the check and the command that creates it; no cluster is contacted (none exists yet
    before the first `pulumi up` on AWS, and the contract lists no site prerequisites)."""
    from typer.testing import CliRunner

    from infra import plan as planning
    from infra.cli import app

    result = planning.synthesize_stack("uae-cloud")
    planning.write_plan(result, tmp_path / "plans")
    outputs = tmp_path / "plans" / "uae-cloud" / "outputs.json"
    data = json.loads(outputs.read_text())
    data["stack"].setdefault("prerequisites", [])
    outputs.write_text(json.dumps(data))
    error = "\nAn error occurred (NoSuchEntity) when calling the GetRole operation: not found\n"
    clis({**AWS_OK, "aws iam get-role": [254, "", error]})
    argv = ["verify", "--preflight", "--stack", "uae-cloud", "--outputs", str(outputs)]
    run = CliRunner().invoke(app, argv)
    assert run.exit_code == 1, run.output
    assert "MISSING PRE-AWS-003" in run.output
    assert "aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com" in (
        run.output.replace("\n", " ")
    )
    assert "account prerequisites FAIL: 4 ok, 1 missing, 0 not checked" in run.output
    assert "the cluster is not contacted" in run.output
