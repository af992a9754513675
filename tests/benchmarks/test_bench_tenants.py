"""The synthesis benchmark's generated tenants are a config both stacks accept (not timed)."""

from __future__ import annotations

import json

import pytest

from benchmarks.synth_worker import SAMPLE_TENANT, generated_tenants
from stacks.config.loader import stack_config


@pytest.mark.parametrize(
    "stack",
    [("uae-onprem",), ("uae-cloud",), ("uae-cloud-azure",)],
    ids=["uae-onprem", "uae-cloud", "uae-cloud-azure"],
)
def test_one_hundred_generated_tenants_pass_validation(stack: tuple[str, ...]) -> None:
    name, *overrides = stack
    base, _ = stack_config(name, tuple(overrides))
    tenants = generated_tenants(100, base)
    config, _ = stack_config(
        name,
        (
            *overrides,
            f"tenants={json.dumps(tenants)}",
            f"sampleWorkloads.tenant={SAMPLE_TENANT}",
        ),
    )
    assert len(config.tenants) == 100
    assert len({t.name for t in config.tenants}) == 100
    assert sum(t.quota.gpu for t in config.tenants) <= config.gpu_capacity()
    assert config.tenant(SAMPLE_TENANT).quota.gpu >= config.sample_workloads.gpus
    # each signs in as its own identity (one IAM role per tenant on AWS, one group elsewhere)
    assert len({t.idp_group for t in config.tenants}) == 100
    if config.platform == "aws":
        assert len({t.aws_role_arn for t in config.tenants}) == 100
