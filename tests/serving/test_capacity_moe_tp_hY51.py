"""serve-plan searches attention DP with MoE TP (`serving.capacity_layouts`, hY51), and its `--dtypes` refusal names
the shipped stacks of other engines that run an asked format on the part (`serving.deployment.other_stacks`).

Before this change the search tried wide EP only (EP = attention DP, `Deployment.moe_tp` 1): no option carried
`moe_tp`, `serve_command` never wrote `--moe-tp`, and `--dtypes mxfp8 --stack vllm-0.x` on B200 named no other stack.
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_answer import missed_lines, serve_command
from infraplan.serving.capacity_layouts import level_layouts, moe_tp_degrees, moe_tp_refusal
from infraplan.serving.engines import load_engine
from infraplan.serving.replica_search import option_rank


def _layouts(stack: str, model: str = "deepseek-v3") -> list[tuple[int, int, int, int]]:
    acc = Cluster.resolve("hgx-h200").accelerator
    engine = load_engine(stack)
    return level_layouts(load_model(model), acc, 8, "fp8", "fp8", engine.token_budget, [64], [1, 2, 4, 8], 1,
                         engine.ref, engine.engine)


def test_deepseek_v3_on_h200_tries_moe_tp_beside_wide_ep() -> None:
    """Attention DP 8 (the only wide-EP degree that fits, hM24): wide EP 8 (MoE TP 1), then MoE TP 2, 4, 8 (EP 4, 2,
    1) on TensorRT-LLM and SGLang; vLLM splits the experts over all the ranks or none (MoE TP 8 only)."""
    tp_layouts = [(t, 1, 1, 64) for t in (1, 2, 4, 8)]
    assert _layouts("trtllm-0.x") == [*tp_layouts, (1, 8, 1, 64), (1, 8, 2, 64), (1, 8, 4, 64), (1, 8, 8, 64)]
    assert _layouts("sglang-0.x") == _layouts("trtllm-0.x")
    assert _layouts("vllm-0.x") == [*tp_layouts, (1, 8, 1, 64), (1, 8, 8, 64)]
    assert moe_tp_refusal("vllm", 8, 1, 4) is not None and "not MoE TP 4 x EP 2" in str(moe_tp_refusal("vllm", 8, 1, 4))
    assert moe_tp_refusal("trtllm", 8, 1, 4) is None and moe_tp_refusal("vllm", 8, 1, 8) is None


def test_a_dense_model_gets_no_moe_tp_layouts() -> None:
    assert moe_tp_degrees(load_model("llama3-70b"), 8) == []
    assert all(adp == 1 and mtp == 1 for _, adp, mtp, _ in _layouts("trtllm-0.x", "llama3-70b"))


def test_readme_deepseek_answer_unchanged_and_a_moe_tp_layout_among_those_tried() -> None:
    """The README's DeepSeek-V3 command: the answer (8 H200, wide EP 8, batch 256, colocated) as before this change;
    MoE TP 2 over the same 8 ranks ties at 8 and loses the tie (`option_rank`), listed among the next best. (With
    an fp8 cache, the preset's KV default before it carried its HF file's block-fp8 quantization_config: with the
    bf16 default, hL65, the answer is the same layout and MoE TP 2 needs 16.)"""
    default = search_capacity("deepseek-v3", "hgx-h200", 8, input_len=1000, output_len=2000, ttft_slo=3,
                              tpot_slo=0.1, dtypes=("fp8",)).deployment
    assert default is not None and default.kv_dtype == "bf16"
    assert (default.tp, default.attention_dp, default.ep, default.moe_tp, default.max_batch) == (1, 8, 8, 1, 256)
    plan = search_capacity("deepseek-v3", "hgx-h200", 8, input_len=1000, output_len=2000, ttft_slo=3, tpot_slo=0.1,
                           dtypes=("fp8",), kv_dtype="fp8")
    d = plan.deployment
    assert d is not None and plan.gpus == 8
    assert (d.tp, d.attention_dp, d.ep, d.moe_tp, d.max_batch, d.disaggregated) == (1, 8, 8, 1, 256, False)
    moe = [o for o in plan.alternatives if o.moe_tp > 1]
    assert moe and moe[0].gpus == 8 and (moe[0].attention_dp, moe[0].ep, moe[0].moe_tp) == (8, 4, 2)
    assert "--moe-tp" not in str(plan.serve_command)


def test_moe_tp_loses_ties_to_wide_ep_and_is_written_in_the_serve_line() -> None:
    base: dict[str, Any] = {"gpus": 8, "disaggregated": False, "attention_dp": 8, "tp": 1, "max_batch": 64}
    assert option_rank({**base, "moe_tp": 1}) < option_rank({**base, "moe_tp": 2}) < option_rank(
        {**base, "gpus": 9, "moe_tp": 1})
    plan = search_capacity("deepseek-v3", "hgx-h200", 8, input_len=1000, output_len=2000, ttft_slo=3, tpot_slo=0.1,
                           dtypes=("fp8",))
    assert plan.deployment is not None
    split = plan.model_copy(update={"deployment": plan.deployment.model_copy(update={"ep": 4, "moe_tp": 2})})
    line = str(serve_command(split, "deepseek-v3", "hgx-h200", None, 1000, 2000, 0, None))
    assert "--attention-dp 8 --moe-tp 2 --ep 4 " in line, line
    missed = {"ttft_s": {"p99": 1.0}, "tpot_s": {"p99": 0.2}}
    option = {"dtype": "fp8", "tp": 1, "pp": 1, "ep": 4, "attention_dp": 8, "moe_tp": 2, "max_batch": 64,
              "prefill_replicas": 0, "disaggregated": False, "gpus": 8}
    got = missed_lines([(option, (missed, 100, ""), False)], {}, "p99", (3.0, 0.1))
    assert got[0].startswith("fp8 TP1 PP1 DP-attention8 EP4 MoE-TP2 batch 64 on 8 accelerators"), got


def test_dtypes_refusal_names_the_stacks_that_run_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    """vLLM runs no mxfp8 weights; SGLang and TensorRT-LLM do on B200: serve-plan's refusal says so, as serve's does
    (hW51); a part without mxfp8 in its catalog names none."""
    assert main(["serve-plan", "llama3-8b", "--system", "dgx-b200", "--stack", "vllm-0.x", "--dtypes", "mxfp8",
                 "--rate", "1", "--workload", "chat"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.endswith("as `serve` says; or --stack sglang-0.x or trtllm-0.x, which run mxfp8 on b200"), err
    assert main(["serve-plan", "llama3-8b", "--system", "hgx-h200", "--stack", "vllm-0.x", "--dtypes", "mxfp8",
                 "--rate", "1", "--workload", "chat"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--stack" not in err and err.endswith("as `serve` says"), err
