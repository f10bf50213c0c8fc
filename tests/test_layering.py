"""Import rules of the four packages (docs: DESIGN.md, "Layout").

- Dependencies point one way: topology <- workloads <- sim <- cluster.
- No module imports in a circle: module-level, ``TYPE_CHECKING`` and function-level (lazy)
  imports all count, because each one is a dependency a reader has to hold in mind.
- No package imports another package's private module (a module or package whose name starts
  with ``_``, other than ``__init__`` and ``__main__``); inside one package that is fine.

The import graph is read with ``ast`` (nothing is imported), so these checks see every import
statement wherever it sits in a file.
"""

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent
ORDER = ["topology", "workloads", "sim", "cluster"]
DUNDER_MODULES = {"__init__", "__main__"}


@dataclass(frozen=True)
class Import:
    """One import statement of one module, resolved to the module it loads.

    ``raw`` is the dotted name as written (absolute); ``target`` is the module of the
    analysed packages it resolves to, or None when it names nothing of theirs.
    """

    importer: str
    raw: str
    target: str | None
    where: str  # "path:line", for the assertion messages


def _module_names(root: Path, packages: list[str]) -> dict[str, Path]:
    """Map every module of ``packages`` under ``root`` to its file (``pkg/__init__.py`` -> ``pkg``)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of dotted ``name`` that is a known module, or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def collect_imports(root: Path, packages: list[str]) -> list[Import]:
    """Every import statement in the modules of ``packages`` under ``root``.

    ``import a.b`` loads ``a.b``; ``from a.b import c`` loads ``a.b.c`` when that is a module,
    else ``a.b``; relative imports are resolved against the importing module's package.
    """
    modules = _module_names(root, packages)
    found = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        package_parts = module.split(".") if is_package else module.split(".")[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    keep = len(package_parts) - (node.level - 1)
                    base = ".".join([*package_parts[: max(keep, 0)], *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
            found.extend(Import(module, name, _resolve(name, modules), where) for name in names)
    return found


def import_graph(imports: list[Import]) -> nx.DiGraph:
    """Directed graph module -> imported module; each edge keeps the statements that made it."""
    graph = nx.DiGraph()
    for imp in imports:
        graph.add_node(imp.importer)
        if imp.target is None or imp.target == imp.importer:
            continue
        if graph.has_edge(imp.importer, imp.target):
            graph.edges[imp.importer, imp.target]["where"].append(imp.where)
        else:
            graph.add_edge(imp.importer, imp.target, where=[imp.where])
    return graph


def import_cycles(imports: list[Import], *, shown: int = 20) -> list[str]:
    """One line per circle of imports, with the statement (file:line) behind each step.

    Circles are listed per group of modules that import one another (a strongly connected
    component of the import graph), at most ``shown`` per group, then a count of the rest.
    """
    graph = import_graph(imports)
    report = []
    for component in sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1):
        cycles = sorted(_rotate(c) for c in nx.simple_cycles(graph.subgraph(component)))
        for cycle in cycles[:shown]:
            pairs = zip(cycle, [*cycle[1:], cycle[0]], strict=True)
            steps = [f"{a} ({graph.edges[a, b]['where'][0]})" for a, b in pairs]
            report.append(" -> ".join([*steps, cycle[0]]))
        if len(cycles) > shown:
            report.append(f"... and {len(cycles) - shown} more circles among {component}")
    return report


def _rotate(cycle: list[str]) -> list[str]:
    """The cycle started at its smallest module name, so that reports are stable."""
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def private_imports(imports: list[Import]) -> list[str]:
    """The imports of another package's private module, one line each."""
    offenders = []
    for imp in imports:
        if imp.target is None:
            continue
        importer_package, target_parts = imp.importer.split(".")[0], imp.target.split(".")
        private = [p for p in target_parts if p.startswith("_") and p not in DUNDER_MODULES]
        if private and target_parts[0] != importer_package:
            offenders.append(f"{imp.where}: {imp.importer} imports {imp.target}, private to {target_parts[0]}")
    return offenders


@pytest.fixture(scope="module")
def project_imports() -> list[Import]:
    return collect_imports(REPO, ORDER)


