"""Rollout: the canary guard that rolls a bad challenger back, and the Service it reads.

The InferenceService serves `@champion` and, when `sampleWorkloads.canaryTrafficPercent` is
set, `@challenger` to that share of the traffic; every predictor follows its alias within
`MLP_MODEL_POLL_SECONDS` (no restart), so promotion and rollback are alias moves in MLflow.

| object | what |
|---|---|
| Service `<model>-challenger-metrics` | the canary predictor pods' port 8080 (selected by the |
| | `mlplatform.io/model-alias: challenger` label the InferenceService gives them) |
| CronJob `<model>-canary-guard` | `python -m workloads.serving guard`: scrapes the canary's |
| | `/metrics` over HTTPS (verified with the platform CA bundle: the predictors serve the |
| | namespace's certificate, `components.serving`) twice, `window` seconds apart; over |
| | the error-rate or p99 threshold (with enough requests) it points `@challenger` back at |
| | the champion, rolls `@champion` back if it is the bad version, tags why, and exits 3 |
| | (the Job then fails: see `jobs`) |

The guard runs with the tenant's MLflow credentials (the tenant's user may move its own
model's aliases) and reads the canary inside the tenant namespace.
Manual rollback (README): `python -m workloads.serving rollback --model <model>` re-points
`@champion` at the version it replaced; predictors follow within the poll interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import conventions as c
from components.ml_loop.jobs import cron_job, job_spec
from components.ml_loop.pods import LoopContext, Needs, container, mounts, pod_spec, volumes

APP = "canary-guard"
ALIAS_LABEL = "mlplatform.io/model-alias"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
PREDICTOR_PORT = 8080


@dataclass(frozen=True, kw_only=True)
class RolloutArgs:
    image: str  # the catalogue's `serving` image
    schedule: str
    window_seconds: int
    max_error_rate: float
    max_p99_ms: float
    min_requests: int

    def __post_init__(self) -> None:
        if not 0 < self.max_error_rate < 1:
            raise ValueError(
                f"sampleWorkloads.rollout.maxErrorRate {self.max_error_rate} must be between "
                "0 and 1 (a share of requests)"
            )


def name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-canary-guard"


def service_name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-challenger-metrics"


def canary_pod_labels(alias: str) -> dict[str, str]:
    """What the InferenceService's predictors carry so the guard can find the canary."""
    return {ALIAS_LABEL: alias}


def canary_service(ctx: LoopContext) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": ctx.metadata(service_name(ctx), APP),
        "spec": {
            "type": "ClusterIP",
            "selector": {ISVC_LABEL: ctx.model_name, **canary_pod_labels("challenger")},
            "ports": [
                {
                    "name": "https",
                    "port": PREDICTOR_PORT,
                    "targetPort": PREDICTOR_PORT,
                    "protocol": "TCP",
                }
            ],
        },
    }


def metrics_url(ctx: LoopContext) -> str:
    return f"https://{service_name(ctx)}.{ctx.namespace}.svc:{PREDICTOR_PORT}/metrics"


def guard_cron(ctx: LoopContext, args: RolloutArgs) -> dict[str, Any]:
    needs = Needs(kafka=False, mlflow=True)
    command = [
        *("python", "-m", "workloads.serving", "guard", "--model", ctx.model_name),
        *("--metrics-url", metrics_url(ctx), "--window", str(args.window_seconds)),
        *("--max-error-rate", str(args.max_error_rate), "--max-p99-ms", str(args.max_p99_ms)),
        *("--min-requests", str(args.min_requests)),
        *("--ca-file", f"{c.CA_BUNDLE_MOUNT}/ca.crt"),
    ]
    main = container(
        "guard", args.image, command, ctx.env(needs), mounts(ctx, needs), "250m", "512Mi"
    )
    pod = pod_spec(ctx, [main], volumes(ctx, needs), restart_policy="Never")
    spec = job_spec(ctx, APP, pod, container="guard", deadline_seconds=args.window_seconds + 600)
    return cron_job(ctx, name(ctx), APP, args.schedule, spec)
