"""Adoption inside a run: neutral coupling under unconstrained capacity, capacity → adoption, the table."""

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from sim.run import run_scenario
from sim.scenario import load_scenario
from sim.tables import ADOPTION_COLUMNS
from topology.plumbing import ConfigError
from workloads.adoption import advance

# The default east-west network (3 eastern regions; 3 eastern and 2 western sites).
# Inference is latency-bound (stays east under edwc); training goes west.
SCENARIO = """
name = "adoption-test"
network = "default"
policy = "edwc"
horizon_h = 8766.0
metric_interval_h = 730.5
seed = 3

[workload.training]
arrival_rate_per_h = 0.0
gpus = { dist = "choice", values = [8, 16, 32] }
work_gpu_h = { dist = "exponential", mean = 1500.0 }

[workload.inference]
arrival_rate_per_h = 0.0
gpus = { dist = "choice", values = [4, 8] }
work_gpu_h = { dist = "exponential", mean = 300.0 }
latency_budget_ms = 20.0
max_wait_h = 12.0
priority = 1

[adoption]
p0_per_yr = 0.05
q0_per_yr = 3.0
initial_frac = 0.02
enterprises_per_weight = 10.0

[adoption.industries.manufacturing]
enterprise_share_frac = 0.6
jobs_per_adopter_per_h = { training = 0.0006, inference = 0.0024 }

[adoption.industries.finance]
enterprise_share_frac = 0.4
comparative_advantage = 1.2
jobs_per_adopter_per_h = { training = 0.0003, inference = 0.0045 }

[adoption.regions.dr_cn_bth]
anticipated_benefits = 1.1
"""
SITES = ("cl_zhangjiakou", "cl_wuhu", "cl_shaoguan", "cl_zhongwei", "cl_guian")
WEST = {"cl_zhongwei": 1024, "cl_guian": 1024}


@pytest.fixture
def scenario_path(tmp_path):
    path = tmp_path / "adoption.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def _run(path, *overrides):
    return run_scenario(load_scenario(path, list(overrides)))


def _west(mult):
    return [f"sites.{s}.gpus={max(1, round(g * mult))}" for s, g in WEST.items()]


def _horizon(result):
    return result.runs.column("adoption_frac_end").to_pylist()[0]


def test_unconstrained_capacity_makes_the_coupling_neutral(scenario_path):
    huge = [f"sites.{s}.gpus=1000000" for s in SITES]
    coupled = _run(scenario_path, *huge).table("adoption")
    exogenous = _run(scenario_path, *huge, "adoption.coupling.enabled=false").table("adoption")
    for name in ("adopted_frac", "p_eff_per_yr", "q_eff_per_yr", "resonance", "expected_costs",
                 "facilitating_conditions"):
        assert coupled.column(name).equals(exogenous.column(name)), name
    # Every job started at once within its budget: both capacity factors exactly 1.
    assert set(coupled.column("served_share").drop_null().to_pylist()) == {1.0}
    assert set(coupled.column("wait_mean_h").drop_null().to_pylist()) == {0.0}
    assert set(coupled.column("expected_costs").to_pylist()) == {1.0}
    # And the path is the exogenous Bass flow: R = S x D, stepped exactly month by month.
    df = coupled.to_pandas()
    seg = df[(df.region == "dr_cn_bth") & (df.industry == "finance")].sort_values("step")
    f = 0.02
    for row in seg.itertuples():
        r = 1.2 * 1.1
        assert row.resonance == pytest.approx(r, rel=1e-15)
        f_next = float(np.asarray(_bass(f, 0.05 * r, 3.0 * r, (row.t_end_h - row.t_start_h) / 8766.0)))
        assert row.adopted_frac_start == f
        assert row.adopted_frac == pytest.approx(f_next, abs=1e-15)
        f = row.adopted_frac


def _bass(f, p, q, dt):
    e = math.exp(-(p + q) * dt)
    return ((p + q * f) - p * (1 - f) * e) / ((p + q * f) + q * (1 - f) * e)


def test_constrained_capacity_slows_adoption_below_the_exogenous_path(scenario_path):
    coupled = _horizon(_run(scenario_path))
    exogenous = _horizon(_run(scenario_path, "adoption.coupling.enabled=false"))
    assert coupled < exogenous


def test_halving_western_gpus_lowers_adoption_at_the_horizon(scenario_path):
    base = _horizon(_run(scenario_path))
    half = _horizon(_run(scenario_path, *_west(0.5)))
    assert half < base


def test_adding_capacity_never_lowers_adoption_over_a_grid(scenario_path):
    """West multipliers 0.25-1.5, where western capacity binds.

    Beyond about 1.75x the west no longer binds (YRD's latency-bound inference, served
    only in the east, sets the plateau) and adoption at the horizon moves by ±2e-4 as
    placement shifts: a scheduling anomaly, not monotone in general (see docs/model.md).
    """
    values = [_horizon(_run(scenario_path, *_west(m))) for m in (0.25, 0.5, 1.0, 1.5)]
    assert values == sorted(values), values
    assert values[0] < values[-1]


