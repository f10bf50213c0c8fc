"""``cpnsim report s3://…``: a sweep's dataset read through pyarrow's real S3 client, its page uploaded beside it.

The S3 server is moto's (PyPI ``moto[server]``, :class:`moto.server.ThreadedMotoServer`)
on 127.0.0.1, as in ``tests/cluster/test_sweep_s3.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("moto.server")  # the S3 server of tests/cluster/conftest.py (s3_server)

from cluster.cli.main import main
from cluster.report.build import build_report
from cluster.report.data import load_report_data
from cluster.sweeps import load_sweep, run_sweep
from cluster.sweeps.executors import SerialExecutor

BUCKET = "cpnsim-report"
SPEC = """
seed = 4
replications = 2
[base]
name = "report-s3"
network = "default"
horizon_h = 24.0
metric_interval_h = 24.0
[base.workload.batch]
arrival_rate_per_h = 2.0
gpus = { dist = "choice", values = [1, 2] }
work_gpu_h = { dist = "exponential", mean = 2.0 }
[[axis]]
key = "policy"
grid = ["nearest", "least_loaded"]
"""


@pytest.fixture(scope="module")
def s3(s3_server: Any) -> object:
    """A pyarrow filesystem on the module's S3 server (``tests/cluster/conftest.py``)."""
    return s3_server.fs


def _rows(page: str) -> int:
    return len(re.findall(r"<tr[ >]", page))


def test_report_reads_a_dataset_in_s3_and_uploads_its_page(s3, tmp_path, capsys):
    (tmp_path / "spec.toml").write_text(SPEC)
    spec = load_sweep(tmp_path / "spec.toml")
    uri = f"s3://{BUCKET}/sweep"
    run_sweep(spec, uri, SerialExecutor())
    local = tmp_path / "local"
    run_sweep(spec, local, SerialExecutor())

    remote_data, local_data = load_report_data(uri), load_report_data(local)
    for name in ("runs", "sites"):  # the very tables a local run of the spec gives
        keys = [("scenario_id", "ascending"), ("replication", "ascending")]
        if name == "sites":
            keys += [("site_id", "ascending"), ("t_end_h", "ascending")]
        assert remote_data.tables[name].sort_by(keys).equals(local_data.tables[name].sort_by(keys))
    assert remote_data.manifest.done == local_data.manifest.done

    assert main(["report", uri, "--quiet"]) == 0
    assert f"wrote {uri}/report.html" in capsys.readouterr().out
    with s3.open_input_stream(f"{BUCKET}/sweep/report.html") as stream:
        page = stream.read().decode("utf-8")
    assert uri in page and "<svg" in page
    assert _rows(page) == _rows(build_report(local)) > len(spec.ids)  # same summary: a row per scenario and more

    assert main(["report", f"file://{local}", "--quiet"]) == 0  # file:// is a local path
    assert _rows((local / "report.html").read_text()) == _rows(page)

    html = tmp_path / "page.html"  # --html: written here instead
    assert main(["report", uri, "--html", str(html), "--quiet"]) == 0
    assert _rows(html.read_text()) == _rows(page)


def test_report_of_an_empty_prefix_is_one_line_and_exit_2(s3, capsys):
    assert main(["report", f"s3://{BUCKET}/nothing-here"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a cpnsim dataset" in err[0] and "nothing-here" in err[0]
