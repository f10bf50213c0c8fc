"""docs/figures.py: the figures quoted in README.md and example headers match what the code gives now."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
figures = runpy.run_path(str(ROOT / "docs" / "figures.py"), run_name="figures")
PRODUCERS = {p.name: p for p in figures["PRODUCERS"]}


def test_every_span_has_a_producer_and_every_producer_is_quoted():
    produced = {"default-gpus", "national-sites", "national-regions", "national-gpus", "national-run-s",
                "sens-ew-scenarios", "sens-ew-st", "sens-ew-st-0", "sens-ew-st-1", "sens-ew-st-2",
                "validate-s", "validate-quick-s", "national-policies"}
    quoted: set[str] = set()
    for path in figures["quoted_files"]():
        quoted |= set(figures["spans_in"](path.read_text()))
    assert quoted == produced


@pytest.mark.parametrize("name", [p.name for p in PRODUCERS.values() if p.cheap])
def test_cheap_figures_have_not_drifted(name):
    assert figures["check"]((PRODUCERS[name],)) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.name for p in PRODUCERS.values() if not p.cheap])
def test_expensive_figures_have_not_drifted(name):
    assert figures["check"]((PRODUCERS[name],)) == []


def test_a_drifted_figure_is_reported_and_regenerated(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("GPUs: <!-- fig:default-gpus -->1<!-- /fig -->, again <!-- fig:default-gpus -->1<!-- /fig -->\n")
    monkeypatch.setitem(figures["quoted_files"].__globals__, "ROOT", tmp_path)
    monkeypatch.setitem(figures["check"].__globals__, "quoted_files", lambda: [readme])
    networks = (PRODUCERS["networks"],)
    problems = figures["check"](networks)
    assert any("default-gpus: quoted '1'" in p for p in problems)
    assert any("'national-gpus' is quoted nowhere" in p for p in problems)
    assert figures["regenerate"](networks) == [readme]
    total = PRODUCERS["networks"].compute()["default-gpus"]
    assert readme.read_text() == f"GPUs: <!-- fig:default-gpus -->{total}<!-- /fig -->, again " \
                                 f"<!-- fig:default-gpus -->{total}<!-- /fig -->\n"


def test_default_network_gpu_total_is_the_sum_of_its_sites_by_hand():
    import tomllib

    data = tomllib.loads((ROOT / "topology" / "data" / "default.toml").read_text())
    by_hand = sum(site["gpus"] for site in data["site"])
    assert PRODUCERS["networks"].compute()["default-gpus"] == f"{by_hand:,}"
