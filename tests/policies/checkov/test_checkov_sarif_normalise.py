"""checkov's SARIF, normalised so that two scans of the same files give the same bytes."""

from __future__ import annotations

import json
from typing import Any

from infra.evidence.checkov.normalise import raw_scan

RULE_HELP = "Image should use digest"


def _sarif(first_resource: str, results: list[tuple[str, int]]) -> dict[str, Any]:
    """A run as checkov writes it: the rule's help names whichever resource it checked first."""
    rule = {
        "id": "CKV_K8S_43",
        "name": RULE_HELP,
        "help": {"text": f"{RULE_HELP}\nResource: {first_resource}"},
    }
    return {
        "runs": [
            {
                "tool": {"driver": {"rules": [rule]}},
                "results": [
                    {
                        "ruleId": "CKV_K8S_43",
                        "ruleIndex": 0,
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": uri},
                                    "region": {"startLine": line},
                                }
                            }
                        ],
                    }
                    for uri, line in results
                ],
            }
        ]
    }


def test_two_scans_in_another_order_normalise_to_the_same_sarif() -> None:
    a = [("releases/grafana/deployment.yaml", 2), ("manifests/feast.yaml", 40)]
    first = raw_scan("kubernetes", [], _sarif("Deployment.feast.feast-online", a), str)
    second = raw_scan(
        "kubernetes", [], _sarif("Deployment.mlplatform-monitoring.grafana", a[::-1]), str
    )
    assert json.dumps(first.sarif) == json.dumps(second.sarif)
    (rule,) = first.sarif["runs"][0]["tool"]["driver"]["rules"]
    assert rule["help"]["text"] == RULE_HELP  # no resource named by chance
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in first.sarif["runs"][0]["results"]
    ]
    assert uris == sorted(uris)
