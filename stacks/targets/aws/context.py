"""Names and constants of the AWS foundation, derived once from the validated config."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite
from stacks import governance
from stacks.config import Aws, StackConfig, residency
from stacks.config.naming import AwsNames as Names
from version_catalogue import BUILD_IMAGES, CHARTS, IMAGES

STORAGE_CLASS = "encrypted-gp3"
SYSTEM_NODE_LABEL = "mlplatform.io/node-role"
POSTGRES_USER = "mlplatform"
# Consumers verify RDS's server certificate (verify-full) against the regional RDS CA bundle,
# published in this Secret (`ca.crt`) in each consumer namespace.
RDS_CA_SECRET = "rds-ca-bundle"
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem"
# The platform services with a Pod Identity role of their own (`<prefix>-<service>`): the data
# key's policy names them before `data` creates them.
WORKLOAD_ROLES = ("mlflow", "feast")
NVIDIA_AMI = "AL2023_x86_64_NVIDIA"
STANDARD_AMI = "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class AwsContext:
    """What every step of the AWS foundation shares."""

    config: StackConfig
    aws_config: Aws
    names: Names
    site: AwsSite
    provider: aws.Provider

    @property
    def opts(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(providers=[self.provider])

    @property
    def cluster_arn(self) -> str:
        return self.site.arn("eks", f"cluster/{self.names.cluster}")


def workload_role_name(names: Names, service: str) -> str:
    """The IAM role of a platform service (one of `WORKLOAD_ROLES`)."""
    return f"{names.prefix}-{service}"


def context(config: StackConfig) -> AwsContext:
    """Validate names, then declare the one provider every AWS resource uses."""
    aws_config = config.aws
    if aws_config is None:  # validation guarantees it; this guards direct callers
        raise ValueError("the aws section is required when cloud is aws")
    names = Names(config, aws_config)
    if too_long := names.too_long():  # validation refuses these; this guards direct callers
        raise ValueError(f"environment {config.environment!r} makes AWS names too long: {too_long}")
    region, account = aws_config.region, aws_config.account_id
    site = AwsSite(
        account_id=account,
        region=region,
        tags=governance.cloud_tags(config),
        protect=not config.ephemeral,
    )
    provider = aws.Provider(
        f"aws-{region}",
        region=region,
        sts_region=region,
        skip_region_validation=False,  # the provider itself refuses an unknown region
        allowed_account_ids=[account],
        default_tags=aws.ProviderDefaultTagsArgs(tags=dict(site.tags)),
    )
    return AwsContext(config, aws_config, names, site, provider)


def repositories(config: StackConfig, aws_config: Aws) -> tuple[str, ...]:
    """ECR repositories for the catalogue (its images, charts and the workload images' build
    bases, which `mlplatform mirror` copies too), when the mirror is this account's ECR."""
    host = residency.ecr_registry(aws_config.account_id, aws_config.region)
    registry = config.image_registry
    if registry != host and not registry.startswith(f"{host}/"):
        return ()  # another in-country registry is the mirror; it is not ours to create
    base = registry[len(host) + 1 :]
    join = "/".join
    catalogue = [*IMAGES.values(), *BUILD_IMAGES.values()]
    images = [join(p for p in (base, image.path) if p) for image in catalogue]
    charts = [join(p for p in (base, "charts", chart.name) if p) for chart in CHARTS.values()]
    return tuple(sorted(set(images + charts)))
