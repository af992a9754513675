"""`mlplatform plan --all` covers every stack file, and each stack file is a complete target with
its own in-country state backend and secrets provider."""

from __future__ import annotations

from infra.plan import VARIANTS
from stacks.config.loader import stack_config, stack_names


def test_every_stack_file_is_planned() -> None:
    planned = {v.stack for v in VARIANTS if not v.overrides}
    assert planned == set(stack_names()), "a stack file `plan --all` does not plan as it is"


def test_variant_names_are_unique_and_name_their_stack() -> None:
    names = [v.name for v in VARIANTS]
    assert len(names) == len(set(names))
    assert all(v.name.startswith(v.stack) for v in VARIANTS)


def test_each_cloud_has_its_own_state_and_secrets_provider() -> None:
    backends = {}
    for stack in stack_names():
        config, _ = stack_config(stack)
        backends[config.platform] = (config.state.url, config.state.secrets_provider)
    assert backends["aws"][0].startswith("s3://") and "region=me-central-1" in backends["aws"][0]
    assert backends["aws"][1].startswith("awskms://")
    assert backends["azure"][0].startswith("azblob://")
    assert backends["azure"][1].startswith("azurekeyvault://")
    assert backends["onprem"][0].startswith("file://")
    assert backends["onprem"][1].startswith("hashivault://")
