"""`cpnsim sweep` option checks: one line, exit status 2, nothing written."""

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-retries", "-1"], "cpnsim: error: --max-retries: must be >= 0, got -1\n"),
        (["--batch-size", "0"], "cpnsim: error: --batch-size: must be >= 1, got 0\n"),
        (["--num-cpus", "0"], "cpnsim: error: --num-cpus: must be >= 1, got 0\n"),
        (["--resume", "--overwrite"], "cpnsim: error: --resume and --overwrite: choose one\n"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(run_cli, tmp_path, args, message):
    spec = Path(__file__).resolve().parents[2] / "examples" / "sweeps" / "small-grid.toml"
    result = run_cli("sweep", str(spec), "--out", str(tmp_path / "out"), *args)
    assert result.returncode == 2 and result.stderr == message
    assert not (tmp_path / "out").exists()


def test_help_lists_max_retries(run_cli):
    result = run_cli("sweep", "--help")
    assert result.returncode == 0 and "--max-retries N" in result.stdout and "never retried" in result.stdout
