"""Batch scoring: an Indexed Job, as a CronJob of the tenant's sample workloads.

`python -m workloads.serving.batch --input URI --output-prefix URI` scores the parquet files
under the tenant's input prefix with the `@champion` model and point-in-time features (Feast
historical retrieval), index i of n taking row groups i, i+n, ...; each index writes
`part-<i>-of-<n>.parquet` (and `.rejected.jsonl`) atomically under the output prefix.

| object | what |
|---|---|
| CronJob `<model>-batch-score` | suspended by default (`sampleWorkloads.batch.suspended`), or |
| | on its schedule; one Indexed Job per run: `completions = parallelism = partitions` |

Each run writes under its own prefix, `<output>/<job name>/` (the Job's name is unique per
scheduled run; Kubernetes expands `$(MLP_BATCH_RUN)` from the downward API), so runs never mix.
Input and output are inside the tenant's prefix of the offline store (`<offline root>/<tenant>/`),
which the tenant's own identity may read and write (issue 13). Retries are per index
(`backoffLimitPerIndex`): an index re-run overwrites its own files with the same content.
Exit 2 (configuration) fails the Job at once (podFailurePolicy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.ml_loop.jobs import DISRUPTION_IGNORED, TIME_ZONE
from components.ml_loop.object_store import StoreAccess
from components.ml_loop.pods import (
    LoopContext,
    Needs,
    concat,
    container,
    mounts,
    pod_spec,
    volumes,
)

APP = "batch-scoring"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


@dataclass(frozen=True, kw_only=True)
class BatchArgs:
    image: str  # the catalogue's `serving` image
    schedule: str
    suspended: bool
    partitions: int
    input_uri: pulumi.Input[str]  # a prefix of parquet files inside the tenant's prefix
    output_prefix: pulumi.Input[str]  # runs write under <output_prefix>/<job name>/
    store: StoreAccess
    deadline_seconds: int = 4 * 3600
    cpu: str = "2"
    memory: str = "4Gi"

    def __post_init__(self) -> None:
        if not 1 <= self.partitions <= 100:
            raise ValueError(
                f"sampleWorkloads.batch.partitions {self.partitions} must be between 1 and 100"
            )


def name(ctx: LoopContext) -> str:
    return f"{ctx.model_name}-batch-score"


def _command(args: BatchArgs) -> list[Any]:
    output = concat(args.output_prefix, "/$(MLP_BATCH_RUN)/")
    command: list[Any] = [
        *("python", "-m", "workloads.serving.batch", "--input", args.input_uri),
        *("--output-prefix", output),
    ]
    return args.store.command(command)


def _pod(ctx: LoopContext, args: BatchArgs) -> dict[str, Any]:
    needs = Needs(kafka=False, feast=True, mlflow=True)
    env = ctx.env(needs, JOB_COMPLETIONS=str(args.partitions), **args.store.env)
    env.append(
        {
            "name": "MLP_BATCH_RUN",
            "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{JOB_NAME_LABEL}']"}},
        }
    )
    main = container(
        "score",
        args.image,
        _command(args),
        env,
        [*mounts(ctx, needs), *args.store.mounts],
        args.cpu,
        args.memory,
    )
    return pod_spec(
        ctx, [main], [*volumes(ctx, needs), *args.store.volumes], restart_policy="Never"
    )


def cron(ctx: LoopContext, args: BatchArgs) -> dict[str, Any]:
    job = {
        "completionMode": "Indexed",
        "completions": args.partitions,
        "parallelism": args.partitions,
        "backoffLimitPerIndex": 2,
        "activeDeadlineSeconds": args.deadline_seconds,
        "ttlSecondsAfterFinished": 7 * 86400,
        "podFailurePolicy": {
            "rules": [
                {
                    "action": "FailJob",
                    "onExitCodes": {"containerName": "score", "operator": "In", "values": [2]},
                },
                DISRUPTION_IGNORED,
            ]
        },
        "template": {"metadata": {"labels": ctx.pod_labels(APP)}, "spec": _pod(ctx, args)},
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": ctx.metadata(name(ctx), APP),
        "spec": {
            "schedule": args.schedule,
            "timeZone": TIME_ZONE,
            "suspend": args.suspended,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"metadata": {"labels": ctx.pod_labels(APP)}, "spec": job},
        },
    }
