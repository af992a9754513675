"""Targets: where the platform runs, each built in two steps around the platform PKI.

| target | step 1 `build_cluster(config)` | step 2 `build_foundation(config, cluster, pki)` |
|---|---|---|
| `onprem` | kube context, GPU node patches | object store, in-cluster Postgres/Redis, keys |
| `aws` | CMKs, VPC, EKS, node groups, add-ons | S3, CloudTrail, RDS, ElastiCache, ECR, MSK |
| `azure` | Log Analytics, VNet, Key Vault, ACR, AKS | Storage, Postgres, Redis, Event Hubs |

Between the steps the program declares the platform PKI on the cluster (the on-prem data
stores serve certificates from it). Step 2 returns the `stacks.foundation.Foundation` every
later layer reads: the composition is the same code on every target.

`target_for(config)` imports only the chosen target's package, so a stack loads only its
cloud's SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import pulumi_kubernetes as k8s

from components.pki import PlatformPki
from stacks.config import StackConfig
from stacks.foundation import Foundation


class TargetCluster(Protocol):
    """What step 1 must offer the program: how to reach the cluster."""

    @property
    def k8s_provider(self) -> k8s.Provider: ...


ClusterT = TypeVar("ClusterT", bound=TargetCluster)


@dataclass(frozen=True)
class Target(Generic[ClusterT]):
    build_cluster: Callable[[StackConfig], ClusterT]
    build_foundation: Callable[[StackConfig, ClusterT, PlatformPki], Foundation]


def target_for(config: StackConfig) -> Target[Any]:
    if config.platform == "onprem":
        from stacks.targets import onprem

        return Target(onprem.build_cluster, onprem.build_foundation)
    if config.platform == "aws":
        from stacks.targets import aws

        return Target(aws.build_cluster, aws.build_foundation)
    from stacks.targets import azure

    return Target(azure.build_cluster, azure.build_foundation)
