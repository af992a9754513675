"""The workloads' settings: Kafka client security from the tenant contract, the served model alias.

No broker here: the librdkafka settings are checked as the clients would receive them (the
confluent_kafka classes are replaced by recorders), so nothing connects anywhere.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.credentials import AccessToken

from workloads.settings import (
    EntraToken,
    KafkaConfigError,
    MskIamToken,
    Settings,
    Topics,
    dead_letter_topic,
)

BOOTSTRAP = "my-cluster-kafka-bootstrap.kafka.svc:9093"
SCRAM = {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}


def strimzi_scram_secret(directory: Path, password: str = "s3cret-password") -> Path:
    """The tenant's `kafka-credentials` Secret (components/kafka.py, SCRAM) as mounted files."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "bootstrap.servers": BOOTSTRAP,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "username": "tenant-risk",
        "password": password,
        "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    }
    for key, value in files.items():
        (directory / key).write_text(value)
    return directory


def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca" / "ca.crt"
    path.parent.mkdir(exist_ok=True)
    path.write_text("-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n")
    return path


def cluster_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "MLP_KAFKA_BOOTSTRAP": BOOTSTRAP,
        "MLP_KAFKA_CREDENTIALS_DIR": str(strimzi_scram_secret(tmp_path / "kafka")),
        "MLP_KAFKA_CA_FILE": str(ca_file(tmp_path)),
        **extra,
    }


def test_the_local_broker_is_plaintext_loopback() -> None:
    assert Settings.from_env({}).kafka_config(**{"group.id": "g"}) == {
        "bootstrap.servers": "127.0.0.1:19092",
        "group.id": "g",
    }


def test_strimzi_scram_credentials_and_the_platform_ca_are_used(tmp_path: Path) -> None:
    settings = Settings.from_env(cluster_env(tmp_path))
    config = settings.kafka_config(acks="all")
    assert config == {
        "bootstrap.servers": BOOTSTRAP,
        "security.protocol": "SASL_SSL",
        "ssl.endpoint.identification.algorithm": "https",
        "ssl.ca.location": str(tmp_path / "ca" / "ca.crt"),
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "tenant-risk",
        "sasl.password": "s3cret-password",
        "acks": "all",
    }


def test_the_environment_wins_over_the_secrets_own_protocol_keys(tmp_path: Path) -> None:
    env = cluster_env(tmp_path, MLP_KAFKA_SASL_MECHANISM="scram-sha-256")
    assert Settings.from_env(env).kafka_config()["sasl.mechanism"] == "SCRAM-SHA-256"


def test_a_rotated_password_reaches_the_next_client(tmp_path: Path) -> None:
    settings = Settings.from_env(cluster_env(tmp_path))
    assert settings.kafka_config()["sasl.password"] == "s3cret-password"
    strimzi_scram_secret(tmp_path / "kafka", password="rotated")
    assert settings.kafka_config()["sasl.password"] == "rotated"


@pytest.mark.parametrize(("cert", "key"), [("tls.crt", "tls.key"), ("user.crt", "user.key")])
def test_mutual_tls_uses_the_client_certificate(tmp_path: Path, cert: str, key: str) -> None:
    credentials = tmp_path / "kafka-credentials"
    credentials.mkdir()
    for name in (cert, key, "ca.crt"):
        (credentials / name).write_text("pem")
    env = {
        "MLP_KAFKA_BOOTSTRAP": BOOTSTRAP,
        "MLP_KAFKA_SECURITY_PROTOCOL": "SSL",
        "MLP_KAFKA_CREDENTIALS_DIR": str(credentials),
        "MLP_KAFKA_CA_FILE": str(ca_file(tmp_path)),
    }
    config = Settings.from_env(env).kafka_config()
    assert config["security.protocol"] == "SSL"
    assert config["ssl.certificate.location"] == str(credentials / cert)
    assert config["ssl.key.location"] == str(credentials / key)
    assert config["ssl.ca.location"] == str(tmp_path / "ca" / "ca.crt")
    assert not any(k.startswith("sasl.") for k in config)


