"""Dependencies point one way: topology <- workloads <- sim <- cluster."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ORDER = ["topology", "workloads", "sim", "cluster"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ORDER)
def test_no_package_imports_one_to_its_right(package):
    forbidden = set(ORDER[ORDER.index(package) + 1:])
    offenders = {
        str(path.relative_to(REPO)): sorted(_imports(path) & forbidden)
        for path in (REPO / package).rglob("*.py")
        if _imports(path) & forbidden
    }
    assert offenders == {}
