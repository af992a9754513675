"""From checkov's reports to gated `Record`s: readable resource ids, the gate's class, skips.

A FAILED result becomes SKIPPED when an active skip of the gate accepts it; a skip bound to an
annotation reads it from the scanned manifest (the pod template's own, else its owner's).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from infra.evidence.checkov.findings import FAILED, KUBERNETES, PASSED, SKIPPED, Record
from infra.evidence.checkov.gate import Gate, Skip
from infra.evidence.checkov.normalise import RawScan

# Kinds whose pod template checkov turns into a `Pod.<ns>.<owner>.<labels>` graph vertex.
_TEMPLATE_OWNERS = (
    "Deployment",
    "DeploymentConfig",
    "DaemonSet",
    "Job",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
)


# libyaml's parser, the same constructor: a plan with rendered releases has 500 files to read
# here, 1.7 s with the pure-Python parser. Content libyaml refuses is read by PyYAML's own.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_all(text: str) -> list[Any]:
    try:
        return list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError:
        return list(yaml.safe_load_all(text))


class _Objects:
    """The scanned manifests' objects: to name pod templates and read annotations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._docs: dict[str, list[dict[str, Any]]] = {}

    def docs(self, file: str) -> list[dict[str, Any]]:
        if file not in self._docs:
            path = self.root / file
            try:
                loaded = _load_all(path.read_text()) if path.is_file() else []
            except yaml.YAMLError:
                loaded = []
            self._docs[file] = [d for d in loaded if isinstance(d, dict)]
        return self._docs[file]

    def find(self, file: str, resource: str) -> tuple[str, dict[str, Any] | None]:
        """(readable resource id, object or None) for a checkov Kubernetes resource id.

        checkov names a pod template `Pod.<ns>.<owner>.<label>-<value>...`: it becomes
        `<Kind>.<ns>.<owner>.template`, and the annotations are the template's own, else the
        owner's (the way the policy pack reads them).
        """
        for doc in self.docs(file):
            meta = doc.get("metadata") or {}
            kind, name = doc.get("kind"), meta.get("name")
            ns = meta.get("namespace") or "default"
            if resource == f"{kind}.{ns}.{name}":
                return resource, doc
            owner = f"Pod.{ns}.{name}"
            if kind in _TEMPLATE_OWNERS and (resource == owner or resource.startswith(owner + ".")):
                return f"{kind}.{ns}.{name}.template", doc
        return resource, None


def _annotations(doc: dict[str, Any] | None) -> dict[str, Any]:
    if not doc:
        return {}
    found: dict[str, Any] = dict((doc.get("metadata") or {}).get("annotations") or {})
    spec = doc.get("spec") or {}
    template = spec.get("template") or (spec.get("jobTemplate") or {}).get("spec", {}).get(
        "template"
    )
    if isinstance(template, dict):
        found.update((template.get("metadata") or {}).get("annotations") or {})
    return found


def _lines(value: Any) -> tuple[int, int]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return 0, 0


def gated_records(
    raws: list[RawScan], gate: Gate, skips: list[Skip], root: Path
) -> tuple[list[Record], list[str], str]:
    """(records sorted, parsing errors, checkov version) of every scan; `root`: the plan dir."""
    records: list[Record] = []
    errors: list[str] = []
    version = "unknown"
    objects = _Objects(root)
    status_of = {"passed_checks": PASSED, "failed_checks": FAILED, "skipped_checks": SKIPPED}
    for raw in raws:
        for report in raw.reports:
            version = report.get("summary", {}).get("checkov_version", version)
            errors += [
                f"{raw.framework}: checkov could not parse {p}"
                for p in report["results"]["parsing_errors"]
            ]
            for bucket, status in status_of.items():
                for item in report["results"].get(bucket, []):
                    resource, doc = str(item.get("resource", "")), None
                    if raw.framework == KUBERNETES:
                        resource, doc = objects.find(item.get("file_path", ""), resource)
                    record = Record(
                        check_id=item["check_id"],
                        check_name=item.get("check_name", ""),
                        framework=raw.framework,
                        resource=resource,
                        file=item.get("file_path", ""),
                        lines=_lines(item.get("file_line_range")),
                        status=status,
                        gate=gate.gate_class(item["check_id"]),
                        policy=gate.policy(item["check_id"]),
                        skip_reason=item.get("suppress_comment") if status == SKIPPED else None,
                        evaluated_keys=tuple(
                            (item.get("check_result") or {}).get("evaluated_keys") or ()
                        ),
                        guideline=item.get("guideline"),
                    )
                    if status == FAILED:
                        for skip in skips:
                            reason = skip.applies_to(record, _annotations(doc))
                            if reason is not None:
                                record = replace(record, status=SKIPPED, skip_reason=reason)
                                break
                    records.append(record)
    records.sort(key=Record.sort_key)
    return records, sorted(errors), version