def test_tls_without_a_ca_file_verifies_against_the_os_store() -> None:
    env = {"MLP_KAFKA_BOOTSTRAP": "b-1.msk.example:9096", "MLP_KAFKA_SECURITY_PROTOCOL": "SSL"}
    config = Settings.from_env(env).kafka_config()
    assert config["security.protocol"] == "SSL"
    assert "ssl.ca.location" not in config
    assert config["ssl.endpoint.identification.algorithm"] == "https"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "AWS_MSK_IAM"},
            "AWS_MSK_IAM needs the cluster's region: set AWS_REGION",
        ),
        (
            {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "OAUTHBEARER"},
            "OAUTHBEARER is Event Hubs with Entra ID: MLP_KAFKA_BOOTSTRAP must be",
        ),
        (
            {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "GSSAPI"},
            "'GSSAPI' is not supported",
        ),
        (
            {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT"},
            "SASL_PLAINTEXT would send credentials in clear",
        ),
        ({"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs MLP_KAFKA_SASL_MECHANISM"),
        (SCRAM, "`username` and `password`"),
        (
            {"MLP_KAFKA_SECURITY_PROTOCOL": "SSL", "MLP_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"},
            "needs security protocol SASL_SSL",
        ),
        (
            {"MLP_KAFKA_SECURITY_PROTOCOL": "SSL", "MLP_KAFKA_CA_FILE": "/nonexistent/ca.crt"},
            "/nonexistent/ca.crt does not exist",
        ),
        ({"MLP_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}, "security protocol is PLAINTEXT"),
    ],
)
def test_incomplete_or_unsupported_security_fails_naming_the_problem(
    env: dict[str, str], message: str
) -> None:
    settings = Settings.from_env({"MLP_KAFKA_BOOTSTRAP": BOOTSTRAP, **env})
    with pytest.raises(KafkaConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        settings.kafka_config()


def test_ssl_with_credentials_but_no_client_certificate_is_an_error(tmp_path: Path) -> None:
    credentials = tmp_path / "kafka-credentials"
    credentials.mkdir()
    (credentials / "password").write_text("x")
    env = {"MLP_KAFKA_SECURITY_PROTOCOL": "SSL", "MLP_KAFKA_CREDENTIALS_DIR": str(credentials)}
    with pytest.raises(KafkaConfigError, match=r"tls\.crt and tls\.key"):
        Settings.from_env(env).kafka_config()


def test_the_json_client_config_comes_after_the_contract_and_before_the_caller(
    tmp_path: Path,
) -> None:
    extra = tmp_path / "client.json"
    extra.write_text(json.dumps({"client.id": "risk-scorer", "sasl.username": "other"}))
    env = cluster_env(tmp_path, MLP_KAFKA_CLIENT_CONFIG=str(extra))
    config = Settings.from_env(env).kafka_config(**{"client.id": "caller"})
    assert config["sasl.username"] == "other"
    assert config["client.id"] == "caller"


class Recorder:
    """Stands in for confluent_kafka's Producer/Consumer: records the settings it is given."""

    configs: list[dict[str, Any]] = []

    def __init__(self, config: dict[str, Any]) -> None:
        Recorder.configs.append(config)

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: 0


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[Recorder]:
    from workloads.data import producer
    from workloads.serving import prediction_log
    from workloads.streaming import consumer, topics

    Recorder.configs = []
    monkeypatch.setattr(prediction_log, "Producer", Recorder)
    monkeypatch.setattr(producer, "Producer", Recorder)
    monkeypatch.setattr(topics, "Consumer", Recorder)
    monkeypatch.setattr(consumer, "Consumer", Recorder)
    monkeypatch.setattr(consumer, "Producer", Recorder)
    return Recorder


def test_prediction_log_stream_processor_and_drift_monitor_share_the_security_settings(
    tmp_path: Path, recorder: type[Recorder]
) -> None:
    from workloads.data.producer import produce
    from workloads.serving.prediction_log import PredictionLog
    from workloads.streaming.consumer import StreamProcessor
    from workloads.streaming.topics import TopicReader

    settings = Settings.from_env(cluster_env(tmp_path))
    PredictionLog(settings)  # the predictor's prediction log
    StreamProcessor(settings, store=None, state_dir=tmp_path / "state")  # type: ignore[arg-type]
    TopicReader(settings, settings.topics.scored, group_id="card-risk-drift-monitor")  # monitor
    produce(settings, settings.topics.drift, [])  # drift events and retraining requests
    assert len(recorder.configs) == 5
    for config in recorder.configs:
        assert config["security.protocol"] == "SASL_SSL"
        assert config["sasl.mechanism"] == "SCRAM-SHA-512"
        assert config["sasl.username"] == "tenant-risk"
        assert config["ssl.ca.location"] == str(tmp_path / "ca" / "ca.crt")


def test_an_unsupported_mechanism_stops_every_client_before_it_connects(
    recorder: type[Recorder],
) -> None:
    from workloads.serving.prediction_log import PredictionLog
    from workloads.streaming.topics import TopicReader

    env = {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "GSSAPI"}
    settings = Settings.from_env(env)
    with pytest.raises(KafkaConfigError, match="GSSAPI"):
        PredictionLog(settings)
    with pytest.raises(KafkaConfigError, match="GSSAPI"):
        TopicReader(settings, "t")
    assert recorder.configs == []


# ---------------------------------------------------------------------------- model alias


def test_the_champion_is_served_by_default() -> None:
    assert Settings.from_env({}).model_alias == "champion"


def test_the_canary_serves_the_alias_the_inference_service_sets() -> None:
    # What components/sample_workloads.py puts on the canary predictor's container.
    env = {
        "MLP_MODEL_NAME": "fraud-risk",
        "MLP_MODEL_ALIAS": "challenger",
        "MLP_MODEL_URI": "models:/fraud-risk@challenger",
    }
    assert Settings.from_env(env).model_alias == "challenger"
    only_uri = {"MLP_MODEL_NAME": "fraud-risk", "MLP_MODEL_URI": "models:/fraud-risk@challenger"}
    assert Settings.from_env(only_uri).model_alias == "challenger"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"MLP_MODEL_ALIAS": "champion", "MLP_MODEL_URI": "models:/card-risk@challenger"},
            "contradicts",
        ),
        ({"MLP_MODEL_URI": "models:/other-model@challenger"}, "names another model"),
        ({"MLP_MODEL_URI": "models:/card-risk/3"}, "is not models:/<name>@<alias>"),
    ],
)
def test_a_contradictory_model_uri_is_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_the_predictor_serves_without_a_prediction_log_it_cannot_configure(
    recorder: type[Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import REGISTRY

    from workloads.serving.prediction_log import open_prediction_log

    env = {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "OAUTHBEARER"}
    assert open_prediction_log(Settings.from_env(env)) is None
    assert "prediction log disabled" in caplog.text and "OAUTHBEARER" in caplog.text
    assert REGISTRY.get_sample_value("card_risk_prediction_log_disabled") == 1
    assert open_prediction_log(Settings.from_env({})) is not None
    assert REGISTRY.get_sample_value("card_risk_prediction_log_disabled") == 0


# ---------------------------------------------------------------------------- topics


def test_every_input_topic_has_its_dead_letter_topic_by_the_naming_rule() -> None:
    assert Settings.from_env({}).topics.dead_letter == "card-transactions.dlq"
    tenant = Topics.from_env({"MLP_TOPIC_TRANSACTIONS": "risk.card-transactions"})
    assert tenant.dead_letter == dead_letter_topic("risk.card-transactions")
    assert tenant.dead_letter == "risk.card-transactions.dlq"
    assert tenant.dead_letter in tenant.all()
    same = {"MLP_TOPIC_TRANSACTIONS": "tx", "MLP_TOPIC_DEAD_LETTER": "tx.dlq"}
    assert Topics.from_env(same).dead_letter == "tx.dlq"


def test_a_dead_letter_topic_that_breaks_the_rule_is_refused() -> None:
    env = {"MLP_TOPIC_TRANSACTIONS": "tx", "MLP_TOPIC_DEAD_LETTER": "errors"}
    with pytest.raises(ValueError, match=r"MLP_TOPIC_DEAD_LETTER.*'tx\.dlq'"):
        Topics.from_env(env)


# ---------------------------------------------------------------------------- MSK IAM

MSK = (
    "b-1.risk.a1b2c3.c2.kafka.me-central-1.amazonaws.com:9098,"
    "b-2.risk.a1b2c3.c2.kafka.me-central-1.amazonaws.com:9098"
)
IAM = {
    "MLP_KAFKA_BOOTSTRAP": MSK,
    "MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "MLP_KAFKA_SASL_MECHANISM": "AWS_MSK_IAM",
}


@pytest.fixture
def aws_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """botocore's default chain with nothing in it: no profile, no IMDS, no keys."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "BOTO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def signed_request(token: str) -> tuple[str, dict[str, list[str]]]:
    """The token is the base64url of a SigV4-presigned URL (the MSK IAM SASL format)."""
    url = urlsplit(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    return url.netloc, parse_qs(url.query)


def test_msk_iam_signs_a_token_for_the_clusters_region_with_the_pods_credentials(
    aws_chain: pytest.MonkeyPatch,
) -> None:
    aws_chain.setenv("AWS_ACCESS_KEY_ID", "AKIAUAETESTKEY000001")
    aws_chain.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    config = Settings.from_env(IAM).kafka_config()
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    assert config["ssl.endpoint.identification.algorithm"] == "https"
    assert not {"sasl.username", "sasl.password"} & set(config)
    token, expiry = config["oauth_cb"]("")
    host, query = signed_request(token)
    assert host == "kafka.me-central-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    credential = query["X-Amz-Credential"][0]
    assert credential.startswith("AKIAUAETESTKEY000001/")
    assert credential.endswith("/me-central-1/kafka-cluster/aws4_request")
    assert time.time() + 800 < expiry <= time.time() + 901  # 15 minutes, refreshed before


def test_msk_iam_uses_eks_pod_identity_through_the_default_chain(
    aws_chain: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The EKS Pod Identity agent as botocore reaches it: a credentials URL and a token file."""
    seen: list[str] = []

    class Agent(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            body = json.dumps(
                {
                    "AccessKeyId": "ASIAPODIDENTITY00001",
                    "SecretAccessKey": "pod-secret",
                    "Token": "pod-session-token",
                    "Expiration": "2099-01-01T00:00:00Z",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Agent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text("projected-service-account-token")
    aws_chain.setenv(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", f"http://127.0.0.1:{server.server_port}/v1/creds"
    )
    aws_chain.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", str(token_file))
    try:
        token, _ = Settings.from_env({**IAM, "AWS_REGION": "me-central-1"}).kafka_config()[
            "oauth_cb"
        ]("")
    finally:
        server.shutdown()
    _, query = signed_request(token)
    assert seen == ["projected-service-account-token"]
    assert query["X-Amz-Credential"][0].startswith("ASIAPODIDENTITY00001/")
    assert query["X-Amz-Security-Token"] == ["pod-session-token"]


def test_msk_iam_takes_a_botocore_credential_provider() -> None:
    from botocore.credentials import CredentialProvider, Credentials

    class Rotating(CredentialProvider):
        METHOD = "test"

        def load(self) -> Credentials:
            return Credentials("AKIAROTATED000000001", "secret", "session")

    token, _ = MskIamToken("me-central-1", credentials_provider=Rotating())("")
    _, query = signed_request(token)
    assert query["X-Amz-Credential"][0].startswith("AKIAROTATED000000001/")


def test_msk_iam_without_credentials_says_what_the_pod_needs(aws_chain: pytest.MonkeyPatch) -> None:
    callback = Settings.from_env(IAM).kafka_config()["oauth_cb"]
    with pytest.raises(KafkaConfigError, match=r"no AWS credentials found.*EKS Pod Identity"):
        callback("")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AWS_REGION": "eu-central-1"}, "AWS_REGION eu-central-1 is not the brokers' region"),
        (
            {"MLP_KAFKA_BOOTSTRAP": MSK.replace("me-central-1", "eu-central-1")},
            "region eu-central-1 is outside the UAE; allowed: me-central-1",
        ),
        (
            {"MLP_KAFKA_BOOTSTRAP": "10.20.0.15:9098,10.20.1.15:9098"},
            "AWS_MSK_IAM needs the cluster's region",
        ),
        (
            {"MLP_KAFKA_BOOTSTRAP": "10.20.0.15:9098", "AWS_REGION": "us-east-1"},
            "region us-east-1 is outside the UAE",
        ),
        (
            {"MLP_KAFKA_BOOTSTRAP": f"{MSK},b-3.x.c2.kafka.me-south-1.amazonaws.com:9098"},
            "brokers lie in several regions",
        ),
    ],
)
def test_msk_iam_signs_only_for_one_uae_region(env: dict[str, str], message: str) -> None:
    with pytest.raises(KafkaConfigError, match=message):
        Settings.from_env({**IAM, **env}).kafka_config()


def test_a_private_endpoint_takes_its_region_from_the_environment() -> None:
    env = {**IAM, "MLP_KAFKA_BOOTSTRAP": "10.20.0.15:9098", "AWS_DEFAULT_REGION": "me-central-1"}
    assert Settings.from_env(env).kafka_config()["oauth_cb"].region == "me-central-1"


# ---------------------------------------------------------------------------- Event Hubs

EVENT_HUBS = {
    "MLP_KAFKA_BOOTSTRAP": "uae-risk-events.servicebus.windows.net:9093",
    "MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "MLP_KAFKA_SASL_MECHANISM": "OAUTHBEARER",
}


class EntraCredential:
    """An azure.core TokenCredential: what azure-identity's credentials are to their callers."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra", int(time.time()) + 3600)


def test_event_hubs_gets_an_entra_token_for_its_namespace() -> None:
    config = Settings.from_env(EVENT_HUBS).kafka_config()
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "OAUTHBEARER"
    callback = config["oauth_cb"]
    assert callback.scope == "https://uae-risk-events.servicebus.windows.net/.default"
    credential = EntraCredential()
    token, expiry = EntraToken("uae-risk-events", credential)("")
    assert token.startswith("eyJ") and time.time() + 3500 < expiry <= time.time() + 3600
    assert credential.scopes == [("https://uae-risk-events.servicebus.windows.net/.default",)]


def tls_files(directory: Path, name: str = "localhost") -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for `name`: (ca.crt, tls.crt, tls.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID
    from test_images import certificate

    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    ca_key, ca_cert = certificate("test-ca", None, ca_name, ca=True)  # type: ignore[arg-type]
    key, cert = certificate(name, ca_key, ca_name, ca=False)
    paths = directory / "ca.crt", directory / "tls.crt", directory / "tls.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def test_the_pods_workload_identity_is_exchanged_for_the_namespace_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The whole Entra workload identity path: the federated token file (what the webhook
    mounts) goes to the Entra token endpoint (here a local HTTPS stand-in, reached through
    AZURE_AUTHORITY_HOST) as the client assertion, for the Event Hubs namespace's scope."""
    from azure.identity import DefaultAzureCredential

    from workloads.settings import _azure_credential

    ca, cert, key = tls_files(tmp_path)
    requests: list[dict[str, list[str]]] = []

    class Entra(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            requests.append(parse_qs(self.rfile.read(length).decode()))
            body = json.dumps(
                {"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ.entra"}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Entra)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("federated-service-account-token")
    for name, value in {
        "AZURE_AUTHORITY_HOST": f"https://localhost:{server.server_port}",
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_CLIENT_ID": "00000000-0000-0000-0000-0000000000c1",
        "AZURE_TENANT_ID": "00000000-0000-0000-0000-0000000000a1",
        "REQUESTS_CA_BUNDLE": str(ca),
    }.items():
        monkeypatch.setenv(name, value)
    try:
        token, expiry = Settings.from_env(EVENT_HUBS).kafka_config()["oauth_cb"]("")
    finally:
        server.shutdown()
    assert token == "eyJ.entra" and time.time() + 3000 < expiry
    [request] = requests
    assert request["client_assertion"] == ["federated-service-account-token"]
    assert request["client_id"] == ["00000000-0000-0000-0000-0000000000c1"]
    assert request["scope"] == ["https://uae-risk-events.servicebus.windows.net/.default"]
    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE")  # no workload identity: the default chain
    assert isinstance(_azure_credential(), DefaultAzureCredential)


@pytest.mark.parametrize(
    "bootstrap",
    [
        "my-cluster-kafka-bootstrap.kafka.svc:9093",
        "uae-risk-events.servicebus.windows.net:9093,other-ns.servicebus.windows.net:9093",
        "uae-risk-events.servicebus.windows.net.attacker.example:9093",
    ],
)
def test_oauthbearer_is_only_for_an_event_hubs_namespace(bootstrap: str) -> None:
    with pytest.raises(KafkaConfigError, match=r"<namespace>\.servicebus\.windows\.net:9093"):
        Settings.from_env({**EVENT_HUBS, "MLP_KAFKA_BOOTSTRAP": bootstrap}).kafka_config()


# ---------------------------------------------------------------------------- real clients


def test_librdkafka_asks_the_token_providers_for_their_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Real confluent-kafka clients with the settings: they accept them and call `oauth_cb`
    for a token before any connection (no broker needed: the hosts are unreachable here)."""
    from botocore.credentials import CredentialProvider, Credentials
    from confluent_kafka import Consumer, Producer

    from workloads import settings as settings_module

    loads: list[str] = []

    class Chain(CredentialProvider):
        METHOD = "test"

        def load(self) -> Credentials:
            loads.append("aws")
            return Credentials("AKIAUAETESTKEY000001", "secret")

    entra = EntraCredential()
    monkeypatch.setattr(settings_module, "_default_chain", Chain)
    monkeypatch.setattr(settings_module, "_azure_credential", lambda: entra)
    unreachable = {"MLP_KAFKA_BOOTSTRAP": "127.0.0.1:9", "AWS_REGION": "me-central-1"}
    clients = [
        Producer(Settings.from_env({**IAM, **unreachable}).kafka_config()),
        Consumer(Settings.from_env({**IAM, **unreachable}).kafka_config(**{"group.id": "g"})),
    ]
    event_hubs = Settings.from_env(EVENT_HUBS)
    clients.append(Producer(event_hubs.kafka_config(**{"bootstrap.servers": "127.0.0.1:9"})))
    deadline = time.monotonic() + 20
    while (len(loads) < 2 or not entra.scopes) and time.monotonic() < deadline:
        for client in clients:
            client.poll(0.1)
    assert len(loads) >= 2 and entra.scopes
    clients[1].close()
