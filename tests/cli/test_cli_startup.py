"""The lazy CLI: `--help` and `--version` import no model code; every table entry loads the command it names."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import pytest

import infraplan
from infraplan.cli import main
from infraplan.cli.main import COMMANDS, load_command

HEAVY = ("numpy", "scipy", "pydantic", "networkx", "plotly", "rich", "infraplan.training", "infraplan.catalog")


def _modules_after(args: list[str]) -> set[str]:
    """Modules loaded by a fresh interpreter that runs `infraplan ARGS` in-process."""
    code = ("import sys; from infraplan.cli.main import main; code = main(sys.argv[1:]); "
            "print('\\n'.join(sorted(sys.modules))); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "120"})
    return set(done.stdout.split())


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_model_code(args):
    loaded = _modules_after(args)
    assert "typer" in loaded  # the probe works
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]


def test_version_flag_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"infraplan {infraplan.__version__}"


def test_help_lists_every_command_with_its_table_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, command in COMMANDS.items():
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert command.help.split()[0] in line


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_entry_matches_its_command(name):
    """The table's help is the command function's docstring (one line), and the loaded command has the name."""
    module_name, _, function = COMMANDS[name].target.partition(":")
    doc = inspect.getdoc(getattr(importlib.import_module(module_name), function)) or ""
    assert COMMANDS[name].help == doc.splitlines()[0]
    command = load_command(name)
    assert command.name == name
    assert command.params  # a real command with its options, not a placeholder


def test_every_command_module_is_in_the_table():
    import pkgutil

    import infraplan.cli.commands as commands

    modules = {m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")}
    assert modules == {entry.target.split(":")[0].rsplit(".", 1)[1] for entry in COMMANDS.values()}


def test_a_subcommand_help_loads_that_command(capsys):
    assert main(["video", "--help"]) == 0
    assert "--device" in capsys.readouterr().out


def test_typo_suggests_the_command_and_exits_2(capsys):
    assert main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Did you mean 'train'" in err


def test_shell_completion_completes_commands_from_the_table():
    env = {**os.environ, "_INFRAPLAN_COMPLETE": "complete_bash", "COMP_WORDS": "infraplan serv", "COMP_CWORD": "1"}
    code = "import sys; from infraplan.cli.main import app; app(prog_name='infraplan')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["serve", "serve-plan"]


def test_training_choices_mirror_the_training_enums():
    from typing import get_args

    from infraplan.cli import options
    from infraplan.training import enums

    assert get_args(options.TrainDtype) == enums.Dtype.labels()
    assert get_args(options.Recompute) == (*enums.Recompute.labels(), "auto")  # auto: the least that fits
    assert get_args(options.Attention) == enums.Attention.labels()
    assert get_args(options.RankOrder) == enums.RankOrder.labels()
    assert get_args(options.PipelineSchedule) == enums.Schedule.labels()


def test_a_word_outside_the_choices_is_one_line_and_exit_2(capsys):
    args = ["train", "llama3-8b", "--system", "meta-rsc", "--gpus", "8", "--seq-len", "2048", "--global-batch", "8",
            "--recompute", "sometimes"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'sometimes' is not one of" in err and "'selective'" in err


def test_choices_complete_in_the_shell():
    env = {**os.environ, "_INFRAPLAN_COMPLETE": "complete_bash", "COMP_WORDS": "infraplan train --recompute s",
           "COMP_CWORD": "3"}
    code = "import sys; from infraplan.cli.main import app; app(prog_name='infraplan')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.stdout.split() == ["selective"]
