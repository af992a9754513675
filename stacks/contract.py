"""The tenant contract: the stack's exports, versioned and described by a JSON Schema.

Tenants read it with `pulumi.StackReference("<org>/mlplatform/<stack>").get_output("tenants")`
or from `outputs.json` of an offline plan. `CONTRACT_VERSION` follows the schema's rules:
additions bump the minor version, removals and renames the major.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pulumi

from components import conventions as c
from stacks.config import StackConfig
from stacks.foundation import Foundation
from stacks.platform import PlatformServices

CONTRACT_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).with_name("tenant-contract.schema.json")


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def _regions(config: StackConfig, foundation: Foundation) -> list[str]:
    if config.platform == "aws" and config.aws:
        return [config.aws.region]
    if config.platform == "azure" and config.azure:
        return [config.azure.location, config.azure.dr_location]
    return [foundation.location]


def export(
    config: StackConfig,
    foundation: Foundation,
    services: PlatformServices,
    tenancy: dict[str, Any],
    samples: dict[str, Any],
) -> None:
    core, ml = services.core, services.ml
    kafka = core.kafka
    pulumi.export("contract_version", CONTRACT_VERSION)
    pulumi.export(
        "stack",
        {
            "name": pulumi.get_stack(),
            "platform": config.platform,
            "location": foundation.location,
            "regions": _regions(config, foundation),
            "kubernetesVersion": config.kubernetes.version,
            "registry": config.image_registry,
            "residency": "uae",
            "cluster": foundation.facts,
            # Deliberate deviations from a secure default, with why and how to remove them.
            "exceptions": [
                {
                    "control": e.control,
                    "policy": e.policy,
                    "what": e.what,
                    "why": e.why,
                    "remedy": e.remedy,
                }
                for e in foundation.exceptions
            ],
        },
    )
    pulumi.export(
        "platform",
        {
            "kafka": {
                "bootstrap": kafka.bootstrap,
                "securityProtocol": kafka.security_protocol,
                "saslMechanism": kafka.sasl_mechanism,
                "authentication": kafka.authentication,
                "topics": kafka.platform_topics,
            },
            "mlflow": {"trackingUri": ml.mlflow_tracking_uri},
            "feast": {k: v for k, v in ml.feast.items() if k != "featureStoreYaml"},
            "kserve": {"hostPattern": ml.kserve_host_pattern, "servingRuntime": ml.serving_runtime},
            "kueue": {"clusterQueue": core.cluster_queue, "queueLabel": c.KUEUE_QUEUE_LABEL},
            "caBundle": core.ca_bundle,
            "keys": foundation.key_refs,
        },
    )
    tenants: dict[str, Any] = {}
    for name, deployment in tenancy.items():
        t = deployment.config
        namespace = deployment.component.namespace
        tenants[name] = {
            "namespace": namespace,
            "serviceAccount": deployment.component.service_account,
            "queue": {
                "localQueue": deployment.component.queue,
                "clusterQueue": core.cluster_queue,
                "label": c.KUEUE_QUEUE_LABEL,
            },
            "quota": {"cpu": str(t.quota.cpu), "memory": str(t.quota.memory), "gpu": t.quota.gpu},
            "dataClassification": t.data_classification,
            "kafka": {
                "bootstrap": kafka.bootstrap,
                "securityProtocol": kafka.security_protocol,
                "saslMechanism": kafka.sasl_mechanism,
                "authentication": kafka.authentication,
                "topics": deployment.kafka.topics,
                "credentialsSecret": deployment.kafka.credentials_secret,
                "principal": deployment.kafka.principal,
                "caBundle": core.ca_bundle,
                # Labels the tenant's pods need for their cloud identity (Azure WI webhook).
                "podLabels": deployment.pod_labels,
            },
            "mlflow": {"trackingUri": ml.mlflow_tracking_uri, "experimentPrefix": f"{name}/"},
            "feast": ml.feast,
            "kserve": {
                "hostPattern": ml.kserve_host_pattern.replace("{namespace}", namespace),
                "servingRuntime": ml.serving_runtime,
            },
            "keys": {"data": foundation.key_refs.get("data", "")},
            "gpu": {
                "resource": c.GPU_RESOURCE,
                "toleration": c.GPU_TOLERATION,
                "pools": [p.name for p in foundation.gpu_pools],
            },
        }
        if name in samples:
            tenants[name]["sampleWorkloads"] = samples[name]
    pulumi.export("tenants", tenants)
