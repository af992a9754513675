"""How the CLI speaks: its consoles, exit codes and error messages, and the one top-level handler.

Every error exits 2 (usage, config or anything unexpected) or 1 (a policy verdict or a failed
check), with a one-line message on stderr. User text (config values, paths, names, service
logs) is never read as rich markup: messages are `rich.text.Text`, and markup strings escape
every value they show. `Group` is the root command's class: whatever a command lets escape
becomes a clear message and a pointer to `--debug`, which shows the traceback instead.
"""

from __future__ import annotations

import traceback
from typing import Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from typer.core import TyperGroup

from stacks.config.errors import ConfigError

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE = 0, 1, 2
DEBUG_ENV = "MLPLATFORM_DEBUG"

console = Console()
errors = Console(stderr=True)

__all__ = ["EXIT_OK", "EXIT_USAGE", "EXIT_VIOLATIONS", "console", "errors", "escape"]


def message(label: str, text: object, style: str = "bold red") -> Text:
    """`label: text` on one line, the label styled, the text shown verbatim (never markup)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return Text.assemble((f"{label}:", style), " ", " ".join(lines) or "(no message)")


def fail(text: object, code: int = EXIT_USAGE, label: str = "error") -> typer.Exit:
    """Print `error: text` on stderr (one line) and return the Exit to raise."""
    errors.print(message(label, text), soft_wrap=True, highlight=False)
    return typer.Exit(code)


def usage(text: object) -> typer.Exit:
    """A usage or config error: exit 2."""
    return fail(text, EXIT_USAGE)


def _described(error: BaseException) -> str:
    """An exception as a user reads it: what went wrong, with the key, file or value it names."""
    if isinstance(error, ConfigError):
        return str(error)
    if isinstance(error, yaml.YAMLError):
        return f"invalid YAML: {error}"
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}"
    detail = str(error) or "(no message)"
    return f"unexpected {type(error).__name__}: {detail}"


class Group(TyperGroup):
    """The root command: one handler for everything a command does not turn into an Exit."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # exit codes, Ctrl-C, usage errors (typer prints those itself: exit 2)
        except Exception as error:  # the one place that catches everything
            self._report(ctx, error)

    @staticmethod
    def _report(ctx: Any, error: Exception) -> NoReturn:
        if ctx.params.get("debug"):
            errors.print(Text("".join(traceback.format_exception(error))), highlight=False)
            raise typer.Exit(EXIT_USAGE) from None
        errors.print(message("error", _described(error)), soft_wrap=True, highlight=False)
        if not isinstance(error, ConfigError | yaml.YAMLError | OSError):
            errors.print(
                f"run again with `mlplatform --debug …` (or {DEBUG_ENV}=1) to see the traceback",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        raise typer.Exit(EXIT_USAGE) from None
