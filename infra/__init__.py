"""The platform's tooling around the Pulumi program, one sub-package per job.

| package | job |
|---|---|
| `infra/__main__.py` | the Pulumi entrypoint (`main: infra/`): load config → build → export |
| `infra.cli` | the `mlplatform` command line; every error becomes an exit code there |
| `infra.plan` | `mlplatform plan`: synthesis, the policy step, the evidence step, the variants |
| `infra.synth` | the program run in-process under Pulumi mocks; resources, manifests |
| `infra.evidence` | checkov, compliance.json/md and the residency statement of a plan |
| `infra.render` | each Helm release rendered with its chart; checks on what the cluster gets |
| `infra.local` | the embedded local platform (broker, MLflow, Feast, model server) |
| `infra.verify` | post-deploy verification: contract → targets, and the suites it runs |

Imports run one way: `cli` → `plan` → `evidence`/`render`/`synth`; `cli` → `local`, `verify`.
`evidence`, `synth`, `local` and `verify` import no other package of `infra` except
`render` → `synth` (the recorded resources) and `verify` → `local` (the local platform's
state). Below them: `stacks`, `components`, `policies` and `version_catalogue`.
"""
