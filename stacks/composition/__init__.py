"""The platform composition: the same code on every target, pointed at its `Foundation`.

| module | step | what |
|---|---|---|
| `pki` | after the target's cluster | cert-manager, the platform CA and its bundle |
| `core` | services | GPU operator, Kueue, Kubeflow Trainer, Kafka (via `kafka`) |
| `kafka` | services | Strimzi, or the foundation's managed Kafka; the typed tenant grant |
| `ml` | services | MLflow, Feast, KServe; the tenants' ML access grant |
| `tenants` | tenants | one `Tenant` per team, its Kafka and ML access |
| `sample_workloads` | samples | the golden path's TrainJob and InferenceService |
| `results` | | what each step hands to the next and to the contract |

`build_services` runs the two service groups; `stacks.build` runs the steps in order.
"""

from __future__ import annotations

from components.pki import PlatformPki
from stacks.composition.core import build_core
from stacks.composition.ml import build_ml
from stacks.composition.results import PlatformServices
from stacks.config import StackConfig
from stacks.foundation import Foundation


def build_services(
    config: StackConfig, foundation: Foundation, pki: PlatformPki
) -> PlatformServices:
    core = build_core(config, foundation, pki)
    return PlatformServices(core=core, ml=build_ml(config, foundation, core))
