"""The UAE ML platform's policy pack: CrossGuard rules that also run offline.

Layout:

| module | owns |
|---|---|
| `policies.core` | the framework: `Policy`, `ResourceView`, `Violation`, shared helpers |
| `policies.pack_config` | the configurable values (`PackConfig`) and their JSON schema |
| `policies.rules.<module>` | the rules, one module per id prefix (RES → `residency`...) |
| `policies.k8s` | reader: pod specs, containers, images and charts of a resource |
| `policies.documents` | reader: IAM and KMS policy documents |
| `policies.data_locations` | reader: ML data paths and the stores a stack declares |
| `policies.registry` | prefix → module (`RULE_MODULES`); every policy in order (`ALL_POLICIES`) |
| `policies.crossguard` | adapts the rules to `pulumi_policy` (`ResourceValidationPolicy`...) |
| `policies.evaluate` | offline evaluation over resources.json → `Report` |
| `policies/__main__.py` | builds the `PolicyPack` for `pulumi preview --policy-pack policies` |

The rules import nothing outside the standard library and this package, so the pack runs in the
virtual environment Pulumi builds from `policies/requirements.txt`.
"""
