"""GPU machine types approved per cloud (UAE-CMP-001), with the GPUs each carries.

A pool's `gpusPerNode` must match its type, or Kueue would hand out GPUs that do not exist.
The product name becomes the `nvidia.com/gpu.product`-style label tenants select on.
"""

from __future__ import annotations

from typing import NamedTuple


class GpuType(NamedTuple):
    gpus: int
    product: str


APPROVED: dict[str, dict[str, GpuType]] = {
    "aws": {
        "p5.48xlarge": GpuType(8, "nvidia-h100-80gb"),
        "p5e.48xlarge": GpuType(8, "nvidia-h200-141gb"),
        "p4d.24xlarge": GpuType(8, "nvidia-a100-40gb"),
        "g6e.xlarge": GpuType(1, "nvidia-l40s"),
        "g6e.12xlarge": GpuType(4, "nvidia-l40s"),
        "g6e.48xlarge": GpuType(8, "nvidia-l40s"),
        "g6.xlarge": GpuType(1, "nvidia-l4"),
        "g6.12xlarge": GpuType(4, "nvidia-l4"),
        "g6.48xlarge": GpuType(8, "nvidia-l4"),
        "g5.xlarge": GpuType(1, "nvidia-a10g"),
        "g5.12xlarge": GpuType(4, "nvidia-a10g"),
        "g5.48xlarge": GpuType(8, "nvidia-a10g"),
    },
    "azure": {
        "Standard_NC24ads_A100_v4": GpuType(1, "nvidia-a100-80gb"),
        "Standard_NC48ads_A100_v4": GpuType(2, "nvidia-a100-80gb"),
        "Standard_NC96ads_A100_v4": GpuType(4, "nvidia-a100-80gb"),
        "Standard_NC40ads_H100_v5": GpuType(1, "nvidia-h100-94gb"),
        "Standard_NC80adis_H100_v5": GpuType(2, "nvidia-h100-94gb"),
        "Standard_ND96isr_H100_v5": GpuType(8, "nvidia-h100-80gb"),
        "Standard_ND96asr_v4": GpuType(8, "nvidia-a100-40gb"),
    },
}


# General-purpose families for the system node group / pool (UAE-CMP-001): the sizes a
# platform system pool may use. The policy pack approves the same families by pattern
# (policies.pack_config.DEFAULT_INSTANCE_TYPES); a test keeps the two in step.
_AWS_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_AZURE_CPUS = (2, 4, 8, 16, 32, 48, 64, 96)
SYSTEM_APPROVED: dict[str, tuple[str, ...]] = {
    "aws": tuple(
        f"{family}.{size}" for family in ("m7i", "m6i", "c7i", "r7i") for size in _AWS_SIZES
    ),
    "azure": tuple(
        f"Standard_{family}{cpus}ds_v5" for family in ("D", "E") for cpus in _AZURE_CPUS
    ),
}
