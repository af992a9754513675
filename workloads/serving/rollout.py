"""Rollout and rollback of served model versions: moving MLflow aliases, by hand or by a guard.

The predictors follow their alias (`predictor.AliasFollower`), so moving an alias is all a
rollout or rollback takes: every predictor serves the version it names within its poll interval
(`MLP_MODEL_POLL_SECONDS`), without a restart.

- `rollback`: re-point an alias (`champion` by default) to the version it replaced (the gate
  tags each promoted version with `gate.champion_version`) or to `--to VERSION`. The moved-from
  version is tagged `rollout.decision=rolled_back` with the reason and time; so is the
  registered model (`rollout.last`), so the registry shows what happened.
- `guard_canary`: the automatic rollback of a canary. It reads the canary predictor's
  Prometheus metrics twice, `window` seconds apart, and judges the requests in between: the
  share answered 5xx (`card_risk_requests_total{code=~"5.."}`) and the p99 latency
  (`card_risk_request_seconds`), against `Thresholds`. With enough requests and a threshold
  crossed, it reverts the promotion: `@challenger` is pointed at the champion's version (the
  canary then serves the champion: the bad version gets no traffic), and if the bad version is
  `@champion` too it is rolled back to the version it replaced. The decision and the figures are
  tagged on the bad version. Too few requests, or a version swap inside the window, is
  `inconclusive`: nothing moves.

Both are library functions (the in-cluster controller imports them) and CLI commands:
`python -m workloads.serving rollback|guard` (see `__main__`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import httpx
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from prometheus_client.parser import text_string_to_metric_families

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_TAG = "gate.champion_version"  # written by workloads/training/registry.py's gate


class RolloutError(ValueError):
    """An alias cannot be moved as asked; `str()` says why and what to do."""


@dataclass(frozen=True)
class AliasMove:
    model: str
    alias: str
    from_version: str
    to_version: str
    reason: str


def _version_of(client: MlflowClient, model: str, alias: str) -> str:
    try:
        return str(client.get_model_version_by_alias(model, alias).version)
    except MlflowException as error:
        raise RolloutError(f"{model}@{alias} does not resolve: {error.message[:200]}") from None


def previous_version(client: MlflowClient, model: str, version: str) -> str:
    """The version `version` replaced as champion, as the promotion gate recorded it."""
    tags = client.get_model_version(model, version).tags or {}
    previous = tags.get(PREVIOUS_TAG, "none")
    if previous in ("", "none"):
        raise RolloutError(
            f"{model} v{version} records no version it replaced ({PREVIOUS_TAG}); "
            "name the version to roll back to with --to"
        )
    return previous


def _stamp(reason: str, extra: dict[str, object] | None = None) -> str:
    at = datetime.now(UTC).isoformat(timespec="seconds")
    return json.dumps({"at": at, "reason": reason, **(extra or {})})


def move_alias(
    client: MlflowClient, model: str, alias: str, to_version: str, reason: str
) -> AliasMove:
    """Point `model@alias` at `to_version` and record why on the version it leaves."""
    current = _version_of(client, model, alias)
    try:
        client.get_model_version(model, to_version)
    except MlflowException:
        raise RolloutError(f"{model} has no version {to_version!r:.40}") from None
    if current == to_version:
        raise RolloutError(f"{model}@{alias} is already version {to_version}")
    client.set_registered_model_alias(model, alias, to_version)
    stamp = _stamp(reason, {"alias": alias, "to": to_version})
    client.set_model_version_tag(model, current, "rollout.decision", "rolled_back")
    client.set_model_version_tag(model, current, "rollout.rolled_back", stamp)
    last = _stamp(reason, {"alias": alias, "from": current, "to": to_version})
    client.set_registered_model_tag(model, "rollout.last", last)
    return AliasMove(model, alias, current, to_version, reason)


def rollback(
    client: MlflowClient,
    model: str,
    alias: str = CHAMPION,
    to_version: str | None = None,
    reason: str = "manual rollback",
) -> AliasMove:
    """Re-point `model@alias` to `to_version`, or to the version the current one replaced."""
    current = _version_of(client, model, alias)
    target = to_version or previous_version(client, model, current)
    return move_alias(client, model, alias, target, reason)


# ---------------------------------------------------------------------------- canary guard


@dataclass(frozen=True)
class Thresholds:
    max_error_rate: float = 0.02  # share of scoring requests answered 5xx
    max_p99_seconds: float = 0.25
    min_requests: int = 50  # fewer in the window: inconclusive

    def __post_init__(self) -> None:
        if not 0 <= self.max_error_rate <= 1:
            raise ValueError(f"max_error_rate {self.max_error_rate} must be from 0 to 1")
        if not self.max_p99_seconds > 0:
            raise ValueError(f"max_p99_seconds {self.max_p99_seconds} must be above 0")
        if self.min_requests < 1:
            raise ValueError(f"min_requests {self.min_requests} must be at least 1")


@dataclass(frozen=True)
class Snapshot:
    """The canary's counters at one moment."""

    requests: float
    errors: float
    buckets: tuple[tuple[float, float], ...]  # (upper bound, cumulative count)
    versions: tuple[str, ...]  # served now (card_risk_model_served == 1)