def test_same_seed_same_adoption_table(scenario_path):
    a, b = _run(scenario_path, *_west(0.5)), _run(scenario_path, *_west(0.5))
    assert a.table("adoption").equals(b.table("adoption"))
    assert a.runs.column("adoption_frac_end").equals(b.runs.column("adoption_frac_end"))


def test_adoption_table_schema_rows_and_runs_summary(scenario_path):
    result = _run(scenario_path)
    table = result.table("adoption")
    assert table.schema.names == [c[0] for c in ADOPTION_COLUMNS]
    assert table.schema.metadata[b"cpnsim.table"] == b"adoption"
    assert table.schema.field("p_eff_per_yr").metadata[b"unit"] == b"1/yr"
    # 12 monthly steps x 3 regions x 2 industries.
    assert table.num_rows == 12 * 3 * 2
    df = table.to_pandas()
    assert (df.adopted_frac >= df.adopted_frac_start).all()
    assert ((df.adopted_frac >= 0) & (df.adopted_frac <= 1)).all()
    assert (df.adopters <= df.enterprises).all()
    assert np.allclose(df.unmet_gpu_h, df.demand_gpu_h - df.served_gpu_h)
    assert (df.served_gpu_h <= df.demand_gpu_h * (1 + 1e-12)).all()
    assert df.t_end_h.max() == 8766.0
    last = df[df.step == df.step.max()]
    expected = float((last.adopters.sum()) / last.enterprises.sum())
    assert _horizon(result) == pytest.approx(expected, rel=1e-12)
    assert result.runs.column("adopters_end").to_pylist()[0] == pytest.approx(last.adopters.sum(), rel=1e-12)
    assert "adoption" in result.tables()


def test_without_adoption_no_table_and_null_summary():
    result = run_scenario(load_scenario(None, ["horizon_h=48"]))
    assert "adoption" not in result.tables()
    assert result.runs.column("adoption_frac_end").to_pylist() == [None]
    assert result.runs.schema.field("adoption_frac_end").type == pa.float64()


def test_demand_is_the_work_of_the_adoption_jobs(scenario_path):
    """The per-segment split of demand adds up to the work the adopters' streams generated.

    Work is accounted in whole 1/1024 GPU-h (exact sums), so the totals agree to rounding.
    """
    result = _run(scenario_path)
    driver = result.replications[0].model.adoption
    generated = sum(s.issued_work_gpu_h for s in driver.streams.values())
    assert float(sum(result.table("adoption").column("demand_gpu_h").to_pylist())) == pytest.approx(generated, rel=1e-6)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("adoption.regions.dr_cn_bht.expected_costs=2", "adoption.regions.dr_cn_bht"),
        ("adoption.industries.finance.jobs_per_adopter_per_h.trainng=1", "adoption.industries.finance"),
        ("adoption.industries.finance.complexity=0", "adoption.industries.finance.complexity"),
        ("adoption.growth.expected_costs_elasticity=-1", "adoption.growth.expected_costs_elasticity"),
        ("adoption.growth.unit_cost_at_start=0", "adoption.growth.unit_cost_at_start"),
    ],
)
def test_bad_adoption_keys_are_one_line_errors(scenario_path, override, key):
    with pytest.raises(ConfigError) as info:
        load_scenario(scenario_path, [override])
    assert "\n" not in str(info.value)
    assert key in str(info.value)


def test_advance_is_what_the_driver_uses(scenario_path):
    """The first row equals one call of workloads.adoption.advance with neutral factors."""
    loaded = load_scenario(scenario_path)
    result = run_scenario(loaded)
    driver = result.replications[0].model.adoption
    step = advance(driver.segments.initial_frac, driver.segments, loaded.scenario.adoption, 730.5)
    first = result.table("adoption").to_pandas().query("step == 0")
    np.testing.assert_array_equal(first.adopted_frac.to_numpy(), step.frac_end)


def test_cpnsim_run_writes_an_adoption_table_pandas_polars_duckdb_read(tmp_path):
    from cluster.cli import main

    example = Path(__file__).resolve().parents[2] / "examples" / "adoption.toml"
    out = tmp_path / "ds"
    assert main(["run", str(example), "--set", "horizon_h=2191.5", "--out", str(out), "--quiet"]) == 0
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    import pyarrow.dataset as ds

    frame = ds.dataset(out / "adoption", format="ipc").to_table().to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert sorted(frame.step.unique()) == [0, 1, 2]  # three monthly steps
    from topology.load import load_network

    regions = [r.id for r in load_network("national").regions if r.demand_weight > 0]
    assert sorted(frame.region.unique()) == sorted(regions)  # gateways (weight 0) have no segments
    assert frame.industry.nunique() == 7
    polars_frame = pl.read_ipc(next((out / "adoption").glob("part-*.arrow")))
    assert polars_frame.height == len(frame)
    adoption_table = ds.dataset(out / "adoption", format="ipc").to_table()  # noqa: F841 - read by DuckDB below
    by_region = duckdb.sql(
        "SELECT region, sum(adopters) / sum(enterprises) AS f FROM adoption_table WHERE step = 2 GROUP BY region"
    ).fetchall()
    assert len(by_region) == len(regions) and all(0 < f <= 1 for _, f in by_region)


