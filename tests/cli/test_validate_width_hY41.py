"""hY41 (session 41): `validate`'s tables keep every number at 80 columns (Rich's width for a pipe or a file,
`infraplan validate > out.txt`) and at 100, and `search --plot` names the part on its axes as the tables do.

At 80 columns the uncut case column pushed error and gated off every table (1,180 lines, 163 rows cut on the
real report); at 100 the serving table's 53-character ids still cut 82 rows. Now a table whose ids do not fit
on one line each puts each id on its own line above its metric in one folded "case / metric" column, and the
numbers never wrap. Where the ids fit (120 columns and more on the real report), the table is unchanged.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from rich.console import Console
from tests.cli.conftest import CliRun

from infraplan.cli.commands import validate as command
from infraplan.validation.results import SectionCase, ValidationSection

SERVING_ID = "qwen3-32b h100 sglang-0.5.1.post1 bf16 TP{tp} (24 runs)"  # 53 characters, as the serving section's
FACILITY_METRIC = "all-in capex per GW of facility power ($B)"  # the facility section's widest metric (42 characters)
SERVING_STACK = "trtllm-1.0.0rc3-dynamo-agg.yaml"  # the serving section's longest stack name (31 characters)
CLAIM = "medium complexity: MTIA slightly ahead of or at parity with the GPU"  # custom silicon's published words


def _render(monkeypatch: pytest.MonkeyPatch, width: int, draw: Any) -> str:
    buffer = io.StringIO()
    monkeypatch.setattr(command, "console", Console(file=buffer, width=width))
    draw()
    return buffer.getvalue()


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("│", "┃"))]


def _serving_section() -> ValidationSection:
    cases = [SectionCase(id=SERVING_ID.format(tp=tp), metric="mean TTFT, ms", published=4250.245 + tp,
                         predicted=16_320.0 + tp, error=2.84 + tp / 1000, gated=tp != 2, stack=SERVING_STACK)
             for tp in (1, 2, 4, 8)]
    cases += [SectionCase(id="epoch-29b-per-gw-facility-h100", metric=FACILITY_METRIC, published=29.0,
                          predicted=40.18, error=0.386, gated=False, stack=None),
              SectionCase(id="mtia-v1-vs-a100-perf-per-w-medium", metric="QPS/W MTIA v1 / A100, dlrm-medium",
                          published=CLAIM, predicted=1.373, error=None, gated=True, stack=None)]
    return ValidationSection(cases=cases, summary={"cases": len(cases)})


@pytest.mark.parametrize("width", [80, 100])
def test_section_tables_keep_every_number_whole_at_80_and_100_columns(monkeypatch: pytest.MonkeyPatch,
                                                                      width: int) -> None:
    section = _serving_section()
    text = _render(monkeypatch, width, lambda: command.render_section("serving hopper (closed loop)", section))
    rows = _table_rows(text)
    assert rows and all(len(line) <= width and line.rstrip().endswith(("│", "┃")) for line in rows)  # none cut
    header = next(line for line in rows if "published" in line)
    assert all(col in header for col in ("published", "predicted", "error", "gated")), header
    for case in section.cases:  # each case's numbers whole on the first line of its row, in their own columns
        numbers = [command._fmt(case.predicted),
                   "-" if case.error is None else f"{case.error * 100:+.1f} %"]
        if not isinstance(case.published, str):
            numbers.append(command._fmt(case.published))
        first = [line for line in rows if all(re.search(rf"│ {re.escape(n)} +│", line) for n in numbers)]
        assert len(first) == 1, (case.id, numbers, text)
    assert text.count("no (known") == 2  # gated kept: the TP2 row and the facility row


def test_a_wide_console_keeps_the_case_column_of_one_line_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _render(monkeypatch, 200, lambda: command.render_section("serving", _serving_section()))
    rows = _table_rows(text)
    assert re.match(r"┃ case +┃ metric +┃", rows[0]), rows[0]
    assert all(any(f"│ {SERVING_ID.format(tp=tp)} │" in line for line in rows) for tp in (1, 2, 4, 8))


def _training_report() -> Any:
    cases = [SimpleNamespace(id=i, metric=m, published=p, predicted=p * (1 + e), error=e, plan_source=s, gated=g,
                             stack="megatron-lm-2021")
             for i, m, p, e, s, g in [
                 ("megatron-sc21-145.6b", "hardware_tflops_per_gpu", 148.0, -0.006, "assumed", True),
                 ("mlperf-v3.0-coreweave-3584", "tokens_per_s_per_gpu", 515.0, 0.179, "search", False),
                 ("llama3-405b-16k-gpus", "model_tflops_per_gpu", 400.0, -0.117, "assumed", True),
                 ("korthikanti-22b", "mfu", 0.415, -0.0714, "assumed", True)]]
    summary = SimpleNamespace(gated_cases=3, mean_abs_error=0.06, max_abs_error=0.117, gate=SimpleNamespace(
        mean=0.1, max=0.2), passes_gate=True, all_cases=4, mean_abs_error_all=0.09, max_abs_error_all=0.179)
    return SimpleNamespace(cases=cases, summary=summary, plan_ranking=None, sets=None, sections=None)


@pytest.mark.parametrize("width", [80, 100])
def test_the_training_table_keeps_every_number_whole(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    report = _training_report()
    text = _render(monkeypatch, width, lambda: command.render_validation(cast(Any, report)))
    rows = _table_rows(text)
    assert rows and all(len(line) <= width and line.rstrip().endswith(("│", "┃")) for line in rows), text
    for case in report.cases:
        error = f"{case.error * 100:+.1f} %"
        line = next(line for line in rows if f" {error} │" in line)
        assert f" {command._value(case.metric, case.published)} │" in line, (case.id, text)
        assert re.search(r"│ (yes|no) +│ *$", line), line  # gated on the same line
    first_cells = "".join(line.split("│")[1].strip() for line in rows if line.startswith("│"))
    assert all(case.id in first_cells for case in report.cases)  # folded, not cut


def test_markdown_does_not_depend_on_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    report = _training_report()
    report.sections = {"serving": _serving_section()}
    tables = []
    for width in (80, 200):
        monkeypatch.setattr(command, "console", Console(file=io.StringIO(), width=width))
        tables.append(command.markdown_report(cast(Any, report)))
    assert tables[0] == tables[1]
    # one row per case, ids whole; the stack beside the metric, "-" on a case of a layer without one (hT62)
    assert f"| {SERVING_ID.format(tp=1)} | mean TTFT, ms | {SERVING_STACK} | 4,251 |" in tables[0]
    assert f"| epoch-29b-per-gw-facility-h100 | {FACILITY_METRIC} | - | 29 |" in tables[0]
    assert "| megatron-sc21-145.6b | TFLOP/s/GPU (HFU) | megatron-lm-2021 | 148.0 |" in tables[0]


def test_an_mtia_scaling_plot_names_accelerators_on_its_axes(cli: CliRun, tmp_path: Path) -> None:
    plot = tmp_path / "scaling.html"
    code, out, err = cli(["search", "llama3-8b", "--system", "mtia-400-rack", "--gpus", "8,16", "--seq-len", "4096",
                          "--global-batch", "64", "--top", "1", "--plot", str(plot), "--json"])
    assert code == 0, err
    assert [p["gpus"] for p in json.loads(out)["scaling"]] == [8, 16]  # JSON keeps its field names
    html = plot.read_text(encoding="utf-8")
    titles = [json.loads(f'"{t}"') for t in re.findall(r'"title":\{"text":"([^"]*)"\}', html)]  # "\u002f" is "/"
    assert "accelerators" in titles and "tokens/s per accelerator" in titles and "MFU (%)" in titles, titles
    assert not any("GPU" in t for t in titles), titles
    assert '"name":"tokens\\u002fs per accelerator"' in html  # the legend
