"""`TenantMlAccess`: what a tenant namespace needs to use MLflow and Feast, and to serve models.

| child | purpose |
|---|---|
| Secret `mlflow-credentials` | the tenant's MLflow user: `username`, `password`, `credentials` |
| ConfigMap `feast-client` | `feature_store.yaml` for the remote Feast servers (no store secrets) |
| Certificate `mlplatform-predictor-tls` | the predictors' HTTPS certificate from the platform CA |

`credentials` is the INI file the MLflow client reads from `~/.mlflow/credentials`: pods mount
it as a file instead of taking the password as an environment variable (UAE-K8S-004).

Args (`TenantMlAccessArgs`): `namespace`, `labels`, `mlflow_username`, `mlflow_password`
(secret Output), `feature_store_yaml`, `cluster_issuer` (the platform CA's ClusterIssuer that
signs the predictor certificate, `components.serving.predictor_certificate`).
Outputs: `mlflow_secret`, `feast_config`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import conventions as c
from components.objects import upstream
from components.serving import predictor_certificate


@dataclass(frozen=True)
class TenantMlAccessArgs:
    namespace: str
    labels: dict[str, str]
    mlflow_username: str
    mlflow_password: pulumi.Input[str]
    feature_store_yaml: str
    cluster_issuer: str


def credentials_file(username: str, password: str) -> str:
    return (
        f"[mlflow]\nmlflow_tracking_username = {username}\nmlflow_tracking_password = {password}\n"
    )


class TenantMlAccess(pulumi.ComponentResource):
    mlflow_secret: str
    feast_config: str

    def __init__(
        self, name: str, args: TenantMlAccessArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:ml:TenantMlAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=upstream(opts))
        password = pulumi.Output.secret(args.mlflow_password)
        k8s.core.v1.Secret(
            f"{name}-mlflow",
            metadata={
                "name": c.MLFLOW_CREDENTIALS_SECRET,
                "namespace": args.namespace,
                "labels": args.labels,
            },
            type="Opaque",
            string_data={
                "username": args.mlflow_username,
                "password": password,
                "credentials": password.apply(lambda p: credentials_file(args.mlflow_username, p)),
            },
            opts=child,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-feast",
            metadata={
                "name": c.FEAST_CLIENT_CONFIG,
                "namespace": args.namespace,
                "labels": args.labels,
            },
            data={"feature_store.yaml": args.feature_store_yaml},
            opts=child,
        )
        predictor_certificate(
            f"{name}-predictor-tls", args.namespace, args.labels, args.cluster_issuer, child
        )
        self.mlflow_secret = c.MLFLOW_CREDENTIALS_SECRET
        self.feast_config = c.FEAST_CLIENT_CONFIG
        self.register_outputs(
            {"mlflowSecret": self.mlflow_secret, "feastConfig": self.feast_config}
        )
