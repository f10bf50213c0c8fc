"""The ``cpnsim`` entry point: version, help, dispatch, and what it imports (nothing heavy)."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from cluster.cli import main
from cluster.cli.registry import COMMANDS

HEAVY = ("scipy", "matplotlib", "ray", "SALib", "pyarrow.dataset")
"""Modules that only the commands needing them may import (each costs 0.1 to 1 s)."""


def _script() -> str:
    script = shutil.which("cpnsim", path=os.path.dirname(sys.executable))
    assert script, "the cpnsim console script is not installed next to the interpreter"
    return script


_MARK = "--- modules ---"
_LIST_MODULES = f"print({_MARK!r}, *sorted(sys.modules), sep='\\n', file=sys.stderr)"
_CPNSIM = (  # what the cpnsim console script runs, listing every module imported by the end (exit included)
    f"import atexit, sys\natexit.register(lambda: {_LIST_MODULES})\n"
    "from cluster.cli import main\nsys.exit(main(sys.argv[1:]))\n"
)
_IMPORT_CLI = f"import sys\nimport cluster.cli\n{_LIST_MODULES}\n"


def _imported(code: str, *args: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code`` with ``args``."""
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _MARK in result.stderr, result.stderr[-2000:]
    return set(result.stderr.split(_MARK, 1)[1].split())


def _heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY))


def test_version_and_help(run_cli):
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("cpnsim ")
    for args in (["--help"], ["run", "--help"], ["validate", "--help"]):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        assert "usage: cpnsim" in result.stdout


def test_python_m_cluster_is_cpnsim(run_cli, tmp_path):
    # run_cli already uses `python -m cluster`; the console script must agree.
    result = subprocess.run([_script(), "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout == run_cli("--version").stdout


def test_import_cluster_cli_imports_nothing_heavy():
    names = _imported(_IMPORT_CLI)
    assert "cluster.cli" in names
    assert _heavy(names) == []
    assert not any(n.startswith("cluster.cli.") and n.split(".")[2] not in ("main", "registry") for n in names)


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_cpnsim_help_and_version_import_nothing_heavy(args):
    names = _imported(_CPNSIM, *args)
    assert _heavy(names) == []
    assert not {"sim", "workloads", "pyarrow"} & names  # nor the simulator: the registry lists the commands


def test_a_command_imports_its_own_module_only():
    names = _imported(_CPNSIM, "topology", "list")
    assert "cluster.cli.topology" in names
    assert not {"cluster.cli.sweep", "cluster.cli.report", "cluster.cli.analyze", "cluster.cli.calibrate"} & names
    assert _heavy(names) == []


def test_help_lists_every_registered_command_in_order(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    positions = [re.search(rf"\n    {name}\s", out).start() for name in COMMANDS]
    assert positions == sorted(positions)
    for command in COMMANDS.values():
        assert command.help[:30] in " ".join(out.split())


def test_no_command_and_an_unknown_command_exit_2(run_cli):
    none = run_cli()
    assert none.returncode == 2 and "error: the following arguments are required: COMMAND" in none.stderr
    unknown = run_cli("runn")
    assert unknown.returncode == 2 and "invalid choice: 'runn'" in unknown.stderr
