"""The program: config → foundation → platform services → tenants → workloads → outputs.

`build` is what `infra/__main__.py` runs under the engine and what `mlplatform plan` runs under
mocks. It registers nothing before the config has been validated (that happened in the loader).
"""

from __future__ import annotations

from stacks import contract, platform, tenants, workloads
from stacks.config import StackConfig
from stacks.foundation import Foundation


def foundation_for(config: StackConfig) -> Foundation:
    # Imported by full module path: the targets' SDKs load only for the platform in use.
    if config.platform == "onprem":
        from stacks.onprem import build_foundation as build_onprem

        return build_onprem(config)
    if config.platform == "aws":
        from stacks.aws import build_foundation as build_aws

        return build_aws(config)
    from stacks.azure import build_foundation as build_azure

    return build_azure(config)


def build(config: StackConfig) -> None:
    foundation = foundation_for(config)
    services = platform.build_platform(config, foundation)
    tenancy = tenants.build_tenants(config, foundation, services)
    samples = workloads.build_sample_workloads(config, foundation, services, tenancy)
    contract.export(config, foundation, services, tenancy, samples)
