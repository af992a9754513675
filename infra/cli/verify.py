"""`mlplatform verify`: check a deployed stack or the local platform with the packaged suites.

The options become `VerifySettings` (infra.verify.discovery); `infra.verify.suite.run_suite`
runs the suite and maps its result to the exit code. Usage errors (bad options, unreadable or
foreign outputs, no kubectl, cluster unreachable) exit 2 before anything runs.

`--preflight` runs before `pulumi up` instead: the account, subscription and Vault
prerequisites of the stack's target (`infra.verify.accounts`, with the official CLIs where
credentials allow), then the contract's site prerequisites looked up on the cluster
(`infra.verify.preflight`); exit 1 naming what is missing and how to create it.
"""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import typer

from infra.cli.accounts import account_checks
from infra.cli.errors import console, escape, usage
from infra.cli.preflight import preflight_report
from infra.local.state import DEFAULT_STATE_DIR
from infra.verify import preflight
from infra.verify.contract import ContractError, Expectations, expectations, load_outputs
from infra.verify.discovery import Kubectl, KubectlError, VerifySettings
from infra.verify.suite import SUITES, run_suite

DEFAULT_OUTPUTS = Path("build")  # `mlplatform plan`'s default --out, relative to the cwd

StackOpt = Annotated[str | None, typer.Option("--stack", "-s", help="Deployed stack to verify.")]
OutputsOpt = Annotated[
    Path | None,
    typer.Option(
        "--outputs",
        help="The stack's outputs (`pulumi stack output --json`); "
        "default build/STACK/outputs.json.",
    ),
]
ContextOpt = Annotated[
    str | None,
    typer.Option("--kube-context", help="kubectl context (default: the contract's, else current)."),
]
KubeconfigOpt = Annotated[
    Path | None, typer.Option("--kubeconfig", help="kubeconfig file for kubectl.")
]
SshConfigOpt = Annotated[
    Path | None, typer.Option("--ssh-config", help="ssh_config for the GPU nodes.")
]
SshIdentityOpt = Annotated[
    Path | None, typer.Option("--ssh-identity", help="SSH private key for the GPU nodes.")
]
SkipNodesOpt = Annotated[
    bool, typer.Option("--skip-nodes", help="Do not SSH into GPU nodes (reported skipped).")
]
LocalOpt = Annotated[
    bool, typer.Option("--local", help="Verify the running `mlplatform local` platform.")
]
JunitOpt = Annotated[
    Path | None, typer.Option("--junit-xml", help="Also write the results as JUnit XML.")
]
PreflightOpt = Annotated[
    bool,
    typer.Option(
        "--preflight",
        help="Before `pulumi up`: check the site prerequisites the contract lists exist on the "
        "cluster (kubectl get); exit 1 naming what is missing and how to create it.",
    ),
]
StateDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--state-dir", help="With --local: its state directory (default .local-platform)."
    ),
]


def verify(
    stack: StackOpt = None,
    outputs: OutputsOpt = None,
    kube_context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    ssh_config: SshConfigOpt = None,
    ssh_identity: SshIdentityOpt = None,
    skip_nodes: SkipNodesOpt = False,
    local: LocalOpt = False,
    junit_xml: JunitOpt = None,
    state_dir: StateDirOpt = None,
    preflight: PreflightOpt = False,
) -> None:
    """Verify a deployed stack (kubectl + SSH) or the local platform, with pytest-testinfra."""
    if preflight:
        _preflight(stack, outputs, kube_context, kubeconfig, local or bool(state_dir))
    junit_xml = junit_xml.resolve() if junit_xml else None
    missing = [module for module in ("pytest", "testinfra") if find_spec(module) is None]
    if missing:
        raise usage(f"verify needs {', '.join(missing)}: pip install 'mlplatform[verify]'")
    if not SUITES.is_dir():
        raise usage(f"the verification suites are missing ({SUITES}): reinstall mlplatform")
    if local:
        if stack or outputs or kube_context or kubeconfig or ssh_config or ssh_identity:
            raise usage("--local takes only --state-dir; drop the deployed-stack options")
        root = (state_dir or DEFAULT_STATE_DIR).resolve()
        if not (root / "run").is_dir():
            raise usage(f"no local platform under {root}; start it with `mlplatform local up`")
        raise typer.Exit(run_suite("local", VerifySettings(local_state_dir=root), junit_xml))
    if state_dir:
        raise usage("--state-dir goes with --local")
    if not stack:
        raise usage("give --stack NAME (a deployed stack) or --local")
    path = outputs or DEFAULT_OUTPUTS / stack / "outputs.json"
    expected = _expected(stack, path)
    for option, given in (
        ("kubeconfig", kubeconfig),
        ("ssh-config", ssh_config),
        ("ssh-identity", ssh_identity),
    ):
        if given and not given.is_file():
            raise usage(f"--{option} {given}: no such file")
    _reach_cluster(kube_context or expected.kube_context, kubeconfig)
    settings = VerifySettings(
        outputs=path.resolve(),
        kube_context=kube_context,
        kubeconfig=str(kubeconfig.resolve()) if kubeconfig else None,
        ssh_config=str(ssh_config.resolve()) if ssh_config else None,
        ssh_identity=str(ssh_identity.resolve()) if ssh_identity else None,
        skip_nodes=skip_nodes,
    )
    raise typer.Exit(run_suite("deployed", settings, junit_xml))


def _preflight(
    stack: str | None,
    outputs: Path | None,
    kube_context: str | None,
    kubeconfig: Path | None,
    local: bool,
) -> None:
    """`--preflight`: the contract's site prerequisites, looked up on the cluster (exit 0/1/2)."""
    if local:
        raise usage("--preflight checks a cluster before `pulumi up`; drop --local/--state-dir")
    if not stack:
        raise usage("--preflight needs --stack NAME")
    path = outputs or DEFAULT_OUTPUTS / stack / "outputs.json"
    expected = _expected(stack, path)
    accounts = account_checks(stack)  # the target's account/subscription/Vault, before the cluster
    try:
        items = preflight.prerequisites(load_outputs(path))
    except ContractError as error:
        raise usage(f"{path}: {error}") from None
    if not items:
        console.print(
            f"{escape(stack)}: no site prerequisites in the contract; the cluster is not contacted",
            highlight=False,
        )
        raise typer.Exit(accounts)
    if kubeconfig and not kubeconfig.is_file():
        raise usage(f"--kubeconfig {kubeconfig}: no such file")
    context = kube_context or expected.kube_context
    _reach_cluster(context, kubeconfig)
    kubectl = Kubectl(context, str(kubeconfig.resolve()) if kubeconfig else None)
    raise typer.Exit(max(accounts, preflight_report(stack, preflight.check(kubectl, items))))


def _expected(stack: str, path: Path) -> Expectations:
    """What the stack's outputs say must be deployed; usage error for unreadable or foreign."""
    try:
        expected = expectations(load_outputs(path))
    except ContractError as error:
        raise usage(str(error)) from None
    if expected.stack != stack:
        raise usage(f"{path} holds the outputs of stack {expected.stack!r}, not {stack!r}")
    return expected


def _reach_cluster(context: str | None, kubeconfig: Path | None) -> None:
    if shutil.which("kubectl") is None:
        raise usage("kubectl is not on PATH; install it to verify a deployed stack")
    try:
        Kubectl(context, str(kubeconfig) if kubeconfig else None).server_version()
    except KubectlError as error:
        raise usage(f"cannot reach the cluster (context {context or 'current'}): {error}") from None
