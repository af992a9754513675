"""Reading data by path or URI: local files, and the object stores the platform hands out.

The TrainJob gets `--labelled <offline store>/<tenant>/labelled/transactions.parquet` from the
stack: `s3://bucket/...` on AWS and on-prem (S3-compatible), `abfss://container@account.dfs...`
on Azure (MLflow's artifacts are `wasbs://container@account.blob...`). Everything goes through
pyarrow's own filesystems (built into the pyarrow wheel the images already carry: no s3fs,
adlfs or cloud SDK in the workload images), with the cloud's standard credential chain:

| URI | filesystem | settings from the environment |
|---|---|---|
| `/path`, `relative/path`, `file:///path` | local | (none) |
| `s3://bucket/key` | `pyarrow.fs.S3FileSystem` | `AWS_REGION`/`AWS_DEFAULT_REGION`; |
| | | `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` (S3-compatible); `AWS_CA_BUNDLE`; |
| | | credentials: AWS SDK chain (IRSA, EKS Pod Identity, `AWS_ACCESS_KEY_ID`) |
| `abfs[s]://container@account.dfs.<suffix>/path`, | `pyarrow.fs.AzureFileSystem` | |
| `wasb[s]://container@account.blob.<suffix>/path` | | credentials: Azure SDK |
| | | DefaultAzureCredential (workload identity) |

Paths inside the store are `<bucket or container>/<key>`, as pyarrow expects.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import pandas as pd
import pyarrow.parquet as pq
from pyarrow import fs

S3_SCHEMES = ("s3",)
AZURE_SCHEMES = {"abfs": "dfs", "abfss": "dfs", "wasb": "blob", "wasbs": "blob"}


def filesystem_for(uri: str, environ: Mapping[str, str] | None = None) -> tuple[fs.FileSystem, str]:
    """The filesystem that holds `uri` and the path to pass it."""
    env = os.environ if environ is None else environ
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme:
        return fs.LocalFileSystem(), os.path.abspath(uri)
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"{uri}: file URIs must be local (file:///path)")
        return fs.LocalFileSystem(), unquote(parts.path)
    if scheme in S3_SCHEMES:
        if not parts.netloc:
            raise ValueError(f"{uri}: no bucket (s3://bucket/key)")
        return _s3_filesystem(env), f"{parts.netloc}{unquote(parts.path)}"
    if scheme in AZURE_SCHEMES:
        container, _, host = parts.netloc.partition("@")
        account, dot, suffix = host.partition(".")
        if not container or not account or not dot:
            raise ValueError(f"{uri}: expected {scheme}://container@account.<service host>/path")
        return _azure_filesystem(account, AZURE_SCHEMES[scheme], f".{suffix}"), (
            f"{container}{unquote(parts.path)}"
        )
    raise ValueError(f"{uri}: unsupported scheme {scheme!r} (local, file, s3, abfss, wasbs)")


def _s3_filesystem(env: Mapping[str, str]) -> fs.FileSystem:
    options: dict[str, object] = {}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        options["region"] = region
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        parsed = urlsplit(endpoint)
        if parsed.scheme:  # https://minio.internal:9000 → scheme + host:port
            options["scheme"] = parsed.scheme
            options["endpoint_override"] = parsed.netloc
        else:
            options["endpoint_override"] = endpoint
    if env.get("AWS_CA_BUNDLE"):
        options["tls_ca_file_path"] = env["AWS_CA_BUNDLE"]
    return fs.S3FileSystem(**options)


def _azure_filesystem(account: str, service: str, suffix: str) -> fs.FileSystem:
    """Account-level filesystem; `suffix` is the service host after the account name."""
    other = {"dfs": "blob", "blob": "dfs"}[service]
    return fs.AzureFileSystem(
        account_name=account,
        **{
            f"{service}_storage_authority": suffix,
            f"{other}_storage_authority": suffix.replace(f".{service}.", f".{other}.", 1),
        },
    )


def read_parquet(uri: str, environ: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A parquet file (or a directory of them) at a local path or object-store URI."""
    filesystem, path = filesystem_for(uri, environ)
    return pq.read_table(path, filesystem=filesystem).to_pandas()
