"""The same question asked two ways (hC69, session 69): pairs no earlier test held, on the README's headline commands.

* The table and `--json` of one answer: every figure of `train`'s, `serve`'s and `reliability`'s tables is its JSON
  figure at the digits the table shows (read back from the text, unit and all; no table row read twice).
* `campus`'s Llama-3-405B runs are `train` of the paper's plan on the `--system` its note names (the note's `search`
  runs there): H100's on meta-genai-roce-24k, the reference system that holds the 16,384-GPU job and the runs' rate
  (170.857 tokens/s a GPU, 70.055 days a run), not `--system h100-sxm` (the generic non-blocking Clos: 170.974,
  70.007 days), which the note named; GB200's on the generic Clos of `--system gb200` (the NVL72 preset holds 9,216).
* A system file read as its part (`recsys --accelerator`, `facility --accelerator`, `campus`) was sized on the part's
  host share, not its own node's; hC69 warned of it. Since hP69 every command prices its own node:
  tests/consistency/test_system_as_part_node_hP69.py.
* `serve`'s host-share line (`assumptions.host_share`) names the node the watts come from: on a catalog system that is
  not the part's reference system (DGX H100 SuperPOD, the InfiniBand 24K cluster), the system's own node, not the
  RoCE 24K cluster's file its figure happens to equal (575 W a GPU both); on the reference system, on the bare part
  (the generic node built from it) and on a what-if copy of the part, the part's figure and its source.
"""

from __future__ import annotations

import re
import shlex
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.cli import main

UNITS = {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "%": 0.01, "W": 1.0, "J": 1.0,
         "MiB": 2.0**20, "GiB": 2.0**30, "TiB": 2.0**40, "tokens/s": 1.0, "ktokens/s": 1e3, "Mtokens/s": 1e6,
         "TFLOP/s": 1e12, "requests/s": 1.0, "": 1.0}
NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s?(ns|µs|ms|min|s|h|%|W|J|MiB|GiB|TiB|Mtokens/s|ktokens/s|"
                    r"tokens/s|TFLOP/s|requests/s)?(?![\w/])")


def _tables(text: str) -> list[dict[str, str]]:
    """Each rich table's rows, label -> its other cells, printed wide enough that no cell wraps."""
    tables: list[dict[str, str]] = []
    for line in text.splitlines():
        if line.lstrip().startswith(("┌", "┏")):
            tables.append({})
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if tables and len(cells) >= 2 and cells[0]:
            assert cells[0] not in tables[-1], cells[0]
            tables[-1][cells[0]] = "  ".join(cells[1:])
    return tables


def _figures(value: str) -> list[tuple[float, float]]:
    """(SI value, half a unit of the last digit shown, in SI) of each number in a table cell, in order."""
    out = []
    for digits, unit in NUMBER.findall(value):
        plain = digits.replace(",", "")
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        scale = UNITS[unit or ""]
        out.append((float(plain) * scale, 0.5 * 10.0**-decimals * scale * (1 + 1e-9)))
    return out


def _assert_shown(rows: dict[str, str], label: str, *want: float) -> None:
    shown = _figures(rows[label])
    assert len(shown) >= len(want), (label, rows[label])
    for (value, half), json_value in zip(shown, want, strict=False):
        # a value rounded to 3 significant digits keeps its trailing zeros out ("1.7 ktokens/s" of 1,695): widen to
        # the third significant digit where the table shows fewer
        half = max(half, 0.5 * 10.0 ** (int(f"{abs(json_value):e}".split("e")[1]) - 2)) if json_value else half
        assert abs(value - json_value) <= half, (label, rows[label], json_value)


def _both(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
          args: list[str]) -> tuple[list[dict[str, str]], dict[str, Any]]:
    monkeypatch.setenv("COLUMNS", "300")
    assert main(args) == 0
    text = capsys.readouterr().out
    return _tables(text), cli_json(capsys, args)


TRAIN = shlex.split("train llama3-405b --system meta-genai-roce-24k --gpus 16384 --tp 8 --pp 16 --vpp 7 --seq-len 8192 "
                    "--global-batch 2048 --zero 3 --stack meta-llama3")


def test_train_table_is_its_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (rows, steps, memory), d = _both(capsys, monkeypatch, TRAIN)
    _assert_shown(rows, "step time", d["step_time_s"])
    _assert_shown(rows, "throughput", d["tokens_per_s"])
    _assert_shown(rows, "per GPU", d["tokens_per_s_per_gpu"])
    _assert_shown(rows, "model FLOP/s per GPU", d["model_tflops_per_gpu"] * 1e12)
    _assert_shown(rows, "MFU / HFU (full s×s scores)", d["mfu"], d["hfu"])
    _assert_shown(rows, "executed FLOPs / peak", d["executed_flops_utilisation"])
    _assert_shown(rows, "memory per GPU", d["memory_per_gpu_bytes"], d["memory_capacity_bytes"])
    for term, seconds in d["breakdown_s"].items():
        if seconds > 0:
            _assert_shown(steps, term, seconds, seconds / d["step_time_s"])
    for term, size in d["memory_breakdown_bytes"].items():
        _assert_shown(memory, term, size)


SERVE = shlex.split("serve llama3-70b --system dgx-h100-superpod --gpus 8 --tp auto --dtype fp8 --rate 10 "
                    "--workload chat --seed 0 --requests 300")


