"""Endpoints and names every workload shares: Kafka bootstrap and topics, MLflow, Feast, model name.

One place reads the environment so that the same image runs locally (values set by
`mlplatform local`) and in the cluster (values from the tenant contract, injected by the
platform as environment variables). Nothing here has a network default that could leak a
workload onto the wrong service: the local defaults are loopback only.

Kafka clients (the prediction log, the stream processor, the drift monitor, the producer) all
take their librdkafka settings from `Settings.kafka_config`, which maps the tenant contract's
`kafka` block onto librdkafka:

| variable | contract | librdkafka |
|---|---|---|
| `MLP_KAFKA_BOOTSTRAP` | `bootstrap` | `bootstrap.servers` |
| `MLP_KAFKA_SECURITY_PROTOCOL` | `securityProtocol` (SSL, SASL_SSL) | `security.protocol` |
| `MLP_KAFKA_SASL_MECHANISM` | `saslMechanism` | `sasl.mechanism` |
| `MLP_KAFKA_CA_FILE` | `caBundle`, mounted (e.g. `/etc/mlplatform/ca/ca.crt`) | `ssl.ca.location` |
| `MLP_KAFKA_CREDENTIALS_DIR` | `credentialsSecret`, mounted as files | see below |
| `MLP_KAFKA_CLIENT_CONFIG` | (none) | a JSON file of extra settings, applied last |

Per Kafka variant of the contract:

- Strimzi, SCRAM: `SASL_SSL` / `SCRAM-SHA-512`, the `username` and `password` files of the
  mounted Secret;
- Strimzi, mutual TLS: `SSL`, `tls.crt`/`tls.key` (cert-manager) or `user.crt`/`user.key`
  (Strimzi);
- MSK, IAM: `SASL_SSL` / `AWS_MSK_IAM`: the pod's AWS identity (EKS Pod Identity, IRSA: the
  default credential chain) signed by aws-msk-iam-sasl-signer-python into an OAUTHBEARER token
  (`MskIamToken`), for the region of `AWS_REGION` / `AWS_DEFAULT_REGION` or of the brokers'
  host names, which must be a UAE region;
- Event Hubs: `SASL_SSL` / `OAUTHBEARER`: an Entra ID token for
  `https://<namespace>.servicebus.windows.net/.default` from azure-identity (`EntraToken`:
  `WorkloadIdentityCredential` when the pod has a federated token, else
  `DefaultAzureCredential`), the namespace from the bootstrap host.

The credentials directory is the tenant's `kafka-credentials` Secret mounted read-only (the
Secret's own `security.protocol` and `sasl.mechanism` keys fill in what the environment leaves
unset). Files are read each time a client is created, so a rotated password is picked up by the
next client; OAUTHBEARER tokens are fetched by librdkafka through the client's `oauth_cb`
before they expire. Secrets are never taken from environment variables. Without a CA file, TLS
verifies the broker against the OS trust store (managed Kafka with public certificates).
Unsupported combinations fail with a `KafkaConfigError` that names what is missing or
unsupported instead of connecting insecurely.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL_NAME = "card-risk"
MODEL_ALIAS = "champion"

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_SSL")
SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")
TOKEN_MECHANISMS = ("AWS_MSK_IAM", "OAUTHBEARER")
# AWS regions in the UAE: an MSK token is signed for the cluster's region, which must be one.
UAE_AWS_REGIONS = ("me-central-1",)
_MSK_HOST = re.compile(
    r"\.kafka(?:-serverless)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com$"
)
_EVENT_HUBS_HOST = re.compile(
    r"^(?P<namespace>[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9])\.servicebus\.windows\.net$"
)
_MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)$")


class KafkaConfigError(ValueError):
    """The Kafka client settings are incomplete, inconsistent or unsupported."""


class MskIamToken:
    """confluent-kafka's `oauth_cb` for MSK IAM: an OAUTHBEARER token that is a SigV4-signed
    request for the cluster's region, made by the AWS MSK IAM SASL signer from the default
    credential chain (EKS Pod Identity, IRSA, environment), or from `credentials_provider` (a
    botocore credential provider)."""

    def __init__(self, region: str, credentials_provider: Any = None) -> None:
        self.region = region
        self.credentials_provider = credentials_provider

    def __call__(self, _oauthbearer_config: str = "") -> tuple[str, float]:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        provider = self.credentials_provider or _default_chain()
        token, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
            self.region, provider
        )
        return token, expiry_ms / 1000.0


def _default_chain() -> Any:
    """botocore's default credential chain (EKS Pod Identity, IRSA, environment, profile) as
    the CredentialProvider the signer takes, refusing clearly when it finds nothing."""
    import botocore.session
    from botocore.credentials import CredentialProvider

    class DefaultChain(CredentialProvider):
        METHOD = "default-chain"

        def load(self) -> Any:
            credentials = botocore.session.Session().get_credentials()
            if credentials is None:
                raise KafkaConfigError(
                    "AWS_MSK_IAM: no AWS credentials found (the pod needs EKS Pod Identity or "
                    "an IRSA service account; locally, AWS_ACCESS_KEY_ID or a profile)"
                )
            return credentials

    return DefaultChain()


class EntraToken:
    """confluent-kafka's `oauth_cb` for Event Hubs: an Entra ID access token for the namespace
    from an azure-identity credential (`credential`, else `WorkloadIdentityCredential` when
    the pod has a federated token, else `DefaultAzureCredential`), created once and reused, so
    its token cache serves the refreshes librdkafka asks for."""

    def __init__(self, namespace: str, credential: Any = None) -> None:
        self.scope = f"https://{namespace}.servicebus.windows.net/.default"
        self.credential = credential

    def __call__(self, _oauthbearer_config: str = "") -> tuple[str, float]:
        if self.credential is None:
            self.credential = _azure_credential()
        token = self.credential.get_token(self.scope)
        return token.token, float(token.expires_on)


def _azure_credential() -> Any:
    from azure.identity import DefaultAzureCredential, WorkloadIdentityCredential

    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE"):
        return WorkloadIdentityCredential()  # tenant, client and token file from the webhook
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """The naming rule of dead-letter topics: input topic `T` → `T.dlq`."""
    return f"{topic}{DEAD_LETTER_SUFFIX}"


@dataclass(frozen=True)
class Topics:
    """Kafka topics of the card-risk use case (per tenant in the cluster, from the contract).

    `dead_letter` is derived from `transactions` (`dead_letter_topic`); giving another name is
    an error, so the processor, the platform and the readers can never disagree about it.
    """

    transactions: str = "card-transactions"
    dead_letter: str = ""
    scored: str = "card-transactions.scored"
    drift: str = "model-drift-events"
    retraining: str = "model-retraining-requests"

    def __post_init__(self) -> None:
        derived = dead_letter_topic(self.transactions)
        if not self.dead_letter:
            object.__setattr__(self, "dead_letter", derived)
        elif self.dead_letter != derived:
            raise ValueError(
                f"dead-letter topic {self.dead_letter!r} (MLP_TOPIC_DEAD_LETTER) breaks the naming "
                f"rule: the dead-letter topic of {self.transactions!r} is {derived!r}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Topics:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            transactions=env.get("MLP_TOPIC_TRANSACTIONS", defaults.transactions),
            dead_letter=env.get("MLP_TOPIC_DEAD_LETTER", ""),
            scored=env.get("MLP_TOPIC_SCORED", defaults.scored),
            drift=env.get("MLP_TOPIC_DRIFT", defaults.drift),
            retraining=env.get("MLP_TOPIC_RETRAINING", defaults.retraining),
        )

    def all(self) -> list[str]:
        return [self.transactions, self.dead_letter, self.scored, self.drift, self.retraining]


@dataclass(frozen=True)
class Settings:
    """Where the workloads find their services."""

    kafka_bootstrap: str = "127.0.0.1:19092"
    # Path of a JSON file with extra librdkafka settings, applied after everything else.
    kafka_client_config: Path | None = None
    # Empty: from the credentials directory's `security.protocol`, else PLAINTEXT (local).
    kafka_security_protocol: str = ""
    kafka_sasl_mechanism: str = ""
    kafka_ca_file: Path | None = None
    kafka_credentials_dir: Path | None = None
    # AWS_REGION / AWS_DEFAULT_REGION: the region an MSK IAM token is signed for
    aws_region: str = ""
    mlflow_tracking_uri: str = "http://127.0.0.1:15000"
    feature_store_yaml: Path = Path(".local-platform/feast/feature_store.yaml")
    model_name: str = MODEL_NAME
    # The registered-model alias served, scored and monitored: `champion`, or `challenger` for
    # the InferenceService canary (MLP_MODEL_ALIAS, set by components/workloads.py).
    model_alias: str = MODEL_ALIAS
    topics: Topics = field(default_factory=Topics)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()

        def path(name: str) -> Path | None:
            value = env.get(name)
            return Path(value) if value else None

        model_name = env.get("MLP_MODEL_NAME", defaults.model_name)
        return cls(
            kafka_bootstrap=env.get("MLP_KAFKA_BOOTSTRAP", defaults.kafka_bootstrap),
            kafka_client_config=path("MLP_KAFKA_CLIENT_CONFIG"),
            kafka_security_protocol=env.get("MLP_KAFKA_SECURITY_PROTOCOL", ""),
            kafka_sasl_mechanism=env.get("MLP_KAFKA_SASL_MECHANISM", ""),
            kafka_ca_file=path("MLP_KAFKA_CA_FILE"),
            kafka_credentials_dir=path("MLP_KAFKA_CREDENTIALS_DIR"),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
            mlflow_tracking_uri=env.get("MLFLOW_TRACKING_URI", defaults.mlflow_tracking_uri),
            feature_store_yaml=Path(
                env.get("MLP_FEATURE_STORE_YAML", str(defaults.feature_store_yaml))
            ),
            model_name=model_name,
            model_alias=_model_alias(env, model_name),
            topics=Topics.from_env(env),
        )

    def kafka_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka settings: bootstrap and security from the contract, then the JSON file of
        extra settings, then the caller's."""
        config: dict[str, Any] = {"bootstrap.servers": self.kafka_bootstrap, **self._security()}
        if self.kafka_client_config is not None:
            config.update(json.loads(self.kafka_client_config.read_text()))
        config.update(overrides)
        return config

    # ------------------------------------------------------------------ Kafka security

    def _secret(self, key: str) -> str | None:
        if self.kafka_credentials_dir is None:
            return None
        path = self.kafka_credentials_dir / key
        return path.read_text().rstrip("\r\n") if path.is_file() else None

    def _security(self) -> dict[str, Any]:
        protocol = (
            self.kafka_security_protocol or self._secret("security.protocol") or "PLAINTEXT"
        ).upper()
        mechanism = (self.kafka_sasl_mechanism or self._secret("sasl.mechanism") or "").upper()
        if protocol not in SECURITY_PROTOCOLS:
            raise KafkaConfigError(
                f"Kafka security protocol {protocol!r} is not supported: use one of "
                f"{', '.join(SECURITY_PROTOCOLS)} (SASL_PLAINTEXT would send credentials in clear)"
            )
        if protocol == "PLAINTEXT":
            if mechanism or self.kafka_credentials_dir is not None:
                raise KafkaConfigError(
                    "Kafka credentials or a SASL mechanism are configured but the security "
                    "protocol is PLAINTEXT: set MLP_KAFKA_SECURITY_PROTOCOL to SSL or SASL_SSL"
                )
            return {}
        config: dict[str, Any] = {
            "security.protocol": protocol,
            "ssl.endpoint.identification.algorithm": "https",
        }
        if self.kafka_ca_file is not None:
            if not self.kafka_ca_file.is_file():
                raise KafkaConfigError(f"MLP_KAFKA_CA_FILE {self.kafka_ca_file} does not exist")
            config["ssl.ca.location"] = str(self.kafka_ca_file)
        if protocol == "SSL":
            if mechanism:
                raise KafkaConfigError(
                    f"SASL mechanism {mechanism} needs security protocol SASL_SSL, not SSL"
                )
            config.update(self._client_certificate())
            return config
        if not mechanism:
            raise KafkaConfigError("security protocol SASL_SSL needs MLP_KAFKA_SASL_MECHANISM")
        if mechanism == "AWS_MSK_IAM":
            config.update({"sasl.mechanism": "OAUTHBEARER", "oauth_cb": self._msk_iam()})
            return config
        if mechanism == "OAUTHBEARER":
            config.update({"sasl.mechanism": "OAUTHBEARER", "oauth_cb": self._entra()})
            return config
        if mechanism not in SCRAM_MECHANISMS:
            raise KafkaConfigError(
                f"SASL mechanism {mechanism!r} is not supported: use one of "
                f"{', '.join(SCRAM_MECHANISMS + TOKEN_MECHANISMS)}"
            )
        username, password = self._secret("username"), self._secret("password")
        if not username or not password:
            where = self.kafka_credentials_dir or "(MLP_KAFKA_CREDENTIALS_DIR is not set)"
            raise KafkaConfigError(
                f"{mechanism} needs the files `username` and `password` of the tenant's Kafka "
                f"credentials Secret in {where}"
            )
        config.update(
            {"sasl.mechanism": mechanism, "sasl.username": username, "sasl.password": password}
        )
        return config

    def _hosts(self) -> list[str]:
        return [server.strip().rsplit(":", 1)[0] for server in self.kafka_bootstrap.split(",")]

    def _msk_iam(self) -> MskIamToken:
        """The MSK IAM token provider, for the cluster's region (which must be in the UAE)."""
        regions = {m["region"] for m in map(_MSK_HOST.search, self._hosts()) if m is not None}
        if len(regions) > 1:
            raise KafkaConfigError(f"AWS_MSK_IAM: the brokers lie in several regions {regions}")
        region = self.aws_region or next(iter(regions), "")
        if regions and region not in regions:
            raise KafkaConfigError(
                f"AWS_MSK_IAM: AWS_REGION {region} is not the brokers' region {regions.pop()}"
            )
        if not region:
            raise KafkaConfigError(
                "AWS_MSK_IAM needs the cluster's region: set AWS_REGION (the brokers' host "
                f"names {self.kafka_bootstrap!r} do not name one)"
            )
        if region not in UAE_AWS_REGIONS:
            raise KafkaConfigError(
                f"AWS_MSK_IAM: region {region} is outside the UAE; allowed: "
                f"{', '.join(UAE_AWS_REGIONS)}"
            )
        return MskIamToken(region)

    def _entra(self) -> EntraToken:
        """The Event Hubs token provider, for the namespace of the bootstrap host."""
        found = {m["namespace"] for m in map(_EVENT_HUBS_HOST.match, self._hosts()) if m}
        if len(found) != 1 or len(self._hosts()) != 1:
            raise KafkaConfigError(
                "OAUTHBEARER is Event Hubs with Entra ID: MLP_KAFKA_BOOTSTRAP must be "
                f"<namespace>.servicebus.windows.net:9093, got {self.kafka_bootstrap!r}"
            )
        return EntraToken(found.pop())

    def _client_certificate(self) -> dict[str, str]:
        """Mutual TLS: the client certificate and key from the credentials directory, if any."""
        directory = self.kafka_credentials_dir
        if directory is None:
            return {}
        for cert, key in (("tls.crt", "tls.key"), ("user.crt", "user.key")):
            if (directory / cert).is_file() and (directory / key).is_file():
                return {
                    "ssl.certificate.location": str(directory / cert),
                    "ssl.key.location": str(directory / key),
                }
        raise KafkaConfigError(
            f"security protocol SSL with credentials in {directory}: expected tls.crt and "
            "tls.key (cert-manager) or user.crt and user.key (Strimzi) there"
        )


def _model_alias(env: Mapping[str, str], model_name: str) -> str:
    """MLP_MODEL_ALIAS, else the alias of MLP_MODEL_URI (`models:/<name>@<alias>`), else
    champion. A URI that names another model, or contradicts the alias, is an error."""
    alias = env.get("MLP_MODEL_ALIAS", "").strip()
    uri = env.get("MLP_MODEL_URI", "").strip()
    if uri:
        match = _MODEL_URI.match(uri)
        if match is None:
            raise ValueError(f"MLP_MODEL_URI {uri!r} is not models:/<name>@<alias>")
        if match["name"] != model_name:
            raise ValueError(f"MLP_MODEL_URI {uri!r} names another model than {model_name!r}")
        if alias and alias != match["alias"]:
            raise ValueError(f"MLP_MODEL_URI {uri!r} contradicts MLP_MODEL_ALIAS {alias!r}")
        alias = match["alias"]
    return alias or MODEL_ALIAS
