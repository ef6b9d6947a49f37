"""The user docs' `infraplan` command lines (README.md and docs/*.md, `tests/user_docs.py`): every one, its optional
parts expanded, parsed by the CLI's own parser (`parse_error`), and the runnable ones run as written (issue 17, item
5; `main` reports what fails).

A command line is a line of a fenced code block that starts `.venv/bin/infraplan ` or `infraplan ` (the Ray
section's cluster lines), or such a line commented out with `# ` (the `results --sql` example), joined over
trailing backslashes, its trailing `# comment` dropped. Its optional parts in brackets are expanded as the README
means them: the line without any, then the line with each one; an alternative list is one line per alternative
(`[--cooling air|liquid|immersion]`, `[--json | --markdown]`), a bare word a positional (`catalog [systems]`).

`examples()` are the lines `main` runs: not a `[--json]` / `[--markdown]` variant of a line run bare, not the Ray
cluster lines (they need a cluster), not a commented-out line, each distinct line once (README's short list repeats
lines of docs/usage.md and the topic pages; the first file's line runs, in `user_docs` order). The placeholder
files the docs name (`path/to/config.json`, `requests.csv`) are created in a temporary folder and the files a line
writes go there.
Every example runs with COLUMNS=100 and must exit 0 (validate: 0 or 1), print no traceback and no cut cell ("…").

    .venv/bin/python tests/cli/readme_examples.py
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer

from infraplan.cli.main import COMMANDS, app, load_command

try:
    from tests.user_docs import README, relative, user_docs
except ModuleNotFoundError:  # run as a script, `python tests/cli/readme_examples.py`: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.user_docs import README, relative, user_docs

try:  # the click that typer uses (typer >= 0.2x vendors it), as infraplan.cli.main imports it
    from typer import _click as click
except ImportError:  # pragma: no cover - depends on the installed typer
    import click  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = (".venv/bin/infraplan ", "infraplan ")
MISTRAL = ('{"model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, '
           '"num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000, '
           '"max_position_embeddings": 32768}')
OUTPUTS = ("scaling.html", "campus.html", "fabric.graphml")  # files README lines write in the working folder


def command_lines(doc: Path = README) -> list[tuple[int, str, bool]]:
    """(line number in `doc`, the command after `infraplan`, whether the line is commented out) of each command
    line in a fenced code block of one user doc (README.md or a docs/ page)."""
    found: list[tuple[int, str, bool]] = []
    lines = doc.read_text().splitlines()
    fenced, index = False, 0
    while index < len(lines):
        stripped = lines[index].strip()
        commented = stripped.startswith("# ")
        body = stripped[2:] if commented else stripped
        if stripped.startswith("```"):
            fenced = not fenced
        elif fenced and body.startswith(PREFIXES):
            start, parts = index + 1, [body]
            while parts[-1].endswith("\\") and index + 1 < len(lines):
                parts[-1] = parts[-1][:-1]
                index += 1
                parts.append(lines[index].strip())
            joined = re.sub(r"\s+#\s.*$", "", " ".join(part.strip() for part in parts))  # no README line quotes a #
            found.append((start, joined.split("infraplan ", 1)[1].strip(), commented))
        index += 1
    return found


def expanded(command: str) -> list[str]:
    """The command without its bracketed parts, then with each one (an alternative list: once per alternative)."""
    groups = [group.strip() for group in re.findall(r"\[([^\]]*)\]", command)]
    bare = re.sub(r"\s*\[[^\]]*\]", "", command).strip()
    lines = [bare]
    for group in groups:
        if " | " in group:  # [--json | --markdown]
            lines += [f"{bare} {choice.strip()}" for choice in group.split(" | ")]
        elif match := re.fullmatch(r"(--\S+) (\S+\|\S+)", group):  # [--sim analytical|flow]
            lines += [f"{bare} {match.group(1)} {choice}" for choice in match.group(2).split("|")]
        else:
            lines.append(f"{bare} {group}")
    return lines


def variants(docs: list[Path] | None = None) -> list[tuple[str, str]]:
    """(`FILE:LINE`, command after `infraplan`) for every expansion of every command line of `docs` (default: the
    user docs, `user_docs()`)."""
    return [(f"{relative(doc)}:{line}", variant) for doc in (user_docs() if docs is None else docs)
            for line, command, _ in command_lines(doc) for variant in expanded(command)]


def examples(docs: list[Path] | None = None) -> list[str]:
    """The lines `main` runs, as `.venv/bin/infraplan ...`, each once (module docstring)."""
    lines: list[str] = []
    for doc in user_docs() if docs is None else docs:
        for _, command, commented in command_lines(doc):
            if commented or "--backend ray" in command:
                continue
            bare, *optional = expanded(command)
            lines += [f".venv/bin/infraplan {line}" for line in [bare, *optional]
                      if line == bare or line.removeprefix(bare).strip() not in ("--json", "--markdown")]
    return list(dict.fromkeys(lines))


def parse_error(args: list[str]) -> str | None:
    """None when `infraplan ARGS` parses with the CLI's own parser (nothing runs; an eager `--version` prints),
    else click's message: an option the command lacks, a value its type refuses, a missing argument, no such
    command."""
    try:
        if args and args[0].startswith("-"):
            typer.main.get_command(app).make_context("infraplan", list(args))
            return None
        name, *rest = args
        if name not in COMMANDS:
            return f"no command {name!r}"
        load_command(name).make_context(name, rest)
    except typer.Exit as stop:
        return None if stop.exit_code == 0 else f"exit {stop.exit_code}"
    except click.exceptions.UsageError as error:
        return error.format_message()
    return None


def prose_options(docs: list[Path] | None = None) -> list[tuple[str, str | None, str]]:
    """(the `code span`, the command it names or None, an option it names) for each `--option` in a code span of
    the user docs' prose (outside the fenced blocks): `serve-plan --percentile`, `train --zero-shard N`, a bare
    `--no-mfu-guard`."""
    prose = "\n".join(re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
                      for doc in (user_docs() if docs is None else docs))
    found: list[tuple[str, str | None, str]] = []
    for span in re.findall(r"`([^`\n]+)`", prose):
        words = span.removeprefix("infraplan ").split()
        command = words[0] if words and words[0] in COMMANDS else None
        found += [(span, command, option) for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", span)]
    return found


def option_names(command: str | None) -> set[str]:
    """The options `infraplan COMMAND` takes; for None, those of every command and the root's."""
    commands = [load_command(command)] if command else [typer.main.get_command(app),
                                                         *(load_command(name) for name in COMMANDS)]
    return {name for each in commands for param in each.params for name in (*param.opts, *param.secondary_opts)}


