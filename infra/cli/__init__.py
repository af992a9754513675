"""The `mlplatform` command line: every command, and the one place errors become exit codes.

| module | commands |
|---|---|
| `plan` | `plan` (offline plan + policy pack + rendering + checkov + compliance), `check` |
| `charts` | `charts pull` (the chart cache from the mirror); `--charts`, the render step's output |
| `mirror` | `mirror` (fill the stack's mirror, lock the digests), `mirror export`, `mirror list` |
| `contract` | `outputs` (the tenant contract or its schema), `catalogue` (pinned charts, images) |
| `verify` | `verify` (the packaged post-deploy suites, infra/verify) |
| `local` | `local up/status/down/demo` (the embedded local platform, infra/local) |
| `reports` | what `plan` and `check` print |
| `errors` | consoles, exit codes, messages, the top-level handler (`Group`) |

Exit codes (every command): 0 ok, 1 policy violations or failed checks, 2 usage or config error
or anything unexpected. Errors are one line on stderr naming the option, key or file; user text
is never read as markup; `--debug` (or MLPLATFORM_DEBUG=1) shows the traceback instead.
"""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli import charts, contract, local, mirror, plan, verify
from infra.cli.errors import DEBUG_ENV, EXIT_OK, EXIT_USAGE, EXIT_VIOLATIONS, Group

__all__ = ["EXIT_OK", "EXIT_USAGE", "EXIT_VIOLATIONS", "app", "main"]

app = typer.Typer(
    name="mlplatform",
    cls=Group,
    help="UAE-resident ML platform: offline plans, policy checks, tenant contract, local platform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar=DEBUG_ENV, help="On an unexpected error, show the traceback."
        ),
    ] = False,
) -> None:
    """UAE-resident ML platform: offline plans, policy checks, tenant contract, local platform."""


app.command("plan")(plan.plan)
app.command("check")(plan.check)
app.command("outputs")(contract.outputs)
app.command("catalogue")(contract.catalogue)
app.command("verify")(verify.verify)
app.add_typer(local.app, name="local")
app.add_typer(charts.app, name="charts")
app.add_typer(mirror.app, name="mirror")


def main() -> None:  # pragma: no cover - console script shim
    app()
