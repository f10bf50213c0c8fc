"""setup.py's build: the hot modules compiled with mypyc, or pure Python saying why, never a failed install."""

import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

from sim import compiled

REPO = Path(__file__).resolve().parent.parent


def _copy(tmp_path: Path) -> Path:
    """The sources setup.py builds from, copied (no built extension, no manifest)."""
    root = tmp_path / "src"
    root.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, root / name)
    for package in ("sim", "topology", "workloads", "cluster"):
        shutil.copytree(REPO / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd", compiled.MANIFEST))
    return root


def _build_ext(root: Path, env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = (f"{prelude}import runpy, sys; sys.argv = ['setup.py', 'build_ext', '--inplace']; "
            "runpy.run_path('setup.py', run_name='__main__')")
    inherited = {k: v for k, v in os.environ.items() if k != compiled.ENV_PURE}  # the pure pass sets it
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=root,
                          env={**inherited, **env})


def _built(root: Path) -> list[Path]:
    return [p for p in (root / "sim").rglob("*") if p.name.endswith(tuple(EXTENSION_SUFFIXES))
            or p.name == compiled.MANIFEST]


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("cpnsim build:")]
    assert len(lines) == 1, result.stderr[-3000:]
    return lines[0]


def test_pure_python_requested_builds_nothing(tmp_path):
    root = _copy(tmp_path)
    result = _build_ext(root, {compiled.ENV_PURE: "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert _one_line(result) == f"cpnsim build: pure Python ({compiled.ENV_PURE} is set)"
    assert _built(root) == []


def test_no_mypyc_is_pure_python_not_a_failure(tmp_path):
    root = _copy(tmp_path)
    result = _build_ext(root, {}, prelude="import sys; sys.modules['mypyc'] = None; ")  # import mypyc fails
    assert result.returncode == 0, result.stderr[-3000:]
    assert _one_line(result) == "cpnsim build: pure Python (mypyc is not installed in the build environment)"
    assert _built(root) == []


def test_no_c_compiler_is_pure_python_not_a_failure(tmp_path):
    root = _copy(tmp_path)
    result = _build_ext(root, {"CC": "no-such-cc"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert _one_line(result) == "cpnsim build: pure Python (no C compiler (no-such-cc) found)"
    assert _built(root) == []


@pytest.mark.slow
def test_a_failing_compile_leaves_pure_python_and_nothing_half_built(tmp_path):
    pytest.importorskip("mypyc", reason="mypyc not installed: nothing to compile")
    root = _copy(tmp_path)
    fails = tmp_path / "cc-that-fails"
    fails.write_text("#!/bin/sh\necho 'this compiler always fails' >&2\nexit 1\n")
    fails.chmod(0o755)
    result = _build_ext(root, {"CC": str(fails)})  # mypyc runs; every C file then fails to compile
    assert result.returncode == 0, result.stderr[-3000:]
    assert _one_line(result).startswith("cpnsim build: pure Python (compiling failed ("), result.stderr[-3000:]
    assert _built(root) == []
