import json

import pyarrow as pa
import pytest

import cluster.sweeps.store as store
from cluster.sweeps.manifest import TableParts, read_manifest
from cluster.sweeps.store import check_writable, read_table, write_dataset
from topology.plumbing import ConfigError, SchemaError


def _tables():
    return {"runs": pa.table({"scenario_id": ["a"], "x": [1.0]}), "sites": pa.table({"scenario_id": ["a"] * 3})}


def test_write_then_read(tmp_path):
    out = write_dataset(tmp_path / "d", _tables(), {"kind": "test"})
    manifest = read_manifest(out)
    assert manifest.kind == "test" and manifest.format == "arrow"
    assert manifest.tables == {"runs": TableParts(rows=1, parts=("part-00000.arrow",)),
                               "sites": TableParts(rows=3, parts=("part-00000.arrow",))}
    assert read_table(out, "sites").num_rows == 3
    assert oct(out.stat().st_mode & 0o777) != oct(0o700)  # not left private like a mkdtemp


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    calls = []

    def failing(table, path, fmt):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")

    monkeypatch.setattr(store, "write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(tmp_path / "d", _tables(), {})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rewrite_keeps_the_old_dataset(tmp_path, monkeypatch):
    out = write_dataset(tmp_path / "d", _tables(), {"kind": "old"})

    def failing(table, path, fmt):
        raise OSError("disk full")

    monkeypatch.setattr(store, "write_table", failing)
    with pytest.raises(OSError):
        write_dataset(out, _tables(), {"kind": "new"})
    assert read_manifest(out).kind == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


def test_refusals(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        check_writable(tmp_path / "file")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a").write_text("x")
    with pytest.raises(ConfigError, match="not a cpnsim dataset"):
        check_writable(tmp_path / "dir")
    (tmp_path / "empty").mkdir()
    check_writable(tmp_path / "empty")  # an empty directory is fine


def test_reading_something_else_is_a_schema_error(tmp_path):
    with pytest.raises(SchemaError, match="not a cpnsim dataset"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"other": 1}))
    with pytest.raises(SchemaError, match="no 'cpnsim' key"):
        read_manifest(tmp_path)
    out = write_dataset(tmp_path / "d", _tables(), {})
    with pytest.raises(SchemaError, match=r"no table 'jobs' \(tables: runs, sites\)"):
        read_table(out, "jobs")


def test_the_code_revision_comes_from_git_then_env_then_a_file(tmp_path, monkeypatch):
    import subprocess

    from cluster.sweeps.store import code_revision

    monkeypatch.delenv("CPNSIM_REVISION", raising=False)
    revision, reason = code_revision(tmp_path)  # as inside a Ray job: no .git uploaded
    assert revision is None and reason.startswith("unknown: ") and "CPNSIM_REVISION" in reason
    (tmp_path / "REVISION").write_text("abc123\n")
    assert code_revision(tmp_path) == ("abc123", "file REVISION")
    monkeypatch.setenv("CPNSIM_REVISION", "def456")
    assert code_revision(tmp_path) == ("def456", "env CPNSIM_REVISION")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "REVISION"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert code_revision(tmp_path) == (head, "git")
    (tmp_path / "REVISION").write_text("changed\n")
    assert code_revision(tmp_path) == (head + "+dirty", "git")
    assert read_manifest(write_dataset(tmp_path / "d", _tables(), {})).cpnsim.revision_source is not None
