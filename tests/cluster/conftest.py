"""Fixtures shared by the cluster tests."""

from __future__ import annotations

from collections.abc import Callable

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
