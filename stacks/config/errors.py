"""What a configuration problem is, and the one error that carries all of them.

Every check (pydantic's, the semantic rules, the loader's) reports a `Problem`: the key path as
written in `Pulumi.<stack>.yaml`, the bad value and what is allowed. `ConfigError` lists them
all at once, before any resource is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROJECT = "mlplatform"


@dataclass(frozen=True)
class Problem:
    """One thing wrong: `mlplatform:<key> = <value> <message>`.

    `literal` problems are about the files themselves (a duplicate key, broken YAML, a key in
    the wrong namespace): `key` is then shown as written (`Pulumi.x.yaml: config key 'kafka'`)
    and the value is left out.
    """

    key: str
    value: Any
    message: str
    literal: bool = False

    def __str__(self) -> str:
        if self.literal:
            return f"{self.key} {self.message}"
        shown = "<missing>" if self.value is MISSING else repr(self.value)
        # Our messages continue the sentence ("is outside the UAE; allowed: …"); pydantic's
        # own ("Input should be …") stand alone.
        joiner = ": " if self.message[:1].isupper() else " "
        return f"{PROJECT}:{self.key} = {shown}{joiner}{self.message}"


MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()


class ConfigError(Exception):
    """Raised before any resource is registered; lists every problem found."""

    def __init__(self, problems: list[Problem], stack: str | None = None):
        self.problems = sorted(problems, key=lambda p: p.key)
        self.stack = stack
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" for stack {self.stack!r}" if self.stack else ""
        lines = [f"{len(self.problems)} configuration problem(s){where}:"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)
