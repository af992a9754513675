"""infra/evidence/checkov/records.py reads the scanned manifests (for pod templates and skip
annotations) with libyaml: the same objects as PyYAML's own parser, which it falls back to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.evidence.checkov import records
from infra.plan import write_plan
from tests.policies.checkov.conftest import FIXTURES
from tests.policies.checkov.test_launcher import BROKEN, TRICKY


class _Refusing(yaml.SafeLoader):
    def __init__(self, stream: Any) -> None:
        raise yaml.YAMLError("libyaml refused")


def _read(text: str) -> object:
    try:
        return records._load_all(text)
    except yaml.YAMLError as error:
        return ("refused", type(error).__name__)


def _pure(text: str) -> object:
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        return ("refused", type(error).__name__)


def test_manifests_read_as_pyyaml_reads_them_and_through_the_fallback(
    stack_plan: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plan(stack_plan("uae-onprem"), tmp_path)
    texts = [
        *(p.read_text() for p in sorted((tmp_path / "uae-onprem" / "manifests").rglob("*.yaml"))),
        *(p.read_text() for p in sorted((FIXTURES / "k8s").rglob("*.yaml"))),
        TRICKY,
        BROKEN,
    ]
    assert len(texts) > 150
    assert records._LOADER is yaml.CSafeLoader  # the pinned PyYAML wheel has libyaml
    assert [_read(t) for t in texts] == [_pure(t) for t in texts]
    monkeypatch.setattr(records, "_LOADER", _Refusing)
    assert [_read(t) for t in texts] == [_pure(t) for t in texts]


def test_an_unreadable_manifest_names_no_object(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(BROKEN)
    objects = records._Objects(tmp_path)
    assert objects.docs("broken.yaml") == []
    assert objects.find("broken.yaml", "Secret.default.s") == ("Secret.default.s", None)
