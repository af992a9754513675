"""The program: config → cluster → PKI → foundation → services → tenants → observability →
contract.

`build` is what `infra/__main__.py` runs under the engine and what `mlplatform plan` runs under
mocks. It registers nothing before the config has been validated (that happened in the loader).
Each step is a function of the config and the typed results of the steps before it. With
`phase: bootstrap` it declares only the registry and its keys (`stacks.bootstrap`).
"""

from __future__ import annotations

from components.pki import PlatformPki
from stacks import contract
from stacks.bootstrap import build_bootstrap
from stacks.composition import build_services
from stacks.composition.observability import build_observability
from stacks.composition.pki import build_pki
from stacks.composition.sample_workloads import build_sample_workloads
from stacks.composition.tenants import build_tenants
from stacks.config import StackConfig
from stacks.foundation import Foundation
from stacks.targets import target_for


def build_foundation(config: StackConfig) -> tuple[Foundation, PlatformPki]:
    """The target's cluster, the platform PKI on it, then the target's foundation."""
    target = target_for(config)
    cluster = target.build_cluster(config)
    # Declared between the target's two steps: the on-prem data stores serve TLS from it.
    pki = build_pki(config, cluster.k8s_provider)
    return target.build_foundation(config, cluster, pki), pki


def build(config: StackConfig) -> None:
    if config.phase == "bootstrap":
        build_bootstrap(config)
        return
    foundation, pki = build_foundation(config)
    services = build_services(config, foundation, pki)
    tenancy = build_tenants(config, foundation, services)
    samples = build_sample_workloads(config, foundation, services, tenancy)
    # After the services and tenants: monitors open ingress in their namespaces
    build_observability(
        config,
        foundation,
        services,
        [
            *services.core.resources.values(),
            *services.ml.resources.values(),
            *(t.component for t in tenancy.values()),
        ],
    )
    contract.export(config, foundation, services, tenancy, samples)
