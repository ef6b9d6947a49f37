"""Fixtures of the CLI tests: `cli(args)` runs `infraplan ARGS` in process and returns (exit code, stdout, stderr);
`cli_json(capsys, args)` runs `infraplan ARGS --json` and returns its JSON; `serve_of_its_command(capsys, plan)`
reruns a serve-plan answer's `serve_command` and checks it gives the answer (tests elsewhere import both)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infraplan.cli import main

CliRun = Callable[[list[str]], tuple[int, str, str]]
WHAT_IF_PART = """display_name: Hypothetical X1
vendor: Acme
kind: gpu
source: a user's what-if chip (HBM 288 GB, 2.5 PFLOP/s fp8, 1,000 W)
peak_flops_per_s: {bf16: 1250e12, fp8: 2500e12}
memory_bytes: 288GB
memory_bandwidth_bytes_per_s: 8TB/s
memory_type: HBM
tdp_w: 1000W
scale_up_bandwidth_bytes_per_s: 900GB/s
scale_out_bandwidth_bytes_per_s: 800Gbps
efficiency:
  matmul_max_fraction: {bf16: 0.7, fp8: 0.6}
  attention_max_fraction: 0.5
  memory_bandwidth_fraction: 0.85
  compute_units: 148
  kernel_overhead_s: 4.0e-6
  scale_up_collective_efficiency: 0.8
  source: a user's what-if figures
"""


def write_what_if_part(tmp_path: Path) -> Path:
    """A user's part file (`WHAT_IF_PART`: a what-if GPU with every figure the catalog asks, no host link) written
    as tmp_path/x1.yaml, for the commands that take a part by file (`--accelerator FILE`)."""
    path = tmp_path / "x1.yaml"
    path.write_text(WHAT_IF_PART, encoding="utf-8")
    return path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    """`infraplan ARGS` through `infraplan.cli.main`, its output captured: (exit code, stdout, stderr)."""

    def run(args: list[str]) -> tuple[int, str, str]:
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def cli_json(capsys: pytest.CaptureFixture[str], args: list[str] | str) -> dict[str, Any]:
    """`infraplan ARGS --json` in process (`args` a list, or one line split on spaces): its JSON, the command
    asserted to exit 0 (its stderr the message otherwise)."""
    capsys.readouterr()
    code = main([*(args.split() if isinstance(args, str) else args), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def serve_of_its_command(capsys: pytest.CaptureFixture[str], plan: dict[str, Any],
                         same_bands: bool = True) -> dict[str, Any]:
    """`serve` of a serve-plan answer's `serve_command` (the same question two ways), checked to be the answer: its
    deployment, less the two source notes of what the line gives (--kv-dtype, --tp: serve says it was given them), and
    every figure of the answer's `serve`, and (`same_bands`) both error bands, and the token-budget note
    (`raised_budget.deployment_budget_note`: one in both or none, hS77); its JSON returned for further checks."""
    served = cli_json(capsys, shlex.split(plan["serve_command"])[1:])
    budget = ("--max-batch ", "--token-budget ")  # the note's starts (`raised_budget.raised_budget_note`)
    assert [w for w in served["warnings"] if w.startswith(budget)] == [n for n in plan["notes"] if n.startswith(budget)]
    for given in ("kv_dtype_source", "tp_source"):
        assert served["deployment"].pop(given).startswith("--")
    assert served["deployment"] == plan["deployment"]
    for key, value in plan["serve"].items():
        assert served[key] == value, key
    for band in ("error_band", "ttft_error_band") if same_bands else ():
        assert served[band] == plan[band], band
    return served


def json_strings(value: object) -> Iterator[str]:
    """Every string in a JSON answer, at any depth (notes sit at different depths in train, campus, plan, catalog)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)
