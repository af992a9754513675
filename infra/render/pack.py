"""The policy pack's Kubernetes rules over rendered objects (RENDER-008).

The same rule functions the pack runs over the program's resources (`policies.rules`:
UAE-K8S-001 Pod Security restricted, -002 hygiene, -003 immutable images, -004 secrets, and UAE-
RES-005 in-country registries), evaluated over every rendered object with the stack's pack
config, so the exemptions the stack declares (the GPU operator's namespace) apply here too.
Governance labels are RENDER-005 (with its declared gaps), not UAE-GOV-001.

CustomResourceDefinitions are left out (schemas, not workloads: walking megabytes of them finds
nothing the rules look for). The GPU operator's ClusterPolicy is left to `infra.render.images`
(RENDER-004): its operands name images as `repository`/`image`/`version`, which the pack's
generic image reader would take for bare Docker Hub names.

`ACCEPTED` lists findings the rules raise on upstream charts that are not what the rule means,
each with the reason; they are reported, not failed.
"""

from __future__ import annotations

from collections.abc import Iterator

from infra.render.checks import PACK_RULES, Finding, Waiver
from infra.render.objects import ClusterObject
from infra.render.views import checkov_ids, resource_entry
from policies.evaluate import evaluate
from policies.pack_config import PackConfig
from policies.rules.kubernetes import POLICIES as KUBERNETES_POLICIES
from policies.rules.residency import RES_005

POLICIES = (*KUBERNETES_POLICIES, RES_005)
NOT_FOR_THE_PACK = frozenset({"ClusterPolicy", "CustomResourceDefinition"})

# (policy, release, object as `Kind namespace/name`) → why the finding is not a violation.
ACCEPTED: dict[tuple[str, str, str], str] = {
    ("UAE-K8S-004", "kserve", "ConfigMap kserve/inferenceservice-config"): (
        "its `credentials` entry names the Secret keys KServe reads (storageSpecSecretName, "
        "s3AccessKeyIDName...), not a credential"
    ),
    ("UAE-K8S-004", "strimzi-kafka-operator", "Deployment kafka/strimzi-cluster-operator"): (
        "STRIMZI_IMAGE_PULL_SECRETS is the name of the image pull Secret, not a secret value"
    ),
}


def pack_findings(objects: list[ClusterObject], cfg: PackConfig) -> Iterator[Finding | Waiver]:
    rendered = [
        o for o in objects if o.origin.source == "release" and o.kind not in NOT_FOR_THE_PACK
    ]
    by_urn = {resource_entry(o)["urn"]: o for o in rendered}
    report = evaluate([resource_entry(o) for o in rendered], cfg, policies=POLICIES)
    for result in report.results:
        for finding in result.findings:
            obj = by_urn.get(finding.urn)
            release = obj.origin.release if obj else None
            subject = obj.describe() if obj else finding.urn
            reason = ACCEPTED.get((finding.policy_id, release or "", subject))
            if reason is not None:
                yield Waiver(
                    PACK_RULES.id,
                    release,
                    f"{finding.policy_id} {subject}",
                    reason,
                    checkov_ids(obj) if obj else (),
                    finding.policy_id,
                )
                continue
            yield Finding(
                PACK_RULES.id,
                finding.enforcement == "mandatory",
                release,
                subject,
                f"{finding.policy_id} (release {release}): {finding.message}",
                finding.remediation,
                policy=finding.policy_id,
            )
        for exemption in result.exemptions:
            obj = by_urn.get(exemption.urn)
            yield Waiver(
                PACK_RULES.id,
                obj.origin.release if obj else None,
                f"{exemption.policy_id} {obj.describe() if obj else exemption.urn}",
                f"exemption {exemption.match}: {exemption.reason}",
                checkov_ids(obj) if obj else (),
                exemption.policy_id,
            )
