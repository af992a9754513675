"""Reading the labelled data by path or object-store URI, offline.

No cloud endpoint is contacted: the S3 and Azure filesystems are only constructed (their
settings are read back), and reads through an `s3://` or `abfss://` URI go to a local directory
standing in for the bucket (pyarrow's SubTreeFileSystem), through the same code path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pyarrow import fs

from workloads import storage
from workloads.training.train import parse_args

LABELLED = pd.DataFrame(
    {"transaction_id": ["t1", "t2"], "amount_aed": [12.5, 990.0], "is_fraud": [0, 1]}
)
# Any request would go to a closed loopback port, never to a cloud endpoint.
LOOPBACK_S3 = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_instance_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def settings_of(filesystem: fs.FileSystem) -> dict[str, Any]:
    return filesystem.__reduce__()[1][0]


def test_a_local_path_and_a_file_uri_read_the_same_parquet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "labelled" / "transactions.parquet"
    path.parent.mkdir()
    LABELLED.to_parquet(path, index=False)
    monkeypatch.chdir(tmp_path)
    for where in (str(path), "labelled/transactions.parquet", path.as_uri()):
        pd.testing.assert_frame_equal(storage.read_parquet(where), LABELLED)


def test_an_s3_uri_is_read_from_its_bucket_with_the_environments_endpoint_and_ca() -> None:
    env = {
        "AWS_REGION": "me-central-1",
        "AWS_ENDPOINT_URL_S3": LOOPBACK_S3,
        "AWS_CA_BUNDLE": "/etc/mlplatform/object-store-ca/ca.crt",
    }
    filesystem, path = storage.filesystem_for(
        "s3://offline-store/feast/risk/labelled/transactions.parquet", env
    )
    assert isinstance(filesystem, fs.S3FileSystem)
    assert path == "offline-store/feast/risk/labelled/transactions.parquet"
    options = settings_of(filesystem)
    assert options["region"] == "me-central-1"
    assert options["scheme"] == "http"
    assert options["endpoint_override"] == "127.0.0.1:9"
    assert options["tls_ca_file_path"] == "/etc/mlplatform/object-store-ca/ca.crt"
    assert options["access_key"] is None  # credentials: the AWS SDK chain (IRSA, Pod Identity)


def test_an_abfss_uri_is_read_from_its_account_and_container() -> None:
    uri = "abfss://offline@uaeplatformdata.dfs.core.windows.net/offline/risk/labelled/x.parquet"
    filesystem, path = storage.filesystem_for(uri, {})
    assert isinstance(filesystem, fs.AzureFileSystem)
    assert path == "offline/offline/risk/labelled/x.parquet"
    options = settings_of(filesystem)
    assert options["account_name"] == "uaeplatformdata"
    assert options["dfs_storage_authority"] == ".dfs.core.windows.net"
    assert options["blob_storage_authority"] == ".blob.core.windows.net"
    # No key or secret: Azure's DefaultAzureCredential (workload identity in the pod).
    assert options["account_key"] == options["client_secret"] == options["sas_token"] == ""


def test_a_wasbs_uri_is_read_from_the_blob_endpoint() -> None:
    filesystem, path = storage.filesystem_for(
        "wasbs://artifacts@uaeplatformdata.blob.core.windows.net/mlflow/1/model.pkl", {}
    )
    options = settings_of(filesystem)
    assert path == "artifacts/mlflow/1/model.pkl"
    assert options["account_name"] == "uaeplatformdata"
    assert options["blob_storage_authority"] == ".blob.core.windows.net"
    assert options["dfs_storage_authority"] == ".dfs.core.windows.net"


@pytest.mark.parametrize(
    ("uri", "stand_in"),
    [
        ("s3://offline-store/feast/risk/labelled/transactions.parquet", "_s3_filesystem"),
        (
            "abfss://offline@acct.dfs.core.windows.net/offline/risk/labelled/transactions.parquet",
            "_azure_filesystem",
        ),
    ],
)
def test_object_store_uris_read_through_the_stores_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str, stand_in: str
) -> None:
    bucket = fs.SubTreeFileSystem(str(tmp_path), fs.LocalFileSystem())
    monkeypatch.setattr(storage, stand_in, lambda *args: bucket)
    _, path = storage.filesystem_for(uri, {})
    (tmp_path / path).parent.mkdir(parents=True)
    LABELLED.to_parquet(tmp_path / path, index=False)
    pd.testing.assert_frame_equal(storage.read_parquet(uri, {}), LABELLED)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("gs://bucket/key.parquet", "unsupported scheme 'gs'"),
        ("s3:///key.parquet", "no bucket"),
        ("abfss://acct.dfs.core.windows.net/x.parquet", "container@account"),
        ("file://otherhost/x.parquet", "must be local"),
    ],
)
def test_unusable_uris_are_refused(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        storage.filesystem_for(uri, {})


def test_the_trainer_takes_the_uri_the_train_job_passes() -> None:
    # stacks/composition/sample_workloads.py passes
    # --labelled <offline store>/<tenant>/labelled/transactions.parquet
    uri = "abfss://offline@acct.dfs.core.windows.net/offline/risk/labelled/transactions.parquet"
    args = parse_args(["--labelled", uri, "--work-dir", "/tmp/work"])
    assert args.labelled == uri  # not mangled into a local Path ("abfss:/offline@...")
