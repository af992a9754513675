"""Keys: customer-managed encryption at rest, rotation, HSM for restricted data, loss protection
and custody.

UAE-KEY-001 CMK at rest, UAE-KEY-002 rotation and in-country keys, UAE-KEY-003 HSM/BYOK for
restricted data, UAE-KEY-004 key-loss protection, UAE-KEY-005 no wildcard, foreign or
account-wide principals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from policies.core import (
    UNKNOWN,
    Policy,
    ResourceView,
    Severity,
    StackView,
    Violation,
    arn_accounts,
    as_list,
    explicitly_false,
    get,
    number,
    refers_to,
    strings,
    truthy,
    types,
)
from policies.documents import allows, condition_values, principals, statements
from policies.pack_config import PackConfig

IAR_CRYPTO = "UAE IAR (cryptography)"
KMS_KEY = "aws:kms/key:Key"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)


def _missing(value: object) -> bool:
    return value is None or value == ""


# --------------------------------------------------------------------------- UAE-KEY-001


def _sse_rule_problems(r: ResourceView, rules: list[object]) -> Iterator[str]:
    if not rules:
        yield f"{r.describe()} declares no default encryption rule."
    for i, rule in enumerate(rules):
        algorithm = get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
        key = get(rule, "applyServerSideEncryptionByDefault.kmsMasterKeyId")
        if algorithm is UNKNOWN:
            continue
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            yield (
                f"{r.describe()} rule {i} encrypts with '{algorithm}' "
                "(S3-managed keys), not a customer-managed KMS key."
            )
        elif _missing(key):
            yield (
                f"{r.describe()} rule {i} uses SSE-KMS without kmsMasterKeyId, "
                "i.e. the AWS-managed aws/s3 key."
            )


def _flag_and_key(r: ResourceView, flag: str, key: str, what: str) -> Iterator[str]:
    if truthy(r.props.get(flag)) is False:
        yield f"{r.describe()} does not encrypt {what} ({flag} is not true)."
    elif _missing(r.props.get(key)):
        yield (
            f"{r.describe()} encrypts {what} with the AWS-managed "
            f"key: set {key} to a customer-managed KMS key."
        )


def check_cmk(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type.startswith("azure-native:"):
        yield from _azure_cmk(r)
    else:
        yield from _aws_cmk(r)


def _aws_cmk(r: ResourceView) -> Iterator[str]:
    t, p = r.type, r.props
    if t in S3_SSE:
        yield from _sse_rule_problems(r, as_list(p.get("rules")))
    elif t in S3_BUCKETS and p.get("serverSideEncryptionConfiguration") is not None:
        rule = get(p, "serverSideEncryptionConfiguration.rule")
        yield from _sse_rule_problems(r, as_list(rule))
    elif t in ("aws:ebs/volume:Volume", "aws:efs/fileSystem:FileSystem"):
        yield from _flag_and_key(r, "encrypted", "kmsKeyId", "its data")
    elif t == "aws:ec2/launchTemplate:LaunchTemplate":
        yield from _launch_template_cmk(r)
    elif t in ("aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        if p.get("replicateSourceDb"):
            return  # replicas inherit the source's encryption
        yield from _flag_and_key(r, "storageEncrypted", "kmsKeyId", "storage")
    elif t == "aws:msk/cluster:Cluster":
        if _missing(get(p, "encryptionInfo.encryptionAtRestKmsKeyArn")):
            yield (
                f"{r.describe()} encrypts broker storage with the "
                "AWS-managed key: set encryptionInfo.encryptionAtRestKmsKeyArn."
            )
    elif t == "aws:elasticache/replicationGroup:ReplicationGroup":
        yield from _flag_and_key(r, "atRestEncryptionEnabled", "kmsKeyId", "data at rest")
    elif t == "aws:secretsmanager/secret:Secret":
        if _missing(p.get("kmsKeyId")):
            yield f"{r.describe()} uses the AWS-managed aws/secretsmanager key: set kmsKeyId."
    elif t == "aws:ecr/repository:Repository":
        config = as_list(p.get("encryptionConfigurations"))
        kinds = [get(c, "encryptionType") for c in config]
        if not config or "KMS" not in kinds or any(_missing(get(c, "kmsKey")) for c in config):
            yield f"{r.describe()} does not encrypt images with a customer-managed KMS key."
    elif t == "aws:dynamodb/table:Table":
        if truthy(get(p, "serverSideEncryption.enabled")) is False or _missing(
            get(p, "serverSideEncryption.kmsKeyArn")
        ):
            yield f"{r.describe()} does not use a customer-managed KMS key."
    elif t in ("aws:sns/topic:Topic", "aws:sqs/queue:Queue") and _missing(p.get("kmsMasterKeyId")):
        yield f"{r.describe()} does not set kmsMasterKeyId (customer-managed key)."


def _launch_template_cmk(r: ResourceView) -> Iterator[str]:
    p = r.props
    mappings = as_list(p.get("blockDeviceMappings"))
    if not mappings:
        yield (
            f"{r.describe()} declares no block device mappings: the root volume falls back to "
            "the account default, not a customer-managed key."
        )
    for i, mapping in enumerate(mappings):
        ebs = get(mapping, "ebs")
        if ebs is None or ebs is UNKNOWN:
            continue
        if truthy(get(ebs, "encrypted")) is False:
            yield f"{r.describe()} block device {i} is not encrypted."
        elif _missing(get(ebs, "kmsKeyId")):
            yield (
                f"{r.describe()} block device {i} is encrypted "
                "with the AWS-managed EBS key, not a CMK."
            )


def _azure_cmk(r: ResourceView) -> Iterator[str]:
    t, p = r.type, r.props
    if t == "azure-native:storage:StorageAccount":
        source = get(p, "encryption.keySource")
        if source is not UNKNOWN and str(source or "").lower() != "microsoft.keyvault":
            yield (
                f"{r.describe()} encrypts with Microsoft-managed keys: "
                "set encryption.keySource=Microsoft.Keyvault with keyVaultProperties."
            )
        elif _missing(get(p, "encryption.keyVaultProperties.keyName")) and source is not UNKNOWN:
            yield f"{r.describe()} names no Key Vault key in encryption.keyVaultProperties."
    elif t == "azure-native:dbforpostgresql:Server":
        kind = get(p, "dataEncryption.type")
        if kind is not UNKNOWN and kind != "AzureKeyVault":
            yield (
                f"{r.describe()} encrypts with service-managed keys: "
                "set dataEncryption.type=AzureKeyVault."
            )
    elif t == "azure-native:containerservice:ManagedCluster":
        if _missing(p.get("diskEncryptionSetID")):
            yield (
                f"{r.describe()} encrypts node disks with platform-managed "
                "keys: set diskEncryptionSetID."
            )
    elif t == "azure-native:eventhub:Namespace":
        source = get(p, "encryption.keySource")
        if source is not UNKNOWN and str(source or "").lower() != "microsoft.keyvault":
            yield (
                f"{r.describe()} encrypts with Microsoft-managed keys: "
                "set encryption.keySource=Microsoft.KeyVault."
            )
    elif t == "azure-native:compute:Disk" and _missing(get(p, "encryption.diskEncryptionSetId")):
        yield f"{r.describe()} does not use a disk encryption set (customer-managed key)."


def stack_cmk(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    """Every S3 bucket has a default-encryption configuration (checked above for SSE-KMS)."""
    configs = stack.of_type(*S3_SSE)
    for bucket in stack.of_type(*S3_BUCKETS):
        inline = get(bucket.props, "serverSideEncryptionConfiguration.rule")
        if inline is not None and not list(_sse_rule_problems(bucket, as_list(inline))):
            continue  # inline SSE-KMS (older programs; under CrossGuard also the bucket's outputs)
        if not any(refers_to(c.props.get("bucket"), bucket) for c in configs):
            yield Violation(
                f"{bucket.describe()} has no BucketServerSideEncryptionConfiguration: objects are "
                "encrypted with S3-managed keys, not a customer-managed KMS key.",
                bucket.urn,
            )


CMK_TYPES = types(
    *S3_SSE,
    *S3_BUCKETS,
    "aws:ebs/volume:Volume",
    "aws:efs/fileSystem:FileSystem",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:rds/instance:Instance",
    "aws:rds/cluster:Cluster",
    "aws:msk/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:secretsmanager/secret:Secret",
    "aws:ecr/repository:Repository",
    "aws:dynamodb/table:Table",
    "aws:sns/topic:Topic",
    "aws:sqs/queue:Queue",
    "azure-native:storage:StorageAccount",
    "azure-native:dbforpostgresql:Server",
    "azure-native:containerservice:ManagedCluster",
    "azure-native:eventhub:Namespace",
    "azure-native:compute:Disk",
)

KEY_001 = Policy(
    id="UAE-KEY-001",
    name="Customer-managed keys for data at rest",
    description=(
        "Buckets, volumes, databases, caches, Kafka, secrets, registries and cluster disks are "
        "encrypted with customer-managed keys (KMS CMK / Key Vault), never provider-managed keys."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.24",),
    uae_refs=(IAR_CRYPTO, "CBUAE confidentiality of customer data", "ADHICS (health data)"),
    remediation=(
        "Reference the stack's data key: S3 BucketServerSideEncryptionConfiguration with "
        "sseAlgorithm=aws:kms and kmsMasterKeyId; storageEncrypted/encrypted=true with kmsKeyId; "
        "MSK encryptionAtRestKmsKeyArn; Azure encryption.keySource=Microsoft.Keyvault, PG "
        "dataEncryption.type=AzureKeyVault, AKS diskEncryptionSetID."
    ),
    domain="keys",
    applies=CMK_TYPES,
    check=check_cmk,
    stack_check=stack_cmk,
)


# --------------------------------------------------------------------------- UAE-KEY-002


def _rotates(key: ResourceView) -> bool | None:
    actions = get(key.props, "properties.rotationPolicy.lifetimeActions")
    if actions is UNKNOWN:
        return None
    return any(str(get(a, "action.type") or "").lower() == "rotate" for a in as_list(actions))


def check_rotation(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type == KMS_KEY:
        if truthy(r.props.get("enableKeyRotation")) is False:
            yield (
                f"{r.describe()} does not rotate its key material (enableKeyRotation is not true)."
            )
        period = number(r.props.get("rotationPeriodInDays"))
        if period is not None and period > 365:
            yield f"{r.describe()} rotates only every {period:.0f} days; rotate at least yearly."
        region = r.region
        if isinstance(region, str) and not cfg.region_allowed(region):
            yield f"{r.describe()} would be created in '{region}', outside the UAE."
    elif r.type == "azure-native:keyvault:Key" and _rotates(r) is False:
        yield f"{r.describe()} has no rotation policy with a 'rotate' lifetime action."


KEY_002 = Policy(
    id="UAE-KEY-002",
    name="Keys rotate and stay in-country",
    description=(
        "KMS keys enable automatic rotation in an allowed region; "
        "Key Vault keys carry a rotation policy."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.24",),
    uae_refs=(IAR_CRYPTO,),
    remediation=(
        "Set enableKeyRotation=true (rotationPeriodInDays ≤ 365) on aws.kms.Key; give Key Vault "
        "keys properties.rotationPolicy with a lifetimeAction of type 'rotate'."
    ),
    domain="keys",
    applies=types(KMS_KEY, "azure-native:keyvault:Key"),
    check=check_rotation,
    config_keys=("allowed_regions",),
)


# --------------------------------------------------------------------------- UAE-KEY-003

HSM_KTY = ("RSA-HSM", "EC-HSM", "oct-HSM")
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]+")
AZURE_KEY_URI = re.compile(r"https://([a-z0-9-]+)\.vault\.azure\.net/keys/([A-Za-z0-9-]+)")


def _hsm_backed(key: ResourceView) -> bool | None:
    if key.type == "aws:kms/externalKey:ExternalKey":
        return True  # BYOK: imported material generated in the customer's HSM
    if key.type == KMS_KEY:
        store = key.props.get("customKeyStoreId")
        return None if store is UNKNOWN else bool(store)
    if key.type == "azure-native:keyvault:Key":
        kty = get(key.props, "properties.kty")
        return None if kty is UNKNOWN else kty in HSM_KTY
    return None


def check_hsm(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    data_class = r.tags.get("data-classification")
    if not cfg.is_restricted(data_class):
        return
    if r.type == "azure-native:keyvault:Vault":
        sku = str(get(r.props, "properties.sku.name") or "").lower()
        if sku != "premium":
            yield f"{r.describe()} holds {data_class} keys but is not a Premium (HSM-backed) vault."
    elif _hsm_backed(r) is False:
        yield (
            f"{r.describe()} protects {data_class} data with a software key: use a CloudHSM custom "
            "key store, imported (BYOK) material, or an RSA-HSM/EC-HSM key."
        )


def stack_hsm(stack: StackView, cfg: PackConfig) -> Iterator[Violation]:
    """Restricted resources must reference HSM-backed keys."""
    keys = stack.of_type(KMS_KEY, "aws:kms/externalKey:ExternalKey", "azure-native:keyvault:Key")
    for r in stack.resources:
        if r in keys or r.is_kubernetes or not cfg.is_restricted(r.tags.get("data-classification")):
            continue
        for _path, text in strings(r.props):
            for arn in KMS_KEY_ARN.findall(text):
                key = next((k for k in keys if refers_to(arn, k)), None)
                if key is not None and _hsm_backed(key) is False:
                    yield Violation(
                        (
                            f"{r.describe()} is restricted data but uses "
                            f"{key.describe()}, a software key."
                        ),
                        r.urn,
                    )
            for vault, name in AZURE_KEY_URI.findall(text):
                key = next((k for k in keys if k.props.get("keyName") == name), None)
                if key is not None and _hsm_backed(key) is False:
                    yield Violation(
                        (
                            f"{r.describe()} is restricted data but uses "
                            f"Key Vault key '{vault}/{name}', a software key."
                        ),
                        r.urn,
                    )


KEY_003 = Policy(
    id="UAE-KEY-003",
    name="HSM-backed or BYOK keys for restricted data",
    description=(
        "Keys protecting data classified restricted are HSM-backed (CloudHSM custom key store, "
        "imported material, Key Vault Premium RSA-HSM/EC-HSM or Managed HSM)."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.24",),
    uae_refs=("CBUAE / IAR expectation for restricted data (not the letter of a law)",),
    remediation=(
        "Create the key in a CloudHSM custom key store (customKeyStoreId) or import material "
        "(aws.kms.ExternalKey); on Azure use a Premium vault and kty RSA-HSM/EC-HSM."
    ),
    domain="keys",
    applies=types(
        KMS_KEY,
        "aws:kms/externalKey:ExternalKey",
        "azure-native:keyvault:Key",
        "azure-native:keyvault:Vault",
    ),
    check=check_hsm,
    stack_check=stack_hsm,
    config_keys=("restricted_data_classes",),
    expectation=True,
)


# --------------------------------------------------------------------------- UAE-KEY-004


def _unprotected(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if cfg.require_protect and not (r.protect or r.retain_on_delete):
        yield f"{r.describe()} is not protected: `pulumi destroy` or a refactor would delete it."


def check_key_loss(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type == KMS_KEY:
        window = number(r.props.get("deletionWindowInDays"))
        if window is not None and window < 30:
            yield (
                f"{r.describe()} can be deleted after {window:.0f} "
                "days; use deletionWindowInDays=30."
            )
        if truthy(r.props.get("bypassPolicyLockoutSafetyCheck")):
            yield f"{r.describe()} bypasses the key-policy lockout safety check."
    elif r.type == "azure-native:keyvault:Vault":
        if explicitly_false(get(r.props, "properties.enableSoftDelete")):
            yield f"{r.describe()} disables soft delete."
        if truthy(get(r.props, "properties.enablePurgeProtection")) is False:
            yield (
                f"{r.describe()} does not enable purge protection: "
                "deleted keys could be purged at once."
            )
    elif r.type == "azure-native:keyvault:ManagedHsm":
        purge = truthy(get(r.props, "properties.enablePurgeProtection"))
        if purge is False:
            yield f"{r.describe()} does not enable purge protection."
    yield from _unprotected(r, cfg)


KEY_004 = Policy(
    id="UAE-KEY-004",
    name="Key-loss protection",
    description=(
        "KMS keys keep a 30-day deletion window and the lockout safety check; Key Vaults keep soft "
        "delete and purge protection; keys and vaults are `protect`ed."
    ),
    severity=Severity.HIGH,
    iso_controls=("8.24", "8.13"),
    uae_refs=(),
    remediation=(
        "deletionWindowInDays=30, no bypassPolicyLockoutSafetyCheck; Key Vault "
        "enableSoftDelete=true and enablePurgeProtection=true; ResourceOptions(protect=True) on "
        "keys and vaults (only ephemeral test stacks may omit it)."
    ),
    domain="keys",
    applies=types(
        KMS_KEY,
        "aws:kms/externalKey:ExternalKey",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
        "azure-native:keyvault:ManagedHsm",
    ),
    check=check_key_loss,
    config_keys=("require_protect",),
)


# --------------------------------------------------------------------------- UAE-KEY-005

ACCOUNT_CONDITIONS = (
    "kms:CallerAccount",
    "aws:PrincipalAccount",
    "aws:SourceAccount",
    "aws:PrincipalOrgID",
)


# What a principal can do with a key that nobody outside its named custodians should: use the
# key material, or change who may (actions as KMS names them; patterns in statements match).
KEY_POWERS = {
    "use": (
        "kms:decrypt",
        "kms:encrypt",
        "kms:reencryptfrom",
        "kms:reencryptto",
        "kms:generatedatakey",
        "kms:generatedatakeywithoutplaintext",
        "kms:creategrant",
    ),
    "administer": (
        "kms:putkeypolicy",
        "kms:schedulekeydeletion",
        "kms:disablekey",
        "kms:enablekey",
        "kms:updatekeydescription",
        "kms:revokegrant",
        "kms:createalias",
        "kms:deletealias",
        "kms:importkeymaterial",
        "kms:deleteimportedkeymaterial",
        "kms:disablekeyrotation",
        "kms:replicatekey",
    ),
}
ROOT_PRINCIPAL = re.compile(r"^(?:arn:aws[a-z-]*:iam::(\d{12}):root|(\d{12}))$")


def _powers(statement: Mapping[str, Any]) -> list[str]:
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    return [
        power
        for power, names in KEY_POWERS.items()
        if any(fnmatchcase(name, action) for action in actions for name in names)
    ]


def _account_wide(r: ResourceView, sid: object, statement: Mapping[str, Any]) -> Iterator[str]:
    """The account root as principal hands the key to every principal of the account that IAM
    lets through, unless `aws:PrincipalArn` names the principals (no wildcard)."""
    for principal in principals(statement):
        match = ROOT_PRINCIPAL.match(principal)
        powers = _powers(statement) if match else []
        if match is None or not powers:
            continue
        named = condition_values(statement, "aws:PrincipalArn")
        if named and not any("*" in arn or arn.endswith(":root") for arn in named):
            continue
        yield (
            f"{r.describe()} key policy statement {sid} lets every principal of account "
            f"{match.group(1) or match.group(2)} {' and '.join(powers)} the key (the account "
            "root without an aws:PrincipalArn condition naming roles)."
        )


def _key_policy_problems(r: ResourceView, document: object, cfg: PackConfig) -> Iterator[str]:
    own = set(cfg.aws_account_ids)
    for i, statement in enumerate(statements(document)):
        if not allows(statement):
            continue
        sid = statement.get("Sid") or i
        yield from _account_wide(r, sid, statement)
        for principal in principals(statement):
            if principal in ("*", "arn:aws:iam::*:root"):
                scoped = condition_values(statement, *ACCOUNT_CONDITIONS)
                if not scoped:
                    yield (
                        f"{r.describe()} key policy statement {sid} allows "
                        "any principal ('*') without an account condition."
                    )
                elif own and any(v not in own and not v.startswith("o-") for v in scoped):
                    yield (
                        f"{r.describe()} key policy statement {sid} opens "
                        f"the key to accounts {scoped}."
                    )
                continue
            accounts = arn_accounts(principal) or ([principal] if principal.isdigit() else [])
            foreign = [a for a in accounts if own and a not in own]
            if foreign:
                yield (
                    f"{r.describe()} key policy statement {sid} grants "
                    f"foreign account(s) {foreign}."
                )


def check_custody(r: ResourceView, cfg: PackConfig) -> Iterator[str]:
    if r.type in (KMS_KEY, "aws:kms/externalKey:ExternalKey", "aws:kms/keyPolicy:KeyPolicy"):
        yield from _key_policy_problems(r, r.props.get("policy"), cfg)
    elif r.type == "aws:kms/grant:Grant":
        grantee = r.props.get("granteePrincipal")
        if isinstance(grantee, str):
            foreign = [
                a
                for a in arn_accounts(grantee)
                if cfg.aws_account_ids and a not in cfg.aws_account_ids
            ]
            if grantee == "*" or foreign:
                yield (
                    f"{r.describe()} grants key use to '{grantee}', "
                    "outside the platform's accounts."
                )
    elif r.type == "azure-native:keyvault:Vault":
        props = r.props.get("properties") or {}
        if truthy(get(props, "enableRbacAuthorization")) is False:
            yield (
                f"{r.describe()} uses access policies instead of Azure "
                "RBAC (enableRbacAuthorization is not true)."
            )
        tenant = get(props, "tenantId")
        if isinstance(tenant, str) and cfg.azure_tenant_ids and tenant not in cfg.azure_tenant_ids:
            yield f"{r.describe()} trusts Entra tenant {tenant}, not the platform's."
        for policy in as_list(get(props, "accessPolicies")):
            other = get(policy, "tenantId")
            if isinstance(other, str) and isinstance(tenant, str) and other != tenant:
                yield f"{r.describe()} grants an identity of foreign tenant {other}."
    elif r.type == "azure-native:keyvault:AccessPolicy":
        yield (
            f"{r.describe()} adds a Key Vault access policy; grant "
            "access with Azure RBAC role assignments instead."
        )


KEY_005 = Policy(
    id="UAE-KEY-005",
    name="No wildcard or foreign principals on keys",
    description=(
        "KMS key policies and grants name only the platform's accounts (a '*' principal only with "
        "an account condition) and never hand use or administration to a whole account (the "
        "account root only with an aws:PrincipalArn condition naming roles); Key Vaults use "
        "Azure RBAC within the platform's tenant."
    ),
    severity=Severity.CRITICAL,
    iso_controls=("5.15", "8.24"),
    uae_refs=("CBUAE C 14/2021 Art. 6 (custody of confidential data)",),
    remediation=(
        "Name the administrator roles and the roles that use each key (by principal, or by "
        "aws:PrincipalArn under the account root for roles created after the key); keep "
        "'*' only with kms:CallerAccount/aws:PrincipalAccount = own account; on Azure set "
        "enableRbacAuthorization=true, drop access policies and foreign tenants."
    ),
    domain="keys",
    applies=types(
        KMS_KEY,
        "aws:kms/externalKey:ExternalKey",
        "aws:kms/keyPolicy:KeyPolicy",
        "aws:kms/grant:Grant",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:AccessPolicy",
    ),
    check=check_custody,
    config_keys=("aws_account_ids", "azure_tenant_ids"),
)

POLICIES = (KEY_001, KEY_002, KEY_003, KEY_004, KEY_005)
