"""The house rules of the code base, checked on its syntax trees (no import executed).

- Imports run one way. `components/` imports nothing of `stacks/` or `infra/`, and of the
  version catalogue only its `Chart`/`Image` types (`version_catalogue.artifacts`): charts and
  images reach a component through its Args. `policies/` imports nothing of the program
  (`stacks`, `components`, `infra`, `version_catalogue`): the pack runs on its own.
  `workloads/` imports no IaC package (the program's packages, Pulumi): the two environments
  never share code. `version_catalogue/` imports nothing of the program. Inside `stacks/`,
  `config` imports nothing else of `stacks`, and `targets` and `composition` never import each
  other (both read the `Foundation` seam).
- No import circle among the modules of components/, stacks/, infra/, policies/ and
  version_catalogue/.
- No function in components/, stacks/ or infra/ over 100 lines; over 80 only with a line
  `Length: <why>` in its docstring.

Every import counts: module-level, function-local and under `if TYPE_CHECKING:`. Importing
`a.b.c` also runs `a/__init__.py` and `a/b/__init__.py`; those implicit edges are not counted
(a package that re-exports its submodules would otherwise always be a "circle").

Each rule is shown to fail on a small synthetic tree (the `bad_tree` tests).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ("components", "stacks", "infra", "policies", "version_catalogue")
IAC = (*PROGRAM, "pulumi", "pulumi_kubernetes", "pulumi_aws", "pulumi_azure_native")
IAC_PREFIXES = ("pulumi_",)
MAX_LINES, REASON_FROM = 100, 80
REASON_MARK = "Length:"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (a known submodule where `from X import sub` names one)
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(root: Path, packages: tuple[str, ...]) -> Iterator[Path]:
    for package in packages:
        base = root / package
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


def imports(root: Path, packages: tuple[str, ...]) -> list[Import]:
    """Every import in the packages' modules, resolved to the module it names."""
    files = list(python_files(root, packages))
    known = {module_name(root, path) for path in files}
    found: list[Import] = []
    for path in files:
        name = module_name(root, path)
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _targets(node, name, is_package, known):
                found.append(Import(name, target, node.lineno))  # type: ignore[attr-defined]
    return found


def _targets(node: ast.AST, module: str, is_package: bool, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    targets = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        targets.append(submodule if submodule in known else base)
    return targets


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# --------------------------------------------------------------------------- rules


def forbidden_imports(root: Path) -> list[str]:
    """Imports that run against the direction of the house (one line each)."""
    problems = []
    program = imports(root, (*PROGRAM, "workloads"))
    for imp in program:
        source, target = imp.module, imp.target
        where = f"{source}:{imp.line} imports {target}"
        top = _top(source)
        if top == "components":
            if _top(target) in ("stacks", "infra"):
                problems.append(f"{where}: components must not import stacks/ or infra/")
            elif _top(target) == "version_catalogue" and target != "version_catalogue.artifacts":
                problems.append(
                    f"{where}: components take charts and images through their Args; "
                    "import only version_catalogue.artifacts"
                )
        elif top == "policies" and _top(target) in PROGRAM and _top(target) != "policies":
            problems.append(f"{where}: the policy pack must not import the program")
        elif top == "version_catalogue" and _top(target) in PROGRAM and top != _top(target):
            problems.append(f"{where}: the version catalogue imports nothing of the program")
        elif top == "workloads" and (_top(target) in IAC or _top(target).startswith(IAC_PREFIXES)):
            problems.append(f"{where}: workloads must not import an IaC package")
        elif top == "stacks":
            problems += _stacks_layers(where, source, target)
    return problems


def _stacks_layers(where: str, source: str, target: str) -> list[str]:
    config = _within(source, "stacks.config")
    if config and _top(target) == "stacks" and not _within(target, "stacks.config"):
        return [f"{where}: stacks.config imports nothing else of stacks"]
    if _within(source, "stacks.targets") and _within(target, "stacks.composition"):
        return [f"{where}: targets must not import the composition"]
    if _within(source, "stacks.composition") and _within(target, "stacks.targets"):
        return [f"{where}: the composition must not import a target"]
    return []


def import_cycles(root: Path) -> list[list[str]]:
    """Strongly connected components (Tarjan) of the program's module graph with >1 module,
    or a module importing itself."""
    graph: dict[str, set[str]] = {}
    modules = {module_name(root, p) for p in python_files(root, PROGRAM)}
    for imp in imports(root, PROGRAM):
        if imp.target in modules:
            graph.setdefault(imp.module, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                cycles.append(sorted(component))

    for node in sorted(modules):
        if node not in index:
            visit(node)
    return cycles


def long_functions(root: Path, packages: tuple[str, ...]) -> list[str]:
    problems = []
    for path in python_files(root, packages):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            where = f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)"
            docstring = ast.get_docstring(node) or ""
            reasoned = any(line.strip().startswith(REASON_MARK) for line in docstring.splitlines())
            if length > MAX_LINES:
                problems.append(f"{where}: over {MAX_LINES} lines; split it into named steps")
            elif length > REASON_FROM and not reasoned:
                problems.append(
                    f"{where}: over {REASON_FROM} lines without a `{REASON_MARK} <why>` line "
                    "in its docstring"
                )
    return problems


# --------------------------------------------------------------------------- the repository


def test_imports_run_one_way():
    assert forbidden_imports(ROOT) == []


def test_no_import_circles():
    assert import_cycles(ROOT) == []


@pytest.mark.parametrize("package", ["components", "stacks", "infra"])
def test_functions_fit_on_a_screen(package):
    assert long_functions(ROOT, (package,)) == []


# --------------------------------------------------------------------------- the rules can fail


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in {Path(name).parts[0] for name in files}:
        (tmp_path / package / "__init__.py").touch()
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"components/a.py": "from stacks.x import Y\n"}, "components must not import stacks"),
        (
            {"components/a.py": "def f():\n    import infra.plan\n"},
            "components must not import stacks/ or infra/",
        ),
        (
            {
                "components/a.py": (
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n    from stacks.foundation import Foundation\n"
                )
            },
            "components must not import",
        ),
        ({"components/a.py": "from version_catalogue import CHARTS\n"}, "through their Args"),
        ({"policies/a.py": "from components import conventions\n"}, "policy pack"),
        ({"policies/a.py": "import stacks.config\n"}, "policy pack"),
        ({"workloads/a.py": "import pulumi_kubernetes\n"}, "IaC package"),
        ({"workloads/a.py": "from components.kafka import PLATFORM_TOPICS\n"}, "IaC package"),
        ({"version_catalogue/a.py": "from stacks import config\n"}, "imports nothing"),
        ({"stacks/config/a.py": "from stacks.foundation import Foundation\n"}, "stacks.config"),
        ({"stacks/targets/a.py": "from stacks.composition.x import y\n"}, "composition"),
        ({"stacks/composition/a.py": "from stacks.targets import aws\n"}, "a target"),
    ],
)
def test_bad_tree_upward_import_is_refused(tmp_path, files, expected):
    root = _tree(tmp_path, {**files, "stacks/config/__init__.py": "", "stacks/__init__.py": ""})
    problems = forbidden_imports(root)
    assert any(expected in p for p in problems), problems


