"""The Pulumi program: config → target → composition → contract.

| package / module | step | what |
|---|---|---|
| `config` | 0 | `Pulumi.yaml` + `Pulumi.<stack>.yaml` (+ `--set`) → a validated `StackConfig` |
| `targets` | 1, 3 | per target: the cluster, then the `Foundation` (keys, stores, Kafka) |
| `composition.pki` | 2 | cert-manager and the platform CA, between the target's two steps |
| `composition` | 4-6 | services, tenants and sample workloads: the same code on every target |
| `contract` | 7 | the tenant contract (`tenant-contract.schema.json`) |
| `foundation` | | the seam between targets and composition (`Foundation` and its parts) |
| `artifacts` | | the version catalogue's pins, grouped as the components' Args take them |
| `governance` | | mandatory tags and labels, from the config |
| `build` | | the program: each step in order |

Imports run one way: `config` imports nothing else of the program; `targets` and
`composition` import `config`, `foundation` and `components` (never each other); `contract`
and `build` sit on top. `components` never import `stacks`.
"""
