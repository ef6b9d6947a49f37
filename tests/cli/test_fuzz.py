"""Fuzz the CLI (issue 17): no traceback on any input, one line and exit 2 for every rejection, nothing half-written.

The hostile table (`fuzz_table.py`: binary/directory/empty/scalar/list files, a 10,000-character path, a missing
output folder, nan, inf, -1, 0, 1e12, 20-digit integers, bad units, unknown presets) is run on every parameter of
every sub-command; hypothesis adds random text and numbers. `python tests/cli/fuzz_table.py` prints the table.
"""

from __future__ import annotations

import os
import stat

import pytest
from fuzz_table import BASES, Case, _replace, case_timeout_s, cases, parameters, run_all, run_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.cli import main
from infraplan.cli.main import COMMANDS


def test_the_table_covers_every_command_and_every_option(tmp_path) -> None:
    assert set(BASES) == set(COMMANDS)
    covered = {(c.command, c.param) for c in cases(tmp_path)}
    for command in COMMANDS:
        for param, _ in parameters(command):
            if (command, param) not in (("validate", "--json"), ("validate", "--write-error-bands")):  # fuzz_table
                assert (command, param) in covered


@pytest.mark.parametrize("command", list(BASES))  # validate: its --json twin reuses the process-cached report
def test_hostile_values_on_every_option(command: str) -> None:
    outcomes = run_all(commands=[command])
    problems = [f"{o.case.param}={o.case.value_kind}: {p}" for o in outcomes for p in o.problems]
    assert not problems, "\n".join(problems[:20])
    assert max(o.seconds for o in outcomes) < case_timeout_s(command)
    if command not in ("validate", "schema"):
        assert sum(o.code == 2 for o in outcomes) > len(outcomes) // 2  # the table is hostile: most are refused


@pytest.mark.slow
def test_every_hostile_value_on_every_option() -> None:
    problems = [f"{o.case.command} {o.case.param}={o.case.value_kind}: {p}" for o in run_all(full=True)
                for p in o.problems]
    assert not problems, "\n".join(problems[:20])


_NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "-0", "0x10", "1_000", " 8 ", "8.0", "1e3"]),
)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_UNITS = st.builds(lambda n, u: f"{n}{u}", st.floats(allow_nan=True, allow_infinity=True).map(repr),
                   st.sampled_from(["W", "kW", "GW", "GiB", "MB", "Gbps", "ms", "s", "T", "M", "p60", "xW", "%"]))


@pytest.mark.parametrize("command", [c for c in BASES if c != "validate"])
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_values_never_give_a_traceback(command: str, data: st.DataObject, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a random --plot/--graphml name that is valid writes there, not into the repo
    params = [p for p, is_flag in parameters(command) if not is_flag]
    param = data.draw(st.sampled_from(params), label="param")
    value = data.draw(st.one_of(_NUMBERS, _TEXT, _UNITS), label="value")
    base = BASES[command]
    # an option of the base replaced, not given again (hW51: a repeated option is refused before its value is read)
    argv = [*base[:1], value, *base[2:]] if param == "#0" else _replace(base, param, value)
    outcome = run_case(Case(command, param, "hypothesis", tuple(argv)))
    assert not outcome.problems, outcome.problems


# --- the cases issue 17 names, each with the reason the user should read --------------------------------------
TRAIN = BASES["train"]
SERVE = BASES["serve"]
SEARCH = BASES["search"]
ISSUE_CASES = [
    (["facility", "--system", "dgx-h100-superpod", "--pue", "0.5"], "--pue"),
    (["facility", "--system", "dgx-h100-superpod", "--pue", "0"], "--pue"),
    (["facility", "--system", "dgx-h100-superpod", "--pue", "nan"], "--pue"),
    (["facility", "--system", "dgx-h100-superpod", "--electricity-price", "-5"], "--electricity-price"),
    (["facility", "--system", "dgx-h100-superpod", "--server-price", "-1"], "--server-price"),
    (["serve-plan", *BASES["serve-plan"][1:], "--rate", "inf"], "--rate"),
    (["video", "--device", "msvp", "--daily-hours", "inf"], "--daily-hours"),
    ([*SERVE, "--seed", "-1"], "--seed"),
    ([*BASES["collective"], "--seed", "-1"], "--seed"),
    ([*_replace(SERVE, "--requests", "1e12")[:-1], "--requests", "1e12"], "10 M requests"),  # replaced: hW51
    ([*SERVE, "--kv-dtype", "int2"], "--kv-dtype"),
    ([*SEARCH[:5], "512:64:x2", *SEARCH[6:]], "range must go up"),
    ([*SEARCH, "--top", "100000"], "1,000 plans"),
    ([*SERVE, "--max-batch", "0"], "--max-batch"),
    (["serve-plan", *BASES["serve-plan"][1:], "--max-gpus", "0"], "--max-gpus"),
    ([*SERVE, "--usd-per-hour", "-2"], "--usd-per-hour"),
    (["reliability", "--system", "meta-rsc", "--gpus", "1024", "--checkpoint-size", "0"], "--checkpoint-size"),
    ([*SEARCH[:7], "0", *SEARCH[8:]], "--seq-len"),
    (["campus", "--power", "10MW", "--accelerator", "h100-sxm", "--phases=-5:0.5"],
     "cannot read date '-5': give a year"),  # hE59: campus phases read plan dates
    (["video", "--device", "msvp", "--input", "99999999p60"], "out of range"),
    ([*SEARCH, "--plot", "one-point.html"], "several GPU counts"),
    ([*TRAIN, "--zero", "4"], "--zero"),
    ([*TRAIN, "--tokens", "1e999"], "finite"),
]


@pytest.mark.parametrize(("argv", "needle"), ISSUE_CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in ISSUE_CASES])
def test_issue_17_inputs_are_refused_with_the_reason(capsys, argv: list[str], needle: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert needle in err


@pytest.mark.parametrize("kind", ["binary", "directory", "empty", "scalar", "list", "long"])
def test_every_file_reader_refuses_a_hostile_file_in_one_line(capsys, tmp_path, kind: str) -> None:
    path = tmp_path / "x.yaml"
    if kind == "binary":
        path.write_bytes(bytes(range(256)))
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_text("")
    elif kind == "scalar":
        path.write_text("7\n")
    elif kind == "list":
        path.write_text("- a\n")
    else:
        path = tmp_path / ("b" * 10_000 + ".yaml")
    for argv in (["train", str(path), *TRAIN[2:]], ["facility", "--system", str(path)],
                 ["facility", "--system", "meta-rsc", "--costs", str(path)],
                 ["serve", *SERVE[1:9], "--trace", str(path)], ["fleet-mix", str(path)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and len(err) < 400, err[:400]


def test_a_failed_plot_leaves_no_file_and_a_good_one_respects_the_umask(capsys, tmp_path) -> None:
    target = tmp_path / "campus.html"
    assert main(["campus", "--power", "10MW", "--accelerator", "no-such-chip", "--plot", str(target)]) == 2
    assert not target.exists() and list(tmp_path.iterdir()) == []
    old = os.umask(0o027)
    try:
        assert main(["campus", "--power", "10MW", "--accelerator", "h100-sxm", "--plot", str(target)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["campus.html"]  # no temporary file left beside it
    capsys.readouterr()
