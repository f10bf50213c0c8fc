"""The compiled build (mypyc) and its pure-Python fallback: same tables, stale builds, which build runs."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import sim
from sim import compiled
from sim.run import run_scenario
from sim.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
COMPILED = compiled.ACTIVE is not None and compiled.ACTIVE.compiled
needs_build = pytest.mark.skipif(not COMPILED, reason=f"no compiled build in use ({compiled.describe()})")

_WRITE_TABLES = """
import sys
from pathlib import Path
import pyarrow.ipc as ipc
from sim import compiled
from sim.run import run_scenario
from sim.scenario import load_scenario
path, out = sys.argv[1] or None, Path(sys.argv[2])
print(compiled.describe())
for name, table in run_scenario(load_scenario(path, sys.argv[3:])).tables().items():
    with ipc.new_file(out / f"{name}.arrow", table.schema) as writer:
        writer.write_table(table)
"""


def _pure_env() -> dict[str, str]:
    return {**os.environ, compiled.ENV_PURE: "1"}


def _tables_in_pure_python(tmp_path: Path, path: Path | None, overrides: list[str]) -> dict[str, pa.Table]:
    """The scenario's tables from a fresh interpreter running the pure-Python sources."""
    result = subprocess.run(
        [sys.executable, "-c", _WRITE_TABLES, "" if path is None else str(path), str(tmp_path), *overrides],
        capture_output=True, text=True, timeout=600, env=_pure_env(), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith(f"pure Python: {compiled.ENV_PURE}=1"), result.stdout
    return {f.stem: ipc.open_file(f).read_all() for f in tmp_path.glob("*.arrow")}


def _assert_same_tables(tmp_path: Path, path: Path | None, overrides: list[str]) -> None:
    here = run_scenario(load_scenario(path, overrides)).tables()
    pure = _tables_in_pure_python(tmp_path, path, overrides)
    assert set(here) == set(pure)
    for name in sorted(here):
        if name == "timings":  # wall-clock times: not deterministic
            continue
        assert here[name].equals(pure[name], check_metadata=True), name
    assert here["runs"].num_rows > 0


@needs_build
def test_compiled_and_pure_python_give_the_same_tables_on_the_default_scenario(tmp_path):
    _assert_same_tables(tmp_path, None, [])


@needs_build
def test_compiled_and_pure_python_give_the_same_tables_with_every_job_recorded(tmp_path):
    _assert_same_tables(tmp_path, EXAMPLES / "mmc.toml", ["jobs_sample=1", "replications=2", "horizon_h=5000"])


@needs_build
@pytest.mark.slow
def test_compiled_and_pure_python_give_the_same_tables_on_national_at_90_days(tmp_path):
    _assert_same_tables(tmp_path, EXAMPLES / "national.toml", ["horizon_h=2160", "scheduler=easy", "jobs_sample=1"])


def test_the_build_is_compiled_where_a_compiler_is():
    """Where the build can compile (a C compiler, Python's headers, mypyc), the tests run compiled code.

    So that CI cannot pass on pure Python alone after a build that fell back unnoticed.
    """
    if os.environ.get(compiled.ENV_PURE, "") not in ("", "0"):
        pytest.skip(f"{compiled.ENV_PURE} is set: the pure-Python pass")
    cc = shutil.which(os.environ.get("CC", "cc").split()[0])
    headers = Path(sysconfig.get_paths()["include"], "Python.h").exists()
    try:
        import mypyc  # noqa: F401
    except ImportError:
        mypyc_found = False
    else:
        mypyc_found = True
    if not (cc and headers and mypyc_found):
        pytest.skip(f"cannot compile here (C compiler {cc}, Python.h {headers}, mypyc {mypyc_found})")
    assert compiled.ACTIVE is not None and compiled.ACTIVE.compiled, compiled.describe()
    for name in compiled.MODULES:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        assert module.__file__ is not None and module.__file__.endswith(tuple(EXTENSION_SUFFIXES)), module.__file__


def test_pure_python_forced_loads_every_hot_module_from_its_source():
    code = ("import importlib, sim\nfrom sim import compiled\n"
            "print(all(importlib.import_module(m).__file__.endswith('.py') for m in compiled.MODULES))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=_pure_env(), cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "True"
    assert result.stderr == ""


def _fake_build(root: Path) -> None:
    """A ``sim`` package under ``root`` that looks compiled: sources, empty extension files, a manifest."""
    digests = {}
    for name in compiled.MODULES:
        source = root.joinpath(*name.split(".")).with_suffix(".py")
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(f"# {name}\n")
        source.with_suffix(EXTENSION_SUFFIXES[0]).write_bytes(b"")
        digests[name] = compiled.source_digest(source)
    (root / "sim" / compiled.MANIFEST).write_text(json.dumps({"modules": digests, "mypy": "9.9"}))


def test_status_reads_the_build_from_the_files(tmp_path):
    _fake_build(tmp_path)
    assert compiled.status({}, tmp_path) == compiled.BuildStatus(True, "mypyc 9.9")
    described = compiled.describe(compiled.status({}, tmp_path))
    assert described == f"compiled with mypyc 9.9: {len(compiled.MODULES)} modules"
    assert compiled.status({compiled.ENV_PURE: "1"}, tmp_path).reason == f"{compiled.ENV_PURE}=1"
    assert compiled.status({compiled.ENV_PURE: "0"}, tmp_path).compiled
    # A source edited after the build: stale, named.
    edited = tmp_path / "sim" / "flows.py"
    edited.write_text(edited.read_text() + "# edited\n")
    found = compiled.status({}, tmp_path)
    assert not found.compiled and found.stale == os.path.join("sim", "flows.py")
    assert compiled.describe(found) == "pure Python: stale build, sim/flows.py changed since it was compiled"
    # An extension missing, a manifest missing or unreadable: pure Python, saying why.
    edited.write_text("# sim.flows\n")
    assert compiled.status({}, tmp_path).compiled
    tmp_path.joinpath("sim", "maxmin" + EXTENSION_SUFFIXES[0]).unlink()
    assert compiled.status({}, tmp_path).reason == "sim.maxmin has no compiled extension"
    (tmp_path / "sim" / compiled.MANIFEST).write_text("{")
    assert compiled.status({}, tmp_path).reason.startswith(f"unreadable build manifest {compiled.MANIFEST}")
    (tmp_path / "sim" / compiled.MANIFEST).unlink()
    assert compiled.describe(compiled.status({}, tmp_path)) == "pure Python: no compiled build installed"


@needs_build
def test_a_stale_build_falls_back_to_the_sources_with_one_line(tmp_path):
    """An installed build whose source was edited afterwards runs the edited source, and says so once."""
    for package in ("sim", "topology", "workloads"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    edited = tmp_path / "sim" / "maxmin.py"
    edited.write_text(edited.read_text() + "\nEDITED_AFTER_THE_BUILD = True\n")
    code = ("import sim, sim.maxmin, sim.engine\nfrom sim import compiled\n"
            "print(sim.__file__, sim.maxmin.EDITED_AFTER_THE_BUILD, sim.engine.__file__, compiled.describe())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    package, flag, engine, described = result.stdout.split(" ", 3)
    assert Path(package).parent == tmp_path / "sim" and flag == "True"
    assert engine == str(tmp_path / "sim" / "engine.py")  # every hot module from source, not only the edited one
    assert described.strip() == "pure Python: stale build, sim/maxmin.py changed since it was compiled"
    assert result.stderr.count("\n") == 1 and "stale build, sim/maxmin.py changed" in result.stderr


def test_version_names_the_build_in_use():
    version = subprocess.run([sys.executable, "-m", "cluster", "--version"], capture_output=True, text=True,
                             timeout=60, cwd=REPO)
    assert version.returncode == 0, version.stderr
    assert version.stdout.rstrip().endswith(f"({compiled.describe(compiled.ACTIVE)})")
    pure = subprocess.run([sys.executable, "-m", "cluster", "--version"], capture_output=True, text=True,
                          timeout=60, cwd=REPO, env=_pure_env())
    assert pure.stdout.rstrip().endswith(f"(pure Python: {compiled.ENV_PURE}=1)"), pure.stdout
    assert sim.compiled is compiled


def test_the_hot_modules_doctests_pass_from_source():
    """pytest's doctest collection finds no docstrings in a compiled module; run them from the sources here.

    (Under ``CPNSIM_PURE_PYTHON=1`` pytest collects them itself too.)
    """
    import doctest
    import importlib.util

    attempted = 0
    for name in compiled.MODULES:
        spec = importlib.util.spec_from_file_location(f"_source_of_{name.replace('.', '_')}",
                                                      REPO.joinpath(*name.split(".")).with_suffix(".py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        try:
            spec.loader.exec_module(module)
            result = doctest.testmod(module)  # pytest runs them with no option flags either
        finally:
            del sys.modules[spec.name]
        assert result.failed == 0, name
        attempted += result.attempted
    assert attempted >= 20  # the examples of sim.engine, sim.flows, sim.maxmin, sim.transfers, sim.placement.scoring
