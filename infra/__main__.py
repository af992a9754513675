"""Pulumi entrypoint (`main: infra/` in Pulumi.yaml): load config → build → export. Nothing else."""

from stacks.build import build
from stacks.config.loader import from_runtime

build(from_runtime())
