"""Account, subscription and site-service prerequisites of a stack, checked before the first
`pulumi up` (`mlplatform verify --preflight`, before the cluster part in `infra.verify.preflight`).

What the program cannot create for itself and a first `pulumi up` fails without, read from the
stack's config and checked with the official CLIs (`aws`, `az`) or the Vault HTTP API, with the
operator's own credentials:

| id | target | prerequisite |
|---|---|---|
| PRE-AWS-001 | AWS | the credentials are for `aws.accountId` |
| PRE-AWS-002 | AWS | the region (me-central-1, an opt-in region) is enabled for the account |
| PRE-AWS-003 | AWS | the Auto Scaling service-linked role exists (the data key's policy names it) |
| PRE-AWS-004 | AWS | the state bucket of `state.url` exists in the UAE region |
| PRE-AWS-005 | AWS | the KMS key of `state.secretsProvider` exists and is enabled |
| PRE-AZ-001 | Azure | the credentials are for `azure.subscriptionId` / `azure.tenantId` |
| PRE-AZ-002 | Azure | the EncryptionAtHost feature is registered on the subscription |
| PRE-AZ-003 | Azure | each resource provider the platform uses is registered |
| PRE-AZ-004 | Azure | the state storage account of `state.url`, in the UAE |
| PRE-AZ-005 | Azure | the Key Vault and key of `state.secretsProvider`, in the UAE |
| PRE-VAULT-001 | on-prem | the Vault transit key of a `hashivault://` secrets provider exists |

Each outcome is `ok`, `missing` (with how to fix it) or `unchecked` (the CLI, credentials or a
permission are not there: said, never silent, never counted as missing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from stacks.config import StackConfig

UAE_AZURE = ("uaenorth", "uaecentral")
AZURE_PROVIDERS = (
    "Microsoft.Compute",
    "Microsoft.ContainerService",
    "Microsoft.ContainerRegistry",
    "Microsoft.KeyVault",
    "Microsoft.Network",
    "Microsoft.Storage",
    "Microsoft.DBforPostgreSQL",
    "Microsoft.Cache",
    "Microsoft.ManagedIdentity",
    "Microsoft.OperationalInsights",
    "Microsoft.Insights",
)


@dataclass(frozen=True)
class Outcome:
    id: str
    what: str
    status: str  # ok | missing | unchecked
    detail: str = ""
    how: str = ""  # how to fix a missing prerequisite


@dataclass(frozen=True)
class Result:
    """What one CLI call returned (rc 127: the CLI is not installed)."""

    rc: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out or "null")


Runner = Callable[[list[str]], Result]


def run_cli(argv: list[str], timeout: float = 60) -> Result:
    """Run an official CLI with the operator's credentials; never raises."""
    if shutil.which(argv[0]) is None:
        return Result(127, "", f"{argv[0]} is not on PATH")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Result(124, "", f"{' '.join(argv[:3])}… timed out after {timeout:.0f}s")
    return Result(done.returncode, done.stdout, done.stderr)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "no output")


def check(
    config: StackConfig, runner: Runner = run_cli, env: Mapping[str, str] | None = None
) -> list[Outcome]:
    """Every account/subscription/site-service prerequisite of the stack's target."""
    environ = os.environ if env is None else env
    if config.platform == "aws" and config.aws is not None:
        return _aws(config, runner)
    if config.platform == "azure" and config.azure is not None:
        return _azure(config, runner, environ)
    return _vault(config.state.secrets_provider, environ)


# --------------------------------------------------------------------------- AWS


def _aws(config: StackConfig, runner: Runner) -> list[Outcome]:
    assert config.aws is not None
    region, account = config.aws.region, config.aws.account_id
    who = runner(["aws", "sts", "get-caller-identity", "--output", "json"])
    what = f"AWS credentials for account {account}"
    if who.rc != 0:
        why = f"no AWS credentials here ({_first_line(who.err)}); the AWS checks need them"
        return [Outcome("PRE-AWS-001", what, "unchecked", why)]
    found = str(who.json().get("Account"))
    if found != account:
        how = f"use credentials (AWS_PROFILE) for account {account}, as one of aws.adminRoleArns"
        return [Outcome("PRE-AWS-001", what, "missing", f"the credentials are for {found}", how)]
    outcomes = [Outcome("PRE-AWS-001", what, "ok", f"caller {who.json().get('Arn')}")]
    outcomes.append(_aws_region(runner, region))
    outcomes.append(_aws_autoscaling_role(runner))
    outcomes += _aws_state(runner, config.state.url, config.state.secrets_provider, region)
    return outcomes


def _aws_region(runner: Runner, region: str) -> Outcome:
    what = f"region {region} enabled for the account (an opt-in region)"
    got = runner(["aws", "account", "get-region-opt-status", "--region-name", region])
    if got.rc != 0:
        return Outcome("PRE-AWS-002", what, "unchecked", _first_line(got.err))
    status = got.json().get("RegionOptStatus")
    if status in ("ENABLED", "ENABLED_BY_DEFAULT"):
        return Outcome("PRE-AWS-002", what, "ok", status)
    how = f"aws account enable-region --region-name {region} (then wait until ENABLED)"
    return Outcome("PRE-AWS-002", what, "missing", f"RegionOptStatus {status}", how)