def test_bad_tree_relative_import_resolves(tmp_path):
    root = _tree(tmp_path, {"components/sub/a.py": "from ...stacks import x\n"})
    assert any("components must not import" in p for p in forbidden_imports(root))


@pytest.mark.parametrize(
    "files",
    [
        {"stacks/a.py": "from stacks import b\n", "stacks/b.py": "from stacks.a import f\n"},
        {
            "infra/a.py": "def f():\n    from infra.b import g\n",
            "infra/b.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from infra.c import h\n",
            "infra/c.py": "import infra.a\n",
        },
        {"policies/a.py": "from policies import a\n"},
    ],
)
def test_bad_tree_import_circle_is_found(tmp_path, files):
    assert import_cycles(_tree(tmp_path, files)) != []


def test_bad_tree_package_reexports_are_not_circles(tmp_path):
    root = _tree(
        tmp_path,
        {
            "stacks/config/__init__.py": "from stacks.config.model import M\n",
            "stacks/config/model.py": "from stacks.config import residency\n",
            "stacks/config/residency.py": "X = 1\n",
        },
    )
    assert import_cycles(root) == []


def _function(lines: int, docstring: str = "") -> str:
    body = "".join("    x = 1\n" for _ in range(lines - 1 - (1 if docstring else 0)))
    doc = f'    """{docstring}"""\n' if docstring else ""
    return f"def f():\n{doc}{body}"


@pytest.mark.parametrize(
    ("lines", "docstring", "expected"),
    [
        (101, "Length: one table.", "over 100 lines"),
        (81, "", "without a `Length: <why>`"),
        (81, "Builds things.\n\n    It is long.", "without a `Length: <why>`"),
    ],
)
def test_bad_tree_long_function_is_refused(tmp_path, lines, docstring, expected):
    root = _tree(tmp_path, {"stacks/a.py": _function(lines, docstring)})
    problems = long_functions(root, ("stacks",))
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize(("lines", "docstring"), [(80, ""), (95, "Length: the chart's values.")])
def test_bad_tree_function_within_the_limits_passes(tmp_path, lines, docstring):
    root = _tree(tmp_path, {"stacks/a.py": _function(lines, docstring)})
    assert long_functions(root, ("stacks",)) == []
