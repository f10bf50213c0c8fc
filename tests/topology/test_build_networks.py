"""docs/data/build_networks.py regenerates the shipped network files byte for byte.

The generator reads the reference data in ../shared/data (beside the clone, as in CI); where
that folder is absent the tests that need it are skipped, saying so.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "docs" / "data" / "build_networks.py"
SHARED = REPO.parent / "shared" / "data"
SHIPPED = REPO / "topology" / "data"
ADDITIONS = REPO / "docs" / "data" / "additions.toml"
PREFIXES = ("seed ", "url: ", "public knowledge", "estimate: ", "derived: ")
GENERATED = ["edwc.toml", "gpu_clusters.toml", "belt_and_road.toml", "national.toml"]

needs_shared_data = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} is absent: the generator has no reference data to read"
)


@pytest.fixture(scope="module")
def build_networks():
    """The script, imported by path (docs/data is not a package)."""
    name = "cpnsim_docs_build_networks"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def test_import_defines_main_and_the_four_networks(build_networks: ModuleType):
    # All work happens in main(): importing only defines things.
    assert callable(build_networks.main)
    assert set(build_networks.NETWORKS) == {name.removesuffix(".toml") for name in GENERATED}


@needs_shared_data
def test_regenerates_every_shipped_network_byte_for_byte(build_networks: ModuleType, tmp_path, capsys):
    assert build_networks.main(["--shared-data", str(SHARED), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(GENERATED)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name
    # GPU totals per network, as docs/model.md's table of built-in networks states them.
    assert capsys.readouterr().out.split("\n") == [
        # Gui'an counts cards of its chip mix (119,737 after China Mobile Guiyang's carve-out); national adds
        # the sites of docs/data/additions.toml: Shanxi 102,564, the rest of Hubei 25,641, Guiyang 22,000.
        "edwc 1787878", "gpu_clusters 57499", "belt_and_road 14615", "national 2010197", "",
    ]
    assert 1787878 + 57499 + 14615 + 102564 + 25641 + 22000 == 2010197


@needs_shared_data
def test_check_compares_without_writing(build_networks: ModuleType, tmp_path, capsys):
    for name in GENERATED:
        (tmp_path / name).write_bytes((SHIPPED / name).read_bytes())
    args = ["--shared-data", str(SHARED), "--out", str(tmp_path), "--check"]
    assert build_networks.main(args) == 0

    edited = tmp_path / "national.toml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    (tmp_path / "edwc.toml").unlink()
    assert build_networks.main(args) == 1
    err = capsys.readouterr().err
    assert "national.toml: differs" in err and "edwc.toml: differs" in err
    assert "gpu_clusters.toml" not in err
    assert edited.read_text(encoding="utf-8").endswith("# edited\n")  # --check wrote nothing
    assert not (tmp_path / "edwc.toml").exists()


# -- the project's additions to shared/data (docs/data/additions.toml) ---------------------------


def test_additions_file_parses_and_every_source_has_a_prefix():
    import tomllib

    data = tomllib.loads(ADDITIONS.read_text(encoding="utf-8"))
    assert set(data) == {"gpu_cluster", "link", "amendment"}
    assert {r["id"] for r in data["gpu_cluster"]} == {
        "pv_shanxi_datong", "pv_hubei_wuhan", "gpu_cm_pool_beijing", "gpu_cm_guiyang"}
    sources = [(r["id"], k, v) for rows in data.values() for r in rows for k, v in r.items()
               if k == "source" or k.endswith("_source")]
    assert len(sources) >= 30
    for rid, key, text in sources:
        assert text.startswith(PREFIXES), (rid, key)
    # A url: clause says its date and grade (docs/data/additions.toml's grades), so a reader can weigh it.
    for rid, key, text in sources:
        if text.startswith("url: "):
            assert "grade" in text or "solid" in text or "moderate" in text or key == "carbon_source", (rid, key)


def _write_bad(tmp_path, old: str, new: str):
    text = ADDITIONS.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    bad = tmp_path / "additions.toml"
    bad.write_text(text.replace(old, new), encoding="utf-8")
    return bad


@needs_shared_data
@pytest.mark.parametrize(("old", "new", "expected"), [
    ('peak_pflops_low = 16000', 'peak_pflops_low = 40000',
     "gpu_cluster[0].peak_pflops_low: low <= peak_pflops <= high does not hold: 40000 <= 32000 <= 32000"),
    ('gpu_count_high = 25000', 'gpu_count_high = 20000',
     "gpu_cluster[3].gpu_count_high: low <= gpu_count <= high does not hold: 19000 <= 22000 <= 20000"),
    ('price_source = "estimate: no tariff published for Shanxi', 'price_source = "no tariff published for Shanxi',
     "gpu_cluster[0].price_source: a source must start with one of 'seed ', 'url: ', 'public knowledge', "
     "'estimate: ', 'derived: '"),
    ('id = "pv_hubei_wuhan"', 'id = "pv_hubei_wuhan"\npeak_eflops = 8', "gpu_cluster[1].peak_eflops: unknown key"),
    ('capacity_method = "installed (2024); site; card count', 'capacity_methods = "installed (2024); site; card count',
     "gpu_cluster[3].capacity_methods: unknown key"),
    ('was = 1500', 'was = 1400', "amendment[0].was: shared/data gives peak_pflops = 1500, not 1400"),
    ('[[link]]\nid = "L_bth_shanxi"', '[[lnk]]\nid = "L_bth_shanxi"', "lnk: unknown table"),
    ('b = "pv_hubei_wuhan"', 'b = "pv_hubei_wuhn"',
     "link[1].b: 'pv_hubei_wuhn' is not a node id of shared/data or of this file's gpu_cluster records"),
    ('id = "pv_hubei_wuhan"', 'id = "gpu_cm_wuhan"',
     "gpu_cluster[1].id: 'gpu_cm_wuhan' is already an id of shared/data"),
    ('field = "peak_pflops"', 'field = "peak_pflops_planned"', "amendment[0].field: gpu_cluster "
     "gpu_cm_wuhan.peak_pflops_planned is not amendable"),
    ('peak_pflops = 32000', 'peak_pflops = nan', "gpu_cluster[0].peak_pflops: capacity must be a finite positive "
     "number, got 16000, nan, 32000"),
    ('peak_pflops_high = 8000', 'peak_pflops_high = inf', "gpu_cluster[1].peak_pflops: capacity must be a finite "
     "positive number, got 4000, 8000, inf"),
    ('gpu_count_high = 25000', 'gpu_count_high = true', "gpu_cluster[3].gpu_count: capacity must be a finite "
     "positive number, got 19000, 22000, True"),
    ('lat = 40.08', 'lat = 140.08', "gpu_cluster[0].lat: must be a finite number in [-90, 90], got 140.08"),
    ('pue_reported = 1.2', 'pue_reported = 0.9', "gpu_cluster[0].pue_reported: must be a finite number in [1, 3], "
     "got 0.9"),
    ('price_cny_per_kwh = 0.55\nprice_source = "estimate: no tariff published for Shanxi',
     'price_cny_per_kwh = "0.55"\nprice_source = "estimate: no tariff published for Shanxi',
     "gpu_cluster[0].price_cny_per_kwh: must be a finite number in [0, 10], got '0.55'"),
    ('value = 2000', 'value = -2000', "amendment[0].value: must be a finite positive number, got -2000"),
    ('carved_out_of = "cl_guian"', 'carved_out_of = "cl_zhongwei"',
     "gpu_cluster[3].carved_out_of: 'cl_zhongwei' is not a site whose bound may be carved (cl_guian)"),
])
def test_bad_additions_stop_with_one_line_naming_file_and_key(build_networks: ModuleType, tmp_path, capsys,
                                                              old, new, expected):
    bad = _write_bad(tmp_path, old, new)
    out = tmp_path / "out"
    args = ["--shared-data", str(SHARED), "--out", str(out), "--additions", str(bad)]
    assert build_networks.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{bad}: {expected}"), err
    assert not out.exists()  # nothing written
    assert build_networks.main([*args, "--check"]) == 2


@needs_shared_data
def test_a_figure_without_its_source_is_refused(build_networks: ModuleType, tmp_path, capsys):
    text = ADDITIONS.read_text(encoding="utf-8")
    start = text.index('carbon_source = "estimate: China')
    bad = tmp_path / "additions.toml"
    bad.write_text(text[:start] + text[text.index("\n", start) + 1:], encoding="utf-8")
    assert build_networks.main(["--shared-data", str(SHARED), "--out", str(tmp_path / "o"), "--additions",
                                str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"{bad}: gpu_cluster[0].carbon_kg_per_kwh: no carbon_source: every figure needs its source\n")


@needs_shared_data
def test_check_covers_the_additions(build_networks: ModuleType, tmp_path, capsys):
    # The shipped files match the shipped additions; a changed figure in the additions makes them stale.
    changed = _write_bad(tmp_path, "peak_pflops = 8000", "peak_pflops = 7000")
    args = ["--shared-data", str(SHARED), "--out", str(SHIPPED), "--check"]
    assert build_networks.main(args) == 0
    assert build_networks.main([*args, "--additions", str(changed)]) == 1
    assert "national.toml: differs" in capsys.readouterr().err
