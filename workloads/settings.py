"""Endpoints and names every workload shares: Kafka bootstrap and topics, MLflow, Feast, model name.

One place reads the environment so that the same image runs locally (values set by
`mlplatform local`) and in the cluster (values from the tenant contract, injected by the
platform as environment variables). Nothing here has a network default that could leak a
workload onto the wrong service: the local defaults are loopback only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL_NAME = "card-risk"


@dataclass(frozen=True)
class Topics:
    """Kafka topics of the card-risk use case (per tenant in the cluster, from the contract)."""

    transactions: str = "card-transactions"
    dead_letter: str = "card-transactions.dlq"
    scored: str = "card-transactions.scored"
    drift: str = "model-drift-events"
    retraining: str = "model-retraining-requests"

    @classmethod
    def from_env(cls) -> Topics:
        defaults = cls()
        return cls(
            transactions=os.environ.get("MLP_TOPIC_TRANSACTIONS", defaults.transactions),
            dead_letter=os.environ.get("MLP_TOPIC_DEAD_LETTER", defaults.dead_letter),
            scored=os.environ.get("MLP_TOPIC_SCORED", defaults.scored),
            drift=os.environ.get("MLP_TOPIC_DRIFT", defaults.drift),
            retraining=os.environ.get("MLP_TOPIC_RETRAINING", defaults.retraining),
        )

    def all(self) -> list[str]:
        return [self.transactions, self.dead_letter, self.scored, self.drift, self.retraining]


@dataclass(frozen=True)
class Settings:
    """Where the workloads find their services."""

    kafka_bootstrap: str = "127.0.0.1:19092"
    # Path of a JSON file with extra librdkafka settings (TLS, SASL) mounted from the tenant's
    # credentials secret in the cluster; absent locally, where the broker is plaintext loopback.
    kafka_client_config: Path | None = None
    mlflow_tracking_uri: str = "http://127.0.0.1:15000"
    feature_store_yaml: Path = Path(".local-platform/feast/feature_store.yaml")
    model_name: str = MODEL_NAME
    topics: Topics = field(default_factory=Topics)

    @classmethod
    def from_env(cls) -> Settings:
        defaults = cls()
        client_config = os.environ.get("MLP_KAFKA_CLIENT_CONFIG")
        return cls(
            kafka_bootstrap=os.environ.get("MLP_KAFKA_BOOTSTRAP", defaults.kafka_bootstrap),
            kafka_client_config=Path(client_config) if client_config else None,
            mlflow_tracking_uri=os.environ.get("MLFLOW_TRACKING_URI", defaults.mlflow_tracking_uri),
            feature_store_yaml=Path(
                os.environ.get("MLP_FEATURE_STORE_YAML", str(defaults.feature_store_yaml))
            ),
            model_name=os.environ.get("MLP_MODEL_NAME", defaults.model_name),
            topics=Topics.from_env(),
        )

    def kafka_config(self, **overrides: Any) -> dict[str, Any]:
        """librdkafka settings: bootstrap, then the mounted client settings, then the caller's."""
        config: dict[str, Any] = {"bootstrap.servers": self.kafka_bootstrap}
        if self.kafka_client_config is not None:
            config.update(json.loads(self.kafka_client_config.read_text()))
        config.update(overrides)
        return config
