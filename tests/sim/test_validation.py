import runpy
from pathlib import Path

import numpy as np
import pytest

from sim import validation
from sim.queueing import mmc_mean_wait, mmc_scenario
from sim.run import run_replication
from sim.scenario import load_scenario
from sim.validation import Check, conservation_checks, run_validation, t_interval

ROOT = Path(__file__).resolve().parents[2]


def test_quick_validation_passes():
    checks = run_validation(quick=True, replications=5)
    failed = [c for c in checks if not c.passed]
    assert not failed, failed
    assert len(checks) == 17  # 12 M/M/c + 5 conservation (jobs, GPU-h twice, energy, starts)


@pytest.mark.slow
def test_full_validation_passes(monkeypatch):
    # The full validation runs once, inside the figure producer that times it (docs/figures.py,
    # `validate-s` and `validate-quick-s`), instead of a second time in tests/test_figures.py.
    figures = runpy.run_path(str(ROOT / "docs" / "figures.py"), run_name="figures")
    runs: dict[bool, list[Check]] = {}

    def recorded(*, quick: bool = False, **options: object) -> list[Check]:
        runs[quick] = run_validation(quick=quick, **options)  # type: ignore[arg-type]
        return runs[quick]

    monkeypatch.setattr(validation, "run_validation", recorded)
    (producer,) = [p for p in figures["PRODUCERS"] if p.name == "validate"]
    assert figures["check"]((producer,)) == []  # the quoted CPU times hold
    assert sorted(runs) == [False, True]
    checks = runs[False]
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


def test_the_erlang_c_check_catches_a_ten_percent_speed_error():
    # Power: run the engine with GPUs 10 % slower than the analytic model assumes;
    # the confidence interval must exclude the (now wrong) Erlang C value.
    loaded = mmc_scenario(8, 0.8, horizon_h=20_000.0, warmup_h=500.0, seed=11)
    slow_site = loaded.network.sites[0].model_copy(update={"sku_speed": 0.9})
    slowed = type(loaded)(loaded.scenario, loaded.network.model_copy(update={"site": (slow_site,)}), "test")
    waits = np.array([run_replication(slowed, r).runs_row["wait_mean_h"] for r in range(6)])
    _, lo, hi = t_interval(waits, 1 - 0.01 / 12)
    truth = mmc_mean_wait(8, 6.4, 1.0)
    assert not lo <= truth <= hi
    assert lo > truth  # slower service, longer waits


def test_conservation_checks_hold_on_a_loaded_network():
    checks = conservation_checks(load_scenario(None, ["horizon_h=200", "policy=nearest"], seed=2))
    assert all(c.passed for c in checks), checks
    jobs = checks[0]
    assert jobs.expected > 1000


def test_run_validation_needs_two_replications():
    with pytest.raises(ValueError, match="must be >= 2"):
        run_validation(replications=1)
