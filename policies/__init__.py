"""The UAE ML platform's policy pack: CrossGuard rules that also run offline.

Layout:

| module | owns |
|---|---|
| `policies.core` | the framework: `Policy`, `ResourceView`, `Violation`, shared helpers |
| `policies.pack_config` | the configurable values (`PackConfig`) and their JSON schema |
| `policies.rules.<domain>` | the rules, one small module per domain (residency, keys, network...) |
| `policies.registry` | the ordered list of every policy (`ALL_POLICIES`) |
| `policies.crossguard` | adapts the rules to `pulumi_policy` (`ResourceValidationPolicy`...) |
| `policies.evaluate` | offline evaluation over resources.json → `Report` |
| `policies/__main__.py` | builds the `PolicyPack` for `pulumi preview --policy-pack policies` |

The rules import nothing outside the standard library and this package, so the pack runs in the
virtual environment Pulumi builds from `policies/requirements.txt`.
"""
