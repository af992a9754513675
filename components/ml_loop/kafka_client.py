"""How a tenant pod reaches Kafka: the `MLP_KAFKA_*` environment, the CA and the credentials.

The workloads take their librdkafka settings from `workloads.settings.Settings.kafka_config`,
which reads the variables below; this module writes them from the tenant contract's `kafka`
block, one `KafkaClient` per tenant, for every Kafka variant:

| variant | protocol / mechanism | what the pod gets |
|---|---|---|
| Strimzi, mTLS | `SSL` / none | the platform CA file, `kafka-credentials` (tls.crt/key) |
| Strimzi, SCRAM | `SASL_SSL` / `SCRAM-SHA-512` | the CA file, `kafka-credentials` (user/password) |
| MSK | `SASL_SSL` / `AWS_MSK_IAM` | `AWS_REGION` (a UAE region); the SA's Pod Identity |
| Event Hubs | `SASL_SSL` / `OAUTHBEARER` | the SA's Entra workload identity; nothing mounted |

Managed brokers present certificates from public CAs: no CA file is set and the OS trust store
verifies them (a file with only the platform CA would refuse them). Credentials are mounted as
files, never put in the environment (UAE-K8S-004). A combination the workloads cannot use is
refused here, naming the field, rather than deployed to crash-loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components import conventions as c
from components.credentials import SECRET_FILE_MODE

CREDENTIALS_MOUNT = "/etc/mlplatform/kafka"
CA_FILE = f"{c.CA_BUNDLE_MOUNT}/ca.crt"
UAE_AWS_REGIONS = ("me-central-1",)
_MECHANISMS = {
    "SSL": (None,),
    "SASL_SSL": ("SCRAM-SHA-512", "AWS_MSK_IAM", "OAUTHBEARER"),
}


@dataclass(frozen=True, kw_only=True)
class KafkaClient:
    """A tenant's Kafka endpoint and security, as the contract's `tenants.<t>.kafka` says."""

    bootstrap: pulumi.Input[str]
    security_protocol: str  # SSL (mTLS) | SASL_SSL
    sasl_mechanism: str | None  # None with mTLS
    credentials_secret: str | None  # Strimzi: the tenant's `kafka-credentials`; managed: None
    ca_bundle: str | None  # ConfigMap (key ca.crt) when the platform CA signs the brokers
    aws_region: str | None = None  # MSK IAM: the region tokens are signed for

    def __post_init__(self) -> None:
        allowed = _MECHANISMS.get(self.security_protocol)
        if allowed is None:
            raise ValueError(
                f"kafka.securityProtocol {self.security_protocol!r} is not allowed; "
                f"allowed: {', '.join(_MECHANISMS)} (TLS is never optional)"
            )
        if self.sasl_mechanism not in allowed:
            raise ValueError(
                f"kafka.saslMechanism {self.sasl_mechanism!r} does not go with "
                f"{self.security_protocol}; allowed: {', '.join(map(str, allowed))}"
            )
        needs_secret = self.sasl_mechanism in (None, "SCRAM-SHA-512")
        if needs_secret and not self.credentials_secret:
            raise ValueError(
                f"kafka.credentialsSecret is required with {self.sasl_mechanism or 'mTLS'} "
                "(the tenant's client certificate or SCRAM password, mounted as files)"
            )
        if not needs_secret and self.credentials_secret:
            raise ValueError(
                f"kafka.credentialsSecret must be empty with {self.sasl_mechanism}: the pod "
                "authenticates with its cloud workload identity"
            )
        if self.sasl_mechanism == "AWS_MSK_IAM" and self.aws_region not in UAE_AWS_REGIONS:
            raise ValueError(
                f"kafka awsRegion {self.aws_region!r} cannot sign MSK IAM tokens here; "
                f"allowed: {', '.join(UAE_AWS_REGIONS)}"
            )

    @property
    def managed(self) -> bool:
        """A managed service (MSK, Event Hubs): workload identity, public CA."""
        return self.sasl_mechanism in ("AWS_MSK_IAM", "OAUTHBEARER")

    def env(self) -> dict[str, pulumi.Input[str]]:
        values: dict[str, pulumi.Input[str]] = {
            "MLP_KAFKA_BOOTSTRAP": self.bootstrap,
            "MLP_KAFKA_SECURITY_PROTOCOL": self.security_protocol,
        }
        if self.sasl_mechanism:
            values["MLP_KAFKA_SASL_MECHANISM"] = self.sasl_mechanism
        if self.ca_bundle:
            values["MLP_KAFKA_CA_FILE"] = CA_FILE
        if self.credentials_secret:
            values["MLP_KAFKA_CREDENTIALS_DIR"] = CREDENTIALS_MOUNT
        if self.aws_region:
            values["AWS_REGION"] = self.aws_region
        return values

    def volumes(self) -> list[dict[str, Any]]:
        """The credentials Secret (the CA bundle is mounted by every pod: `pods.ca_volume`)."""
        if not self.credentials_secret:
            return []
        return [
            {
                "name": "kafka-credentials",
                "secret": {"secretName": self.credentials_secret, "defaultMode": SECRET_FILE_MODE},
            }
        ]

    def mounts(self) -> list[dict[str, Any]]:
        if not self.credentials_secret:
            return []
        return [{"name": "kafka-credentials", "mountPath": CREDENTIALS_MOUNT, "readOnly": True}]
