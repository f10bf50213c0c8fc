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
        # Gui'an counts cards of its chip mix (130,490), no longer 133,494 A100-equivalents (issue 17).
        "edwc 1798631", "gpu_clusters 53692", "belt_and_road 14615", "national 1866938", "",
    ]


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
