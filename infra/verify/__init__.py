"""Post-deploy verification: what to check, and where, derived from the stack outputs.

`mlplatform verify` runs the pytest-testinfra suites shipped in `infra/verify/suites/`:

    mlplatform verify --stack NAME [--outputs FILE] [--kube-context CTX] [--kubeconfig FILE]
                      [--ssh-config FILE] [--ssh-identity FILE] [--skip-nodes]
    mlplatform verify --local [--state-dir DIR]

Nothing here is a hand-kept host list. The tenant contract (`pulumi stack output --json`, or
`build/<stack>/outputs.json` of a plan) names each platform service's endpoint, namespace and
port; the selectors, container names and pod ports are the ones the components declare (a test
checks them against the synthesized Deployments); the pods and GPU nodes are then looked up
with kubectl, with the given context:

- MLflow: namespace from `platform.mlflow.trackingUri`; pods `app.kubernetes.io/name=mlflow`,
  `app.kubernetes.io/component=server`;
- Feast registry / online / offline: namespaces and ports from `platform.feast`; pods
  `app.kubernetes.io/name=feast`, `app.kubernetes.io/component=<role>`;
- Kafka brokers (Strimzi only): `platform.kafka.bootstrap` is
  `<cluster>-kafka-bootstrap.<ns>.svc:<port>`; pods `strimzi.io/cluster=<cluster>`,
  `strimzi.io/broker-role=true` (MSK and Event Hubs brokers are checked from tenants only);
- model server: `tenants.*.sampleWorkloads.inferenceService` in the tenant's namespace; pods
  `serving.kserve.io/inferenceservice=<name>` (also the tenant-side probe);
- GPU nodes: `tenants.*.gpu.pools`; nodes labelled `mlplatform.io/gpu-pool in (<pools>)`.

Each pod becomes a testinfra host `kubectl://<pod>?namespace=<ns>&container=<c>&context=<ctx>`,
each GPU node `ssh://<node name>?ssh_config=…&ssh_identity_file=…`.

The suite reads its settings from `MLP_VERIFY_*` environment variables (`VerifySettings`), so
it also runs as plain pytest; unset, the deployed tests skip and say why. Exit codes: 0 every
check passed, 1 a check failed or nothing was verified, 2 usage error.

Before `pulumi up`, `mlplatform verify --preflight --stack NAME` checks the site prerequisites
the contract lists (`stack.prerequisites`) with `kubectl get` (`preflight`).

Modules: `contract` (outputs → `Expectations`: the pods, endpoints and GPU pools a deployment
must have), `discovery` (kubectl look-ups, testinfra host URLs, the suite's settings), `checks`
(what the suites read from a host and the rules they hold it to), `suite` (runs a packaged
suite, maps its result to an exit code), `suites/deployed` and `suites/local` (the pytest-testinfra
suites themselves) and `command` (`mlplatform verify`'s options and usage errors). The tests
under tests/verify test all of these, the suites included, against real and broken targets.
"""
