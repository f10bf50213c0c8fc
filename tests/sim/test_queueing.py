import math

import pytest

from sim.queueing import erlang_b, erlang_c, mmc_mean_queue, mmc_mean_wait, mmc_scenario


def test_erlang_b_matches_direct_formula():
    # B(c, a) = (a^c / c!) / sum_k a^k / k!
    for c, a in [(1, 0.5), (5, 3.0), (10, 5.0), (64, 50.0)]:
        direct = (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
        assert erlang_b(c, a) == pytest.approx(direct, rel=1e-12)


def test_erlang_c_matches_direct_formula():
    for c, a in [(2, 1.0), (8, 7.2), (64, 60.8)]:
        rho = a / c
        top = a**c / math.factorial(c) / (1 - rho)
        direct = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
        assert erlang_c(c, a) == pytest.approx(direct, rel=1e-10)


def test_mm1_closed_forms():
    lam, mu = 0.9, 1.0
    assert mmc_mean_wait(1, lam, mu) == pytest.approx(lam / (mu * (mu - lam)))
    assert mmc_mean_queue(1, lam, mu) == pytest.approx(lam**2 / (mu * (mu - lam)))


def test_unstable_load_is_rejected():
    with pytest.raises(ValueError, match="must be in"):
        erlang_c(2, 2.0)


def test_mmc_scenario_is_a_valid_scenario():
    loaded = mmc_scenario(8, 0.9, horizon_h=100.0)
    assert loaded.network.sites[0].gpus == 8
    job_class = loaded.scenario.workload["mm"]
    assert job_class.arrival_rate_per_h == pytest.approx(7.2)
    assert job_class.work_gpu_h.expected() == pytest.approx(1.0)
