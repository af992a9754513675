"""The shape every scheduled job of the loop shares: a CronJob with a podFailurePolicy.

The loop's one-shot workloads exit with a status that says what happened (0 done, 1 could not
run — worth a retry, 2 configuration error, 3 acted: an alarm raised or a canary rolled back).
`cron_job` turns that into Kubernetes behaviour: 1 is retried (`backoffLimit`), 2 and 3 end the
Job at once as Failed (`podFailurePolicy` FailJob: a retry cannot fix a bad configuration, and
an action must not be repeated), a node drain (`DisruptionTarget`) does not count against
the retries. `concurrencyPolicy: Forbid`: a run never overlaps the previous one (both would read
the same consumer group). Schedules are in the Gulf's time zone.
"""

from __future__ import annotations

from typing import Any

from components.ml_loop.pods import LoopContext

TIME_ZONE = "Asia/Dubai"
# A pod evicted by a drain or preemption is not a failure of the workload.
DISRUPTION_IGNORED = {
    "action": "Ignore",
    "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
}


def fail_job_on(container: str, codes: tuple[int, ...]) -> dict[str, Any]:
    return {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": container,
                    "operator": "In",
                    "values": list(codes),
                },
            },
            DISRUPTION_IGNORED,
        ]
    }


def cron_job(
    ctx: LoopContext,
    name: str,
    app: str,
    schedule: str,
    job_spec: dict[str, Any],
    suspend: bool = False,
) -> dict[str, Any]:
    """A CronJob in the tenant namespace around `job_spec` (a Job's spec)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": ctx.metadata(name, app),
        "spec": {
            "schedule": schedule,
            "timeZone": TIME_ZONE,
            "suspend": suspend,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 5,
            "jobTemplate": {"metadata": {"labels": ctx.pod_labels(app)}, "spec": job_spec},
        },
    }


def job_spec(
    ctx: LoopContext,
    app: str,
    pod: dict[str, Any],
    *,
    container: str,
    deadline_seconds: int,
    fail_codes: tuple[int, ...] = (2, 3),
    backoff_limit: int = 3,
) -> dict[str, Any]:
    """A Job spec: pods never restart in place (the policy needs `Never`), bounded in time."""
    return {
        "backoffLimit": backoff_limit,
        "activeDeadlineSeconds": deadline_seconds,
        "ttlSecondsAfterFinished": 86400,
        "podFailurePolicy": fail_job_on(container, fail_codes),
        "template": {"metadata": {"labels": ctx.pod_labels(app)}, "spec": pod},
    }
