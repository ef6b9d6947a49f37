"""The same question asked two ways (hX3, session 39): `serve-plan`'s answer is `serve` of its `serve_command`,
figure for figure (throughput, TTFT / TPOT / end-to-end percentiles, SLO attainment, J/token, $/Mtok, the
deployment's layout and memory, both error bands), beyond the dense Llama case the earlier tests ran: MoE models
(Qwen3-30B-A3B, DeepSeek-V3's MLA on an NVL72 rack), another serving stack (vLLM) and an SLO at p90 chosen from two
precisions. Checked too, not kept here (time): Mixtral on H200 (summarization) and Llama 3 8B on B200 (given lengths
and SLOs) agree.
"""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json

PLANS = {
    "moe-qwen3": "qwen3-30b-a3b --system dgx-h100-superpod --rate 30 --workload chat",
    "mla-deepseek-nvl72": "deepseek-v3 --system gb200-nvl72 --rate 10 --workload chat",
    "vllm": "llama3-70b --system dgx-h100-superpod --rate 20 --workload chat --stack vllm-0.x",
    # an accelerator preset: the deployment's cluster is its own N accelerators, as `serve --gpus N` sizes and
    # prices it (hF2, session 39: serve-plan priced one generic node's $/GPU-h)
    "accelerator-preset": "llama3-70b --system h100-sxm --rate 100 --workload chat --max-gpus 128",
    "p90-two-dtypes": "llama3-70b --system dgx-h100-superpod --rate 40 --workload chat --dtypes bf16,fp8 "
                      "--percentile 90",
}



@pytest.mark.parametrize("case", sorted(PLANS))
def test_serve_plans_answer_is_serve_of_its_command(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, ["serve-plan", *shlex.split(PLANS[case])])
    assert plan["feasible"] and plan["meets_slo_full_run"], case
    served = cli_json(capsys, shlex.split(plan["serve_command"])[1:])
    why = served["deployment"].pop("kv_dtype_source")  # the line gives --kv-dtype: serve says it was given
    tp_why = served["deployment"].pop("tp_source")  # and --tp (serve-plan's TP is its search's, not --tp auto's)
    assert why == "--kv-dtype" and tp_why == "--tp" and served["deployment"] == plan["deployment"]
    assert served["deployment"]["gpus"] == plan["gpus"]
    for key, value in plan["serve"].items():
        assert served[key] == value, (case, key)
    for key in ("error_band", "ttft_error_band", "stack", "model", "system", "accelerator"):
        assert served[key] == plan[key], (case, key)
    assert served["slo"]["ttft_s"] == plan["slo"]["ttft_s"] and served["slo"]["tpot_s"] == plan["slo"]["tpot_s"]
