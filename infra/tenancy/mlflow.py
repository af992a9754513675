"""The MLflow channel: what one tenant's MLflow user may do with another tenant's experiments,
runs, artifacts and registered models.

MLflow's `basic-auth` app gives the user who creates an experiment or a registered model MANAGE
on it and everyone else `default_permission`. The platform runs one server for every tenant, one
user per tenant, so isolation holds when, on every MLflow server the plan runs:

- the server runs the auth app (`--app-name basic-auth`): otherwise every caller may do anything;
- `default_permission = NO_PERMISSIONS` in its auth config (`basic_auth.ini`): READ, EDIT or
  MANAGE there is that access to every other tenant's experiments and models;
- artifacts are served through the server (`--serve-artifacts`), where MLflow checks the
  experiment's permission (proved against MLflow 3.17 in tests/workloads/test_tenant_isolation.py);
  without it, clients reach the artifact store directly and its grants decide (object-store).
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from typing import Any

from infra.simulate.kube import items, mapping, name_of, namespace_of
from infra.simulate.pods import pod_templates
from infra.simulate.podspec import PodTemplate
from infra.tenancy.check import ChannelRun
from infra.tenancy.view import PlanView

CHANNEL = "mlflow"
AUTH_FILE = "basic_auth.ini"


def run(view: PlanView) -> ChannelRun:
    result = ChannelRun(CHANNEL)
    configs = {
        (namespace_of(body), name_of(body)): (mapping(body.get("data")).get(AUTH_FILE), origin)
        for body, origin in view.kind("ConfigMap")
        if AUTH_FILE in mapping(body.get("data"))
    }
    for pod in pod_templates(view.sources):
        for _, container in pod.containers():
            command = [
                str(a) for a in [*items(container.get("command")), *items(container.get("args"))]
            ]
            if "mlflow" in command and "server" in command:
                result.examined.append(f"{pod.subject} container {container.get('name')}")
                _server(view, result, pod, command, configs)
    return result


def _everyone(view: PlanView, result: ChannelRun, what: str, via: str) -> None:
    for source in view.tenants:
        for target in view.tenants:
            result.path(source, target, what, via)


def _server(
    view: PlanView,
    result: ChannelRun,
    pod: PodTemplate,
    command: list[str],
    configs: Mapping[tuple[str | None, str], tuple[Any, str]],
) -> None:
    via = f"{pod.subject} ({pod.origin})"
    if _flag_value(command, "--app-name") != "basic-auth":
        _everyone(view, result, "use every experiment and model: the server runs no auth app", via)
        return
    if "--no-serve-artifacts" in command:
        result.notes.append(
            f"{pod.subject}: artifacts are not served through MLflow; the object-store channel "
            "decides who reads them"
        )
    text, origin = _auth_config(pod, configs)
    if text is None:
        _everyone(view, result, "use every experiment: no auth config, MLflow's default READ", via)
        return
    default = _default_permission(str(text))
    if default != "NO_PERMISSIONS":
        what = f"{default} on every other tenant's experiments and models (default_permission)"
        _everyone(view, result, what, f"{AUTH_FILE} ({origin})")


def _flag_value(command: list[str], flag: str) -> str | None:
    for i, arg in enumerate(command):
        if arg == flag and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith(f"{flag}="):
            return arg.split("=", 1)[1]
    return None


def _auth_config(
    pod: PodTemplate, configs: Mapping[tuple[str | None, str], tuple[Any, str]]
) -> tuple[Any, str]:
    """The auth config a server pod mounts (a ConfigMap volume holding `basic_auth.ini`)."""
    for volume in items(mapping(pod.spec).get("volumes")):
        name = mapping(mapping(volume).get("configMap")).get("name")
        if (pod.namespace, name) in configs:
            return configs[(pod.namespace, str(name))]
    return None, ""


def _default_permission(text: str) -> str:
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return "unparseable"
    return parser.get("mlflow", "default_permission", fallback="READ").strip()
