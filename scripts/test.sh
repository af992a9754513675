#!/usr/bin/env bash
# The test command: IaC tests in .venv, workload tests in .venv-workloads. Both must pass.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
.venv/bin/python -m pytest tests --ignore=tests/workloads "$@" || status=$?
if [ -d tests/workloads ]; then
  .venv-workloads/bin/python -m pytest tests/workloads "$@" || status=$?
fi
exit $status
