"""Every option's help states its default once (hI62: `train --help` printed `--dsa-stage`'s "[default: sparse]"
twice, the help text's own and typer's)."""

from __future__ import annotations

import re

import click
import pytest

from infraplan.cli.main import COMMANDS, load_command


@pytest.mark.parametrize("command", COMMANDS)
def test_no_option_states_its_default_twice(command: str) -> None:
    cmd = load_command(command)
    ctx = click.Context(cmd, info_name=command)
    twice = [record[0] for p in cmd.get_params(ctx) if (record := p.get_help_record(ctx))
             and len(re.findall(r"\[default", record[1])) > 1]
    assert not twice, twice
