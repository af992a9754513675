"""The ML loop's messages: model events, retraining requests and ground-truth labels, versioned.

Every message is one JSON object with `type` and `schema_version`; a consumer dispatches on
both and refuses versions it does not know (`MessageError` names the field). Parsing uses
pydantic, so a malformed message is rejected with the field and what is allowed.

| type | topic | key | written by |
|---|---|---|---|
| `model-drift` v1 | model events (`MLP_TOPIC_MODEL_EVENTS`, | model | drift monitor |
| | default `platform.model-events`); alarms also the drift topic (`MLP_TOPIC_DRIFT`) | | |
| `model-performance` v1 | the same two topics | model | performance monitor |
| `retraining-request` v1 | the tenant's retraining topic (`MLP_TOPIC_RETRAINING`) | model | the |
| | | | monitors, an operator |
| `ground-truth` v1 | labels (`MLP_TOPIC_LABELS`, `card-transactions.labels`) | txn id | bank |

Every verdict (`stable`, `drift`, `ok`, `degraded`) goes to the platform's topic. Tenants may
write to it but not read it (the tenant's Kafka ACLs), so the alarms (`drift`, `degraded`) also
go to the tenant's drift topic, where the tenant (and `tail --topic drift`) reads them.
`MLP_TENANT` names the tenant in every event (the platform topic is shared) and prefixes the
consumer groups (`<tenant>.`, what the tenant's ACLs allow).

Identifiers are derived from what the message describes (uuid5), not drawn at random: a check
that is re-run over the same window (a CronJob retry after a crash between publishing and
committing) publishes the same `event_id` and `request_id`, which consumers de-duplicate.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from workloads.data.producer import produce
from workloads.settings import Settings

SCHEMA_VERSION: Literal[1] = 1
NAMESPACE = uuid.UUID("6f1d8c1e-3a57-4c55-9d0e-5b2f4ac1e7a0")  # this platform's uuid5 namespace
DEFAULT_MODEL_EVENTS_TOPIC = "platform.model-events"
DEFAULT_LABELS_TOPIC = "card-transactions.labels"

Reason = Literal["drift", "performance", "manual"]


class MessageError(ValueError):
    """A message that is not a valid, known version of what the topic carries."""


@dataclass(frozen=True)
class LoopTopics:
    """The ML loop's topics beyond `Settings.topics`: the platform's model-event topic and the
    delayed ground-truth topic; plus the tenant named in platform events."""

    model_events: str = DEFAULT_MODEL_EVENTS_TOPIC
    labels: str = DEFAULT_LABELS_TOPIC
    tenant: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LoopTopics:
        env = os.environ if environ is None else environ
        return cls(
            model_events=env.get("MLP_TOPIC_MODEL_EVENTS") or DEFAULT_MODEL_EVENTS_TOPIC,
            labels=env.get("MLP_TOPIC_LABELS") or DEFAULT_LABELS_TOPIC,
            tenant=env.get("MLP_TENANT") or None,
        )


def group_id(topics: LoopTopics, name: str) -> str:
    """A consumer group id the tenant's Kafka ACLs allow: in the cluster they grant the groups
    prefixed `<tenant>.` (MLP_TENANT), so the prefix is added when it is missing."""
    if topics.tenant and not name.startswith(f"{topics.tenant}."):
        return f"{topics.tenant}.{name}"
    return name


def derived_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(str(p) for p in parts)))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class RetrainingRequest(_Message):
    type: Literal["retraining-request"] = "retraining-request"
    request_id: Annotated[str, Field(min_length=1, max_length=200)]
    model: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Reason
    detail: str = ""
    model_version: str | None = None
    source_event_id: str | None = None
    tenant: str | None = None
    requested_at: AwareDatetime
    requested_by: str = "drift-monitor"


class GroundTruth(_Message):
    type: Literal["ground-truth"] = "ground-truth"
    transaction_id: Annotated[str, Field(min_length=1)]
    is_fraud: bool
    labelled_at: AwareDatetime


class _ModelEvent(_Message):
    """A verdict on one model version over one window."""

    event_id: str
    tenant: str | None = None
    model: str
    model_version: str
    alias: str
    occurred_at: AwareDatetime
    status: str
    window: dict[str, Any]
    thresholds: dict[str, Any]

    @property
    def alarm(self) -> bool:
        return self.status in ALARMS


class DriftEvent(_ModelEvent):
    type: Literal["model-drift"] = "model-drift"
    status: Literal["stable", "drift"]
    features: dict[str, dict[str, Any]]  # per feature: psi (ks_statistic, ks_pvalue), drifted
    drifted_features: list[str]


class PerformanceEvent(_ModelEvent):
    type: Literal["model-performance"] = "model-performance"
    status: Literal["ok", "degraded"]
    labelled: int
    positives: int
    metrics: dict[str, float]  # roc_auc, average_precision, precision, recall
    reference: dict[str, float | None]  # the same on the version's held-out set
    breaches: list[str]


ModelEvent = DriftEvent | PerformanceEvent
ALARMS = ("drift", "degraded")


def parse(value: bytes | str | Mapping[str, Any], model: type[_Message]) -> Any:
    """Decode and validate one message as `model`; `MessageError` says which field is wrong."""
    try:
        data = json.loads(value) if isinstance(value, bytes | str) else dict(value)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MessageError(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise MessageError("not a JSON object")
    allowed = get_args(model.model_fields["type"].annotation)
    if data.get("type") not in allowed:
        raise MessageError(f"type: expected one of {list(allowed)}, got {data.get('type')!r}")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise MessageError(
            f"schema_version: {data.get('schema_version')!r} is not supported "
            f"(this consumer reads version {SCHEMA_VERSION})"
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(message)'}: {e['msg']}"
            for e in error.errors()
        )
        raise MessageError(problems) from None


def publish_event(settings: Settings, topics: LoopTopics, event: ModelEvent) -> None:
    """Every verdict on the platform's topic; alarms also on the tenant's drift topic."""
    value = event.to_json()
    targets = [topics.model_events]
    if event.alarm and settings.topics.drift != topics.model_events:
        targets.append(settings.topics.drift)
    for topic in targets:
        produce(settings, topic, [(event.model, value)])


def publish_request(settings: Settings, request: RetrainingRequest) -> None:
    produce(settings, settings.topics.retraining, [(request.model, request.to_json())])
