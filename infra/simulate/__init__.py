"""The cluster simulation: what the API server, the scheduler and the network would do with
everything a plan sends to the cluster, before anything is deployed.

| module | owns |
|---|---|
| `checks` | the checks (id, severity, remediation) and what a run of one found |
| `kube` | label selectors, quantities, strategic merge, the object shape it reads |
| `pods` | every pod template, including the pods custom resources imply |
| `admission` | Pod Security admission (baseline and restricted controls) per namespace |
| `pools` | the node pools a plan declares (EKS, AKS, on-prem site pools) and their allocatable |
| `scheduling` | whether every pod fits at least one pool (taints, selectors, affinity, requests) |
| `netpol`, `cilium` | the NetworkPolicy evaluator: can A reach B on port P, by which rule |

It reads objects (the program's manifests and every rendered release, each with its origin)
and recorded resources; it imports `stacks.config` only for the approved machine types.
"""
