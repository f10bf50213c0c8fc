"""The registry of ``cpnsim`` subcommands: name, one-line help and the module that implements each.

A command module is imported only when its command is chosen, so ``cpnsim --help`` and the
commands that do not need them never import scipy, matplotlib, Ray, SALib or pyarrow.dataset.
Every command module provides (see :class:`CommandModule`):

- ``DESCRIPTION``: the paragraph ``cpnsim COMMAND --help`` prints;
- ``add_arguments(parser)``: adds the command's options to its ``argparse`` parser;
- ``run(args, console, err)``: does the work and returns the exit status.

Adding a command is one module with those three names plus one :func:`register` line below.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_CHECK_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "Command",
    "CommandModule",
    "register",
]

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
"""A check failed or a target was not reached (``validate``, ``search capacity``)."""
EXIT_BAD_INPUT = 2
"""Bad input of any kind: one line on stderr, nothing written."""
EXIT_INTERRUPTED = 130
"""Ctrl-C: 128 + SIGINT, as shells report it."""


class CommandModule(Protocol):
    """What a command module provides to the registry."""

    DESCRIPTION: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's arguments to ``parser``."""

    def run(self, args: argparse.Namespace, console: Console, err: Console) -> int:
        """Run the command; bad input raises :class:`~topology.plumbing.CpnsimError` (exit status 2)."""


@dataclass(frozen=True)
class Command:
    """One ``cpnsim`` subcommand.

    Attributes
    ----------
    name : str
        What the user types after ``cpnsim``.
    help : str
        The one line ``cpnsim --help`` prints beside the name.
    module : str
        Dotted name of the :class:`CommandModule` that implements it, imported on first use.
    """

    name: str
    help: str
    module: str

    def load(self) -> CommandModule:
        """Import the command's module (and so its dependencies)."""
        return cast(CommandModule, import_module(self.module))


COMMANDS: dict[str, Command] = {}
"""Registered commands by name, in the order ``cpnsim --help`` lists them."""


def register(name: str, help: str, module: str) -> Command:
    """Add a command to :data:`COMMANDS`.

    Parameters
    ----------
    name : str
        Command name.
    help : str
        One-line help.
    module : str
        Dotted module name implementing :class:`CommandModule`.

    Returns
    -------
    Command
        The registered command.

    Raises
    ------
    ValueError
        If ``name`` is registered already.
    """
    if name in COMMANDS:
        raise ValueError(f"cpnsim command {name!r} is registered already (by {COMMANDS[name].module})")
    command = Command(name, help, module)
    COMMANDS[name] = command
    return command


register("run", "run one scenario and write its Arrow dataset", "cluster.cli.run")
register("sweep", "run a sweep of scenarios (on Ray by default) into one Arrow dataset", "cluster.cli.sweep")
register("validate", "check the engine against queueing theory and conservation laws", "cluster.cli.validate")
register("topology", "list, show or export networks (built-in or a .toml/.json/.graphml file)",
         "cluster.cli.topology")
register("calibrate", "fit the adoption model's p0, q0 to observed adoption points", "cluster.cli.calibrate")
register("report", "write a self-contained HTML report (plots and tables) of a run or sweep dataset",
         "cluster.cli.report")
register("analyze", "analyse a sweep dataset (Sobol' sensitivity indices)", "cluster.cli.analyze")
register("search", "search for the least capacity that reaches a target", "cluster.cli.search")
