"""Options shared by several commands: defined once, read back the same way everywhere."""

import argparse
from pathlib import Path

import pytest

from cluster.cli.options import (
    add_executor_options,
    add_format,
    add_out,
    add_quiet,
    make_executor_from,
    write_out_file,
)
from cluster.sweeps.executors import DEFAULT_MAX_RETRIES, RayExecutor, SerialExecutor
from topology.plumbing import ConfigError


def _parser(**executor: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_out(parser, "where")
    add_quiet(parser)
    add_format(parser)
    add_executor_options(parser, **executor)
    return parser


def test_defaults_and_types():
    args = _parser(batch_size=True, max_retries=True).parse_args(["--out", "x"])
    assert args.out == Path("x") and args.quiet is False and args.format == "arrow"
    assert (args.executor, args.address, args.num_cpus, args.batch_size) == ("ray", None, None, None)
    assert args.max_retries == DEFAULT_MAX_RETRIES


def test_optional_executor_options_are_left_out():
    args = _parser().parse_args([])
    assert not hasattr(args, "batch_size") and not hasattr(args, "max_retries")


def test_make_executor_from_builds_the_chosen_executor():
    assert isinstance(make_executor_from(_parser().parse_args(["--executor", "serial"])), SerialExecutor)
    ray = make_executor_from(_parser(max_retries=True).parse_args(["--num-cpus", "2", "--max-retries", "0"]))
    assert isinstance(ray, RayExecutor)  # nothing started: Ray comes up only inside `with`


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--num-cpus", "0"], "--num-cpus: must be >= 1, got 0"),
     (["--max-retries", "-1"], "--max-retries: must be >= 0, got -1")],
)
def test_make_executor_from_refuses_bad_values(args, message):
    with pytest.raises(ConfigError, match=message):
        make_executor_from(_parser(max_retries=True).parse_args(args))


def test_write_out_file_refuses_a_directory_and_a_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"--out .*: is a directory"):
        write_out_file(tmp_path, "x")
    with pytest.raises(ConfigError, match=r"--out .*/no/f\.txt: folder .*/no does not exist"):
        write_out_file(tmp_path / "no" / "f.txt", "x")
    write_out_file(tmp_path / "f.txt", "text é")
    assert (tmp_path / "f.txt").read_text(encoding="utf-8") == "text é"