def test_ceiling_one_is_bit_identical_and_a_ceiling_caps_and_scales_the_path(scenario_path):
    """ceiling_frac = 1 changes nothing; with m < 1 and huge capacity F is m × the Bass flow of F / m."""
    huge = [f"sites.{s}.gpus=1000000" for s in SITES]
    default = _run(scenario_path, *huge)
    explicit = _run(scenario_path, *huge, "adoption.ceiling_frac=1.0")
    assert default.table("adoption").equals(explicit.table("adoption"))
    assert default.runs.column("adoption_frac_end").equals(explicit.runs.column("adoption_frac_end"))
    m = 0.3
    capped = _run(scenario_path, *huge, f"adoption.ceiling_frac={m}").table("adoption").to_pandas()
    assert (capped.adopted_frac <= m).all()
    assert (capped.adopters <= m * capped.enterprises).all()
    seg = capped[(capped.region == "dr_cn_bth") & (capped.industry == "finance")].sort_values("step")
    f = 0.02
    r = 1.2 * 1.1
    for row in seg.itertuples():
        dt = (row.t_end_h - row.t_start_h) / 8766.0
        assert row.adopted_frac == pytest.approx(m * _bass(f / m, 0.05 * r, 3.0 * r, dt), abs=1e-15)
        f = row.adopted_frac
    # Fewer enterprises can ever adopt: adoption at the horizon is lower than without a ceiling.
    assert capped[capped.step == capped.step.max()].adopted_frac.max() < \
        default.table("adoption").to_pandas().query("step == step.max()").adopted_frac.max()


def test_initial_fraction_above_the_ceiling_is_a_one_line_error(scenario_path):
    with pytest.raises(ConfigError, match=r"initial_frac: 0\.02 is above ceiling_frac 0\.01"):
        _run(scenario_path, "adoption.ceiling_frac=0.01")


@pytest.mark.parametrize(("adoption_elasticity", "work_elasticity"), [(0.0, 1.0), (0.3, 0.0), (0.3, 1.0)])
def test_halving_the_price_of_ai_work_never_lowers_adoption_at_unconstrained_capacity(
    scenario_path, adoption_elasticity, work_elasticity
):
    huge = [f"sites.{s}.gpus=1000000" for s in SITES]
    channels = [f"adoption.growth.expected_costs_elasticity={adoption_elasticity}",
                f"adoption.growth.cost_elasticity={work_elasticity}"]
    ref = _run(scenario_path, *huge, *channels)
    half = _run(scenario_path, *huge, *channels, "adoption.growth.unit_cost_at_start=0.5")

    def last(result):
        df = result.table("adoption").to_pandas()
        return df[df.step == df.step.max()].sort_values(["region", "industry"]).adopted_frac.to_numpy()

    assert np.all(last(half) >= last(ref))
    assert _horizon(half) >= _horizon(ref)
    if adoption_elasticity > 0:
        assert _horizon(half) > _horizon(ref)  # the adoption channel is on: strictly faster
    else:
        assert _horizon(half) == _horizon(ref)  # only more work, all served at once: adoption unchanged
    demand = [r.table("adoption").column("demand_gpu_h").to_numpy().sum() for r in (ref, half)]
    assert demand[1] > demand[0]  # the work channel (and more adopters) bring more load


def _paired_horizon(path, *overrides):
    """Adoption at the horizon per replication (3 replications on common random numbers)."""
    result = _run(path, "replications=3", *overrides)
    return np.array(result.runs.column("adoption_frac_end").to_pylist())


@pytest.mark.parametrize("site", SITES)
def test_adding_gpus_at_any_site_never_lowers_adoption_beyond_the_paired_interval(scenario_path, site):
    """Property on a fixed grid: every site of the small network, +50 % and +300 % GPUs.

    Replication r of every capacity level draws the same adopters' streams (time-changed, keyed by
    name), so the differences are paired; adoption at the horizon may fall only within the 95 %
    Student-t half-width of the paired differences (a placement anomaly is noise, a fall beyond it a bug).
    """
    from scipy import stats

    base_gpus = next(s.gpus for s in load_scenario(scenario_path).network.sites if s.id == site)
    base = _paired_horizon(scenario_path)
    for mult in (1.5, 4.0):
        more = _paired_horizon(scenario_path, f"sites.{site}.gpus={round(base_gpus * mult)}")
        d = more - base
        half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
        assert d.mean() >= -half, (site, mult, d.tolist(), half)
