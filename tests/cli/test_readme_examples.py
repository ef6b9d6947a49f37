"""Every `infraplan` command line of the user docs (README.md and docs/*.md) parses with the CLI's own parser, the
fast ones run in process, and (slow: ~100 subprocesses) every runnable one runs as written (issue 17, item 5;
`readme_examples`)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import readme_examples
from readme_examples import parse_error

from infraplan.cli import main
from infraplan.cli.option_synonyms import SYNONYMS

VARIANTS = readme_examples.variants()


def test_the_readme_has_examples_for_every_section() -> None:
    lines = readme_examples.examples()
    assert len(lines) > 20
    assert any("--algorithm ring" in line for line in lines)  # alternatives in [a|b|c] are expanded
    names = {shlex.split(variant)[0] for _, variant in VARIANTS}
    assert names >= {"train", "search", "serve", "serve-plan", "network", "collective", "facility", "campus",
                     "reliability", "validate", "catalog", "schema", "recsys", "video", "fleet-mix", "plan",
                     "compare", "sweep", "results", "--version"}
    assert {"validate --json", "validate --markdown", "catalog systems"} <= {variant for _, variant in VARIANTS}
    assert any(variant.startswith("results") and "--sql" in variant for _, variant in VARIANTS)  # commented out
    assert any("--backend ray" in variant for _, variant in VARIANTS)  # the Ray section's `infraplan` lines


@pytest.mark.parametrize(("where", "variant"), VARIANTS, ids=[f"{where}-{n}" for n, (where, _) in enumerate(VARIANTS)])
def test_readme_command_parses(where: str, variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each user doc's line (`FILE:LINE`), each expansion, through click's `make_context` on the command the CLI
    loads: an option the command lacks, a value its type refuses, a missing argument or an unknown command fails
    here."""
    monkeypatch.chdir(readme_examples.ROOT)
    error = parse_error(shlex.split(variant))
    assert error is None, f"{where}: `infraplan {variant}`: {error}"


def test_the_parse_check_can_fail() -> None:
    """What the check above refuses, and the README's bracket forms it expands."""
    plan = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
            "--global-batch", "64"]
    assert parse_error(plan) is None
    assert "--no-such-option" in (parse_error([*plan, "--no-such-option"]) or "")
    assert parse_error([*plan[:-1], "sixty-four"]) is not None  # not an integer
    assert parse_error(plan[:4]) is not None  # --gpus, --seq-len, --global-batch missing
    assert parse_error(["collective", "--gpus", "8"]) is not None  # no operation
    assert parse_error(["trian", "llama3-8b"]) is not None
    assert parse_error(["--versio"]) is not None
    assert readme_examples.expanded("catalog [systems] [--json]") == ["catalog", "catalog systems", "catalog --json"]
    assert readme_examples.expanded("validate [--json | --markdown]") == [
        "validate", "validate --json", "validate --markdown"]
    assert readme_examples.expanded("x --a 1 [--sim analytical|flow]") == [
        "x --a 1", "x --a 1 --sim analytical", "x --a 1 --sim flow"]


# options of other programs the docs' prose names in code spans (SGLang's, vLLM's) and click's own --help
# (and the other tools' option names the CLI answers with its own, which the README quotes: hW59)
FOREIGN_OPTIONS = {"--enable-mixed-chunk", "--enforce-eager", "--help", *SYNONYMS}


def test_options_the_readme_prose_names_exist() -> None:
    """`COMMAND ... --option` in the user docs' prose names an option of that command; a bare `--option` one of some
    command's (or another program's, listed above)."""
    mentions = readme_examples.prose_options()
    assert sum(command is not None for _, command, _ in mentions) >= 30
    wrong = [f"`{span}`: {command or 'no command'} takes no {option}" for span, command, option in mentions
             if option not in readme_examples.option_names(command) and option not in FOREIGN_OPTIONS]
    assert not wrong, "\n".join(wrong)


# commands whose doc lines take seconds each (validate ~20 CPU-s; plan, compare, fleet-mix and serve-plan solve
# or search for 2-14 CPU-s; a sweep runs a pool of workers; results reads a sweep's folder): parsed above, run only
# by the slow test below, as are the flow simulations and the 24,576-GPU fabric's GraphML (~1 CPU-s each). The
# others take 2-190 ms each in process once their modules are imported (2-core VM, 2026-12-04; ~2 CPU-s in all).
SLOW = ("validate", "plan", "compare", "fleet-mix", "serve-plan", "sweep", "results")
FAST = sorted({variant.removesuffix(" --json") for _, variant in VARIANTS
               if shlex.split(variant)[0] not in SLOW and not variant.startswith("-")
               and "--sim flow" not in variant and "--graphml" not in variant})


def test_fast_readme_commands_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The user docs' lines of the fast commands, in process with --json: exit code 0 and one JSON object each, the
    placeholder inputs made and the files they write (--plot, --graphml) in a temporary folder."""
    monkeypatch.chdir(readme_examples.ROOT)
    readme_examples.make_inputs(tmp_path)
    assert len(FAST) >= 50
    failures = []
    for variant in FAST:
        args = shlex.split(readme_examples.placed(variant, tmp_path))
        capsys.readouterr()
        code = main([*args, "--json"] if args[0] != "schema" else args)  # schema prints JSON Schema itself
        out, err = capsys.readouterr()
        if code != 0:
            failures.append(f"`infraplan {variant} --json`: exit {code}: {err.strip()[:300]}")
        else:
            assert isinstance(json.loads(out), dict), variant
    assert not failures, "\n".join(failures)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("infraplan ")


@pytest.mark.slow
def test_every_readme_example_runs_as_written() -> None:
    assert readme_examples.main() == 0
