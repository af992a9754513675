"""Starting a training run in the cluster: a TrainJob from the tenant's template, queued by Kueue.

The template is the tenant's TrainJob manifest (`trainer.kubeflow.org/v1alpha1`, YAML or JSON,
mounted from a ConfigMap), as the platform renders it for the tenant's model. Each run creates
a copy named `<template name>-<run id>` (deterministic, so a re-created run is answered 409 and
adopted, never duplicated) in the controller's namespace, with:
- the template's labels, which must include the Kueue queue (`kueue.x-k8s.io/queue-name`), plus
  `mlplatform.io/retraining-model`, `-reason`, `-run` and `app.kubernetes.io/managed-by`;
- annotations with the request ids and the detail of the first request;
- `MLP_RETRAINING_RUN`, `MLP_RETRAINING_REQUEST_IDS` and `MLP_RETRAINING_REASON` in the
  trainer's environment (the trainer tags its MLflow run with them);
- no status and no server-set metadata (uid, resourceVersion...), whatever the template had.

A 4xx answer other than 409 (forbidden, invalid) fails the run (`LaunchRefused`: the same body
cannot succeed later) and the controller goes on; an outage (5xx, no connection) stops the
controller, whose restart retries the run saved as `starting`.

A run is finished when the TrainJob's `Complete` or `Failed` condition is True (its
lastTransitionTime is the finish time), or when the TrainJob is gone. After a restart without
a state file, `recover` lists the TrainJobs labelled with the model and rebuilds the runs.

The API calls (official `kubernetes` client, `CustomObjectsApi`): create, get and list
`trainjobs.trainer.kubeflow.org` in one namespace: the controller's whole RBAC.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from workloads.monitoring.events import RetrainingRequest
from workloads.retraining.state import LaunchRefused, Run, RunStatus

log = logging.getLogger(__name__)

GROUP, VERSION, PLURAL, KIND = "trainer.kubeflow.org", "v1alpha1", "trainjobs", "TrainJob"
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
MODEL_LABEL = "mlplatform.io/retraining-model"
REASON_LABEL = "mlplatform.io/retraining-reason"
RUN_LABEL = "mlplatform.io/retraining-run"
REQUESTS_ANNOTATION = "mlplatform.io/retraining-requests"
DETAIL_ANNOTATION = "mlplatform.io/retraining-detail"
MANAGED_BY = {"app.kubernetes.io/managed-by": "mlplatform-retraining-controller"}
SERVER_SET = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class TemplateError(ValueError):
    """The TrainJob template cannot be used; the message names the field."""


def load_template(path: Path) -> dict[str, Any]:
    try:
        template = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise TemplateError(f"TrainJob template {path}: {error}") from None
    check_template(template, str(path))
    return template


def check_template(template: Any, where: str = "TrainJob template") -> None:
    if not isinstance(template, dict):
        raise TemplateError(f"{where}: not a mapping")
    if template.get("apiVersion") != f"{GROUP}/{VERSION}":
        raise TemplateError(
            f"{where}: apiVersion must be {GROUP}/{VERSION}, got {template.get('apiVersion')!r}"
        )
    if template.get("kind") != KIND:
        raise TemplateError(f"{where}: kind must be {KIND}, got {template.get('kind')!r}")
    metadata = template.get("metadata") or {}
    if not metadata.get("name"):
        raise TemplateError(f"{where}: metadata.name is required (runs are named after it)")
    if not (metadata.get("labels") or {}).get(QUEUE_LABEL):
        raise TemplateError(
            f"{where}: metadata.labels[{QUEUE_LABEL}] is required: a TrainJob without a Kueue "
            "queue would bypass the tenant's quota"
        )
    spec = template.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("runtimeRef"), dict):
        raise TemplateError(f"{where}: spec.runtimeRef is required")


def label_value(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", value)[:63].strip("-_.")
    if not _LABEL_VALUE.match(cleaned):
        raise ValueError(f"{value!r} cannot be a label value")
    return cleaned


def default_namespace(template: dict[str, Any]) -> str:
    if SERVICE_ACCOUNT_NAMESPACE.exists():
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    namespace = (template.get("metadata") or {}).get("namespace")
    if not namespace:
        raise TemplateError("no namespace: pass --namespace or set metadata.namespace")
    return str(namespace)


def api_client(kubeconfig: Path | None = None) -> client.ApiClient:
    """In the cluster: the pod's service account; else the kubeconfig given (or the default)."""
    configuration = client.Configuration()
    if kubeconfig is None and SERVICE_ACCOUNT_NAMESPACE.exists():
        config.load_incluster_config(client_configuration=configuration)
    else:
        config.load_kube_config(
            config_file=str(kubeconfig) if kubeconfig else None,
            client_configuration=configuration,
        )
    return client.ApiClient(configuration)


