"""README's deployment text agrees with the stack files and with how Pulumi names stacks."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_stack_references_use_the_self_managed_backend_organization() -> None:
    """On s3://, azblob:// and file:// backends a stack's fully qualified name is
    `organization/<project>/<stack>`: any other organisation segment does not resolve."""
    references = re.findall(r"StackReference\(\s*[\"']([^\"']+)[\"']", README)
    assert references, "README shows no StackReference"
    stacks = {p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml")}
    for reference in references:
        organization, project, stack = reference.split("/")
        assert organization == "organization", reference
        assert project == "mlplatform" and stack in stacks, reference


def test_stack_init_commands_name_each_stack_files_secrets_provider() -> None:
    """README's `pulumi stack init` lines are the ones the stack files need (a stale provider
    URL in the README is a failed `pulumi stack init` for whoever follows it)."""
    import yaml

    inits = dict(re.findall(r"pulumi stack init (\S+) --secrets-provider '([^']+)'", README))
    for path in ROOT.glob("Pulumi.*.yaml"):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        provider = yaml.safe_load(path.read_text())["secretsprovider"]
        assert inits.get(stack) == provider, (stack, inits.get(stack), provider)


def test_every_preflight_check_is_a_listed_prerequisite() -> None:
    """Each account/subscription/Vault check `verify --preflight` runs is in README's "Before the
    first `pulumi up`" table, and nothing in the table claims a check that does not exist."""
    source = (ROOT / "infra/verify/accounts.py").read_text()
    ids = set(re.findall(r'"(PRE-[A-Z]+-\d{3})"', source))
    assert ids
    section = README.split("### Before the first `pulumi up`", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"\| (PRE-[A-Z]+-\d{3}) \|", section))
    assert listed == ids
    for prerequisite in ("EncryptionAtHost", "autoscaling.amazonaws.com", "uaecentral"):
        assert prerequisite in section
