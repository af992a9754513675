"""The cluster simulation: what the API server, the scheduler and the network would do with
everything a plan sends to the cluster, before anything is deployed.

| module | owns |
|---|---|
| `checks` | the checks (id, severity, remediation) and what a run of one found |
| `kube` | label selectors, quantities, strategic merge, the object shape it reads |
| `pods`, `podspec` | every pod template (`PodTemplate`), including TrainJob and KServe pods |
| `operator_pods` | the pods Strimzi, CloudNativePG and redis-operator create from their resources |
| `admission` | Pod Security admission (baseline and restricted controls) per namespace |
| `pools` | the node pools a plan declares (EKS, AKS, on-prem site pools) and their allocatable |
| `scheduling` | whether every pod fits at least one pool (taints, selectors, affinity, requests) |
| `peers`, `netpol`, `cilium` | the NetworkPolicy evaluator: can A reach B on port P, and how |
| `cluster` | the target's facts: pools, CNI, pod ranges, the API server's addresses |
| `referencing` | what pods and custom resources reference |
| `references` | what provides each reference (the plan, operators, the cloud, site prerequisites) |
| `flows` | the flows components declare on their namespaces (`components.flows`), proved |
| `isolation` | cross-namespace paths; no tenant reaching another tenant |
| `run` | `simulate(...)`: every check over a plan → `Simulation` (its report) |

It reads objects (the program's manifests and every rendered release, each with its origin,
as `infra.render` returns them), the recorded resources and the contract's `stack` block; it
imports no other package of `infra`, and `stacks.config` only for the approved machine types.
`infra.plan` runs it after rendering (simulation.json, compliance.json/md).
"""

from infra.simulate.run import Simulation, simulate

__all__ = ["Simulation", "simulate"]
