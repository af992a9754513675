"""What `mlplatform verify --preflight` prints of the account, subscription and site-service
prerequisites (`infra.verify.accounts`): one line per check — ok, MISSING with how to fix it, or
not checked with why — then the verdict; its exit code (1 when something is missing)."""

from __future__ import annotations

from infra.cli.errors import EXIT_OK, EXIT_VIOLATIONS, console, escape
from infra.verify import accounts
from stacks.config.loader import stack_config

LABELS = {"ok": "[green]ok[/]", "missing": "[red]MISSING[/]", "unchecked": "[yellow]not checked[/]"}


def account_checks(stack: str) -> int:
    """Check the stack's target account/subscription/Vault; print; 0 or 1 (missing)."""
    config, _ = stack_config(stack)
    outcomes = accounts.check(config)
    for o in outcomes:
        line = f"  {LABELS[o.status]} {escape(o.id)} {escape(o.what)}: {escape(o.detail)}"
        if o.how:
            line += f"\n       fix: {escape(o.how)}"
        console.print(line, highlight=False, soft_wrap=True)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in LABELS}
    verdict = "[red]FAIL[/]" if counts["missing"] else "[green]PASS[/]"
    console.print(
        f"{escape(stack)}: account prerequisites {verdict}: {counts['ok']} ok, "
        f"{counts['missing']} missing, {counts['unchecked']} not checked",
        highlight=False,
    )
    return EXIT_VIOLATIONS if counts["missing"] else EXIT_OK
