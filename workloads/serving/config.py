"""The model server's own settings (endpoints and Kafka come from `workloads.settings`).

- `MLP_MODEL_POLL_SECONDS` (default 5; 0 = off, or 1-3600): how often the predictor re-resolves
  its alias in MLflow; a promotion or rollback is served within this interval, no restart.
- `MLP_SERVING_MAX_BODY_BYTES` (default 1048576; 1024-67108864): larger request bodies get 413
  before they are read.
- `MLP_SERVING_ACCESS_LOG` (default false): one log line per request (uvicorn's access log);
  the metrics count requests either way.
- `MLP_PREDICTION_LOG_CAPACITY` (default 10000; 1-1000000): scored requests the prediction log
  may hold while Kafka is slow; beyond it they are dropped and counted.

A value outside its range stops the server at start-up with `ValueError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ServingConfig:
    poll_seconds: float = 5.0
    max_body_bytes: int = 1024 * 1024
    access_log: bool = False
    prediction_log_capacity: int = 10_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServingConfig:
        env = os.environ if environ is None else environ
        defaults = cls()
        poll = _number(env, "MLP_MODEL_POLL_SECONDS", defaults.poll_seconds, 0, 3600)
        if 0 < poll < 1:
            raise ValueError(f"MLP_MODEL_POLL_SECONDS={poll:g}: use 0 (off) or 1 to 3600 seconds")
        return cls(
            poll_seconds=poll,
            max_body_bytes=int(
                _number(env, "MLP_SERVING_MAX_BODY_BYTES", defaults.max_body_bytes, 1024, 2**26)
            ),
            access_log=_flag(env, "MLP_SERVING_ACCESS_LOG", defaults.access_log),
            prediction_log_capacity=int(
                _number(
                    env, "MLP_PREDICTION_LOG_CAPACITY", defaults.prediction_log_capacity, 1, 10**6
                )
            ),
        )


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        raise ValueError(f"{name}={raw[:40]!r}: expected a number from {low:g} to {high:g}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false", "1", "0"):
        raise ValueError(f"{name}={raw[:40]!r}: expected true or false")
    return raw in ("true", "1")
