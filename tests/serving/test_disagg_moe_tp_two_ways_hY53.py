"""serve-plan's disaggregated answers with MoE TP in the prefill pool, asked two ways (hY53): `serve-plan` and
`serve` of its `serve_command` give one answer, figure for figure, the error bands included.

The search's disaggregated option is one layout split into two pools (`capacity.search_capacity`'s
`SearchJob(("prefill", "decode"), cand, ...)`; `simulate_deployment(prefill_replicas=k)`), so every MoE-TP layout the
enumerator yields (`capacity_layouts.level_layouts`) is searched with its prefill pool at that MoE TP too, and
`serve --moe-tp M --prefill-gpus N` (no --prefill-* layout flag) runs the prefill pool at the same MoE TP. Case:
DeepSeek-V3 in mxfp8 on B200 under SGLang, whose mxfp8 experts run at EP 1 only (`deployment.layout_refusal`), so wide
EP is refused and attention DP 8 with MoE TP 8 (EP 1) is the attention-DP layout; 4,000 / 1,000 tokens at 8 /s,
TTFT 2 s, TPOT 40 ms: the answer is 16 B200, 8 prefill + 8 decode, both pools DP-attention 8 x MoE TP 8.
(A prefill pool of a layout of its own, `capacity_layouts`: tests/serving/test_capacity_own_prefill_hY53.py; here
SGLang refuses the wide-EP prefill pool in mxfp8 and the TP8 one ties at 16, losing the tie to the one-layout pair.)
The error bands: the answer's is `serve`'s (one rule, `answer_bands.serving_answer_band`), its basis naming the
nearest validated class (accelerator family and stack class: "blackwell, stack class sglang").
"""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json, serve_of_its_command

PLAN = ("deepseek-v3 --system dgx-b200 --rate 8 --input-len 4000 --output-len 1000 --ttft-slo 2 --tpot-slo 0.04 "
        "--dtypes mxfp8 --stack sglang-0.x")


def test_a_disaggregated_moe_tp_answer_is_serve_of_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, ["serve-plan", *shlex.split(PLAN)])
    assert plan["feasible"] and plan["meets_slo_full_run"] and plan["gpus"] == 16
    d = plan["deployment"]
    assert d["disaggregated"] and (d["tp"], d["attention_dp"], d["ep"], d["moe_tp"]) == (1, 8, 1, 8)
    for pool in ("prefill", "decode"):  # each pool one 8-GPU replica at MoE TP 8
        assert (d[pool]["attention_dp"], d[pool]["ep"], d[pool]["moe_tp"], d[pool]["gpus"]) == (8, 1, 8, 8), pool
    line = plan["serve_command"]
    assert "--moe-tp 8" in line and "--prefill-gpus 8" in line
    serve_of_its_command(capsys, plan)
    assert plan["error_band"]["basis"].endswith("blackwell, stack class sglang")
