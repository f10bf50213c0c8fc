"""The adoption part of ``cpnsim run``'s summary, by hand on a small table."""

import math

import pyarrow as pa
import pytest
from rich.console import Console

from cluster.adoption_summary import adoption_by_region, print_adoption_summary


def _table():
    rows = [  # (replication, step, region, enterprises, adopters, demand, served, wait)
        (0, 0, "a", 10.0, 1.0, 100.0, 100.0, 0.0),
        (0, 1, "a", 10.0, 4.0, 300.0, 150.0, 2.0),
        (0, 0, "b", 30.0, 3.0, 0.0, 0.0, None),
        (0, 1, "b", 30.0, 6.0, 0.0, 0.0, None),
    ]
    names = ("replication", "step", "region", "enterprises", "adopters", "demand_gpu_h", "served_gpu_h",
             "wait_mean_h")
    return pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})


def test_adoption_by_region_by_hand():
    out = {row["region"]: row for row in adoption_by_region(_table())}
    assert out["a"]["adopted_frac"] == pytest.approx(0.4)
    assert out["a"]["served_share"] == pytest.approx(250 / 400)
    assert out["a"]["wait_mean_h"] == pytest.approx((0 * 100 + 2 * 300) / 400)
    assert out["b"]["adopted_frac"] == pytest.approx(0.2)
    assert math.isnan(out["b"]["served_share"]) and math.isnan(out["b"]["wait_mean_h"])


def test_print_adoption_summary():
    console = Console(record=True, width=120)
    print_adoption_summary(console, _table())
    text = console.export_text()
    assert "adoption at the horizon by region" in text and "0.400" in text and "0.625" in text
