"""hC (session 53): the small items hU53's user walk left (validation/notes/product_review_tried.md, hU53 "Left").

Each test failed on the tree at 7535ed9 (checked by running this file against it):
- a "run this next" hint named a user's part file by its name (`network x1 --gpus N`, `facility --accelerator x1`),
  which no command resolves: it now names the path the user gave;
- serve-plan's "not chosen" lines said "TPOT p99 0.0355 s" where its table says ms;
- `search` with no plan printed an empty table before "no feasible plan"; a scaling curve with no plan at any count
  a table of dashes; `serve` of a deployment that does not fit a table of one "fits NO" row: each is now one line,
  exit 0 (a question with no answer, as serve-plan's "no deployment found"; bad input alone exits 2), and the JSON
  the empty answer with its reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun, write_what_if_part

from infraplan.cli import main


@pytest.fixture
def part(tmp_path: Path) -> str:
    return str(write_what_if_part(tmp_path))


def test_facility_zone_note_names_the_file_given(cli: CliRun, part: str) -> None:
    # 10,000 accelerators are 5 zones of 2,048: the note says which command prices one Clos instead
    code, out, err = cli(["facility", "--accelerator", part, "--count", "10000"])
    assert code == 0, err
    flat = " ".join(out.split())
    assert f"`network {part} --gpus N`" in flat  # was "`network x1 --gpus N`": x1 is no preset
    assert "`network x1 " not in flat


def test_network_and_train_notes_name_the_file_given(capsys: pytest.CaptureFixture[str], part: str) -> None:
    capsys.readouterr()
    assert main(["network", part, "--gpus", "10240", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any(f"`facility --accelerator {part} --count 10240`" in n for n in notes), notes  # was "x1"
    assert main(["train", "llama3-8b", "--system", part, "--gpus", "10240", "--seq-len", "4096", "--global-batch",
                 "10240", "--tokens", "1e12", "--json"]) == 0
    text = capsys.readouterr().out
    assert f"`facility --accelerator {part} --count 10240`" in text
    assert "`facility --accelerator x1 " not in text


def test_preset_hints_keep_the_preset_name(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["network", "h100-sxm", "--gpus", "4096", "--json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("`facility --accelerator h100-sxm --count 4096`" in n for n in notes), notes


def test_seconds_in_text_uses_the_tables_unit() -> None:
    from infraplan.cli.commands._output import seconds_in_text

    line = "its full run of 2,048 requests misses the SLO (TTFT p99 0.444 s, TPOT p99 0.0355 s; its TPOT p99 0.0355 s"
    assert seconds_in_text(line + " is above the SLO (0.033 s))") == (
        "its full run of 2,048 requests misses the SLO (TTFT p99 444 ms, TPOT p99 35.5 ms; its TPOT p99 35.5 ms is "
        "above the SLO (33 ms))")
    # a duration of a second or more stays in s; words, counts, separators and names are left alone
    assert seconds_in_text("2.5 s, TP8 s, 1,500 s, 3 seconds, 12 steps") == "2.5 s, TP8 s, 1,500 s, 3 seconds, 12 steps"


def test_serve_plan_not_chosen_lines_in_ms(cli: CliRun) -> None:
    # hU53: deepseek-r1 on an 8 x H200 system at 4 requests/s under a 33 ms TPOT: two TP8 options missed whole-run
    code, out, err = cli(["serve-plan", "deepseek-r1", "--system", "hgx-h200", "--rate", "4", "--workload", "chat",
                          "--ttft-slo", "2s", "--tpot-slo", "33ms", "--dtypes", "fp8"])
    assert code == 0, err
    lines = out.split("next-best deployments")[0].split("not chosen: ")[1:]
    chosen = [" ".join(block.split()) for block in lines]
    assert chosen, out
    for line in chosen:
        # was "0.0355 s"; 35.5 -> 35.2 ms since NCCL's LL latency line prices the TP 8 collectives (hK60)
        assert re.search(r"TPOT p99 3[45]\.\d ms", line), line
        assert "(33 ms)" in line and " 0.0" not in line


SEARCH = ["search", "llama3-70b", "--system", "h100-sxm", "--seq-len", "4096", "--global-batch", "8"]


def test_search_with_no_plan_is_one_line(cli: CliRun) -> None:
    code, out, err = cli([*SEARCH, "--gpus", "1"])
    assert code == 0, err  # a question with no answer, not bad input (serve-plan's "no deployment found" exits 0)
    assert not any(c in out for c in "┏┃━└"), out  # was an empty table with its header
    first = out.splitlines()[0]
    assert first.startswith("no feasible plan for llama3-70b on h100-sxm-generic-8 (1 GPU, stack "), first
    assert "does not fit 1 GPU of 80 GiB" in " ".join(out.split())  # was "1 GPUs"
    assert "96 valid plans evaluated, 0 fit in memory" in " ".join(out.split())


def test_search_with_no_plan_json_is_the_empty_answer(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*SEARCH, "--gpus", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["best"] is None and data["top"] == [] and data["feasible_count"] == 0
    assert "does not fit" in data["reason"]


def test_scaling_with_no_plan_at_any_count_is_a_line_each(cli: CliRun) -> None:
    code, out, err = cli([*SEARCH, "--gpus", "1,2"])
    assert code == 0, err
    assert not any(c in out for c in "┏┃━└"), out  # was a table of dashes and the MFU ceilings it ranked nothing by
    lines = [" ".join(x.split()) for x in out.split("no feasible plan for ")[1:]]
    assert [x.split(":")[0] for x in lines] == ["llama3-70b on h100-sxm-generic-8 at 1 GPU",
                                                "llama3-70b on h100-sxm-generic-8 at 2 GPUs"]
    assert "MFU ceiling" not in out


def test_serve_that_does_not_fit_is_one_line(cli: CliRun) -> None:
    code, out, err = cli(["serve", "llama3-70b", "--system", "h100-sxm", "--gpus", "1", "--workload", "chat",
                          "--rate", "1"])
    assert code == 0, err
    assert not any(c in out for c in "┌│└"), out  # was a table of one "fits | NO — ..." row
    flat = " ".join(out.split())
    assert " does not fit: weights 131.4 GiB" in flat and "no room for a KV cache" in flat
    assert flat.startswith("llama3-70b on h100-sxm-generic-8: 1 × (TP1 PP1) h100-sxm")


def test_serve_warning_says_the_slo_in_the_tables_unit(cli: CliRun) -> None:
    # the table's SLO row says "TTFT ≤ 50 ms"; its warning said "the TTFT SLO 0.05 s ... the 0.08 s front end"
    code, out, err = cli(["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--workload", "chat", "--rate",
                          "20", "--ttft-slo", "50ms", "--tpot-slo", "10ms"])
    assert code == 0, err
    flat = " ".join(out.split())
    assert "the TTFT SLO 50 ms is not above the 80 ms front end" in flat


def test_sweep_query_hint_quotes_the_folder(capsys: pytest.CaptureFixture[str]) -> None:
    import shlex

    from infraplan.cli.commands.sweep import render_sweep
    from infraplan.sweep.results import SweepRun

    run = SweepRun(directory="my runs/a b", function="train", backend="local", workers=1, points=1, points_skipped=0,
                   points_run=1, points_failed=0, rows=1, interrupted=False, wall_time_s=1.0, points_per_s=1.0,
                   errors=[])
    capsys.readouterr()
    render_sweep(run)
    hint = capsys.readouterr().out.split("query it: ")[1].strip()
    # was `infraplan results my runs/a b --sql ...`: three arguments where the shell needs one
    assert shlex.split(hint)[:3] == ["infraplan", "results", "my runs/a b"], hint
    assert shlex.split(hint)[3:] == ["--sql", "SELECT * FROM results LIMIT 10"]
