"""``cpnsim analyze sensitivity`` end to end: a tiny real saltelli sweep, serial, then the analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

from cluster.cli import main

MMC = Path(__file__).resolve().parents[3] / "examples" / "mmc.toml"

SPEC = f'''
replications = 2
seed = 4

[base]
network = "{(MMC.parent / "networks" / "one_site.toml").as_posix()}"
policy = "nearest"
horizon_h = 150.0
[base.workload.mm]
arrival_rate_per_h = 4.0
gpus = {{ dist = "constant", value = 1 }}
work_gpu_h = {{ dist = "exponential", mean = 1.0 }}

[[axis]]
key = "policy"
grid = ["nearest"]

[[axis]]
key = "workload.mm.arrival_rate_per_h"
method = "saltelli"
low = 2.0
high = 6.0
samples = 4

[[axis]]
key = "sites.site.gpus"
method = "saltelli"
low = 8
high = 16
samples = 4
'''


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sens")
    (root / "spec.toml").write_text(SPEC, encoding="utf-8")
    out = root / "out"
    assert main(["sweep", str(root / "spec.toml"), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    return out


def _read(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).read_all()


def test_analyze_prints_and_writes_the_indices(sweep: Path, capsys: Any) -> None:
    assert main(["analyze", "sensitivity", str(sweep), "--output", "utilisation"]) == 0
    text = capsys.readouterr().out
    assert "Sobol' indices of utilisation" in text and "workload.mm.arrival_rate_per_h" in text
    table = _read(sweep / "sensitivity_utilisation.arrow")
    assert table.column("parameter").to_pylist() == ["workload.mm.arrival_rate_per_h", "sites.site.gpus"]
    assert table.column("base_samples").to_pylist() == [4, 4]
    assert table.column("group").to_pylist() == ['{"policy": "nearest"}'] * 2
    assert table.schema.metadata[b"output"] == b"utilisation"
    # utilisation = load / GPUs rises with the arrival rate and falls with the GPUs: both matter
    assert all(st > 0.05 for st in table.column("ST").to_pylist())


def test_analyze_writes_where_told(sweep: Path, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "x" / "s.arrow"
    assert main(["analyze", "sensitivity", str(sweep), "--output", "wait_mean_h", "--confidence", "0.9",
                 "--out", str(path), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {path}"
    assert _read(path).schema.metadata[b"confidence"] == b"0.9"


@pytest.mark.parametrize(("args", "message"), [
    (["--output", "utilisaton"], "no numeric column 'utilisaton' (did you mean 'utilisation'?)"),
    (["--output", "adoption_frac_end"], "16 with a null or NaN adoption_frac_end of 16 scenarios of the design"),
    (["--output", "utilisation", "--confidence", "1.2"], "--confidence: must be in (0, 1), got 1.2"),
])
def test_analyze_bad_input_is_one_line_exit_2(sweep: Path, capsys: Any, args: list[str], message: str) -> None:
    assert main(["analyze", "sensitivity", str(sweep), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_analyze_refuses_a_run_dataset(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "run"
    assert main(["run", str(MMC), "--set", "horizon_h=50", "--set", "warmup_h=0", "--set", "replications=1",
                 "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", "sensitivity", str(out), "--output", "utilisation"]) == 2
    assert "manifest.json: design: not a saltelli sweep (kind 'run')" in capsys.readouterr().err


@pytest.mark.parametrize(("old", "new", "message"), [
    ("samples = 4\n", "samples = 5\n", "axis[1].samples: saltelli needs a power of two >= 2 base samples"),
    ('low = 8\n', 'low = 8\nsecond_order = true\n', "axis[2].second_order: saltelli axes are sampled jointly"),
    ('key = "sites.site.gpus"\nmethod = "saltelli"', 'key = "sites.site.gpus"\nmethod = "sobol"',
     "axis[2].method: sampled axes are sampled jointly and must share one method"),
])
def test_bad_saltelli_spec_is_one_line_exit_2(tmp_path: Path, capsys: Any, old: str, new: str, message: str) -> None:
    assert old in SPEC
    spec = tmp_path / "bad.toml"
    spec.write_text(SPEC.replace(old, new, 1), encoding="utf-8")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--executor", "serial", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{spec}: {message}" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()
