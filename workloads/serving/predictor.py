"""The KServe custom predictor: the MLflow champion, fed with the customer's online Feast features.

`load()` resolves `models:/<name>@<alias>` once (`Settings.model_alias`: `champion`, or
`challenger` in the InferenceService canary, which sets MLP_MODEL_ALIAS), records which version
that is, and refuses a model whose logged feature vector differs from the one this code builds
(serving it would produce confident nonsense). Per request: validate (400 naming the problem, via
`requests`), read the customers' online features in one Feast call, fill defaults for unknown
customers (logged and counted), score, publish the scored records for drift monitoring, and
answer in the protocol the request came in.
"""

from __future__ import annotations

import logging
from typing import Any

import mlflow
import numpy as np
from kserve import Model
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse
from mlflow.tracking import MlflowClient
from prometheus_client import Counter, Histogram

from workloads.features import schema, vectors
from workloads.features.repository import open_store
from workloads.monitoring.records import scored_record
from workloads.serving import requests
from workloads.serving.prediction_log import PredictionLog
from workloads.settings import Settings

log = logging.getLogger(__name__)

PREDICTIONS = Counter("card_risk_predictions", "Transactions scored", ["model_version"])
UNKNOWN_CUSTOMERS = Counter(
    "card_risk_unknown_customers", "Transactions scored with default customer features"
)
INVALID_REQUESTS = Counter("card_risk_invalid_requests", "Requests rejected with a 4xx")
RISK_SCORES = Histogram(
    "card_risk_score",
    "Distribution of risk scores",
    buckets=(0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99),
)


class CardRiskModel(Model):
    def __init__(self, settings: Settings, prediction_log: PredictionLog | None = None) -> None:
        super().__init__(settings.model_name)
        self.settings = settings
        self.prediction_log = prediction_log
        self.version = ""
        self._model: Any = None
        self._store: Any = None
        self._feature_service: Any = None

    def load(self) -> bool:
        mlflow.set_tracking_uri(self.settings.mlflow_tracking_uri)
        served = MlflowClient().get_model_version_by_alias(
            self.settings.model_name, self.settings.model_alias
        )
        self.version = str(served.version)
        self._model = mlflow.pyfunc.load_model(f"models:/{self.name}/{self.version}")
        logged = (self._model.metadata.metadata or {}).get("feature_names")
        if logged != vectors.FEATURE_NAMES:
            raise RuntimeError(
                f"{self.name} v{self.version} was trained on a different feature vector "
                f"({len(logged or [])} features) than this server builds "
                f"({len(vectors.FEATURE_NAMES)}); deploy a matching server image"
            )
        self._store = open_store(self.settings.feature_store_yaml)
        # Resolved once, like the model version: `get_feature_service` re-reads and
        # deserialises the registry entry on every call (Feast's allow_cache=False default;
        # its cache still rebuilds the objects from protobuf), which was over half of a
        # request's CPU time (about 0.8 ms of a 1.9 ms request, benchmarks/).
        self._feature_service = self._store.get_feature_service(schema.FEATURE_SERVICE)
        self._customer_features(["warm-up"])  # loads the registry before the first request
        self.ready = True
        log.info("serving %s version %s (@%s)", self.name, self.version, self.settings.model_alias)
        return self.ready

    def _customer_features(self, customer_ids: list[str]) -> dict[str, dict[str, object]]:
        unique = sorted(set(customer_ids))
        response = self._store.get_online_features(
            features=self._feature_service,
            entity_rows=[{schema.JOIN_KEY: customer} for customer in unique],
        ).to_dict()
        return {
            customer: {name: response[name][i] for name in schema.ALL_FEATURES}
            for i, customer in enumerate(unique)
        }

    def predict(
        self, payload: dict | InferRequest, headers: dict[str, str] | None = None
    ) -> dict | InferResponse:
        try:
            transactions = requests.parse(payload)
        except InvalidInput:
            INVALID_REQUESTS.inc()
            raise
        found = self._customer_features([t.customer_id for t in transactions])
        customers, known = [], []
        for txn in transactions:
            features, missing = schema.fill_defaults(found[txn.customer_id])
            is_known = not any(name in schema.PROFILE_FEATURES for name in missing)
            if not is_known:
                UNKNOWN_CUSTOMERS.inc()
                log.warning("unknown customer %s: scored with default features", txn.customer_id)
            customers.append(features)
            known.append(is_known)
        inputs = vectors.encode_many([t.as_features() for t in transactions], customers)
        scores = [float(s) for s in np.asarray(self._model.predict(inputs)).reshape(-1)]
        PREDICTIONS.labels(model_version=self.version).inc(len(scores))
        for score in scores:
            RISK_SCORES.observe(score)
        if self.prediction_log is not None:
            self.prediction_log.publish(
                [
                    scored_record(
                        {
                            **t.as_features(),
                            "transaction_id": t.transaction_id,
                            "customer_id": t.customer_id,
                        },
                        c,
                        s,
                        self.version,
                    )
                    for t, c, s in zip(transactions, customers, scores, strict=True)
                ]
            )
        if isinstance(payload, InferRequest):
            return requests.v2_response(payload, self.name, scores, known, self.version)
        return requests.v1_response(transactions, scores, known, self.version)

    def stop(self) -> None:
        if self.prediction_log is not None:
            self.prediction_log.close()
        super().stop()
