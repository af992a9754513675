"""Paths checkov reports, made relative to the plan: whatever form checkov chose for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.evidence.checkov.normalise import relative_path

BASE = Path("/srv/ci/build/uae-onprem/manifests")
SCANNED = frozenset(
    {
        BASE / "deployment.yaml",
        BASE / "feast" / "deployment.yaml",
        BASE / "kafka" / "kafka-platform.yaml",
    }
)


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        # JSON report of a `-d` scan: relative to the directory, with a leading slash
        ("/feast/deployment.yaml", "manifests/feast/deployment.yaml"),
        ("/deployment.yaml", "manifests/deployment.yaml"),
        # absolute (a `-f` scan)
        (str(BASE / "kafka" / "kafka-platform.yaml"), "manifests/kafka/kafka-platform.yaml"),
        # SARIF: relative to checkov's working directory (the repository)...
        ("/build/uae-onprem/manifests/feast/deployment.yaml", "manifests/feast/deployment.yaml"),
        # ... with leading `../` dropped when the plan lies outside it
        ("/uae-onprem/manifests/deployment.yaml", "manifests/deployment.yaml"),
        (
            "../../build/uae-onprem/manifests/kafka/kafka-platform.yaml",
            "manifests/kafka/kafka-platform.yaml",
        ),
    ],
)
def test_every_form_checkov_reports_names_the_scanned_file(reported: str, expected: str) -> None:
    assert relative_path(reported, BASE, "manifests", SCANNED) == expected


def test_a_path_matching_no_scanned_file_is_kept_as_reported() -> None:
    assert (
        relative_path("/elsewhere/x.yaml", BASE, "manifests", SCANNED)
        == "manifests/elsewhere/x.yaml"
    )
