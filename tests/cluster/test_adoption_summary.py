"""The adoption part of ``cpnsim run``'s summary, by hand on small tables."""

import math

import pyarrow as pa
import pytest
from rich.console import Console

from cluster.adoption_summary import ALL_REGIONS, adoption_by_region, print_adoption_summary

NAMES = ("replication", "step", "region", "enterprises", "adopters", "demand_gpu_h", "served_gpu_h", "wait_mean_h")
ONE_REP = [  # (replication, step, region, enterprises, adopters, demand, served, wait)
    (0, 0, "a", 10.0, 1.0, 100.0, 100.0, 0.0),
    (0, 1, "a", 10.0, 4.0, 300.0, 150.0, 2.0),
    (0, 0, "b", 30.0, 3.0, 0.0, 0.0, None),
    (0, 1, "b", 30.0, 6.0, 0.0, 0.0, None),
]
SECOND_REP = [
    (1, 0, "a", 10.0, 2.0, 100.0, 100.0, 0.0),
    (1, 1, "a", 10.0, 6.0, 100.0, 100.0, 0.0),
    (1, 0, "b", 30.0, 3.0, 0.0, 0.0, None),
    (1, 1, "b", 30.0, 9.0, 0.0, 0.0, None),
]
T_975_1 = 12.706204736  # Student t, 97.5 % quantile, 1 degree of freedom


def _table(rows):
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(NAMES)})


def test_one_replication_by_hand():
    out = {row["region"]: row for row in adoption_by_region(_table(ONE_REP))}
    assert list(out) == ["a", "b", ALL_REGIONS]
    assert out["a"]["adopted_frac"] == pytest.approx(0.4)
    assert math.isnan(out["a"]["adopted_frac_ci_half"])
    assert out["a"]["served_share"] == pytest.approx(250 / 400)
    assert out["a"]["wait_mean_h"] == pytest.approx((0 * 100 + 2 * 300) / 400)
    assert out["b"]["adopted_frac"] == pytest.approx(0.2)
    assert math.isnan(out["b"]["served_share"]) and math.isnan(out["b"]["wait_mean_h"])
    assert out[ALL_REGIONS]["adopted_frac"] == pytest.approx(10 / 40)  # enterprise-weighted, not 0.3


def test_two_replications_give_the_mean_and_student_t_half_width():
    out = {row["region"]: row for row in adoption_by_region(_table(ONE_REP + SECOND_REP))}
    # a: 0.4 and 0.6 -> mean 0.5, sd 0.1414, half = t x sd / sqrt(2) = 12.706 x 0.1.
    assert out["a"]["adopted_frac"] == pytest.approx(0.5)
    assert out["a"]["adopted_frac_ci_half"] == pytest.approx(T_975_1 * 0.1)
    # all: 10/40 = 0.25 and 15/40 = 0.375 -> mean 0.3125, half = 12.706 x 0.0625.
    assert out[ALL_REGIONS]["adopted_frac"] == pytest.approx(0.3125)
    assert out[ALL_REGIONS]["adopted_frac_ci_half"] == pytest.approx(T_975_1 * 0.0625)
    assert out[ALL_REGIONS]["replications"] == 2
    assert out["a"]["adopters"] == pytest.approx(5.0)  # (4 + 6) / 2
    assert out["a"]["demand_gpu_h"] == pytest.approx(300.0)  # (400 + 200) / 2


def test_print_adoption_summary():
    console = Console(record=True, width=160)
    print_adoption_summary(console, _table(ONE_REP + SECOND_REP))
    text = console.export_text()
    assert "mean ± 95% t-interval over 2 replications" in text
    assert "0.5000" in text and f"{T_975_1 * 0.1:.4f}" in text and ALL_REGIONS in text
    console = Console(record=True, width=160)
    print_adoption_summary(console, _table(ONE_REP))
    assert "one replication: no interval" in console.export_text()


def test_yearly_adoption_by_hand():
    """Two replications, steps of half a year over 1.5 years: year ends at 8766 h and the horizon 13149 h."""
    from cluster.report.adoption import yearly_adoption

    rows = []  # (scenario, replication, t_end_h, region, enterprises, adopters)
    for rep, a_adopters in ((0, (1.0, 4.0, 5.0)), (1, (2.0, 6.0, 7.0))):
        for k, t in enumerate((4383.0, 8766.0, 13149.0)):
            rows.append(("s", rep, t, "a", 10.0, a_adopters[k]))
            rows.append(("s", rep, t, "b", 30.0, 3.0 * (k + 1)))
    rows.append(("other", 0, 8766.0, "a", 10.0, 10.0))  # another scenario: ignored
    names = ("scenario_id", "replication", "t_end_h", "region", "enterprises", "adopters")
    table = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
    ends, cells = yearly_adoption(table, "s")
    assert ends == [8766.0, 13149.0]
    assert list(cells) == ["a", "b", "all regions"]
    (m1, h1), (m2, h2) = cells["a"]
    assert m1 == pytest.approx(0.5) and h1 == pytest.approx(T_975_1 * 0.1)  # 0.4 and 0.6: sd 0.1414 / sqrt 2
    assert m2 == pytest.approx(0.6) and h2 == pytest.approx(T_975_1 * 0.1)
    assert cells["b"][0] == (pytest.approx(0.2), 0.0)
    # Over all regions, enterprise-weighted: (4 + 6) / 40 and (6 + 6) / 40 at the first year end.
    assert cells["all regions"][0][0] == pytest.approx((10 / 40 + 12 / 40) / 2)