def _aws_autoscaling_role(runner: Runner) -> Outcome:
    what = "the Auto Scaling service-linked role (named in the data key's policy)"
    got = runner(["aws", "iam", "get-role", "--role-name", "AWSServiceRoleForAutoScaling"])
    if got.rc == 0:
        return Outcome("PRE-AWS-003", what, "ok", "AWSServiceRoleForAutoScaling")
    if "NoSuchEntity" in got.err:
        how = "aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com"
        return Outcome("PRE-AWS-003", what, "missing", "AWSServiceRoleForAutoScaling", how)
    return Outcome("PRE-AWS-003", what, "unchecked", _first_line(got.err))


def _aws_state(runner: Runner, url: str, secrets: str, region: str) -> list[Outcome]:
    outcomes = []
    if url.startswith("s3://"):
        bucket = urlparse(url).netloc
        what = f"state bucket {bucket} in {region}"
        got = runner(["aws", "s3api", "get-bucket-location", "--bucket", bucket])
        if got.rc == 0:
            where = got.json().get("LocationConstraint") or "us-east-1"
            status = "ok" if where == region else "missing"
            how = "" if status == "ok" else f"a state bucket in {region} (state.url)"
            outcomes.append(Outcome("PRE-AWS-004", what, status, f"in {where}", how))
        elif "NoSuchBucket" in got.err:
            how = (
                f"aws s3api create-bucket --bucket {bucket} --region {region} "
                f"--create-bucket-configuration LocationConstraint={region} (then versioning, "
                "default encryption with a KMS key, public access block)"
            )
            outcomes.append(Outcome("PRE-AWS-004", what, "missing", "no such bucket", how))
        else:
            outcomes.append(Outcome("PRE-AWS-004", what, "unchecked", _first_line(got.err)))
    if secrets.startswith("awskms://"):
        parsed = urlparse(secrets)
        key = f"{parsed.netloc}{parsed.path}"
        key_region = (parse_qs(parsed.query).get("region") or [region])[0]
        what = f"secrets-provider key {key} in {key_region}"
        argv = ["aws", "kms", "describe-key", "--key-id", key, "--region", key_region]
        got = runner(argv)
        if got.rc == 0:
            enabled = bool(got.json().get("KeyMetadata", {}).get("Enabled"))
            status = "ok" if enabled else "missing"
            how = "" if enabled else f"aws kms enable-key --key-id {key} --region {key_region}"
            detail = "enabled" if enabled else "disabled"
            outcomes.append(Outcome("PRE-AWS-005", what, status, detail, how))
        elif "NotFoundException" in got.err:
            how = (
                f"aws kms create-key --region {key_region}, then aws kms create-alias "
                f"--alias-name {key} --target-key-id <key id> --region {key_region}"
            )
            outcomes.append(Outcome("PRE-AWS-005", what, "missing", "not found", how))
        else:
            outcomes.append(Outcome("PRE-AWS-005", what, "unchecked", _first_line(got.err)))
    return outcomes


# --------------------------------------------------------------------------- Azure


def _azure(config: StackConfig, runner: Runner, env: Mapping[str, str]) -> list[Outcome]:
    assert config.azure is not None
    sub, tenant = config.azure.subscription_id, config.azure.tenant_id
    what = f"Azure credentials for subscription {sub}"
    who = runner(["az", "account", "show", "--subscription", sub, "--output", "json"])
    if who.rc != 0:
        why = f"no Azure credentials here ({_first_line(who.err)}); the Azure checks need them"
        return [Outcome("PRE-AZ-001", what, "unchecked", why)]
    account = who.json()
    if account.get("id") != sub or account.get("tenantId") != tenant:
        how = f"az login --tenant {tenant}; az account set --subscription {sub}"
        detail = f"subscription {account.get('id')} in tenant {account.get('tenantId')}"
        return [Outcome("PRE-AZ-001", what, "missing", detail, how)]
    outcomes = [Outcome("PRE-AZ-001", what, "ok", f"tenant {tenant}")]
    outcomes.append(_azure_feature(runner, sub))
    providers = (
        *AZURE_PROVIDERS,
        *(("Microsoft.EventHub",) if config.kafka.mode == "managed" else ()),
    )
    outcomes += [_azure_provider(runner, sub, namespace) for namespace in providers]
    outcomes += _azure_state(runner, config.state.url, config.state.secrets_provider, sub, env)
    return outcomes


def _azure_feature(runner: Runner, sub: str) -> Outcome:
    what = "the EncryptionAtHost feature (Microsoft.Compute) registered on the subscription"
    argv = ["az", "feature", "show", "--namespace", "Microsoft.Compute", "--name"]
    got = runner([*argv, "EncryptionAtHost", "--subscription", sub, "--output", "json"])
    if got.rc != 0:
        return Outcome("PRE-AZ-002", what, "unchecked", _first_line(got.err))
    state = (got.json().get("properties") or {}).get("state")
    if state == "Registered":
        return Outcome("PRE-AZ-002", what, "ok", state)
    how = (
        f"az feature register --namespace Microsoft.Compute --name EncryptionAtHost "
        f"--subscription {sub}; wait until Registered; az provider register --namespace "
        f"Microsoft.Compute --subscription {sub}"
    )
    return Outcome("PRE-AZ-002", what, "missing", f"state {state}", how)


