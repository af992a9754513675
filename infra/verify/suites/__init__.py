"""The checks `mlplatform verify` runs, as pytest-testinfra suites shipped in the package.

`deployed/` checks a deployed stack (pods over `kubectl://`, GPU nodes over `ssh://`, tenant
reachability from a tenant pod); `local/` checks the running `mlplatform local` platform over
`local://`. Both read their settings from `MLP_VERIFY_*` (`infra.verify.discovery`) and hold
hosts to the rules in `infra.verify.checks`. `infra.verify.suite.run_suite` runs one of them;
the tests under tests/verify run them against real and deliberately broken targets.
"""
