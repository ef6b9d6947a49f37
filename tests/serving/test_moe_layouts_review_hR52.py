"""Review of session 51's serving code (hR, session 52): tests for hand mutants that passed every test before.

* `trtllm_gen_moe.bf16_input_gemm` (vLLM's MXFP4 x BF16 priced W4A16) holds only where the fused MoE runs: without
  its `runs_fused_moe` test, MTIA 400 and MI355X (mxfp4 tensor cores, not NVIDIA's trtllm-gen) were priced at the
  bf16 rate under vLLM; without its format test it said True for vLLM's NVFP4 (W4A4) on B200. Both passed.
* `capacity_layouts`: MoE TP degrees must divide the expert width (GPT-OSS's 2,880 = 2^6 x 45: not 128); PP > 1
  tries the TP layouts only; `layout_text` names attention DP and MoE TP only where they are above 1.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.loader import load_accelerator
from infraplan.serving import trtllm_gen_moe
from infraplan.serving.capacity_layouts import layout_text, level_layouts, moe_tp_degrees
from infraplan.serving.engines import load_engine
from infraplan.serving.format_precision import serving_precision


@pytest.mark.parametrize("part", ["mtia-400", "mi355x", "h200"])
def test_vllms_bf16_input_gemm_is_the_fused_moes_only(part: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trtllm_gen_moe, "VLLM_MXFP4_BF16_GEMM", True)
    acc = load_accelerator(part)
    assert not trtllm_gen_moe.bf16_input_gemm(acc, "mxfp4", "vllm")
    assert serving_precision(acc, "mxfp4", engine="vllm") == serving_precision(acc, "mxfp4", engine="sglang")


def test_vllms_nvfp4_is_not_w4a16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trtllm_gen_moe, "VLLM_MXFP4_BF16_GEMM", True)
    b200 = load_accelerator("b200")
    assert trtllm_gen_moe.bf16_input_gemm(b200, "mxfp4", "vllm")  # the rule's own case
    assert not trtllm_gen_moe.bf16_input_gemm(b200, "nvfp4", "vllm")
    assert not trtllm_gen_moe.bf16_input_gemm(b200, "fp8", "vllm")


def test_moe_tp_degrees_divide_the_expert_width() -> None:
    oss = load_model("gpt-oss-120b")
    assert oss.ffn_hidden_size == 2880
    assert moe_tp_degrees(oss, 128) == [2, 4, 8, 16, 32, 64]  # 2,880 / 128 is not whole
    assert moe_tp_degrees(oss, 1) == [] and moe_tp_degrees(load_model("llama3-70b"), 8) == []


def test_pipelined_levels_try_tp_layouts_only() -> None:
    acc = load_accelerator("h200")
    engine = load_engine("trtllm-0.x")
    args = (load_model("deepseek-v3"), acc, 8, "fp8", "fp8", engine.token_budget, [64], [1, 2, 4, 8])
    assert level_layouts(*args, 2, engine.ref, engine.engine) == [(t, 1, 1, 64) for t in (1, 2, 4, 8)]
    assert any(adp > 1 for _, adp, _, _ in level_layouts(*args, 1, engine.ref, engine.engine))


def test_layout_text_names_attention_dp_and_moe_tp_above_one() -> None:
    assert layout_text(4, 2, 1, 1, 1) == "TP4 PP2"
    assert layout_text(1, 1, 8, 8, 1) == "TP1 PP1 DP-attention8 EP8"
    assert layout_text(1, 1, 8, 4, 2) == "TP1 PP1 DP-attention8 EP4 MoE-TP2"
