"""The KServe custom predictor: the MLflow version its alias names, fed with online Feast features.

`load()` resolves `models:/<name>@<alias>` (`Settings.model_alias`: `champion`, or `challenger`
on the InferenceService canary, which sets MLP_MODEL_ALIAS), loads that version and refuses one
whose logged feature vector differs from the one this code builds (it would produce confident
nonsense). With `poll_seconds` > 0 an `AliasFollower` thread re-resolves the alias at that
interval; when it names another version (a promotion, a rollback), the version is loaded and
tried on a row in the background (the last `KEEP_LOADED` served versions stay loaded, so a
rollback to one of them is immediate) and then swapped in with one assignment: a request reads the
served (version, model) pair once, so it is scored wholly by the old or wholly by the new one,
never fails for the swap, and answers with the version that scored it (`model_version`). A
version that cannot be loaded or scored is not swapped in: the current one keeps serving, and
`card_risk_model_load_failures_total` counts it.

`score()` is the per-request work of both protocols: the customers' online features in one Feast
call, defaults for unknown customers (logged and counted), the forward pass, the scored records
handed to the prediction log (a queue: never waits for Kafka).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
from kserve import Model
from mlflow.tracking import MlflowClient
from prometheus_client import Counter, Gauge, Histogram

from workloads.data.events import EventLimits, Transaction
from workloads.features import schema, vectors
from workloads.features.repository import open_store
from workloads.serving.prediction_log import PredictionLog
from workloads.serving.requests import Scored
from workloads.settings import Settings

log = logging.getLogger(__name__)

PREDICTIONS = Counter("card_risk_predictions", "Transactions scored", ["model_version"])
UNKNOWN_CUSTOMERS = Counter(
    "card_risk_unknown_customers", "Transactions scored with default customer features"
)
RISK_SCORES = Histogram(
    "card_risk_score",
    "Distribution of risk scores",
    buckets=(0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99),
)
SERVED_VERSION = Gauge(
    "card_risk_model_served", "1 for the model version now served", ["model_version", "alias"]
)
SWAPS = Counter("card_risk_model_swaps", "Times another model version was swapped in")
LOAD_FAILURES = Counter(
    "card_risk_model_load_failures", "Versions the alias named that could not be loaded or scored"
)
POLL_ERRORS = Counter("card_risk_model_poll_errors", "Alias look-ups in MLflow that failed")
KEEP_LOADED = 3  # the served version and the two before it


@dataclass(frozen=True)
class Served:
    """A loaded model version: swapped as a whole, read once per request."""

    version: str
    model: Any  # mlflow.pyfunc.PyFuncModel


class CardRiskModel(Model):
    def __init__(
        self,
        settings: Settings,
        prediction_log: PredictionLog | None = None,
        poll_seconds: float = 0.0,
        limits: EventLimits | None = None,
    ) -> None:
        super().__init__(settings.model_name)
        self.settings = settings
        # The validator's bounds (MLP_EVENTS_*), resolved once: a bad setting stops the server.
        self.limits = limits if limits is not None else EventLimits.from_env()
        self.prediction_log = prediction_log
        self.poll_seconds = poll_seconds
        self._served: Served | None = None
        self._recent: dict[str, Served] = {}  # version -> loaded model, oldest first
        self._store: Any = None
        self._feature_service: Any = None
        self._client: MlflowClient | None = None
        self._follower: AliasFollower | None = None

    @property
    def version(self) -> str:
        return self._served.version if self._served is not None else ""

    def load(self) -> bool:
        mlflow.set_tracking_uri(self.settings.mlflow_tracking_uri)
        self._client = MlflowClient(tracking_uri=self.settings.mlflow_tracking_uri)
        self._store = open_store(self.settings.feature_store_yaml)
        # Resolved once: `get_feature_service` re-reads and deserialises the registry entry on
        # every call (Feast's allow_cache=False default), over half of a request's CPU time.
        self._feature_service = self._store.get_feature_service(schema.FEATURE_SERVICE)
        self._customer_features(["warm-up"])  # loads the registry before the first request
        self._swap(self._load_version(self.resolve_alias()))
        self.ready = True
        if self.poll_seconds > 0 and self._follower is None:
            self._follower = AliasFollower(self, self.poll_seconds)
            self._follower.start()
        return self.ready

    def resolve_alias(self) -> str:
        assert self._client is not None, "load() first"
        served = self._client.get_model_version_by_alias(self.name, self.settings.model_alias)
        return str(served.version)

    def _load_version(self, version: str) -> Served:
        model = mlflow.pyfunc.load_model(f"models:/{self.name}/{version}")
        logged = (model.metadata.metadata or {}).get("feature_names")
        if logged != vectors.FEATURE_NAMES:
            raise RuntimeError(
                f"{self.name} v{version} was trained on a different feature vector "
                f"({len(logged or [])} features) than this server builds "
                f"({len(vectors.FEATURE_NAMES)}); deploy a matching server image"
            )
        # Tried before it serves: a version that cannot score a row never takes traffic.
        trial = np.zeros((2, len(vectors.FEATURE_NAMES)), dtype=np.float32)
        scores = np.asarray(model.predict(trial)).reshape(-1)
        if scores.shape != (2,) or not np.isfinite(scores).all():
            raise RuntimeError(f"{self.name} v{version} gave {scores!r:.80} for two rows")
        return Served(version, model)

    def _swap(self, served: Served) -> None:
        previous, self._served = self._served, served  # one assignment: atomic for readers
        # The versions served last stay loaded: rolling back to one is a swap, not a load.
        self._recent.pop(served.version, None)
        self._recent[served.version] = served
        while len(self._recent) > KEEP_LOADED:
            del self._recent[next(iter(self._recent))]
        alias = self.settings.model_alias
        if previous is not None:
            SERVED_VERSION.labels(previous.version, alias).set(0)
            SWAPS.inc()
        SERVED_VERSION.labels(served.version, alias).set(1)
        log.info(
            "serving %s version %s (@%s)%s",
            self.name,
            served.version,
            alias,
            f", was {previous.version}" if previous is not None else "",
        )

    def refresh(self) -> bool:
        """Follow the alias once: swap in the version it names now. True if it changed."""
        try:
            version = self.resolve_alias()
        except Exception as error:  # MLflow down or alias deleted: keep serving what we have
            POLL_ERRORS.inc()
            log.warning("could not resolve %s@%s: %s", self.name, self.settings.model_alias, error)
            return False
        if version == self.version:
            return False
        served = self._recent.get(version)
        if served is None:
            try:
                served = self._load_version(version)
            except Exception:
                LOAD_FAILURES.inc()
                log.exception("not swapping in v%s; still serving v%s", version, self.version)
                return False
        self._swap(served)
        return True

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

    def score(self, transactions: list[Transaction]) -> Scored:
        served = self._served
        assert served is not None, "load() first"
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
        scores = [float(s) for s in np.asarray(served.model.predict(inputs)).reshape(-1)]
        PREDICTIONS.labels(model_version=served.version).inc(len(scores))
        for score in scores:
            RISK_SCORES.observe(score)
        scored = Scored(served.version, scores, known)
        if self.prediction_log is not None:
            self.prediction_log.publish(transactions, customers, scored)
        return scored

    def stop(self) -> None:
        if self._follower is not None:
            self._follower.stop()
        if self.prediction_log is not None:
            self.prediction_log.close()
        super().stop()


class AliasFollower(threading.Thread):
    """Re-resolves the model's alias every `interval` seconds until stopped."""

    def __init__(self, model: CardRiskModel, interval: float) -> None:
        super().__init__(name="alias-follower", daemon=True)
        self.model, self.interval = model, interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.model.refresh()

    def stop(self) -> None:
        self._stopped.set()
