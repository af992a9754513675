"""Run a Feast server as if in a pod of namespace `$FEAST_POD_DIR/namespace`: the in-cluster
config (token and CA of the stand-in API server, `$KUBERNETES_SERVICE_HOST/PORT`) read from
`$FEAST_POD_DIR` instead of /var/run/secrets. With `--pin`, through the platform's entrypoint
(`components.feast_tenancy.PROJECT_PIN`), exactly as the online servers run it.

    python tests/workloads/feast_in_pod.py [--pin] feast --chdir REPO serve --port P
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

pod = Path(os.environ["FEAST_POD_DIR"])
from kubernetes.config import incluster_config  # noqa: E402

incluster_config.SERVICE_TOKEN_FILENAME = str(pod / "token")
incluster_config.SERVICE_CERT_FILENAME = str(pod / "ca.crt")
from feast.permissions.auth import kubernetes_token_parser  # noqa: E402

kubernetes_token_parser._namespace_file_path = str(pod / "namespace")

args = sys.argv[1:]
pin = args[:1] == ["--pin"]
args = args[1:] if pin else args
if args[:1] != ["feast"]:
    raise SystemExit("usage: feast_in_pod.py [--pin] feast ARGS...")
if pin:
    from components.feast_tenancy import PROJECT_PIN  # the exact entrypoint the plan ships

    sys.argv = ["feast", *args[1:]]
    exec(compile(PROJECT_PIN, "<mlplatform feast entrypoint>", "exec"), {"__name__": "__main__"})
else:
    from feast.cli.cli import cli

    sys.exit(cli(args[1:]))
