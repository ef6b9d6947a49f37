"""The hostile-input table behind `test_fuzz.py`, and a script that prints it per command.

Every sub-command of `infraplan.cli.main.COMMANDS` has one small valid command line (`BASES`, each well under a
second). A case replaces one parameter of it (an option, or the positional argument) by one hostile value:
hostile files (binary, directory, empty, scalar YAML, list YAML, a 10,000-character path, a missing folder for
an output), hostile numbers (nan, inf, -inf, -1, 0, 1e12, 20-digit integers) and hostile words (empty, unknown
presets, bad units, inverted ranges). `run_case` calls `infraplan.cli.main.main(argv)` in-process and records
what a user would see: the exit code, stderr, whether an exception escaped (a traceback), the seconds taken and
whether an output file was left behind after a failure. A case that exits 0 in human mode is run again with
`--json`, whose stdout must parse as strict JSON (no NaN/Infinity).

    .venv/bin/python tests/cli/fuzz_table.py            # the per-command table (cases, exit 2, exit 0, ...)
    .venv/bin/python tests/cli/fuzz_table.py --full     # every value on every parameter (slower)
"""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CASE_TIMEOUT_S = 30
"""The issue's bound on one case: anything slower counts as a hang."""
VALIDATE_TIMEOUT_S = 180
"""`validate`'s bound: its first case computes every validation set (33 s alone on the 2-core VM at load 3.6,
2026-12-03; later cases reuse the process-cached report), a run of its own, not a hang."""


def case_timeout_s(command: str) -> int:
    """The seconds past which a case of `command` counts as a hang."""
    return VALIDATE_TIMEOUT_S if command == "validate" else CASE_TIMEOUT_S

BASES: dict[str, list[str]] = {
    "campus": ["campus", "--power", "10MW", "--accelerator", "h100-sxm"],
    "catalog": ["catalog", "systems"],
    "collective": ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "16", "--bytes", "1MiB"],
    "facility": ["facility", "--system", "dgx-h100-superpod"],
    "fleet-mix": ["fleet-mix", "examples/fleet-mix.yaml"],
    "plan": ["plan", "examples/plan-minimal.yaml"],
    "compare": ["compare", "examples/plan-minimal.yaml", "examples/plan-minimal.yaml"],
    "network": ["network", "dgx-h100-superpod", "--gpus", "64"],
    "recsys": ["recsys", "dlrm-low", "--accelerator", "mtia-v1"],
    "results": ["results", "tests/sweep/sample-results", "--pareto", "time_s,busbw_bytes_per_s:max"],
    "reliability": ["reliability", "--system", "meta-rsc", "--gpus", "1024"],
    "schema": ["schema", "train"],
    "web": ["web", "--check", "--port", "18765"],  # --check: resolve and bind once, then exit
    "search": ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "2048",
               "--global-batch", "16"],
    "serve": ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "5", "--requests",
              "50", "--input-len", "100", "--output-len", "50"],
    "serve-plan": ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "1", "--requests", "50",
                   "--max-gpus", "2", "--input-len", "100", "--output-len", "50", "--ttft-slo", "2",
                   "--tpot-slo", "0.2"],
    "sweep": ["sweep", "tests/sweep/tiny.yaml", "--workers", "1",
              "--out", str(Path(tempfile.gettempdir()) / "infraplan-fuzz-sweep")],
    "train": ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len",
              "2048", "--global-batch", "16"],
    "validate": ["validate"],
    "video": ["video", "--device", "msvp"],
}
"""One fast, valid command line per sub-command; a case changes one parameter of it."""

OUTPUT_OPTIONS = ("--plot", "--graphml")
"""Options that write a file: after a failed run, the file they name must not exist."""

NUMBERS = ("nan", "inf", "-inf", "-1", "0", "1e12", "99999999999999999999", "-99999999999999999999", "1e308",
           "0.5")
WORDS = ("", "bogus", "no-such-preset", "512:64:x2", "-5:0.5", "99999999p60", "int2", "10 parsecs", "-1GW",
         "0W", "1e999", "2026:0.3,2026:0.9", "0,0")
FILE_KINDS = ("binary", "binary.json", "directory", "empty", "scalar", "list", "long-path", "missing-folder",
              "bad-csv")
QUICK_VALUES = ("binary", "directory", "empty", "scalar", "list", "long-path", "missing-folder", "nan", "inf",
                "-inf", "-1", "0", "1e12", "99999999999999999999", "", "bogus", "-5:0.5", "1e999")
