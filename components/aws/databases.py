"""Managed data stores for the platform: RDS PostgreSQL and ElastiCache (Redis OSS).

`PostgresDatabase` — MLflow's backend store and Feast's registry.

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect |
| `identifier` | RDS instance identifier |
| `vpc_id`, `subnet_ids` | private data subnets, one per zone ID |
| `client_security_group_id` | the only group that may connect (EKS nodes) |
| `kms_key_arn` | CMK for storage and Performance Insights |
| `logs_key_arn`, `log_retention_days` | CMK and retention of the exported logs |
| `username`, `password` | master credentials (password a Pulumi secret) |
| `db_name` | initial database |
| `engine_version`, `family`, `instance_class`, `allocated_storage_gi` | sizing |
| `backup_retention_days` | ≥ 7 (UAE-BCP-001) |
| `deletion_protection` | off only for ephemeral stacks |

Outputs: `instance`, `address`, `port`, `security_group`.

Multi-AZ, storage encrypted with the CMK, never publicly accessible, TLS forced by the
parameter group (`rds.force_ssl=1`, TLS ≥ 1.2), IAM database authentication on, logs exported
to pre-created CMK-encrypted log groups in-region, automated backups kept after deletion.

`RedisCache` — Feast's online store.

| Args | meaning |
|---|---|
| `site` | account, region, tags, protect |
| `replication_group_id` | ElastiCache replication group ID |
| `vpc_id`, `subnet_ids`, `client_security_group_id` | as above |
| `kms_key_arn`, `logs_key_arn`, `log_retention_days` | as above |
| `auth_token` | AUTH token (Pulumi secret) |
| `node_type`, `engine_version`, `replicas` | sizing (one node per zone) |

Outputs: `group`, `address`, `port`, `security_group`.

TLS required in transit, CMK at rest, AUTH token, Multi-AZ with automatic failover, slow and
engine logs to CMK-encrypted log groups, daily snapshots kept 7 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite
from components.aws.network import security_group_for_clients

POSTGRES_PORT = 5432
REDIS_PORT = 6379


@dataclass(frozen=True)
class PostgresDatabaseArgs:
    site: AwsSite
    identifier: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    username: str
    password: pulumi.Input[str]
    db_name: str = "mlflow"
    engine_version: str = "17"
    family: str = "postgres17"
    instance_class: str = "db.m6g.large"
    allocated_storage_gi: int = 100
    max_allocated_storage_gi: int = 1000
    backup_retention_days: int = 14
    multi_az: bool = True
    deletion_protection: bool = True


def _log_group(
    resource_name: str, site: AwsSite, name: str, key: pulumi.Input[str], days: int, parent
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        retention_in_days=days,
        kms_key_id=key,
        tags=site.tags_for(name),
        opts=site.stateful(parent),
    )


class PostgresDatabase(pulumi.ComponentResource):
    instance: aws.rds.Instance
    address: pulumi.Output[str]
    port: int
    security_group: aws.ec2.SecurityGroup

    def __init__(
        self, name: str, args: PostgresDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("mlplatform:aws:PostgresDatabase", name, None, opts)
        site, ident = args.site, args.identifier
        child = pulumi.ResourceOptions(parent=self)

        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets",
            name=ident,
            description=f"{ident}: private data subnets",
            subnet_ids=args.subnet_ids,
            tags=site.tags_for(ident),
            opts=child,
        )
        self.security_group = security_group_for_clients(
            f"{name}-sg",
            site,
            vpc_id=args.vpc_id,
            group_name=f"{ident}-postgres",
            description=f"{ident}: PostgreSQL from EKS nodes only",
            ports=(POSTGRES_PORT,),
            client_security_group_id=args.client_security_group_id,
            parent=self,
        )
        parameters = self._parameters(name, args)
        exports = ("postgresql", "upgrade")
        log_groups = [
            _log_group(
                f"{name}-log-{kind}",
                site,
                f"/aws/rds/instance/{ident}/{kind}",
                args.logs_key_arn,
                args.log_retention_days,
                self,
            )
            for kind in exports
        ]
        self.instance = aws.rds.Instance(
            f"{name}-instance",
            identifier=ident,
            engine="postgres",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage_gi,
            max_allocated_storage=args.max_allocated_storage_gi,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_name=args.db_name,
            username=args.username,
            password=args.password,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=parameters.name,
            publicly_accessible=False,
            multi_az=args.multi_az,
            iam_database_authentication_enabled=True,
            backup_retention_period=args.backup_retention_days,
            backup_window="22:00-23:00",  # UTC: 02:00-03:00 Gulf Standard Time
            maintenance_window="fri:23:30-sat:00:30",
            delete_automated_backups=False,
            copy_tags_to_snapshot=True,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=not args.deletion_protection,
            final_snapshot_identifier=f"{ident}-final" if args.deletion_protection else None,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=args.kms_key_arn,
            performance_insights_retention_period=7,
            enabled_cloudwatch_logs_exports=list(exports),
            auto_minor_version_upgrade=True,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            tags=site.tags_for(ident),
            opts=site.stateful(self, depends_on=log_groups),
        )
        self.address = self.instance.address
        self.port = POSTGRES_PORT
        self.register_outputs({"address": self.address})

    def _parameters(self, name: str, args: PostgresDatabaseArgs) -> aws.rds.ParameterGroup:
        """TLS only (rds.force_ssl, TLS 1.2+), connections logged."""
        site, ident = args.site, args.identifier
        child = pulumi.ResourceOptions(parent=self)
        return aws.rds.ParameterGroup(
            f"{name}-params",
            name=ident,
            family=args.family,
            description=f"{ident}: TLS only, connection logging",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name=k, value=v)
                for k, v in {
                    "rds.force_ssl": "1",
                    "ssl_min_protocol_version": "TLSv1.2",
                    "log_connections": "1",
                    "log_disconnections": "1",
                }.items()
            ],
            tags=site.tags_for(ident),
            opts=child,
        )


@dataclass(frozen=True)
class RedisCacheArgs:
    site: AwsSite
    replication_group_id: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int
    auth_token: pulumi.Input[str]
    node_type: str = "cache.m6g.large"
    engine_version: str = "7.1"
    replicas: int = 3
    snapshot_retention_days: int = 7


class RedisCache(pulumi.ComponentResource):
    group: aws.elasticache.ReplicationGroup
    address: pulumi.Output[str]
    port: int
    security_group: aws.ec2.SecurityGroup

    def __init__(self, name: str, args: RedisCacheArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mlplatform:aws:RedisCache", name, None, opts)
        site, ident = args.site, args.replication_group_id
        child = pulumi.ResourceOptions(parent=self)
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=ident,
            description=f"{ident}: private data subnets",
            subnet_ids=args.subnet_ids,
            tags=site.tags_for(ident),
            opts=child,
        )
        self.security_group = security_group_for_clients(
            f"{name}-sg",
            site,
            vpc_id=args.vpc_id,
            group_name=f"{ident}-redis",
            description=f"{ident}: Redis from EKS nodes only",
            ports=(REDIS_PORT,),
            client_security_group_id=args.client_security_group_id,
            parent=self,
        )
        logs = {
            kind: _log_group(
                f"{name}-log-{kind}",
                site,
                f"/aws/elasticache/{ident}/{kind}",
                args.logs_key_arn,
                args.log_retention_days,
                self,
            )
            for kind in ("slow-log", "engine-log")
        }
        self.group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=ident,
            description=f"{ident}: Feast online store",
            engine="redis",
            engine_version=args.engine_version,
            node_type=args.node_type,
            num_cache_clusters=args.replicas,
            port=REDIS_PORT,
            subnet_group_name=subnets.name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled=True,
            kms_key_id=args.kms_key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=args.auth_token,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            snapshot_retention_limit=args.snapshot_retention_days,
            snapshot_window="21:00-22:00",
            maintenance_window="fri:23:30-sat:00:30",
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=kind,
                )
                for kind, group in logs.items()
            ],
            tags=site.tags_for(ident),
            opts=site.stateful(self),
        )
        self.address = self.group.primary_endpoint_address
        self.port = REDIS_PORT
        self.register_outputs({"address": self.address})
