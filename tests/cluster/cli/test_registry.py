"""The command registry: every command module keeps the contract; a name is registered once."""

import pytest

from cluster.cli.registry import COMMANDS, register


def test_every_registered_module_provides_the_command_contract():
    for command in COMMANDS.values():
        module = command.load()
        assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION
        assert callable(module.add_arguments) and callable(module.run), command.name


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match=r"cpnsim command 'run' is registered already \(by cluster\.cli\.run\)"):
        register("run", "again", "cluster.cli.run")
    assert COMMANDS["run"].module == "cluster.cli.run"