@pytest.mark.parametrize("package", ORDER)
def test_no_package_imports_one_to_its_right(package, project_imports):
    forbidden = set(ORDER[ORDER.index(package) + 1:])
    offenders = sorted(
        f"{imp.where}: {imp.importer} imports {imp.raw}"
        for imp in project_imports
        if imp.importer.split(".")[0] == package and imp.raw.split(".")[0] in forbidden
    )
    assert offenders == [], "\n".join(offenders)


# Debt, not design: circles landed on 2026-12-03 with the object-store writer and the split of
# sim/scheduling.py, each closed only by a TYPE_CHECKING or function-level import.  Listed so that
# no *new* circle can land, and checked to still exist so the entry goes once it is fixed.
KNOWN_CYCLE_GROUPS = {
    # manifest/store read and write s3:// datasets through ObjectStorage, which needs Manifest and
    # the Arrow byte helpers from them; to undo: move the URI dispatch above all three modules.
    frozenset({"cluster.sweeps.location", "cluster.sweeps.objectstore", "cluster.sweeps.manifest",
               "cluster.sweeps.store"}),
    # the scheduling pass and failure handling take the SchedPool they are bound to (type only);
    # to undo: a Protocol of the pool state they use, in a module of its own.
    frozenset({"sim.backfill", "sim.scheduling", "sim.interruptions"}),
}


def test_no_import_cycle(project_imports):
    graph = import_graph(project_imports)
    groups = {frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1}
    assert groups <= KNOWN_CYCLE_GROUPS, "import cycles:\n" + "\n".join(
        line for line in import_cycles(project_imports)
        if not any(all(m in g for m in _modules_of(line)) for g in KNOWN_CYCLE_GROUPS))
    assert groups == KNOWN_CYCLE_GROUPS, f"fixed, remove from KNOWN_CYCLE_GROUPS: {KNOWN_CYCLE_GROUPS - groups}"


def _modules_of(line: str) -> list[str]:
    """The modules named in one line of :func:`import_cycles`."""
    return [word for word in line.split() if "." in word and not word.startswith("(")]


def test_no_import_of_another_packages_private_module(project_imports):
    offenders = private_imports(project_imports)
    assert offenders == [], "imports of another package's private module:\n" + "\n".join(offenders)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_checks_catch_a_type_checking_cycle_and_a_private_import(tmp_path):
    # The checks must not pass silently: a cycle closed only by a TYPE_CHECKING import and a
    # lazy import, and a private module imported from the other package, are all reported.
    _write(tmp_path, {
        "alpha/__init__.py": "",
        "alpha/a.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from alpha.b import B
            """,
        "alpha/b.py": """\
            def make():
                from . import a
                return a
            """,
        "alpha/_inner.py": "",
        "alpha/c.py": "from alpha import _inner\n",  # private, but same package: allowed
        "beta/__init__.py": "",
        "beta/user.py": "from alpha import _inner\nimport alpha.c\n",
    })
    imports = collect_imports(tmp_path, ["alpha", "beta"])

    cycles = import_cycles(imports)
    assert cycles == ["alpha.a (alpha/a.py:3) -> alpha.b (alpha/b.py:2) -> alpha.a"]

    assert private_imports(imports) == ["beta/user.py:1: beta.user imports alpha._inner, private to alpha"]


def test_resolution_of_relative_and_from_imports(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "from .sub import thing\n",
        "pkg/sub/__init__.py": "from ..mod import value\nfrom pkg import mod\n",
        "pkg/sub/leaf.py": "from . import thing\nfrom .. import mod\n",
        "pkg/mod.py": "import pkg.sub.leaf\nfrom pkg.sub.leaf import name\nimport os\n",
    })
    edges = {(imp.importer, imp.raw, imp.target) for imp in collect_imports(tmp_path, ["pkg"])}
    assert edges == {
        ("pkg", "pkg.sub", "pkg.sub"),
        ("pkg.sub", "pkg.mod", "pkg.mod"),
        ("pkg.sub", "pkg.mod", "pkg.mod"),
        ("pkg.sub.leaf", "pkg.sub", "pkg.sub"),
        ("pkg.sub.leaf", "pkg.mod", "pkg.mod"),
        ("pkg.mod", "pkg.sub.leaf", "pkg.sub.leaf"),
        ("pkg.mod", "os", None),
    }