def test_serve_table_is_its_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (rows,), d = _both(capsys, monkeypatch, SERVE)
    _assert_shown(rows, "output throughput", d["output_tokens_per_s"], d["output_tokens_per_s_per_gpu"])
    _assert_shown(rows, "output throughput while arriving", d["output_tokens_per_s_while_arriving"])
    _assert_shown(rows, "output throughput served, steady", d["steady_output_tokens_per_s"])
    _assert_shown(rows, "requests", d["requests_per_s"])
    label = next(k for k in rows if k.startswith("TTFT"))  # "TTFT (incl. 80 ms front end)"
    for row, key in ((label, "ttft_s"), ("TPOT", "tpot_s"), ("end-to-end", "e2e_s")):
        parts = rows[row].split("·")  # "p50 23 ms · p90 29 ms · p99 40.9 ms"
        assert [p.split()[0] for p in parts] == ["p50", "p90", "p99"], rows[row]
        for part in parts:
            _assert_shown({row: part}, row, d[key][part.split()[0]])
    _assert_shown(rows, "energy per output token (with host share)", d["joules_per_token"])
    _assert_shown(rows, "accelerators alone (no host)", d["device_joules_per_token"])
    _assert_shown(rows, "cost", d["usd_per_million_tokens"])
    _assert_shown(rows, "KV cache per replica", d["deployment"]["kv_cache_tokens_per_replica"],
                  d["deployment"]["kv_cache_bytes_per_gpu"])
    _assert_shown(rows, "SLO attainment", d["slo_attainment"])
    _assert_shown(rows, "power per accelerator (with host share)", d["steady_power_w_per_gpu"], d["power_w_per_gpu"])
    _assert_shown(rows, "simulated", d["requests"], d["duration_s"])


RELIABILITY = shlex.split("reliability --system meta-genai-roce-24k --gpus 16384 --days 54")


def test_reliability_table_is_its_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (rows, _), d = _both(capsys, monkeypatch, RELIABILITY)
    _assert_shown(rows, "expected interruptions", d["expected_interruptions"], d["expected_unexpected_interruptions"])
    _assert_shown(rows, "interruptions per day", d["expected_interruptions_per_day"])
    _assert_shown(rows, "job MTTF", d["job_mttf_s"])
    _assert_shown(rows, "checkpoint", d["checkpoint_bytes"])
    _assert_shown(rows, "checkpoint interval (Daly)", d["checkpoint_interval_s"])
    _assert_shown(rows, "restart cost", d["restart_s"])
    _assert_shown(rows, "goodput (ETTR)", d["goodput"])
    _assert_shown(rows, "GPUs held", d["gpus_held"], d["domains"], d["scale_up_domain_gpus"])
    _assert_shown(rows, "GPUs out of service (mean)", d["expected_gpus_out_of_service"])
    _assert_shown(rows, "goodput of GPUs held", d["goodput_of_gpus_held"])
    assert f"written in {d['checkpoint_write_s']:.3g} s" in rows["checkpoint"]


# --- serve's host-share line names the node its watts come from ---

SMALL_SERVE = shlex.split("llama3-8b --gpus 8 --tp 8 --rate 2 --workload chat --requests 40 --seed 0")
REFERENCE = "meta-genai-roce-24k node: 4600 W of host for 8 accelerators (catalog/systems/meta-genai-roce-24k.yaml)"


def _host_line(capsys: pytest.CaptureFixture[str], system: str) -> str:
    return cli_json(capsys, ["serve", *SMALL_SERVE, "--system", system])["assumptions"]["host_share"]


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "meta-genai-ib-24k"])
def test_another_systems_node_is_its_own_figure(capsys: pytest.CaptureFixture[str], system: str) -> None:
    line = _host_line(capsys, system)
    assert line.startswith("575 W per accelerator: its node's 4600 W of host over 8 accelerators")
    assert "meta-genai-roce-24k" not in line  # was: "(the part's system figure: meta-genai-roce-24k node: ...)"
    assert f"({system}'s own node figure)" in line


def test_the_parts_node_cites_the_parts_figure(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    mine = tmp_path / "my-h100.yaml"
    with resources.as_file(resources.files("infraplan.catalog") / "accelerators" / "h100-sxm.yaml") as src:
        shutil.copyfile(src, mine)
    for system in ("meta-genai-roce-24k", "h100-sxm", str(mine)):  # the reference system, the generic node, a copy
        assert f"(the part's system figure: {REFERENCE})" in _host_line(capsys, system), system
    gb200 = _host_line(capsys, "gb200-nvl72-superpod")  # NVL72: the host part and the switch trays, own node
    assert "(450 W; gb200-nvl72-superpod's own node figure), plus 50 W per accelerator of scale-up switches" in gb200


# --- campus's runs are train's, on the system its note names ---

PAPER_PLAN = shlex.split("--gpus 16384 --tp 8 --pp 16 --vpp 7 --seq-len 8192 --global-batch 2048 --micro-batch 1 "
                         "--recompute none --zero 3 --dtype bf16 --stack meta-llama3 --tokens 15.6T")


@pytest.mark.parametrize(("part", "system"), [("h100-sxm", "meta-genai-roce-24k"), ("gb200", "gb200")])
def test_campus_runs_are_train_on_the_system_its_note_names(capsys: pytest.CaptureFixture[str], part: str,
                                                           system: str) -> None:
    cap = cli_json(capsys, ["campus", "--power", "100MW", "--accelerator", part])["training_capacity"]
    (note,) = [n for n in cap["notes"] if n.startswith("runs counted with the Llama 3 paper's plan")]
    command = shlex.split(note.split("`")[1])
    named = command[command.index("--system") + 1]
    assert named == system
    run = cli_json(capsys, ["train", "llama3-405b", "--system", named, *PAPER_PLAN])
    assert run["tokens_per_s_per_gpu"] == pytest.approx(cap["tokens_per_s_per_gpu"], rel=1e-12)
    assert run["goodput"] == pytest.approx(cap["goodput"], rel=1e-12)
    assert run["time_to_train_s"] / 86400 == pytest.approx(cap["days_per_run_per_job"], rel=1e-12)