def _azure_provider(runner: Runner, sub: str, namespace: str) -> Outcome:
    what = f"resource provider {namespace} registered"
    argv = ["az", "provider", "show", "--namespace", namespace, "--subscription", sub]
    got = runner([*argv, "--output", "json"])
    if got.rc != 0:
        return Outcome("PRE-AZ-003", what, "unchecked", _first_line(got.err))
    state = got.json().get("registrationState")
    if state == "Registered":
        return Outcome("PRE-AZ-003", what, "ok", state)
    how = f"az provider register --namespace {namespace} --subscription {sub} --wait"
    return Outcome("PRE-AZ-003", what, "missing", f"registrationState {state}", how)


def _azure_state(
    runner: Runner, url: str, secrets: str, sub: str, env: Mapping[str, str]
) -> list[Outcome]:
    outcomes = []
    if url.startswith("azblob://"):
        named = parse_qs(urlparse(url).query).get("storage_account") or [
            env.get("AZURE_STORAGE_ACCOUNT", "")
        ]
        account = named[0]
        what = f"state storage account {account or '(unnamed)'} in uaenorth/uaecentral"
        if not account:
            why = "state.url names no storage_account and AZURE_STORAGE_ACCOUNT is not set"
            outcomes.append(Outcome("PRE-AZ-004", what, "unchecked", why))
        else:
            argv = ["az", "storage", "account", "show", "--name", account, "--subscription", sub]
            outcomes.append(_located("PRE-AZ-004", what, runner([*argv, "--output", "json"])))
    if secrets.startswith("azurekeyvault://"):
        parsed = urlparse(secrets)
        vault, key = parsed.netloc.split(".", 1)[0], parsed.path.rsplit("/", 1)[-1]
        what = f"secrets-provider Key Vault {vault} (key {key}) in uaenorth/uaecentral"
        argv = ["az", "keyvault", "show", "--name", vault, "--subscription", sub]
        found = _located("PRE-AZ-005", what, runner([*argv, "--output", "json"]))
        if found.status == "ok":
            argv = ["az", "keyvault", "key", "show", "--vault-name", vault, "--name", key]
            got = runner([*argv, "--output", "json"])
            if got.rc != 0:
                status = "missing" if "KeyNotFound" in got.err else "unchecked"
                how = f"az keyvault key create --vault-name {vault} --name {key} --kty RSA-HSM"
                found = Outcome("PRE-AZ-005", what, status, _first_line(got.err), how)
        outcomes.append(found)
    return outcomes


def _located(check_id: str, what: str, got: Result) -> Outcome:
    if got.rc != 0:
        if "ResourceNotFound" in got.err or "was not found" in got.err:
            how = "create it in uaenorth before `pulumi login` (README: Deploying for real)"
            return Outcome(check_id, what, "missing", _first_line(got.err), how)
        return Outcome(check_id, what, "unchecked", _first_line(got.err))
    location = str(got.json().get("location", "")).replace(" ", "").lower()
    if location in UAE_AZURE:
        return Outcome(check_id, what, "ok", f"in {location}")
    how = "state and its keys stay in the UAE: recreate it in uaenorth"
    return Outcome(check_id, what, "missing", f"in {location}", how)


# --------------------------------------------------------------------------- on-prem Vault


def _vault(secrets: str, env: Mapping[str, str]) -> list[Outcome]:
    if not secrets.startswith("hashivault://"):
        return []
    parsed = urlparse(secrets)
    key = f"{parsed.netloc}{parsed.path}"
    engine = (parse_qs(parsed.query).get("engine") or ["transit"])[0]
    what = f"Vault {engine} key {key} (the secrets provider)"
    address = env.get("VAULT_SERVER_URL") or env.get("VAULT_ADDR")
    if not address:
        why = "VAULT_ADDR is not set (the secrets provider reads the Vault address from it)"
        return [Outcome("PRE-VAULT-001", what, "unchecked", why)]
    token = env.get("VAULT_SERVER_TOKEN") or env.get("VAULT_TOKEN") or ""
    request = urllib.request.Request(
        f"{address.rstrip('/')}/v1/{engine}/keys/{key}", headers={"X-Vault-Token": token}
    )
    how = f"vault secrets enable -path={engine} transit; vault write -f {engine}/keys/{key}"
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            json.load(response)
        return [Outcome("PRE-VAULT-001", what, "ok", f"at {address}")]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return [Outcome("PRE-VAULT-001", what, "missing", f"not found at {address}", how)]
        return [Outcome("PRE-VAULT-001", what, "unchecked", f"{address}: HTTP {error.code}")]
    except (urllib.error.URLError, OSError, ValueError) as error:
        return [Outcome("PRE-VAULT-001", what, "unchecked", f"{address}: {error}")]
