"""Fixtures shared by the cluster tests."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

_EIGHT_SCENARIOS = """
seed = {seed}
replications = 1
[base]
name = "{name}"
horizon_h = 4000.0
metric_interval_h = 500.0
[base.workload.batch]
arrival_rate_per_h = 60.0
gpus = {{ dist = "choice", values = [1, 2, 4] }}
work_gpu_h = {{ dist = "exponential", mean = 30.0 }}
[[axis]]
key = "sites.cl_zhongwei.gpus"
grid = [256, 512, 768, 1024, 1280, 1536, 1792, 2048]
"""


@pytest.fixture(scope="session")
def eight_scenario_spec() -> Callable[[str, int], str]:
    """Sweep spec text of 8 scenarios of about a second each, for interrupt-and-resume tests."""

    def _spec(name: str, seed: int) -> str:
        return _EIGHT_SCENARIOS.format(name=name, seed=seed)

    return _spec


def _wait_for_dashboard(address: str, head: subprocess.Popen[bytes], log: Path, timeout_s: float = 90.0) -> None:
    """Return once the Ray head at ``address`` answers HTTP (401 without the token counts as up).

    Raises RuntimeError with the tail of ``log`` when the head exits or ``timeout_s`` passes.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{address}/api/version", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (401 without the token): it is up
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:] if log.exists() else "(no log)"
                raise RuntimeError(f"ray head did not come up: {tail}") from None
            time.sleep(0.5)


@pytest.fixture(scope="session")
def wait_for_dashboard() -> Callable[..., None]:
    """The wait for a ``ray start --head`` process to answer on its dashboard port (see the function)."""
    return _wait_for_dashboard
