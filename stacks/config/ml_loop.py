"""The sample tenant's ML loop in the cluster (`sampleWorkloads.loop`): ingestion, monitoring,
retraining, rollout and batch scoring, and the Kafka topics it adds to the tenant.

| key under `sampleWorkloads.loop` | what |
|---|---|
| `inputTopic` | the tenant topic the stream processor reads (added to the tenant's if missing) |
| `streaming` | replicas: between `replicas` and `maxReplicas` (<= `kafka.partitions`), one per |
| | `lagPerReplica` events of consumer lag, down after `scaleDownWindowSeconds`; size, state |
| `monitoring` | the drift/performance CronJob's schedule and thresholds |
| `retraining` | the controller's de-duplication window, cool-down, request expiry |
| `rollout` | the predictor's alias polling, the canary guard's schedule and thresholds |
| `batch` | the batch-scoring CronJob: schedule (suspended by default), partitions, paths |

Schedules are cron expressions in the Gulf's time zone (Asia/Dubai). `loop_service_accounts` are
the loop's ServiceAccounts that need the tenant's Kafka identity (the retraining controller's
and the stream scaler's). `tenant_topics` is every
Kafka topic a tenant gets, on every variant (Strimzi KafkaTopics, MSK topics, Event Hubs hubs):
its configured topics, plus, for the sample tenant, the loop's (`components.ml_loop.topics`:
`<input>.dlq` and the others).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from components.ml_loop.retraining import SERVICE_ACCOUNT as CONTROLLER_SERVICE_ACCOUNT
from components.ml_loop.streaming import SCALER_SERVICE_ACCOUNT
from components.ml_loop.topics import loop_topic_names
from stacks.config.fields import ShortName

_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_PATH = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*$")


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(
            "is not a cron schedule; allowed: five fields (minute hour day month weekday) of "
            "numbers, ranges, lists, steps or *, e.g. '*/15 * * * *'"
        )
    return value


def _relative_path(value: str) -> str:
    if not _PATH.match(value) or ".." in value.split("/"):
        raise ValueError(
            "is not a path inside the tenant's prefix; allowed: lowercase segments of letters, "
            "digits, '.', '_' or '-' separated by '/', no '..', no leading '/'"
        )
    return value


Cron = Annotated[str, AfterValidator(_cron)]
RelativePath = Annotated[str, AfterValidator(_relative_path)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
    )


class Streaming(_Model):
    replicas: int = Field(default=2, ge=1, le=100)
    max_replicas: int = Field(default=6, ge=1, le=100)
    cpu: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+|m)?$")] = "1"
    memory: Annotated[str, Field(pattern=r"^[0-9]+(Mi|Gi)$")] = "2Gi"
    # consumer lag (events) one replica is expected to work off: replicas = ceil(lag / this)
    lag_per_replica: int = Field(default=5000, ge=100, le=10_000_000)
    # how long the lag must stay low before one replica is removed (a rebalance pauses the group)
    scale_down_window_seconds: int = Field(default=600, ge=60, le=86_400)
    state_size_gi: int = Field(default=5, ge=1, le=1024)


class Monitoring(_Model):
    schedule: Cron = "*/15 * * * *"
    psi_threshold: float = Field(default=0.25, gt=0, le=10)
    min_records: int = Field(default=200, ge=10, le=10_000_000)
    window_hours: float = Field(default=24.0, gt=0, le=24 * 90)
    label_delay_hours: float = Field(default=72.0, ge=0, le=24 * 90)
    min_labelled: int = Field(default=200, ge=10, le=10_000_000)
    max_auc_drop: float = Field(default=0.05, gt=0, lt=1)
    max_precision_drop: float = Field(default=0.15, gt=0, lt=1)


class Retraining(_Model):
    dedup_window_seconds: int = Field(default=3600, ge=0, le=30 * 86400)
    cooldown_seconds: int = Field(default=1800, ge=0, le=30 * 86400)
    max_request_age_seconds: int = Field(default=6 * 3600, ge=60, le=30 * 86400)


class Rollout(_Model):
    model_poll_seconds: int = Field(default=5, ge=1, le=3600)
    guard_schedule: Cron = "*/5 * * * *"
    window_seconds: int = Field(default=120, ge=10, le=3000)
    max_error_rate: float = Field(default=0.02, gt=0, lt=1)
    max_p99_ms: float = Field(default=250.0, gt=0, le=60_000)
    min_requests: int = Field(default=50, ge=1, le=1_000_000)


class Batch(_Model):
    schedule: Cron = "0 2 * * *"
    suspended: bool = True
    partitions: int = Field(default=4, ge=1, le=100)
    input_path: RelativePath = "batch/transactions"
    output_path: RelativePath = "batch/scores"


class MlLoop(_Model):
    """`sampleWorkloads.loop` (see the module docstring)."""

    input_topic: ShortName = "transactions"
    streaming: Streaming = Streaming()
    monitoring: Monitoring = Monitoring()
    retraining: Retraining = Retraining()
    rollout: Rollout = Rollout()
    batch: Batch = Batch()


def tenant_topics(configured: list[str], loop: MlLoop | None) -> list[str]:
    """A tenant's Kafka topics (short names): its own, then the loop's when it runs one."""
    if loop is None:
        return list(configured)
    wanted = [loop.input_topic, *loop_topic_names(loop.input_topic)]
    return [*configured, *(t for t in wanted if t not in configured)]


def loop_service_accounts(loop: MlLoop | None) -> tuple[str, ...]:
    """ServiceAccounts besides the tenant's `workloads` that need its Kafka identity on a
    managed Kafka (MSK Pod Identity, Event Hubs federated credential): the retraining
    controller's and the stream scaler's, which have API rights of their own."""
    return (CONTROLLER_SERVICE_ACCOUNT, SCALER_SERVICE_ACCOUNT) if loop is not None else ()
