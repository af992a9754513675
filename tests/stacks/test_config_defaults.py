"""One source per default: the config model (`stacks/config/model.py`) is authoritative.

`Pulumi.yaml` restates defaults for `pulumi config` readers; every value it lists must be the
model's default for that key, and every object it lists must list the whole section, so
neither file can drift from the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from stacks.config import StackConfig
from stacks.config.errors import PROJECT

ROOT = Path(__file__).resolve().parents[2]


def model_default(key: str) -> Any:
    field = next(f for n, f in StackConfig.model_fields.items() if (f.alias or n) == key)
    if field.default is PydanticUndefined:
        return PydanticUndefined
    default = field.default
    if isinstance(default, BaseModel):
        return default.model_dump(by_alias=True, mode="json")
    return default


def mismatches(pulumi_yaml: Path) -> list[str]:
    """Keys of Pulumi.yaml's config block whose value is not the model's default."""
    block = (yaml.safe_load(pulumi_yaml.read_text()) or {}).get("config") or {}
    problems = []
    for raw_key, entry in block.items():
        if ":" in raw_key and not raw_key.startswith(f"{PROJECT}:"):
            continue  # engine settings such as pulumi:disable-default-providers
        key = raw_key.removeprefix(f"{PROJECT}:")
        if not isinstance(entry, dict):
            problems.append(f"{key}: give it as `value:` or `default:`")
            continue
        if "value" not in entry and "default" not in entry:
            if model_default(key) is not PydanticUndefined:
                problems.append(f"{key}: the model has a default; state it or drop the key")
            continue
        stated = entry.get("value", entry.get("default"))
        expected = model_default(key)
        if stated != expected:
            problems.append(f"{key}: Pulumi.yaml says {stated!r}, the model {expected!r}")
    return problems


def test_pulumi_yaml_states_the_model_defaults():
    assert mismatches(ROOT / "Pulumi.yaml") == []


def test_every_section_pulumi_yaml_lists_is_complete():
    block = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    listed = {k for k, v in block.items() if isinstance(v, dict) and "value" in v}
    assert {"kafka", "feast", "mlflow", "kserve", "logging", "kubernetes"} <= listed


def test_a_drifted_default_is_named(tmp_path):
    text = (
        (ROOT / "Pulumi.yaml").read_text().replace("replicationFactor: 3", "replicationFactor: 2")
    )
    assert "replicationFactor: 2" in text
    (tmp_path / "Pulumi.yaml").write_text(text)
    (problem,) = mismatches(tmp_path / "Pulumi.yaml")
    assert problem.startswith("kafka:") and "'replicationFactor': 2" in problem


def test_a_partial_section_is_refused(tmp_path):
    document = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    del document["config"]["kserve"]["value"]["hostDomain"]
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(document))
    (problem,) = mismatches(tmp_path / "Pulumi.yaml")
    assert problem.startswith("kserve:")


def test_the_plan_hands_the_pack_its_own_log_retention_minimum():
    """UAE-LOG-003's minimum comes from the pack: a stack's retention (validated to be at
    least that) is never handed over as the minimum, so no stack can lower it."""
    from infra.plan.policy_step import policy_config
    from policies.pack_config import PackConfig
    from stacks.config.loader import stack_config

    for retention in ("365", "3000"):
        config, _ = stack_config("uae-onprem", (f"logging.retentionDays={retention}",))
        assert config.logging.retention_days == int(retention)
        assert policy_config(config).log_retention_days == PackConfig().log_retention_days
