"""The values check: every key the program sets is one the chart reads.

Helm ignores a values key no template reads: a misspelt or stale key (`jobset.image.registry`
for a chart whose template is `{{ .Values.image.repository }}:{{ tag }}`) silently leaves the
chart's default in place. A key is known when the chart's defaults (its values.yaml and its
sub-charts', coalesced as Helm does) or its values.schema.json declare it. Below a key whose
default is an empty map or null (`commonLabels: {}`, `nodeSelector: {}`, `resources: {}`) any
key is free-form, as is anything below a list or where the schema allows additional properties.
Keys charts read without declaring them are allowed only through `UNDECLARED`, and maps a
template ranges over (whatever keys they hold) through `FREE_FORM`, each with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# (chart, dotted values path) → why the chart reads it although it does not declare it.
_BY_DEFAULT = "the template reads it with `| default`; values.yaml leaves it commented out"
UNDECLARED: dict[tuple[str, str], str] = {
    ("gpu-operator", "operator.version"): f"_helpers.tpl operator image: {_BY_DEFAULT}",
    ("gpu-operator", "validator.version"): f"clusterpolicy.yaml validator: {_BY_DEFAULT}",
    ("gpu-operator", "dcgmExporter.imagePullSecrets"): (
        "clusterpolicy.yaml reads it under `if`; values.yaml does not declare it"
    ),
    ("gpu-operator", "node-feature-discovery.image.tag"): (
        f"sub-chart node-feature-discovery, every image: {_BY_DEFAULT}"
    ),
    ("gpu-operator", "operator.nodeSelector"): (
        "operator.yaml reads it (`with .Values.operator.nodeSelector`); values.yaml does not "
        "declare it (the platform's placement: components.placement)"
    ),
    ("strimzi-kafka-operator", "image.imagePullSecrets"): (
        "060-Deployment reads it (string or list, `kindIs`); values.yaml leaves it commented out"
    ),
    ("strimzi-kafka-operator", "image.imagePullPolicy"): (
        "060-Deployment reads it under `if`; values.yaml does not declare it"
    ),
    **{
        ("strimzi-kafka-operator", f"{key}.image.digest"): (
            "_helpers.tpl `strimzi.image` reads every image's `digest` (ref@digest instead of "
            "ref:tag); values.yaml declares none (the mirror lock pins Kafka images with it)"
        )
        for key in ("kafka", "kafkaConnect", "kafkaMirrorMaker2", "kafkaExporter", "cruiseControl")
    },
    ("kube-prometheus-stack", "prometheusOperator.admissionWebhooks.certManager.issuerRef"): (
        f"prometheus-operator/certmanager.yaml reads it under `if`: {_BY_DEFAULT}"
    ),
    ("kube-prometheus-stack", "alertmanager.alertmanagerSpec.configSecret"): (
        f"alertmanager/alertmanager.yaml reads it (with useExistingSecret): {_BY_DEFAULT}"
    ),
    **{
        ("grafana", f"grafana.ini.{section}"): (
            "configmap.yaml writes every section of grafana.ini into grafana.ini (`range`); "
            "values.yaml declares only a few"
        )
        for section in (
            "auth",
            "auth.basic",
            "auth.anonymous",
            "auth.generic_oauth",
            "users",
            "security",
        )
    },
}

# (chart, dotted path) → why any key below it is read although the defaults list only some:
# maps a template ranges over.
FREE_FORM: dict[tuple[str, str], str] = {
    ("cluster-autoscaler", "extraArgs"): (
        "deployment.yaml ranges over extraArgs: every key becomes a --<key>=<value> flag"
    ),
    **{
        (chart, path): (
            "the template writes the map whole (`toYaml`): any node label selects "
            "(the defaults list only kubernetes.io/os)"
        )
        for chart, path in (
            ("cert-manager", "nodeSelector"),
            ("cert-manager", "webhook.nodeSelector"),
            ("cert-manager", "cainjector.nodeSelector"),
            ("cert-manager", "startupapicheck.nodeSelector"),
            ("trust-manager", "nodeSelector"),
        )
    },
}

# Helm passes `global` to the chart and every sub-chart whether declared or not.
ALWAYS_KNOWN = frozenset({"global"})


def unknown_keys(chart: str, values: Mapping[str, Any], defaults: Any, schema: Any) -> list[str]:
    """Dotted paths of the keys in `values` the chart neither declares nor is allowed to read."""
    walker = _Walker(chart, schema if isinstance(schema, Mapping) else {})
    return sorted(
        path
        for path in walker.walk(values, defaults, schema, "")
        if (chart, path) not in UNDECLARED
    )


class _Walker:
    """Walks values beside defaults and schema; resolves the schema's local `$ref`s."""

    def __init__(self, chart: str, root: Mapping[str, Any]) -> None:
        self.chart, self.root = chart, root

    def resolve(self, schema: Any) -> Any:
        hops = 0
        while isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and hops < 32:
            target: Any = self.root
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target.get(part) if isinstance(target, Mapping) else None
            schema, hops = target, hops + 1
        if isinstance(schema, Mapping) and isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            props = dict(_properties(merged))
            for part in schema["allOf"]:
                props.update(_properties(self.resolve(part)))
            merged["properties"] = props
            return merged
        return schema

    def walk(
        self, values: Mapping[str, Any], defaults: Any, schema: Any, base: str
    ) -> Iterator[str]:
        schema = self.resolve(schema)
        declared = defaults if isinstance(defaults, Mapping) else {}
        properties = _properties(schema)
        free_form = not declared and not _closed(schema)
        for key, value in values.items():
            path = f"{base}.{key}" if base else str(key)
            if not base and key in ALWAYS_KNOWN:
                continue
            if key in declared or key in properties:
                child_default = declared.get(key)
                child_schema = self.resolve(properties.get(key))
                if (self.chart, path) in FREE_FORM:
                    continue
                if isinstance(value, Mapping) and (
                    _nonempty_map(child_default) or _closed(child_schema)
                ):
                    yield from self.walk(value, child_default, child_schema, path)
                continue
            if free_form or _open(schema):
                continue
            yield path


def _nonempty_map(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value)


def _properties(schema: Any) -> Mapping[str, Any]:
    if not isinstance(schema, Mapping):
        return {}
    props = schema.get("properties")
    return props if isinstance(props, Mapping) else {}


def _closed(schema: Any) -> bool:
    """The schema lists the keys allowed here (properties, no additional ones)."""
    return (
        isinstance(schema, Mapping)
        and bool(_properties(schema))
        and schema.get("additionalProperties") is False
    )


def _open(schema: Any) -> bool:
    """The schema allows keys it does not list here."""
    if not isinstance(schema, Mapping):
        return False
    extra = schema.get("additionalProperties")
    return bool(schema.get("patternProperties")) or extra is True or isinstance(extra, Mapping)
