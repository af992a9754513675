"""The UAE ML platform's policy pack: CrossGuard rules that also run offline.

Layout:

| module | owns |
|---|---|
| `policies.core` | the framework: `Policy`, `ResourceView`, `Violation`, shared helpers |
| `policies.pack_config` | the configurable values (`PackConfig`) and their JSON schema |
| `policies.rules.<domain>` | the rules, one module per policy-id prefix (RES → `residency`, K8S → `kubernetes`...) |
| `policies.k8s`, `policies.documents`, `policies.data_locations` | readers: pod specs, images and charts; IAM/KMS documents; ML data paths and declared stores |
| `policies.registry` | prefix → module (`RULE_MODULES`) and every policy in catalogue order (`ALL_POLICIES`) |
| `policies.crossguard` | adapts the rules to `pulumi_policy` (`ResourceValidationPolicy`...) |
| `policies.evaluate` | offline evaluation over resources.json → `Report` |
| `policies/__main__.py` | builds the `PolicyPack` for `pulumi preview --policy-pack policies` |

The rules import nothing outside the standard library and this package, so the pack runs in the
virtual environment Pulumi builds from `policies/requirements.txt`.
"""
