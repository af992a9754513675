"""The stack configuration: read, typed, validated — before any resource is registered.

| module | owns |
|---|---|
| `loader` | `Pulumi.yaml` + `Pulumi.<stack>.yaml` (+ `--set`) offline, or the engine's config |
| `model` | `StackConfig`: the one pydantic model of everything under `mlplatform:` |
| `fields` | constrained field types (DNS labels, label values, quantities, CIDRs, ARNs, UUIDs) |
| `validation` | pydantic errors as key paths, then the rules between fields |
| `errors` | `Problem` (key, value, what is allowed) and `ConfigError` (all of them) |
| `residency` | the UAE allow-lists: regions, zones, locations, public registries |
| `machine_types` | the GPU machine types approved per cloud |
| `quantity` | Kubernetes quantities parsed for validation |

This package imports nothing else of the program: targets and the composition read the
validated `StackConfig` it returns.
"""

from __future__ import annotations

from stacks.config.errors import ConfigError, Problem
from stacks.config.loader import from_runtime, stack_config
from stacks.config.model import Aws, Azure, ExistingService, GpuPool, StackConfig, Tenant
from stacks.config.validation import validate

__all__ = [
    "Aws",
    "Azure",
    "ConfigError",
    "ExistingService",
    "GpuPool",
    "Problem",
    "StackConfig",
    "Tenant",
    "from_runtime",
    "stack_config",
    "validate",
]
