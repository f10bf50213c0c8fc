"""Shared fixtures: small scenarios built in code, a helper to run the CLI, and the parallel-run grouping.

``make test`` runs the suite on every core with pytest-xdist (``-n auto``; ``--dist loadgroup``
from pyproject.toml): each test goes to whichever worker is free, except the tests that
:func:`xdist_group_of` puts in one group, which one worker runs one after another (the
scheduler is :func:`pytest_xdist_make_scheduler`'s).  Without ``-n`` nothing changes: one
process, collection order.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

RAY_GROUP = "ray"
RAY_MODULES = frozenset({
    "tests/cluster/cli/test_sweep.py",
    "tests/cluster/sweeps/test_address.py",
    "tests/cluster/sweeps/test_executors.py",
    "tests/cluster/sweeps/test_executors_every_table.py",
    "tests/cluster/sweeps/test_executors_retries.py",
    "tests/cluster/test_api.py",
    "tests/cluster/test_ray_job_submit.py",
    "tests/cluster/test_sweep_multinode.py",
})
"""Modules whose tests start Ray (embedded ``ray.init`` or ``ray start``): one worker runs them one after
another, so that two Ray clusters never start at once (each takes both cores for tens of seconds, and
Ray listens on fixed default ports wherever a test does not set every one; see ../shared/RAY.md).  A
new module that starts Ray belongs here; a module that takes the ``ray_head`` fixture joins by itself."""

_SHARED_FIXTURE = re.compile(r"""scope\s*=\s*["'](?:module|class|package|session)["']|\bs3_server\b""")
"""A module that defines a fixture built once per module (or takes ``s3_server``, which is)."""


@functools.cache
def _module_group(module: str) -> str | None:
    if module in RAY_MODULES:
        return RAY_GROUP
    try:
        text = (REPO / module).read_text(encoding="utf-8")
    except OSError:
        return None
    if re.search(r"\bray_head\b", text):
        return RAY_GROUP
    return module if _SHARED_FIXTURE.search(text) else None


def xdist_group_of(nodeid: str) -> str | None:
    """The worker group of a test: Ray, its own module (a module-scoped fixture is built once, not once per
    worker), or None (any worker).

    Decided from the node id alone, the same way on the controller (which schedules) and on
    the workers (which order).  xdist's own ``xdist_group`` marker does not work with pytest
    9.2 (xdist 3.8 renames ``item._nodeid``, which pytest no longer reads).
    """
    module = nodeid.split("::", 1)[0]
    return _module_group(module) if module.startswith("tests/") else None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's ``loadgroup`` scheduling with the groups of :func:`xdist_group_of` (other ``--dist`` modes: xdist's)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class Groups(LoadGroupScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid) or super()._split_scope(nodeid)

    return Groups(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, put the units with the most slow tests first (a unit: a group or one test).

    The scheduler hands out units in collection order (``--no-loadscope-reorder`` keeps it):
    slow first, so that a long test does not start last while the other worker idles.  A
    unit's own tests keep their order.  Without xdist the collection order stays.
    """
    if not hasattr(config, "workerinput"):
        return
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(xdist_group_of(item.nodeid) or item.nodeid, []).append(item)
    ordered = sorted(units.values(), key=lambda unit: -sum(1 for i in unit if i.get_closest_marker("slow")))
    items[:] = [item for unit in ordered for item in unit]


@pytest.fixture
def run_cli():
    """Run ``python -m cluster ARGS`` in a subprocess, as a user would."""

    def _run(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cluster", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
        )

    return _run
