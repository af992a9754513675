"""The policy pack's step of a plan: the CrossGuard rules (policies/), evaluated offline over
the very resources.json the plan wrote, with the pack config derived from the stack config.

policy-config.json is the file `pulumi preview --policy-pack policies --policy-pack-config <it>`
takes for this stack; policy-report.json is the offline report.
"""

from __future__ import annotations

from pathlib import Path

from components.namespace import PSS_EXEMPTIONS
from infra.plan.synthesis import PlanResult, dump_json
from policies.config_file import policy_config_file
from policies.evaluate import Report, evaluate
from policies.pack_config import Exemption, PackConfig
from stacks.config import StackConfig

POLICY_CONFIG_FILE = "policy-config.json"
POLICY_REPORT_FILE = "policy-report.json"


def policy_config(config: StackConfig) -> PackConfig:
    """The pack's `PackConfig` for a stack: its registry, accounts, site stores,
    and the Pod Security exemptions the components record (components.namespace)."""
    stores: list[str] = []
    if config.onprem is not None:
        site = config.onprem
        store = site.object_store
        stores += [
            store.endpoint,
            *(
                f"s3://{b}"
                for b in (store.artifact_bucket, store.offline_store_bucket, store.audit_bucket)
            ),
        ]
        for existing in (site.postgres.existing, site.redis.existing):
            if existing is not None:
                stores.append(existing.host)
    return PackConfig(
        allowed_registries=(config.image_registry,),
        # log_retention_days stays the pack's own minimum: the stack (validated to keep logs at
        # least that long) never lowers what UAE-LOG-003 demands.
        exemptions=tuple(Exemption(e.control, e.namespace, e.reason) for e in PSS_EXEMPTIONS),
        require_protect=not config.ephemeral,
        immutable_tags=config.registry.immutable_tags,
        aws_account_ids=(config.aws.account_id,) if config.platform == "aws" and config.aws else (),
        azure_tenant_ids=(
            (config.azure.tenant_id,) if config.platform == "azure" and config.azure else ()
        ),
        data_stores=tuple(stores),
    )


def evaluate_policies(result: PlanResult) -> Report:
    """Every policy of the pack over the plan's resources → `policies.evaluate.Report`."""
    resources = sorted(result.synthesis.resources, key=lambda r: r.urn)
    return evaluate([r.to_json() for r in resources], policy_config(result.config))


def write_policy_files(result: PlanResult, report: Report) -> list[Path]:
    """policy-config.json (for `pulumi preview --policy-pack`) and policy-report.json."""
    if result.out_dir is None:
        raise ValueError("write the plan before its policy files")
    config = PackConfig.from_mapping(report.config)
    files = [result.out_dir / POLICY_CONFIG_FILE, result.out_dir / POLICY_REPORT_FILE]
    dump_json(files[0], policy_config_file(config))
    dump_json(files[1], report.to_dict())
    result.files += files
    return files
