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
