"""The tenant workloads: what the platform's training, streaming, serving and monitoring images run.

Runs in the workloads environment (`.venv-workloads`, pinned in `workloads/requirements.txt`).
Never imports the IaC packages (`infra`, `stacks`, `components`, `policies`): endpoints reach the
workloads through environment variables and command-line options, whose values come from the
tenant contract in a cluster and from `mlplatform local` on a laptop.
"""