@dataclass(frozen=True)
class Health:
    requests: int
    errors: int
    error_rate: float
    p99_seconds: float | None
    version: str | None


@dataclass(frozen=True)
class GuardDecision:
    verdict: str  # healthy, inconclusive, rolled_back
    reasons: list[str]
    health: Health
    thresholds: Thresholds
    moves: list[AliasMove] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def parse_metrics(text: str) -> Snapshot:
    requests = errors = 0.0
    buckets: dict[float, float] = {}
    versions = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "card_risk_requests_total":
                requests += sample.value
                if sample.labels.get("code", "").startswith("5"):
                    errors += sample.value
            elif sample.name == "card_risk_request_seconds_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name == "card_risk_model_served" and sample.value == 1:
                versions.append(sample.labels.get("model_version", ""))
    return Snapshot(requests, errors, tuple(sorted(buckets.items())), tuple(sorted(versions)))


def _quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile over cumulative (bound, count) pairs."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank, lower, below = q * buckets[-1][1], 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the last finite bucket: its bound is all we know
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, count
    return lower


def health_between(before: Snapshot, after: Snapshot) -> Health:
    requests = int(after.requests - before.requests)
    errors = int(after.errors - before.errors)
    start = dict(before.buckets)
    deltas = [(bound, count - start.get(bound, 0.0)) for bound, count in after.buckets]
    version = after.versions[0] if len(after.versions) == 1 else None
    return Health(
        requests,
        errors,
        errors / requests if requests else 0.0,
        _quantile(0.99, deltas),
        version,
    )


def judge(health: Health, swapped: bool, thresholds: Thresholds) -> tuple[str, list[str]]:
    """(verdict, reasons) for one window: healthy, inconclusive or rolled_back."""
    if swapped or health.version is None:
        return "inconclusive", ["the served version changed inside the window"]
    if health.requests < thresholds.min_requests:
        return "inconclusive", [
            f"{health.requests} requests in the window; {thresholds.min_requests} needed"
        ]
    reasons = []
    if health.error_rate > thresholds.max_error_rate:
        reasons.append(
            f"error rate {health.error_rate:.3f} ({health.errors}/{health.requests} answered "
            f"5xx) above {thresholds.max_error_rate}"
        )
    if health.p99_seconds is not None and health.p99_seconds > thresholds.max_p99_seconds:
        reasons.append(
            f"p99 latency {health.p99_seconds * 1000:.1f} ms above "
            f"{thresholds.max_p99_seconds * 1000:.1f} ms"
        )
    return ("rolled_back" if reasons else "healthy"), reasons


def revert_canary(
    client: MlflowClient, model: str, bad_version: str, reason: str
) -> list[AliasMove]:
    """Take `bad_version` out of traffic: @challenger to the champion (rolled back first if the
    bad version had already been promoted)."""
    moves = []
    if _version_of(client, model, CHAMPION) == bad_version:
        moves.append(rollback(client, model, CHAMPION, reason=reason))
    champion = _version_of(client, model, CHAMPION)
    if _version_of(client, model, CHALLENGER) != champion:
        moves.append(move_alias(client, model, CHALLENGER, champion, reason))
    client.set_model_version_tag(model, bad_version, "rollout.decision", "rolled_back")
    client.set_model_version_tag(model, bad_version, "rollout.reason", reason[:500])
    return moves


def scrape(metrics_url: str, timeout: float = 5.0, ca_file: str | None = None) -> Snapshot:
    """The predictor's counters; over https verified with `ca_file` (the platform CA in the
    cluster) or, without one, the system's trust store."""
    response = httpx.get(metrics_url, timeout=timeout, verify=ca_file or True)
    response.raise_for_status()
    return parse_metrics(response.text)


def guard_canary(
    client: MlflowClient,
    model: str,
    metrics_url: str,
    thresholds: Thresholds,
    window_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    ca_file: str | None = None,
) -> GuardDecision:
    """Judge the canary over one window; revert its promotion if a threshold is crossed."""
    before = scrape(metrics_url, ca_file=ca_file)
    sleep(window_seconds)
    after = scrape(metrics_url, ca_file=ca_file)
    health = health_between(before, after)
    verdict, reasons = judge(health, before.versions != after.versions, thresholds)
    moves: list[AliasMove] = []
    if verdict == "rolled_back" and health.version is not None:
        reason = f"canary guard: {'; '.join(reasons)}"
        moves = revert_canary(client, model, health.version, reason)
    return GuardDecision(verdict, reasons, health, thresholds, moves)