"""The default (fast) set: at least one of every kind of hostile value named in issue 17."""
OUTPUT_QUICK_VALUES = ("binary", "directory", "empty", "scalar", "list", "long-path", "missing-folder", "nan", "-1",
                       "", "bogus", "1e999")
"""The default set on an output option (`--plot`, `--graphml`): every hostile kind of path, and of the numbers and
words (each a plain file name there: a whole plot written, ~0.1 s with its --json twin) one of each kind (a number,
a leading dash, empty, a word, an overflow); `--full` keeps them all."""


def hostile_files(folder: Path) -> dict[str, str]:
    """The hostile file arguments, created under `folder`: kind -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    binary = bytes(range(256)) * 8
    (folder / "binary.yaml").write_bytes(binary)
    (folder / "binary.json").write_bytes(b"\xff\xfe" + binary)
    (folder / "dir.yaml").mkdir(exist_ok=True)
    (folder / "empty.yaml").write_text("")
    (folder / "scalar.yaml").write_text("42\n")
    (folder / "list.yaml").write_text("- 1\n- 2\n")
    (folder / "bad.csv").write_text("arrival_s,input_tokens\nx,-1\n")
    return {
        "binary": str(folder / "binary.yaml"),
        "binary.json": str(folder / "binary.json"),
        "directory": str(folder / "dir.yaml"),
        "empty": str(folder / "empty.yaml"),
        "scalar": str(folder / "scalar.yaml"),
        "list": str(folder / "list.yaml"),
        "long-path": str(folder / ("a" * 10_000 + ".yaml")),
        "missing-folder": str(folder / "no-such-folder" / "out.html"),
        "bad-csv": str(folder / "bad.csv"),
    }


@dataclass(frozen=True)
class Case:
    command: str
    param: str
    value_kind: str
    argv: tuple[str, ...]
    output_path: str | None = None


@dataclass
class Outcome:
    case: Case
    code: int | None
    stderr: str
    seconds: float
    traceback: str | None = None
    left_file: bool = False
    json_problem: str | None = None
    problems: list[str] = field(default_factory=list)


def parameters(command: str) -> list[tuple[str, bool]]:
    """(name, is_flag) of every parameter: '--opt' for an option, '#0' for the first positional argument."""
    from infraplan.cli.main import load_command

    params = []
    positional = 0
    for p in load_command(command).params:
        if type(p).__name__.endswith("Argument"):
            params.append((f"#{positional}", False))
            positional += 1
        else:
            params.append((p.opts[0], bool(getattr(p, "is_flag", False))))
    return params


def _replace(base: list[str], param: str, value: str) -> list[str]:
    argv = list(base)
    if param.startswith("#"):
        index = 1 + int(param[1:])
        if index < len(argv) and not argv[index].startswith("-"):
            argv[index] = value
        else:
            argv.insert(index, value)
        return argv
    if param in argv:
        i = argv.index(param)
        del argv[i:i + 2]
    return [*argv, f"{param}={value}"]


def cases(folder: Path, full: bool = False, commands: list[str] | None = None) -> Iterator[Case]:
    """Every (command, parameter, hostile value) case; `full` uses every value, else `QUICK_VALUES`."""
    files = hostile_files(folder)
    values: dict[str, str] = {**files, **{v: v for v in (*NUMBERS, *WORDS)}}
    kinds = [*FILE_KINDS, *NUMBERS, *WORDS] if full else list(QUICK_VALUES)
    for command in commands or list(BASES):
        base = BASES[command]
        for param, is_flag in parameters(command):
            if is_flag:
                # validate's --json is its base run's twin; --write-error-bands rewrites the package's catalog file
                if command != "validate" or param not in ("--json", "--write-error-bands"):
                    yield Case(command, param, "flag", (*base, param))
                continue
            for kind in kinds if full or param not in OUTPUT_OPTIONS else OUTPUT_QUICK_VALUES:
                value = values[kind]
                output = None
                if param in OUTPUT_OPTIONS:
                    output = value
                yield Case(command, param, kind, tuple(_replace(base, param, value)), output)
            if param in OUTPUT_OPTIONS:  # a valid output path too: it must be written whole, or not at all
                path = str(folder / f"{command}-out{'.graphml' if param == '--graphml' else '.html'}")
                with contextlib.suppress(OSError):
                    Path(path).unlink()
                yield Case(command, param, "valid-output", tuple(_replace(base, param, path)), path)


class CaseTimeout(BaseException):
    """Raised by the alarm when one case runs past `CASE_TIMEOUT_S` (not an Exception: nothing may swallow it)."""


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except OSError:  # a name too long to exist
        return False


def _strict_json(text: str) -> str | None:
    def refuse(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    try:
        json.loads(text, parse_constant=refuse)
    except ValueError as exc:
        return str(exc)[:120]
    return None


def _call(argv: list[str], bound_s: int = CASE_TIMEOUT_S) -> tuple[int | None, str, str, str | None, float]:
    from infraplan.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    tb = None
    code: int | None = None
    start = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(bound_s)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except CaseTimeout:
        tb = f"hang: more than {bound_s} s"
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        tb = f"SystemExit({exc.code!r}) escaped main()"
    except BaseException:
        tb = traceback.format_exc()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, out.getvalue(), err.getvalue(), tb, time.perf_counter() - start


def run_case(case: Case) -> Outcome:
    """Run one case (and its --json twin when it succeeds) and list every broken promise in `problems`."""
    existed = bool(case.output_path) and _exists(str(case.output_path))
    bound_s = case_timeout_s(case.command)
    code, _, err, tb, seconds = _call(list(case.argv), bound_s)
    outcome = Outcome(case, code, err, seconds, tb)
    if tb is None and "Traceback" in err:
        outcome.traceback = err
    if outcome.traceback is not None:
        outcome.problems.append("traceback: " + outcome.traceback.strip().splitlines()[-1][:160])
    allowed = {0, 1, 2} if case.command == "validate" else {0, 2}
    if outcome.traceback is None and code not in allowed:
        outcome.problems.append(f"exit code {code}")
    if code == 2 and len(err.strip().splitlines()) != 1:
        outcome.problems.append(f"{len(err.strip().splitlines())} lines on stderr for exit 2")
    if seconds > bound_s:
        outcome.problems.append(f"took {seconds:.0f} s")
    if code != 0 and case.output_path and not existed and _exists(case.output_path):
        outcome.left_file = True
        outcome.problems.append("output file left behind after a failure")
    if code == 0 and "--json" not in case.argv and any(p == "--json" for p, _ in parameters(case.command)):
        jcode, jout, jerr, jtb, _ = _call([*case.argv, "--json"], bound_s)
        if jtb is not None or "Traceback" in jerr:
            outcome.json_problem = "traceback with --json: " + (jtb or jerr).strip().splitlines()[-1][:160]
        elif jcode == 0:
            outcome.json_problem = _strict_json(jout)
        elif jcode != 2 or len(jerr.strip().splitlines()) != 1:
            outcome.json_problem = f"--json exit {jcode}"
        if outcome.json_problem:
            outcome.problems.append(outcome.json_problem)
    return outcome


def run_all(full: bool = False, commands: list[str] | None = None) -> list[Outcome]:
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):  # hostile output names land there
        return [run_case(c) for c in cases(Path(tmp), full, commands)]


def table(outcomes: list[Outcome]) -> str:
    """Markdown table per command: cases, exit 2, exit 0, exit 1, tracebacks (incl. --json), hangs, other problems."""
    rows = ["| command | cases | exit 2 | exit 0 | exit 1 | tracebacks | hangs | other problems | slowest |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    totals: Counter[str] = Counter()
    for command in BASES:
        mine = [o for o in outcomes if o.case.command == command]
        if not mine:
            continue
        count: Counter[str] = Counter()
        for o in mine:
            count["cases"] += 1
            count[f"exit {o.code}"] += 1
            hang = o.traceback is not None and o.traceback.startswith("hang")
            count["hangs"] += hang
            tracebacks = (o.traceback is not None and not hang) or (o.json_problem or "").startswith("traceback")
            count["tracebacks"] += tracebacks
            count["other"] += bool(o.problems) and not tracebacks and not hang
        slowest = max(o.seconds for o in mine)
        rows.append(f"| {command} | {count['cases']} | {count['exit 2']} | {count['exit 0']} | {count['exit 1']} | "
                    f"{count['tracebacks']} | {count['hangs']} | {count['other']} | {slowest:.1f} s |")
        totals.update(count)
    rows.append(f"| **all** | {totals['cases']} | {totals['exit 2']} | {totals['exit 0']} | {totals['exit 1']} | "
                f"{totals['tracebacks']} | {totals['hangs']} | {totals['other']} | |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    full = "--full" in argv
    commands = [a for a in argv if not a.startswith("-")] or None
    start = time.perf_counter()
    outcomes = run_all(full, commands)
    print(table(outcomes))
    print(f"\n{len(outcomes)} cases in {time.perf_counter() - start:.1f} s")
    for o in outcomes:
        for problem in o.problems:
            print(f"- {o.case.command} {o.case.param}={o.case.value_kind}: {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
