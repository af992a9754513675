"""`mlplatform verify`: run the verification suite and turn its result into an exit code."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from infra.verify.contract import ContractError, expectations, load_outputs
from infra.verify.discovery import Kubectl, KubectlError, VerifySettings
from infra.verify.suite import SUITES, run_suite

EXIT_USAGE = 2
DEFAULT_OUTPUTS = Path("build")  # `mlplatform plan`'s default --out, relative to the cwd


def _usage(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(EXIT_USAGE)


def command(
    stack: Annotated[
        str | None, typer.Option("--stack", "-s", help="Deployed stack to verify.")
    ] = None,
    outputs: Annotated[
        Path | None,
        typer.Option(
            "--outputs",
            help="The stack's outputs (`pulumi stack output --json`); "
            "default build/STACK/outputs.json.",
        ),
    ] = None,
    kube_context: Annotated[
        str | None,
        typer.Option(
            "--kube-context", help="kubectl context (default: the contract's, else current)."
        ),
    ] = None,
    kubeconfig: Annotated[
        Path | None, typer.Option("--kubeconfig", help="kubeconfig file for kubectl.")
    ] = None,
    ssh_config: Annotated[
        Path | None, typer.Option("--ssh-config", help="ssh_config for the GPU nodes.")
    ] = None,
    ssh_identity: Annotated[
        Path | None, typer.Option("--ssh-identity", help="SSH private key for the GPU nodes.")
    ] = None,
    skip_nodes: Annotated[
        bool, typer.Option("--skip-nodes", help="Do not SSH into GPU nodes (reported skipped).")
    ] = False,
    local: Annotated[
        bool, typer.Option("--local", help="Verify the running `mlplatform local` platform.")
    ] = False,
    junit_xml: Annotated[
        Path | None, typer.Option("--junit-xml", help="Also write the results as JUnit XML.")
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir", help="With --local: its state directory (default .local-platform)."
        ),
    ] = None,
) -> None:
    """Verify a deployed stack (kubectl + SSH) or the local platform, with pytest-testinfra."""
    junit_xml = junit_xml.resolve() if junit_xml else None
    if not SUITES.is_dir():
        raise _usage(f"the verification suites are missing ({SUITES}): reinstall mlplatform")
    if local:
        if stack or outputs or kube_context or kubeconfig or ssh_config or ssh_identity:
            raise _usage("--local takes only --state-dir; drop the deployed-stack options")
        from infra.local.state import DEFAULT_STATE_DIR

        root = (state_dir or DEFAULT_STATE_DIR).resolve()
        if not (root / "run").is_dir():
            raise _usage(f"no local platform under {root}; start it with `mlplatform local up`")
        raise typer.Exit(run_suite("local", VerifySettings(local_state_dir=root), junit_xml))
    if state_dir:
        raise _usage("--state-dir goes with --local")
    if not stack:
        raise _usage("give --stack NAME (a deployed stack) or --local")
    path = outputs or DEFAULT_OUTPUTS / stack / "outputs.json"
    try:
        expected = expectations(load_outputs(path))
    except ContractError as error:
        raise _usage(str(error)) from None
    if expected.stack != stack:
        raise _usage(f"{path} holds the outputs of stack {expected.stack!r}, not {stack!r}")
    for name, given in (("kubeconfig", kubeconfig), ("ssh-config", ssh_config)):
        if given and not given.is_file():
            raise _usage(f"--{name} {given}: no such file")
    if ssh_identity and not ssh_identity.is_file():
        raise _usage(f"--ssh-identity {ssh_identity}: no such file")
    if shutil.which("kubectl") is None:
        raise _usage("kubectl is not on PATH; install it to verify a deployed stack")
    context = kube_context or expected.kube_context
    try:
        Kubectl(context, str(kubeconfig) if kubeconfig else None).server_version()
    except KubectlError as error:
        raise _usage(
            f"cannot reach the cluster (context {context or 'current'}): {error}"
        ) from None
    settings = VerifySettings(
        outputs=path.resolve(),
        kube_context=kube_context,
        kubeconfig=str(kubeconfig.resolve()) if kubeconfig else None,
        ssh_config=str(ssh_config.resolve()) if ssh_config else None,
        ssh_identity=str(ssh_identity.resolve()) if ssh_identity else None,
        skip_nodes=skip_nodes,
    )
    raise typer.Exit(run_suite("deployed", settings, junit_xml))