def placed(line: str, folder: Path) -> str:
    """The line with the README's placeholder inputs and its output files in `folder` (see `make_inputs`)."""
    line = line.replace("path/to/config.json", str(folder / "config.json"))
    line = line.replace("requests.csv", str(folder / "requests.csv"))
    for output in OUTPUTS:
        line = line.replace(output, str(folder / output))
    return line


def make_inputs(folder: Path) -> None:
    """The README's placeholder files: a Mistral-7B-shaped config.json and a 200-request trace."""
    (folder / "config.json").write_text(MISTRAL)
    (folder / "requests.csv").write_text("arrival_s,input_tokens,output_tokens\n" +
                                         "".join(f"{i * 0.1:.1f},{500 + i},{100 + i}\n" for i in range(200)))


def run(line: str, folder: Path, timeout_s: float = 120.0) -> tuple[int | None, float, str]:
    argv = shlex.split(placed(line, folder))
    argv[0] = str(ROOT / ".venv" / "bin" / "infraplan")
    env = {**os.environ, "COLUMNS": "100"}
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start, "timeout"
    seconds = time.perf_counter() - start
    problem = ""
    if "Traceback" in done.stderr:
        problem = "traceback: " + done.stderr.strip().splitlines()[-1]
    elif done.returncode not in ((0, 1) if argv[1] == "validate" else (0,)):
        problem = done.stderr.strip()[:200]
    elif "…" in done.stdout:
        problem = "a cell is cut at 100 columns"
    return done.returncode, seconds, problem


def main() -> int:
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_inputs(folder)
        for line in examples():
            code, seconds, problem = run(line, folder)
            failures += bool(problem)
            print(f"{'FAIL' if problem else 'ok  '} {seconds:6.1f} s  exit {code}  {line[20:110]}"
                  + (f"\n      {problem}" if problem else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
