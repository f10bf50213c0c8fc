"""Demand factors per region derived from regional indicators: the generator, the shipped file, the opt-in.

The generator (docs/data/build_factors.py) reads ../shared/data; where that folder is absent the
tests that need it are skipped, saying so.
"""

import importlib.util
import math
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from topology.plumbing import ConfigError
from workloads.adoption.config import DEMAND_FACTORS, AdoptionConfig
from workloads.adoption.regional import load_regional_factors, regional_factors_path
from workloads.adoption.segments import build_segments

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "docs" / "data" / "build_factors.py"
SHARED = REPO.parent / "shared" / "data"
needs_shared_data = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent: no reference data")


@pytest.fixture(scope="module")
def build_factors():
    """The script, imported by path (docs/data is not a package)."""
    name = "cpnsim_docs_build_factors"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


@needs_shared_data
def test_regenerates_the_shipped_file_byte_for_byte(build_factors: ModuleType, tmp_path):
    out = tmp_path / "regional_factors.toml"
    assert build_factors.main(["--shared-data", str(SHARED), "--out", str(out)]) == 0
    assert out.read_bytes() == regional_factors_path().read_bytes()


@needs_shared_data
def test_check_reports_a_stale_file_and_writes_nothing(build_factors: ModuleType, tmp_path, capsys):
    out = tmp_path / "regional_factors.toml"
    out.write_bytes(regional_factors_path().read_bytes())
    args = ["--shared-data", str(SHARED), "--out", str(out), "--check"]
    assert build_factors.main(args) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("0.459854", "0.5"), encoding="utf-8")
    assert build_factors.main(args) == 1
    assert "differs" in capsys.readouterr().err
    assert "0.5\n" in out.read_text(encoding="utf-8")  # --check wrote nothing


@needs_shared_data
def test_factors_are_the_hand_computed_ratios():
    regions = {r["id"]: r for r in tomllib.loads((SHARED / "demand_regions.toml").read_text("utf-8"))["region"]}
    factors = {r.id: r for r in load_regional_factors().region}
    # 5G share of mobile subscriptions over the population-weighted mean of BTH and YRD (both 2024-02).
    bth, yrd = regions["dr_cn_bth"], regions["dr_cn_yrd"]
    ref = (0.482 * 110.37 + 0.486 * 235.22) / (110.37 + 235.22)
    assert (bth["fiveg_share_of_mobile_frac"], yrd["fiveg_share_of_mobile_frac"]) == (0.482, 0.486)
    assert factors["dr_cn_bth"].facilitating_conditions == pytest.approx(math.sqrt(0.482 / ref), abs=1e-6)
    assert factors["dr_cn_yrd"].facilitating_conditions == pytest.approx(math.sqrt(0.486 / ref), abs=1e-6)
    # Fixed broadband: Central and South Asia 10.2 % over China's 680 M users / 1,409.77 M residents.
    for rid in ("dr_kz", "dr_kg", "dr_tj", "dr_uz", "dr_pk"):
        assert factors[rid].facilitating_conditions == pytest.approx(math.sqrt(0.102 / (680 / 1409.77)), abs=1e-6)


def test_every_factor_is_sourced_and_a_factor_without_data_is_one():
    data = load_regional_factors()
    assert data.elasticity_source.startswith("estimate: ")
    ids = [r.id for r in data.region]
    assert len(ids) == len(set(ids)) == 17  # 9 Chinese regions and 8 Belt-and-Road countries
    for r in data.region:
        for f in DEMAND_FACTORS:
            source = getattr(r, f"{f}_source")
            assert source.startswith("derived: ")
            if f in r.without_data:
                assert getattr(r, f) == 1.0 and "no indicator" in source
            else:
                assert getattr(r, f) != 1.0 and "**" in source
    without = {r.id for r in data.region if len(r.without_data) == 4}
    assert without == {"dr_cn_guangdong", "dr_cn_chengyu", "dr_cn_central", "dr_cn_east_other", "dr_cn_northeast",
                       "dr_cn_northwest", "dr_cn_southwest", "dr_sa", "dr_my", "dr_sg"}


def test_a_malformed_file_is_one_line_naming_file_and_key(tmp_path):
    text = regional_factors_path().read_text(encoding="utf-8").replace("facilitating_conditions = 0.459854",
                                                                      "facilitating_conditions = -1.0", 1)
    bad = tmp_path / "f.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_regional_factors(bad)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{bad}: region[") and "facilitating_conditions" in message


def _segments(opt_in: bool, data=None):
    config = AdoptionConfig.model_validate({
        "regional_factors": opt_in,
        "industries": {"x": {"jobs_per_adopter_per_h": {"a": 1.0}}},
        "regions": {"dr_kz": {"facilitating_conditions": 2.0}},
    })
    return build_segments(config, ["dr_kz", "dr_cn_guangdong", "dr_other"], [1.0, 1.0, 1.0], ["a"], data)


def test_opt_in_multiplies_the_regions_own_factors_and_leaves_regions_without_data_alone():
    off, on = _segments(False), _segments(True)
    kz = math.sqrt(0.102 / (680 / 1409.77))
    np.testing.assert_allclose(off.factors["facilitating_conditions"], [2.0, 1.0, 1.0])
    np.testing.assert_allclose(on.factors["facilitating_conditions"], [2.0 * kz, 1.0, 1.0], atol=2e-6)
    np.testing.assert_allclose(on.demand_exogenous / off.demand_exogenous, [kz, 1.0, 1.0], atol=2e-6)
    for f in ("anticipated_benefits", "expected_costs", "social_impact"):
        np.testing.assert_array_equal(on.factors[f], off.factors[f])


def test_calibrate_factors_lists_the_factors_and_the_regions_without_data(capsys):
    from cluster.cli.main import main

    assert main(["calibrate", "factors"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # rich wraps to the terminal's width
    assert "dr_kz" in out and "0.4599" in out and "0.9972" in out
    assert ("without data (every factor 1): dr_cn_guangdong, dr_cn_chengyu, dr_cn_central, dr_cn_east_other, "
            "dr_cn_northeast, dr_cn_northwest, dr_cn_southwest, dr_sa, dr_my, dr_sg factors without data") in out
    assert "not used for dr_cn_bth: talent_note" in out
