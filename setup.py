"""Build of cpnsim: the hot modules of ``sim.compiled.MODULES`` compiled with mypyc, else pure Python.

Everything else is in pyproject.toml.  ``build_ext`` compiles the modules with mypyc
(``mypyc.build.mypycify``) and writes ``sim/_compiled.json`` (each module's source
SHA-256, for :mod:`sim.compiled`'s stale-build check).  When it cannot -- mypyc not
importable, no C compiler or no Python headers, a type error, a failed compile --
it prints one line saying why, removes what it built, and the install goes on as pure
Python: ``pip install`` never fails for want of a compiler.  ``CPNSIM_PURE_PYTHON=1``
at build time skips compiling.

mypyc type-checks the modules it compiles, so it needs the runtime dependencies (numpy,
pydantic and its mypy plugin) importable: the Makefile builds with
``--no-build-isolation`` from the project's venv once they are installed (see its
``build`` target).  A plain ``pip install .`` in an isolated build environment has no
mypyc and installs pure Python, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from setuptools import Distribution, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
_DONE: dict[str, Any] = {}
"""The extensions (or the reason there are none), decided once per process."""


def _compiled_module() -> Any:
    """``sim/compiled.py`` loaded by file: its module list, without importing the package (numpy etc.)."""
    if "_cpnsim_compiled" in sys.modules:
        return sys.modules["_cpnsim_compiled"]
    spec = importlib.util.spec_from_file_location("_cpnsim_compiled", ROOT / "sim" / "compiled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def _say(message: str) -> None:
    """One line on stderr, which pip shows with ``-v`` and in the build log."""
    sys.stderr.write(f"cpnsim build: {message}\n")


class BinaryDistribution(Distribution):
    """Always run ``build_ext``: the extension list is only known once it runs."""

    def has_ext_modules(self) -> bool:
        return True


class MypycBuildExt(build_ext):
    """``build_ext`` that compiles the hot modules with mypyc, or falls back to pure Python."""

    def finalize_options(self) -> None:
        compiled = _compiled_module()
        self._modules = compiled.MODULES
        self._manifest = compiled.MANIFEST
        if "extensions" not in _DONE:  # mypycify once per process: setuptools re-creates this command
            _DONE["extensions"] = self._mypyc_extensions(compiled)
            _DONE["fallback"] = self._fallback
        self._fallback = _DONE["fallback"]
        self.distribution.ext_modules = list(_DONE["extensions"])
        super().finalize_options()
        if self.parallel is None:  # the C files on every core (15 files: 72 s on one core of the 2-core VM)
            self.parallel = os.cpu_count() or 1

    def _mypyc_extensions(self, compiled: Any) -> list[Any]:
        self._fallback: str | None = None
        if os.environ.get(compiled.ENV_PURE, "") not in ("", "0"):
            self._fallback = f"{compiled.ENV_PURE} is set"
            return []
        try:
            from mypyc.build import mypycify
        except ImportError:
            self._fallback = "mypyc is not installed in the build environment"
            return []
        cc = os.environ.get("CC", "cc").split()[0]
        if shutil.which(cc) is None:
            self._fallback = f"no C compiler ({cc}) found"
            return []
        paths = [str(Path(*module.split(".")).with_suffix(".py")) for module in self._modules]
        cwd = os.getcwd()
        os.chdir(ROOT)  # mypy reads pyproject.toml's [tool.mypy] from the working directory
        try:
            # group_name inside the package: mypyc's shared library lands in sim/, where the
            # editable install's finder looks (a top-level one would not be found).
            return list(mypycify(paths, opt_level="3", group_name="sim.hot"))
        except (Exception, SystemExit) as err:  # mypy reports type errors by SystemExit
            self._fallback = f"mypyc failed ({type(err).__name__}: {str(err).strip()[:200] or 'see above'})"
            return []
        finally:
            os.chdir(cwd)

    def run(self) -> None:
        if self._fallback is None and self.extensions:
            try:
                super().run()
            except (Exception, SystemExit) as err:  # CompileError, LinkError, missing Python.h ...
                self._fallback = f"compiling failed ({type(err).__name__}: {str(err).strip()[:200]})"
                self._remove_outputs()
            else:
                self._write_manifest()
                _say(f"compiled {len(self._modules)} modules with mypyc")
                return
        self._remove_outputs()
        _say(f"pure Python ({self._fallback})")

    def _package_dir(self) -> Path:
        """Where ``sim``'s extensions go: the source tree (in place, editable) or the build directory."""
        return Path(self.get_ext_fullpath("sim.engine")).parent

    def _remove_outputs(self) -> None:
        """No partial build left behind: the extensions and the manifest of an earlier build go too."""
        for ext in self.extensions:
            Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
        package = self._package_dir()
        (package / self._manifest).unlink(missing_ok=True)
        for module in self._modules:  # an earlier build's extensions, if this one built none
            Path(self.get_ext_fullpath(module)).unlink(missing_ok=True)
        Path(self.get_ext_fullpath("sim.hot__mypyc")).unlink(missing_ok=True)
        self.distribution.ext_modules = []
        self.extensions = []

    def _write_manifest(self) -> None:
        from importlib.metadata import version

        compiled = _compiled_module()
        digests = {m: compiled.source_digest(ROOT / Path(*m.split(".")).with_suffix(".py")) for m in self._modules}
        (self._package_dir() / self._manifest).write_text(
            json.dumps({"modules": digests, "mypy": version("mypy")}, indent=1) + "\n", encoding="utf-8")


setup(distclass=BinaryDistribution, cmdclass={"build_ext": MypycBuildExt})
