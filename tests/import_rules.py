"""The import rules of the package layout, checked by reading the source (nothing is imported).

- The core (every module outside `casework.web`) imports neither Flask nor Werkzeug nor the web layer.
- A domain package (`casework.pacts`, `casework.people`, ...) reaches another domain only through what
  that domain exposes: names imported from `casework.<domain>` itself, never from its modules.
- The modules every domain uses (`casework.config`, `casework.db`, `casework.models`...) import no domain.
- No import cycles: neither between domains nor between modules (module-level imports).
The web layer and the command line are adapters: they may use a domain's public modules.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

FRAMEWORK_PACKAGES = ("flask", "flask_babel", "flask_login", "flask_wtf", "werkzeug", "wtforms")
ADAPTERS = ("web", "cli")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module or package imported from
    names: tuple[str, ...]  # names taken from it ("" for `import target`)
    line: int
    top_level: bool  # executed when the module is imported, not inside a function


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)

    def add(self, imported: Import, path: Path, message: str) -> None:
        self.problems.append(f"{path}:{imported.line}: {imported.module}: {message}")


def _module_name(package_dir: Path, path: Path) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(package_dir: Path) -> Iterator[tuple[Path, Import]]:
    for path in sorted(package_dir.rglob("*.py")):
        module = _module_name(package_dir, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, Import(module, alias.name, ("",), node.lineno, id(node) in top_level)
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, path.name == "__init__.py", node)
                names = tuple(alias.name for alias in node.names)
                yield path, Import(module, target, names, node.lineno, id(node) in top_level)


def _is_module(package_dir: Path, dotted: str) -> bool:
    relative = Path(*dotted.split(".")[1:])
    base = package_dir / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return stack[stack.index(successor):] + [successor]
            if successor not in state and (found := visit(successor)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def check(package_dir: Path) -> list[str]:
    """Every breach of the rules in the package at `package_dir`, as `path:line: module: problem`."""
    package = package_dir.name
    domains = {path.parent.name for path in package_dir.glob("*/__init__.py")} - set(ADAPTERS) - {"models"}
    report = Report()
    domain_graph: dict[str, set[str]] = defaultdict(set)
    module_graph: dict[str, set[str]] = defaultdict(set)

    def area(dotted: str) -> str:
        parts = dotted.split(".")
        return parts[1] if len(parts) > 1 and parts[0] == package else ""

    for path, imported in _imports(package_dir):
        source, target = area(imported.module), area(imported.target)
        in_core = source not in ADAPTERS
        root = imported.target.split(".")[0]
        if in_core and root in FRAMEWORK_PACKAGES:
            report.add(imported, path, f"the core must not import {imported.target} (web framework)")
        if root != package:
            continue
        if in_core and target == "web":
            report.add(imported, path, "the core must not import the web layer")
        submodules = [f"{imported.target}.{name}" for name in imported.names
                      if name and _is_module(package_dir, f"{imported.target}.{name}")]
        # `from pkg import module` loads that module; any other name comes from the package itself.
        targets = submodules if len(submodules) == len(imported.names) else [imported.target, *submodules]
        if imported.top_level:
            for dotted in targets:
                if dotted != imported.module and _is_module(package_dir, dotted):
                    module_graph[imported.module].add(dotted)
        if target not in domains or source == target or not in_core:
            continue
        if source not in domains:
            report.add(imported, path, f"a module every domain uses must not import the domain {target}")
            continue
        domain_graph[source].add(target)
        if imported.target != f"{package}.{target}" or submodules:
            report.add(imported, path, f"reaches into {targets[-1]}: import from {package}.{target} "
                                       f"what the domain exposes")
    if cycle := _cycle(domain_graph):
        report.problems.append("domains import each other in a cycle: " + " -> ".join(cycle))
    if cycle := _cycle(module_graph):
        report.problems.append("modules import each other in a cycle: " + " -> ".join(cycle))
    return report.problems
