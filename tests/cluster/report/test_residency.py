"""The data-residency section's per-country figures, on a hand-made jobs table."""

from __future__ import annotations

import pyarrow as pa
import pytest

from cluster.report.residency import country_summary


def _jobs(rows: list[tuple[int, str, str, str | None, float, str | None, float]]) -> pa.Table:
    names = ["replication", "origin", "origin_country", "site_country", "work_gpu_h", "reject_reason", "transfer_cny"]
    cols = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    return pa.table({"scenario_id": ["s"] * len(rows), **cols})


def test_shares_by_destination_and_interval_over_replications():
    jobs = _jobs([
        # replication 0, Kazakhstan: 60 GPU-h at home, 30 in China, 10 rejected for residency.
        (0, "dr_kz", "KZ", "KZ", 60.0, None, 0.0),
        (0, "dr_kz", "KZ", "CN", 30.0, None, 9.0),
        (0, "dr_kz", "KZ", None, 10.0, "residency", 0.0),
        # replication 1, Kazakhstan: 40 at home, 40 in China, 20 in Singapore.
        (1, "dr_kz", "KZ", "KZ", 40.0, None, 0.0),
        (1, "dr_kz", "KZ", "CN", 40.0, None, 11.0),
        (1, "dr_kz", "KZ", "SG", 20.0, None, 5.0),
        # Chinese origins are not summarised.
        (0, "dr_cn_bth", "CN", "CN", 500.0, None, 0.0),
    ])
    adoption = pa.table({
        "scenario_id": ["s"] * 4, "replication": [0, 0, 1, 1], "region": ["dr_kz"] * 4, "step": [0, 1, 0, 1],
        "adopted_frac": [0.05, 0.10, 0.05, 0.20], "enterprises": [100.0] * 4,
    })
    summary = country_summary(jobs, adoption)
    assert list(summary) == ["KZ"]
    kz = summary["KZ"]
    t = 12.706204736174694  # Student t(0.975, 1 degree of freedom)
    assert kz["local_frac"] == pytest.approx((0.5, t * 0.1))  # 0.6 and 0.4: s = 0.1414, s / sqrt(2) = 0.1
    assert kz["china_frac"][0] == pytest.approx(0.35)
    assert kz["elsewhere_frac"][0] == pytest.approx(0.1)
    assert kz["rejected_frac"][0] == pytest.approx(0.05)
    assert kz["transfer_cny"][0] == pytest.approx(12.5)  # (9 + 16) / 2
    assert kz["adoption_end"][0] == pytest.approx(0.15)  # last step: 0.10 and 0.20