class TrainJobLauncher:
    def __init__(self, api: client.ApiClient, namespace: str, template: dict[str, Any]) -> None:
        check_template(template)
        template_namespace = template["metadata"].get("namespace")
        if template_namespace and template_namespace != namespace:
            raise TemplateError(
                f"TrainJob template: metadata.namespace {template_namespace!r} is not the "
                f"controller's namespace {namespace!r} (its RBAC covers that namespace only)"
            )
        self.objects = client.CustomObjectsApi(api)
        self.namespace = namespace
        self.template = template

    def describe(self) -> str:
        return f"TrainJob {self.template['metadata']['name']}-<run> in {self.namespace}"

    def name(self, run: Run) -> str:
        base = self.template["metadata"]["name"][: 62 - len(run.run_id)].rstrip("-.")
        return f"{base}-{run.run_id}"

    def body(self, run: Run, request: RetrainingRequest) -> dict[str, Any]:
        body = copy.deepcopy(self.template)
        body.pop("status", None)
        metadata = body["metadata"]
        for key in (*SERVER_SET, "ownerReferences", "generateName"):
            metadata.pop(key, None)
        metadata["name"] = self.name(run)
        metadata["namespace"] = self.namespace
        metadata["labels"] = {
            **metadata.get("labels", {}),
            **MANAGED_BY,
            MODEL_LABEL: label_value(run.model),
            REASON_LABEL: label_value(run.reason),
            RUN_LABEL: run.run_id,
        }
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            REQUESTS_ANNOTATION: json.dumps(run.request_ids),
            DETAIL_ANNOTATION: (request.detail or request.reason)[:1000],
        }
        trainer = body["spec"].setdefault("trainer", {})
        ours = {
            "MLP_RETRAINING_RUN": run.run_id,
            "MLP_RETRAINING_REQUEST_IDS": ",".join(run.request_ids),
            "MLP_RETRAINING_REASON": run.reason,
        }
        env = [e for e in trainer.get("env", []) if e.get("name") not in ours]
        trainer["env"] = env + [{"name": k, "value": v} for k, v in ours.items()]
        return body

    def start(self, run: Run, request: RetrainingRequest) -> dict[str, Any]:
        body = self.body(run, request)
        name = body["metadata"]["name"]
        try:
            self.objects.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, body
            )
            log.info("run %s: created TrainJob %s/%s", run.run_id, self.namespace, name)
        except ApiException as error:
            if error.status is not None and 400 <= error.status < 500 and error.status != 409:
                raise LaunchRefused(
                    f"TrainJob {self.namespace}/{name} refused: {error.status} {error.reason}: "
                    f"{(error.body or '')[:500]}"
                ) from None
            if error.status != 409:
                raise
            log.info("run %s: TrainJob %s exists already: adopted", run.run_id, name)
        return {"trainjob": name, "namespace": self.namespace}

    def poll(self, run: Run) -> tuple[RunStatus, float | None, dict[str, Any] | None]:
        name = run.handle.get("trainjob") or self.name(run)
        try:
            job = self.objects.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, name
            )
        except ApiException as error:
            if error.status != 404:
                raise
            log.warning("run %s: TrainJob %s is gone; counted as failed", run.run_id, name)
            return "failed", datetime.now().timestamp(), None
        return _status(job)

    def recover(self, model: str) -> list[Run]:
        listed = self.objects.list_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            PLURAL,
            label_selector=f"{MODEL_LABEL}={label_value(model)}",
        )
        return [_run_of(job, model) for job in listed.get("items", [])]


def _status(job: dict[str, Any]) -> tuple[RunStatus, float | None, dict[str, Any] | None]:
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed"):
            finished = _epoch(condition.get("lastTransitionTime"))
            outcome: RunStatus = "succeeded" if condition["type"] == "Complete" else "failed"
            return outcome, finished, {"reason": condition.get("reason")}
    return "running", None, None


def _epoch(stamp: str | None) -> float:
    if not stamp:
        return datetime.now().timestamp()
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _run_of(job: dict[str, Any], model: str) -> Run:
    metadata = job["metadata"]
    labels, annotations = metadata.get("labels", {}), metadata.get("annotations") or {}
    status, finished, result = _status(job)
    return Run(
        run_id=labels.get(RUN_LABEL, metadata["name"]),
        model=model,
        reason=labels.get(REASON_LABEL, "unknown"),
        request_ids=json.loads(annotations.get(REQUESTS_ANNOTATION, "[]")),
        started_at=_epoch(metadata.get("creationTimestamp")),
        status=status,
        finished_at=finished,
        handle={"trainjob": metadata["name"], "namespace": metadata.get("namespace")},
        result=result,
    )
