"""The workloads' settings: Kafka client security from the tenant contract, the served model alias.

No broker here: the librdkafka settings are checked as the clients would receive them (the
confluent_kafka classes are replaced by recorders), so nothing connects anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workloads.settings import KafkaConfigError, Settings, Topics, dead_letter_topic

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
            "AWS_MSK_IAM",
        ),
        (
            {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "OAUTHBEARER"},
            "OAUTHBEARER",
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

    env = {"MLP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "MLP_KAFKA_SASL_MECHANISM": "AWS_MSK_IAM"}
    settings = Settings.from_env(env)
    with pytest.raises(KafkaConfigError, match="AWS_MSK_IAM"):
        PredictionLog(settings)
    with pytest.raises(KafkaConfigError, match="AWS_MSK_IAM"):
        TopicReader(settings, "t")
    assert recorder.configs == []


# ---------------------------------------------------------------------------- model alias


def test_the_champion_is_served_by_default() -> None:
    assert Settings.from_env({}).model_alias == "champion"


def test_the_canary_serves_the_alias_the_inference_service_sets() -> None:
    # What components/workloads.py puts on the canary predictor's container.
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
