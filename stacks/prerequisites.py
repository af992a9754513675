"""What the site must create before the first `pulumi up`: the contract's `stack.prerequisites`.

The plan's simulation proves that everything else a pod or custom resource references is
created by the plan itself (check SIM-REF-001); what is left is listed here with how to create
it, and `mlplatform verify --preflight` looks each one up on the cluster before `pulumi up`.

- the mirror's pull Secret (`registry.pullSecret`, when the mirror needs credentials), in
  every namespace whose pods pull from it;
- the target's own (`Foundation.prerequisites`; on-prem: the object-store credentials and CA
  Secrets where consumers mount them, the site's StorageClass).

Namespaces the site fills before the first `pulumi up` are adopted by it: the on-prem
Kubernetes provider applies server-side, so creating an object that already exists updates it.
"""

from __future__ import annotations

from typing import Any

from components import conventions as c
from components.observability.logs import NAMESPACE as LOGGING_NAMESPACE
from components.observability.values import NAMESPACE as MONITORING_NAMESPACE
from stacks.config import StackConfig
from stacks.foundation import Foundation, SitePrerequisite


def pulling_namespaces(config: StackConfig, foundation: Foundation) -> tuple[str, ...]:
    """Every namespace whose pods pull images from the stack's mirror."""
    namespaces = [
        c.NS_CERT_MANAGER,
        c.NS_GPU_OPERATOR,
        c.NS_KUEUE,
        c.NS_TRAINER,
        c.NS_KSERVE,
        c.NS_MLFLOW,
        c.NS_FEAST,
    ]
    if foundation.kafka is None:
        namespaces.append(c.NS_KAFKA)  # Strimzi in the cluster
    if config.onprem is not None and "operator" in (
        config.onprem.postgres.mode,
        config.onprem.redis.mode,
    ):
        namespaces.append(c.NS_DATA)
    namespaces += [c.tenant_namespace(t.name) for t in config.tenants]
    namespaces.append(MONITORING_NAMESPACE)
    if foundation.platform == "aws" or (
        foundation.platform == "onprem" and config.observability.siem is not None
    ):
        namespaces.append(LOGGING_NAMESPACE)  # Fluent Bit (stacks.composition.observability)
    return tuple(sorted(namespaces))


def pull_secret(config: StackConfig, foundation: Foundation) -> SitePrerequisite | None:
    name = config.registry.pull_secret
    if not name:
        return None
    server = config.image_registry.split("/", 1)[0]
    return SitePrerequisite(
        kind="Secret",
        name=name,
        namespaces=pulling_namespaces(config, foundation),
        purpose=f"pulls the platform's images from the mirror {config.image_registry}",
        how=(
            "in each namespace: kubectl create namespace <ns> (if absent), then kubectl -n <ns> "
            f"create secret docker-registry {name} --docker-server={server} "
            "--docker-username=<robot account> --docker-password=<its token> (a read-only "
            "robot account of the mirror)"
        ),
        keys=(".dockerconfigjson",),
    )


def observability_secrets(config: StackConfig) -> list[SitePrerequisite]:
    """The IdP client secret Grafana signs in with, and the CAs the site's relays present."""
    obs, found = config.observability, []
    if obs.grafana.oidc is not None:
        found.append(
            SitePrerequisite(
                kind="Secret",
                name=obs.grafana.oidc.client_secret,
                namespaces=(MONITORING_NAMESPACE,),
                purpose="Grafana's OpenID Connect client secret at the bank's IdP",
                how=(
                    f"kubectl -n {MONITORING_NAMESPACE} create secret generic "
                    f"{obs.grafana.oidc.client_secret} --from-literal=client-secret=<the secret "
                    f"of client {obs.grafana.oidc.client_id} in the IdP>"
                ),
                keys=("client-secret",),
            )
        )
    cas = [
        (r.email.ca_secret, MONITORING_NAMESPACE, "the e-mail relay's CA")
        for r in obs.receivers
        if r.email and r.email.ca_secret
    ]
    if obs.siem is not None and obs.siem.ca_secret:
        cas.append((obs.siem.ca_secret, LOGGING_NAMESPACE, "the SIEM collector's CA"))
    for name, namespace, what in cas:
        found.append(
            SitePrerequisite(
                kind="Secret",
                name=name,
                namespaces=(namespace,),
                purpose=f"verifies {what} (TLS)",
                how=f"kubectl -n {namespace} create secret generic {name} --from-file=ca.crt=<PEM>",
                keys=("ca.crt",),
            )
        )
    return found


def site_prerequisites(config: StackConfig, foundation: Foundation) -> list[SitePrerequisite]:
    found = [p for p in (pull_secret(config, foundation),) if p is not None]
    return found + observability_secrets(config) + list(foundation.prerequisites)


def contract(items: list[SitePrerequisite]) -> list[dict[str, Any]]:
    """`stack.prerequisites` as the schema describes it."""
    return [
        {
            "kind": p.kind,
            "name": p.name,
            "namespaces": list(p.namespaces),
            "keys": list(p.keys),
            "purpose": p.purpose,
            "howToCreate": p.how,
        }
        for p in items
    ]
