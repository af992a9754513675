"""The cross-tenant access matrix (issue 13): can one tenant reach another tenant's data, on any
channel the plan opens — and the check that fails the plan when it can (UAE-TEN-001).

| module | owns |
|---|---|
| `check` | UAE-TEN-001 (severity, controls, remediation per channel), `Path`, `ChannelRun` |
| `view` | the plan as the channels read it: tenants, their principals, lookups |
| `rbac` | Roles, ClusterRoles (aggregated) and bindings, the charts' included |
| `network` | NetworkPolicy reachability (the cluster simulation's evaluator) |
| `kafka` | Strimzi ACLs, MSK IAM policies, Event Hubs role assignments |
| `feast` | Feast 0.67's Permissions, projects and servers as they actually behave |
| `mlflow` | MLflow's basic-auth app, default permission, artifact serving |
| `documents`, `object_store`, `keys` | tenant identities' storage prefixes and key grants |
| `matrix` | `access_matrix(...)`: every channel → `AccessMatrix` (its report) |

It reads what `infra.render` returns (the program's objects and every rendered release), the
recorded resources and the contract's `stack` block, reuses `infra.simulate`'s NetworkPolicy
evaluator and imports no other package of `infra`. `infra.plan` runs it after the simulation
(tenancy.json, compliance.json/md).
"""

from infra.tenancy.check import CHANNELS, TENANT_ISOLATION, ChannelRun, Path
from infra.tenancy.matrix import AccessMatrix, access_matrix

__all__ = ["CHANNELS", "TENANT_ISOLATION", "AccessMatrix", "ChannelRun", "Path", "access_matrix"]
