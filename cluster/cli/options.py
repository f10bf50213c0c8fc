"""Options several ``cpnsim`` commands share, each defined once here, and the executor they select.

The help text of an option is the same wherever it appears unless the command's meaning
differs (``--out`` is a dataset for ``run``, a file for ``calibrate``); then the command passes
its own ``help``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from topology.plumbing import ConfigError, write_atomic

if TYPE_CHECKING:
    from cluster.sweeps.executors import RayExecutor, SerialExecutor

__all__ = [
    "DATASET_FORMATS",
    "add_executor_options",
    "add_format",
    "add_out",
    "add_overrides",
    "add_quiet",
    "add_scenario",
    "make_executor_from",
    "write_out_file",
]

DATASET_FORMATS = ("arrow", "parquet")
"""``--format`` of a dataset's table files; the first is the default."""


def add_scenario(parser: argparse.ArgumentParser) -> None:
    """Add the optional ``scenario`` file argument (default: the built-in east-west scenario)."""
    parser.add_argument("scenario", nargs="?", help="scenario TOML file (default: the built-in east-west scenario)")


def add_overrides(parser: argparse.ArgumentParser,
                  help: str = "override a scenario key (repeatable)") -> None:
    """Add ``--set KEY.PATH=VALUE`` (repeatable), collected in ``args.overrides``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    help : str
        Help text.
    """
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help=help)


def add_out(parser: argparse.ArgumentParser, help: str, *, required: bool = False,
            metavar: str | None = None) -> None:
    """Add ``--out PATH`` (a :class:`~pathlib.Path` in ``args.out``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    help : str
        What the path is and its default.
    required : bool
        Whether the command needs it.
    metavar : str, optional
        Name of the value in the help (default: ``OUT``).
    """
    parser.add_argument("--out", type=Path, required=required, metavar=metavar, help=help)


def add_quiet(parser: argparse.ArgumentParser, help: str = "print only the output path") -> None:
    """Add ``--quiet`` (``args.quiet``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    help : str
        What is still printed.
    """
    parser.add_argument("--quiet", action="store_true", help=help)


def add_format(parser: argparse.ArgumentParser) -> None:
    """Add ``--format arrow|parquet``, the file format of a dataset's tables (``args.format``)."""
    parser.add_argument("--format", choices=DATASET_FORMATS, default=DATASET_FORMATS[0],
                        help="table file format (default: arrow, i.e. Arrow IPC with zstd)")


def add_executor_options(parser: argparse.ArgumentParser, *,
                         executor_help: str = "ray (default) or serial",
                         batch_size: bool = False, max_retries: bool = False) -> None:
    """Add ``--executor``, ``--address``, ``--num-cpus`` and, if asked, ``--batch-size`` and ``--max-retries``.

    Read back with :func:`make_executor_from`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    executor_help : str
        Help text of ``--executor``.
    batch_size : bool
        Add ``--batch-size`` (scenarios per task).
    max_retries : bool
        Add ``--max-retries`` (reruns of a batch whose Ray worker died).
    """
    from cluster.sweeps.executors import DEFAULT_MAX_RETRIES, EXECUTORS

    parser.add_argument("--executor", choices=EXECUTORS, default=EXECUTORS[0], help=executor_help)
    parser.add_argument("--address", help="Ray cluster address to join (default: $RAY_ADDRESS, else a private one)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the embedded Ray (default: all)")
    if batch_size:
        parser.add_argument("--batch-size", type=int,
                            help="scenarios per task (default: about 4 tasks per CPU, <= 64)")
    if max_retries:
        parser.add_argument("--max-retries", type=int, default=DEFAULT_MAX_RETRIES, metavar="N",
                            help="Ray: times a batch is rerun when its worker process dies (default: "
                            f"{DEFAULT_MAX_RETRIES}); a scenario that raises is a failed row, never retried")


def make_executor_from(args: argparse.Namespace) -> SerialExecutor | RayExecutor:
    """The executor the options of :func:`add_executor_options` select; nothing starts until ``with``.

    Raises
    ------
    ConfigError
        ``--num-cpus`` below 1 or ``--max-retries`` below 0, naming the option.
    """
    from cluster.sweeps.executors import DEFAULT_MAX_RETRIES, make_executor

    return make_executor(args.executor, address=args.address, num_cpus=args.num_cpus,
                         max_retries=getattr(args, "max_retries", DEFAULT_MAX_RETRIES))


def write_out_file(path: Path, text: str) -> None:
    """Write the text a command's ``--out FILE`` asks for, atomically, with normal permissions.

    Parameters
    ----------
    path : Path
        The ``--out`` value; its folder must exist.
    text : str
        The file's content (written as UTF-8).

    Raises
    ------
    ConfigError
        The folder is missing, ``path`` is a directory, or the file cannot be written; one
        line naming ``--out``.  ``path`` keeps what it had before.
    """
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"--out {path}: folder {folder} does not exist")
    if path.is_dir():
        raise ConfigError(f"--out {path}: is a directory")
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ConfigError(f"--out {path}: cannot write: {exc.strerror}") from None
