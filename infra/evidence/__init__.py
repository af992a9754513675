"""The evidence a plan carries for reviewers and auditors, written beside it.

| module | owns |
|---|---|
| `checkov` | checkov over the manifests and Dockerfiles, gated by policies/checkov/gate.yaml |
| `compliance` | `compliance.json`: every catalogue control, its tests and verdicts, exceptions |
| `markdown` | `compliance.md`: the same report rendered for people |
| `simulation` | compliance.md's cluster simulation section (from `infra.simulate`'s report) |
| `residency` | the residency statement: where every resource, copy, log and key lives |

Nothing here synthesizes or evaluates policies itself: `infra.plan` hands in the plan's
resources, the pack's report and the stack config.
"""
