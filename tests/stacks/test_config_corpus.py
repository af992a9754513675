"""A corpus of bad configurations, each refused by the CLI the way a user meets it.

Every case runs `mlplatform plan` (in-process): either a shipped stack with `--set` overrides,
or a stack file written to a project directory in tmp_path (`MLPLATFORM_PROJECT_DIR`). Each
must exit 2 with a message that names the key (or the file and key), print no traceback and
write nothing to `--out`. The first block is issue 14's "accepted, and must be refused" list.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.cli import app
from stacks.config.loader import PROJECT_DIR_ENV, ROOT

runner = CliRunner()

ONPREM, CLOUD, AZURE = "uae-onprem", "uae-cloud", "uae-cloud-azure"
EVENT_HUBS = ("kafka.mode=managed",)

# (stack, --set overrides, text the message must contain)
SET_CASES: list[tuple[str, tuple[str, ...], str]] = [
    # ---- issue 14: accepted before, must be refused
    (ONPREM, ("kafka.brokerStorageGi=1000000000000000",), "kafka.brokerStorageGi"),
    (ONPREM, ("kafka.retentionHours=1000000000000000000",), "kafka.retentionHours"),
    (CLOUD, ("gpuPools[0].maxSize=1000000000",), "gpuPools[0].maxSize"),
    (
        ONPREM,
        ("onprem.keys.dataKeyUri=awskms://alias/mlplatform-data?region=eu-central-1",),
        "onprem.keys.dataKeyUri",
    ),
    (ONPREM, ("tags.costCentre=",), "tags.costCentre"),
    (ONPREM, ("onprem.keys.dataKeyUri=",), "onprem.keys.dataKeyUri"),
    (ONPREM, ("onprem.kubeContext=",), "onprem.kubeContext"),
    (
        CLOUD,
        ("state.url=s3://b?endpoint=s3.eu-west-1.amazonaws.com&region=me-central-1",),
        "eu-west-1",
    ),
    (CLOUD, ("state.url=s3://b?awsregion=me-central-1",), "awsregion"),
    (ONPREM, ("kserve.hostDomain=not a domain!",), "kserve.hostDomain"),
    (CLOUD, ("aws.systemInstanceType=banana",), "aws.systemInstanceType"),
    (ONPREM, ("logging.retentionDays=1",), "logging.retentionDays"),
    # ---- issue 14: the CLI's tracebacks
    (CLOUD, ("registry.mirror=harbor.dc1.example.ae/x",), "[/path]"),  # markup-looking text
    (CLOUD, ("kafka.brokers=[1",), "kafka.brokers"),
    (CLOUD, ("environment=" + "e" * 63,), "environment"),
    (CLOUD, ("mlplatfrom:kafka.brokers=5",), "mlplatfrom"),
    (CLOUD, ("kafka.brokers",), "--set 'kafka.brokers' is not KEY=VALUE"),
    (CLOUD, ("gpuPools.first=1",), "does not match the config's shape"),
    ("uae-nowhere", (), "stack 'uae-nowhere' has no Pulumi.uae-nowhere.yaml"),
    # ---- sizes, counts and durations
    (ONPREM, ("kafka.controllerStorageGi=100000",), "kafka.controllerStorageGi"),
    (ONPREM, ("kafka.partitions=0",), "kafka.partitions"),
    (ONPREM, ("kafka.partitions=5000",), "kafka.partitions"),
    (ONPREM, ("kafka.brokers=100",), "kafka.brokers"),
    (ONPREM, ("kafka.replicationFactor=1000",), "kafka.replicationFactor"),
    (ONPREM, ("kafka.minInsyncReplicas=0",), "kafka.minInsyncReplicas"),
    (ONPREM, ("kafka.retentionHours=0",), "kafka.retentionHours"),
    (ONPREM, ("onprem.postgres.storageGi=1000000",), "onprem.postgres.storageGi"),
    (ONPREM, ("onprem.postgres.instances=50",), "onprem.postgres.instances"),
    (ONPREM, ("onprem.redis.storageGi=100000",), "onprem.redis.storageGi"),
    (ONPREM, ("onprem.redis.replicas=0",), "onprem.redis.replicas"),
    (CLOUD, ("aws.systemMinSize=0",), "aws.systemMinSize"),
    (CLOUD, ("aws.systemMaxSize=10000",), "aws.systemMaxSize"),
    (AZURE, ("azure.systemMaxCount=5000",), "azure.systemMaxCount"),
    (AZURE, ("azure.systemVmSize=Standard_B1s",), "azure.systemVmSize"),
    (CLOUD, ("gpuPools[1].desiredSize=1000000000",), "gpuPools[1].desiredSize"),
    (ONPREM, ("gpuPools[0].gpusPerNode=0",), "gpuPools[0].gpusPerNode"),
    (ONPREM, ("sampleWorkloads.gpus=100000",), "sampleWorkloads.gpus"),
    (ONPREM, ("sampleWorkloads.maxReplicas=100000",), "sampleWorkloads.maxReplicas"),
    (ONPREM, ("sampleWorkloads.canaryTrafficPercent=101",), "sampleWorkloads.canaryTrafficPercent"),
    (ONPREM, ("tenants[0].quota.gpu=1000000",), "tenants[0].quota.gpu"),
    (ONPREM, ("tenants[0].topics=[]",), "tenants[0].topics"),
    (ONPREM, ("feast.replicas=0",), "feast.replicas"),
    (ONPREM, ("mlflow.replicas=1000",), "mlflow.replicas"),
    (ONPREM, ("logging.retentionDays=100000",), "logging.retentionDays"),
    (AZURE, ("logging.retentionDays=1000",), "logging.retentionDays"),
    (AZURE, (*EVENT_HUBS, "kafka.retentionHours=5000"), "kafka.retentionHours"),
    # ---- label values and strings that must not be empty
    (ONPREM, ("tags.owner=",), "tags.owner"),
    (ONPREM, ("tags.system=",), "tags.system"),
    (ONPREM, ("tags.dpiaRef=",), "tags.dpiaRef"),
    (ONPREM, ("tenants[0].idpGroup=",), "tenants[0].idpGroup"),
    (ONPREM, ("onprem.keys.logsKeyUri=",), "onprem.keys.logsKeyUri"),
    (ONPREM, ("onprem.objectStore.region=",), "onprem.objectStore.region"),
    # ---- URLs parsed, every location shown to be in the UAE
    (
        ONPREM,
        ("onprem.keys.secretsKeyUri=arn:aws:kms:eu-central-1:111122223333:key/1234",),
        "onprem.keys.secretsKeyUri",
    ),
    (ONPREM, ("onprem.keys.logsKeyUri=https://kms.eu-west-1.amazonaws.com/k",), "logsKeyUri"),
    (ONPREM, ("onprem.keys.dataKeyUri=vault://vault.dc1.example.ae",), "dataKeyUri"),
    (ONPREM, ("onprem.keys.provider=hsm",), "onprem.keys.dataKeyUri"),
    (ONPREM, ("onprem.objectStore.endpoint=https://s3.eu-west-1.amazonaws.com",), "eu-west-1"),
    (ONPREM, ("onprem.objectStore.endpoint=https://user:pw@s3.dc1.example.ae",), "credentials"),
    (ONPREM, ("onprem.objectStore.region=us-east-1",), "onprem.objectStore.region"),
    (
        ONPREM,
        (
            "onprem.postgres.mode=existing",
            "onprem.postgres.existing={host: db.eu-west-1.rds.amazonaws.com, port: 5432, "
            "credentialsSecret: pg}",
        ),
        "onprem.postgres.existing.host",
    ),
    (ONPREM, ("state.url=s3://b?region=me-central-1&region=eu-west-1",), "more than once"),
    (ONPREM, ("state.url=http://state.example.ae",), "state.url"),
    (CLOUD, ("state.url=azblob://state?storage_account=x",), "state.url"),
    (
        CLOUD,
        ("state.secretsProvider=awskms://alias/pulumi?region=eu-central-1",),
        "state.secretsProvider",
    ),
    (CLOUD, ("state.secretsProvider=gcpkms://projects/p/keys/k",), "state.secretsProvider"),
    (ONPREM, ("state.secretsProvider=hashivault://vault.hashicorp.cloud/k",), "hashicorp.cloud"),
    # ---- names, regions and the rest of the model
    (ONPREM, ("kserve.hostDomain=-bad-.example",), "kserve.hostDomain"),
    (ONPREM, ("environment=Prod",), "environment"),
    (CLOUD, ("aws.region=eu-central-1",), "aws.region"),
    (AZURE, ("azure.location=germanywestcentral",), "azure.location"),
    (ONPREM, ("registry.mirror=docker.io/library",), "registry.mirror"),
    (ONPREM, ("kafka.retention=7d",), "kafka.retention"),
    (ONPREM, ("kubernetes.version=1.3",), "kubernetes.version"),
]

PULUMI_YAML = (ROOT / "Pulumi.yaml").read_text()
STACK_FILE = (ROOT / "Pulumi.uae-onprem.yaml").read_text()

# (stack file text, text the message must contain)
FILE_CASES: list[tuple[str, str]] = [
    (STACK_FILE + "  mlplatform:environment: staging\n", "key 'mlplatform:environment' twice"),
    (STACK_FILE.replace("    owner: ml-platform-team\n", "    owner: a\n    owner: b\n"), "twice"),
    (STACK_FILE + "  mlplatform:kafka: {brokers: 3\n", "Pulumi.bad.yaml"),  # malformed YAML
    (STACK_FILE + "\tbad: tab\n", "not valid YAML"),
    (STACK_FILE + "  kafka:\n    brokers: 5\n", "write it as mlplatform:kafka"),
    (STACK_FILE + "  mlplatfrom:kafka:\n    brokers: 5\n", "did you mean mlplatform:kafka"),
    (STACK_FILE + "  mlplatform:mlplatform:kafka: {}\n", "write it as mlplatform:kafka"),
    (STACK_FILE + "  aws:region: eu-west-1\n", "aws:region = 'eu-west-1' is outside the UAE"),
    (
        STACK_FILE.replace("secretsprovider: hashivault://", "secretsprovider: passphrase\n#"),
        "differs from the stack file's secretsprovider",
    ),
    ("- just\n- a list\n", "Pulumi.bad.yaml"),
]


def _run(tmp_path: Path, args: list[str]) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", *args, "--out", str(out)])
    text = result.output + (getattr(result, "stderr", "") or "")
    return result.exit_code, text, out


def _assert_refused(code: int, text: str, out: Path, expected: str) -> None:
    assert code == 2, text
    assert "Traceback" not in text and "unexpected" not in text, text
    assert expected in text, text
    assert not out.exists() or not any(out.iterdir()), f"{out} was written"


def test_corpus_is_large_enough():
    assert len(SET_CASES) + len(FILE_CASES) >= 60


@pytest.mark.parametrize(("stack", "overrides", "expected"), SET_CASES)
def test_bad_override_is_refused_naming_the_key(tmp_path, stack, overrides, expected):
    args = ["--stack", stack, *(arg for value in overrides for arg in ("--set", value))]
    _assert_refused(*_run(tmp_path, args), expected)


@pytest.mark.parametrize(("text", "expected"), FILE_CASES)
def test_bad_stack_file_is_refused_naming_file_and_key(tmp_path, monkeypatch, text, expected):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(PULUMI_YAML)
    (project / "Pulumi.bad.yaml").write_text(text)
    monkeypatch.setenv(PROJECT_DIR_ENV, str(project))
    _assert_refused(*_run(tmp_path, ["--stack", "bad"]), expected)


def test_the_project_directory_serves_a_good_stack_file_too(tmp_path, monkeypatch):
    """The corpus's stack files are read from MLPLATFORM_PROJECT_DIR (so a refusal above is
    about the file's content, not about where it was)."""
    from stacks.config.loader import stack_config

    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.uae-onprem.yaml"):
        shutil.copy(ROOT / name, project / name)
    monkeypatch.setenv(PROJECT_DIR_ENV, str(project))
    config, _ = stack_config("uae-onprem")
    assert config.target == "onprem"
