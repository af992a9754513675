"""`mlplatform outputs` (the tenant contract) and `mlplatform catalogue` (what to mirror)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from infra import plan as planning
from infra.cli.errors import console, escape, usage
from infra.cli.plan import JsonOpt, SetOpt, StackOpt
from infra.synth.recording import redact
from stacks import contract
from version_catalogue import CHARTS, IMAGES


def outputs(
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the tenant contract's JSON Schema.")
    ] = False,
    stack: StackOpt = None,
    set_: SetOpt = None,
) -> None:
    """Print the tenant contract: its JSON Schema, or a stack's synthesized exports."""
    if schema:
        sys.stdout.write(json.dumps(contract.schema(), indent=2) + "\n")
        return
    if not stack:
        raise usage("give --schema or --stack NAME")
    result = planning.synthesize_stack(stack, tuple(set_ or ()))
    sys.stdout.write(json.dumps(redact(result.synthesis.outputs), indent=2) + "\n")


def catalogue(as_json: JsonOpt = False) -> None:
    """List every pinned chart and image (what an air-gapped site must mirror)."""
    if as_json:
        data = {
            "charts": {k: vars(v) for k, v in CHARTS.items()},
            "images": {k: vars(v) for k, v in IMAGES.items()},
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    table = Table(title="charts")
    for column in ("key", "chart", "version", "upstream"):
        table.add_column(column)
    for key, chart in CHARTS.items():
        table.add_row(*map(escape, (key, chart.name, chart.version, chart.upstream)))
    console.print(table)
    table = Table(title="images")
    for column in ("key", "path", "tag", "digest", "upstream"):
        table.add_column(column)
    for key, image in IMAGES.items():
        row = (key, image.path, image.tag, image.digest or "-", image.upstream)
        table.add_row(*map(escape, row))
    console.print(table)
