"""A new user's first hour (hU57): what `infraplan --help`, `infraplan schema` and `infraplan catalog` answer to
the first things such a user types."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun

from infraplan.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def test_every_command_row_of_the_help_says_what_it_does(cli: CliRun) -> None:
    # click cuts a row's help at a word that does not fit: "Search every valid TP/CP/PP/.../dtype plan" printed
    # "search  Search every valid..." (19 characters, the rest one long word)
    code, out, _ = cli(["--help"])
    assert code == 0
    rows = dict(re.findall(r"^  ([a-z-]+) +(.+)$", out.split("Commands:")[1], flags=re.M))
    assert set(rows) == set(COMMANDS)
    short = {name: text for name, text in rows.items() if len(text.removesuffix("...")) < 40}
    assert not short, short


@pytest.mark.parametrize(("words", "title"), [
    (["train", "--tokens"], "TrainingRunResult"),
    (["campus", "--fleet"], "FleetSitesResult"),
    (["search", "--gpus", "A,B"], "ScalingResult"),
    (["train --tokens"], "TrainingRunResult"),  # quoted, as before
    (["train"], "TrainingEstimate"),
])
def test_schema_takes_a_variant_as_schema_list_prints_it(cli: CliRun, words: list[str], title: str) -> None:
    # `schema --list` prints "train --tokens"; typing it after `schema` was "No such option: --tokens"
    code, out, err = cli(["schema", *words])
    assert code == 0, err
    assert json.loads(out)["title"] == title


def test_schema_of_an_unknown_variant_is_one_line(cli: CliRun) -> None:
    code, out, err = cli(["schema", "train", "--bogus"])
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "'train --bogus'" in err and "did you mean 'train --tokens'" in err


@pytest.mark.parametrize(("args", "hint"), [
    (["catalog", "model", "llama3-8b"], "did you mean models?"),  # the kind in the singular
    (["catalog", "model"], "did you mean models?"),
    (["catalog", "models", "llama3-8"], "did you mean llama3-8b"),  # a name cut short
    (["catalog", "locations", "ohi"], "did you mean ohio?"),
])
def test_catalog_names_the_close_match(cli: CliRun, args: list[str], hint: str) -> None:
    # the catalog listed every name without a did-you-mean, unlike every other command's preset lookup
    code, out, err = cli(args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and hint in err and "known: " in err


def test_catalog_prints_what_a_what_if_file_resolves_to(cli: CliRun) -> None:
    # `catalog accelerators FILE` was "unknown accelerators entry": a user could not see what their file resolves to
    code, out, err = cli(["catalog", "accelerators", str(ROOT / "examples/hardware/h100-hbm-plus50.yaml")])
    assert code == 0, err
    what_if = json.loads(out)
    code, out, err = cli(["catalog", "accelerators", "h100-sxm"])
    preset = json.loads(out)
    assert preset["memory_bandwidth_bytes_per_s"] == "3.35TB/s"  # the preset as written
    assert what_if["memory_bandwidth_bytes_per_s"] == pytest.approx(1.5 * 3.35e12)  # the file's +50 %, in SI
    assert what_if["tdp_w"] == 700.0 and what_if["name"] == "h100-hbm-plus50"  # the rest is the preset's
    code, out, err = cli(["catalog", "models", str(ROOT / "src/infraplan/catalog/models/llama3-8b.json")])
    assert code == 0 and json.loads(out)["num_layers"] == 32  # config.json's num_hidden_layers, as train reads it
    code, out, err = cli(["catalog", "accelerators", str(ROOT / "examples/hardware/gb200-nvl144-superpod.yaml")])
    assert (code, out) == (2, "") and err.count("\n") == 1 and "is a system file" in err  # (hA50: names the file kind)


def test_every_catalog_kind_reads_a_file(cli: CliRun) -> None:
    from infraplan.catalog.index import kinds
    from infraplan.cli.commands.catalog import FILE_READERS

    assert set(FILE_READERS) == set(kinds())
    chat = ROOT / "src/infraplan/catalog/workloads/chat.yaml"
    code, out, err = cli(["catalog", "workloads", str(chat)])
    assert code == 0, err
    assert json.loads(out)["name"] == "chat"  # the file's stem, as `serve --workload FILE` names it


@pytest.mark.parametrize(("command", "options"), [
    ("reliability", ["--days", "--restart-s", "--repair-time"]),
    ("serve", ["--ttft-slo", "--tpot-slo"]),
    ("serve-plan", ["--ttft-slo", "--tpot-slo"]),
])
def test_options_that_read_a_unit_do_not_say_float(cli: CliRun, command: str, options: list[str]) -> None:
    # `--ttft-slo <float>` beside "seconds, or 200ms": the metavar said a unit could not be given
    code, out, _ = cli([command, "--help"])
    assert code == 0
    for option in options:
        assert f"{option} <number|duration>" in out
    code, _, err = cli(["reliability", "--system", "meta-rsc", "--gpus", "64", "--days", "2w", "--restart-s", "10min",
                        "--json"])
    assert code == 0, err
