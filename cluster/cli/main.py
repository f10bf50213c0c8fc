"""The ``cpnsim`` entry point: builds the parser from the command registry and dispatches.

Anything the CLI does, Python can do: each command only parses, builds a scenario or a
sweep and calls the library.  Bad input of any kind (a
:class:`~topology.plumbing.CpnsimError`) is one line on stderr and exit status 2.

Only the chosen command's module is imported (:mod:`cluster.cli.registry`): ``cpnsim
--help`` lists the commands from the registry alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from cluster.cli.registry import COMMANDS, EXIT_BAD_INPUT, EXIT_INTERRUPTED, CommandModule

__all__ = ["build_parser", "main"]

_CONSOLE_WIDTH = 110
"""Off a terminal rich assumes 80 columns; the tables want a little more."""


class _VersionAction(argparse.Action):
    """``--version``, reading the installed version only when asked (keeps ``--help`` fast)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from cluster.version import build_description, package_version

        sys.stdout.write(f"cpnsim {package_version()} ({build_description()})\n")
        parser.exit()


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The command named on the command line: the first word that is not an option.

    ``cpnsim`` itself takes no option with a value, so that word is the command (argparse
    rejects it later if it is none).
    """
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] = ()) -> tuple[argparse.ArgumentParser, dict[str, CommandModule]]:
    """The ``cpnsim`` parser, with the arguments of the command named in ``argv``.

    Parameters
    ----------
    argv : sequence of str
        The command line (without the program name); the command it names is imported
        and its arguments added, the others are listed by name and help only.

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser.
    loaded : dict of str to CommandModule
        The imported command modules by name (the chosen one, if ``argv`` names one).
    """
    parser = argparse.ArgumentParser(
        prog="cpnsim",
        description="Discrete-event simulator of computing-power networks (East Data West Computing, "
        "GPU clusters, Belt-and-Road compute pools).",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen_command(argv)
    loaded: dict[str, CommandModule] = {}
    for name, command in COMMANDS.items():
        if name != chosen:
            commands.add_parser(name, help=command.help)
            continue
        module = command.load()
        sub = commands.add_parser(name, help=command.help, description=module.DESCRIPTION)
        module.add_arguments(sub)
        loaded[name] = module
    return parser, loaded


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cpnsim`` and ``python -m cluster``; returns the exit status."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser, loaded = build_parser(words)
    args = parser.parse_args(words)
    # Imported after parsing: `cpnsim --help` and `--version` need neither rich nor numpy/pydantic.
    from rich.console import Console

    from topology.plumbing import CpnsimError

    width = None if sys.stdout.isatty() else _CONSOLE_WIDTH
    console = Console(width=width)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else _CONSOLE_WIDTH)
    try:
        return loaded[args.command].run(args, console, err)
    except CpnsimError as exc:
        sys.stderr.write(f"cpnsim: error: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("cpnsim: interrupted\n")
        return EXIT_INTERRUPTED
