"""The machine types the config accepts are the ones the policy pack approves (UAE-CMP-001).

The pack keeps its own list (it runs without this repository's program); these tests keep the
two in step, so a type the config accepts never fails the pack, and vice versa for GPU types.
"""

from __future__ import annotations

import fnmatch

import pytest

from policies.pack_config import DEFAULT_INSTANCE_TYPES
from stacks.config.machine_types import APPROVED, SYSTEM_APPROVED


def _pack_approves(machine: str) -> bool:
    return any(fnmatch.fnmatchcase(machine, pattern) for pattern in DEFAULT_INSTANCE_TYPES)


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_every_system_type_the_config_accepts_is_approved_by_the_pack(cloud):
    assert SYSTEM_APPROVED[cloud]
    assert [t for t in SYSTEM_APPROVED[cloud] if not _pack_approves(t)] == []


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_every_gpu_type_the_config_accepts_is_approved_by_the_pack(cloud):
    assert [t for t in APPROVED[cloud] if not _pack_approves(t)] == []
