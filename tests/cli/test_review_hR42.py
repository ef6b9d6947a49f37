"""hR42 (session 42): review of the session's diff (37547a6..c0a986c), one test per small fix; each fails on the tree
before its fix (validation/notes/product_review_tried.md, "hR42 (session 42): diff review").

1. A stack asked of a part it does not run on named a flag that a plan or fleet-mix file does not have: a pool's
   `stack: trtllm-0.x` on an MI300X was refused as "--stack trtllm-0.x ... runs on NVIDIA parts only ...; without
   --stack it runs vllm-0.x" (`stack_placement.stack_on_accelerator`), and a plan row's basis said "--stack vllm-0.x
   runs on ..." of a pool's `stack`. The line now names the stack, not the flag, on every path.
2. The `notes` of `train --tokens` (TrainingRunTotals), `campus` (TrainingCapacity) and `plan` (ScenarioPlan) said
   their goodput note is `goodput_planned_note` (the planned interruptions' per-job rate) after hF42 made it
   `goodput_basis_note`, which also says that a rate counted on another accelerator is borrowed (GB200: H100's).
3. A sweep of `serve` / `serve-plan` over `ttft_slo: ["2s", "500ms"]` (what `--ttft-slo` and the web read) failed
   every point with "UFuncTypeError: ufunc 'less_equal' ..." and stored the text in `in_ttft_slo_s`; the SLOs are
   now read to seconds as `power` and `bytes` are (sweep/functions.py `_QUANTITIES`), before the call.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel
from tests.cli.conftest import CliRun

from infraplan.planning.results import TrainingCapacity, TrainingRunTotals
from infraplan.planning.scenario_results import ScenarioPlan

_PLAN = """name: t
phases: [{{name: p1, year: 2026}}]
services:
  - {{name: chat, kind: llm, model: llama3-8b, workload: chat, rate: 5}}
pools:
  - {{name: amd, device: mi300x, site: s1, stack: {stack}}}
sites:
  - {{name: s1, power_cap: 10MW, location: us-average}}
"""


def test_a_pool_stack_that_does_not_run_on_its_part_names_no_flag(cli: CliRun, tmp_path: Path) -> None:
    spec = tmp_path / "plan.yaml"
    spec.write_text(_PLAN.format(stack="trtllm-0.x"), encoding="utf-8")
    code, out, err = cli(["plan", str(spec)])
    assert code == 2 and not out and err.count("\n") == 1
    assert "pools.0: stack trtllm-0.x (TensorRT-LLM 0.x) runs on NVIDIA parts only" in err
    assert "with no stack named it runs vllm-0.x" in err and "--stack" not in err


def test_serve_refusal_names_the_stack_asked(cli: CliRun) -> None:
    code, out, err = cli(["serve", "llama3-8b", "--system", "mi300x", "--gpus", "1", "--rate", "1", "--requests", "20",
                          "--input-len", "100", "--output-len", "10", "--stack", "trtllm-0.x"])
    assert code == 2 and not out
    assert "stack trtllm-0.x (TensorRT-LLM 0.x) runs on NVIDIA parts only" in err and "--stack" not in err


@pytest.mark.parametrize("result", [TrainingRunTotals, TrainingCapacity, ScenarioPlan])
def test_goodput_notes_are_described_by_the_rule_that_writes_them(result: type[BaseModel]) -> None:
    description = result.model_fields["notes"].description or ""
    assert "goodput_basis_note" in description and "goodput_planned_note" not in description



_SWEEP = """function: serve
fixed: {{model: llama3-8b, system: h100-sxm, gpus: 1, rate: 1, requests: 20, input_len: 100, output_len: 10,
        tpot_slo: 0.1}}
axes:
  - product:
      ttft_slo: {values}
"""


def test_a_serve_sweep_reads_its_slos_as_the_cli_does(cli: CliRun, tmp_path: Path) -> None:
    spec, out_dir = tmp_path / "sweep.yaml", tmp_path / "out"
    spec.write_text(_SWEEP.format(values='["2s", 500ms, 1, "soon"]'), encoding="utf-8")
    code, _, err = cli(["sweep", str(spec), "--out", str(out_dir), "--json"])
    assert code == 0, err
    code, out, err = cli(["results", str(out_dir), "--sql", "SELECT in_ttft_slo_s, error FROM results ORDER BY "
                          "in_ttft_slo_s", "--json"])
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert [r[0] for r in rows] == [0.5, 1.0, 2.0, None]  # seconds; "soon" does not read
    assert [r[1] for r in rows[:3]] == [None, None, None]
    assert "cannot read duration 'soon'" in rows[3][1] and "\n" not in rows[3][1]
