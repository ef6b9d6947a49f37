"""Megatron-Core's GQA query copy / QKV-gradient concatenation (`ops.qk_norm.qkv_split_copies`) and GPT-OSS's
experts under the fused grouped MLP (`ops.gpt_oss_experts`), round 13h."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.ops.gpt_oss_experts import MAIN_GRAD_ADD_BYTES, gpt_oss_expert_passes
from infraplan.ops.layer import Layout, layer_ops


def _split(model: str, tp: float = 1.0, on: bool = True, phase: str = "training") -> dict[str, tuple[float, bool]]:
    lay = Layout(tokens=4096.0, seq_len=4096.0, batch=1.0, tp=tp, cp=1.0, ep=1.0, sequence_parallel=tp > 1,
                 qkv_split_copies=on, phase=phase)  # type: ignore[arg-type]
    ops = layer_ops(load_model(model), lay)
    return {prefix + e.role: (float(np.asarray(e.bytes)), bool(np.asarray(e.mask)))
            for prefix, table in (("", ops.elementwise_fwd), ("bwd:", ops.elementwise_bwd))
            for e in table if e.role == "qkv_split"}


def test_gqa_copies_the_query_forward_and_concatenates_the_qkv_gradient_backward() -> None:
    p = _split("llama3-8b")  # 32 query heads, 8 groups of 128 on one GPU
    q, kv = 4096.0 * 32 * 128, 4096.0 * 2 * 8 * 128
    assert p["qkv_split"] == (pytest.approx(4.0 * q), True)
    assert p["bwd:qkv_split"] == (pytest.approx(4.0 * (q + kv)), True)
    assert _split("llama3-70b", tp=4.0)["qkv_split"][1]  # 2 local groups of 8 query heads each


def test_one_local_group_mha_mla_serving_and_stacks_without_it_copy_nothing() -> None:
    assert not _split("llama3-8b", tp=8.0)["qkv_split"][1]  # one group per GPU: the reshape is a view
    assert not _split("gpt3-175b")["qkv_split"][1]  # MHA: g = np
    assert not _split("deepseek-v3")["qkv_split"][1]  # MLA
    assert _split("llama3-8b", on=False) == {} and _split("llama3-8b", phase="inference") == {}
    assert all(load_stack(s).qkv_split_copies for s in ("nemo-26.04", "nemo-24.12", "megatron-core-0.8"))
    assert not any(load_stack(s).qkv_split_copies for s in ("meta-llama3", "torchtitan", "megatron-lm-2022"))


def test_gpt_oss_experts_under_the_fused_grouped_mlp_keep_only_the_bias_main_grad_adds() -> None:
    shape = load_model("gpt-oss-120b")
    rows, up, ep = 16384.0, 2.0 * shape.ffn_hidden_size, 64.0
    (fwd, k_fwd), (bwd, k_bwd) = gpt_oss_expert_passes(shape, rows, up, ep)
    assert fwd > 0.0 and k_fwd > 0.0 and bwd > fwd
    (fwd_f, k_fwd_f), (bwd_f, k_bwd_f) = gpt_oss_expert_passes(shape, rows, up, ep, fused=True)
    local = shape.num_experts / ep
    assert fwd_f == 0.0 and k_fwd_f == 0.0
    assert bwd_f == pytest.approx(MAIN_GRAD_ADD_BYTES * local * (up + shape.hidden_size)) and k_bwd_f == 2.0 * local
    (fwd_a, _), _ = gpt_oss_expert_passes(shape, rows, up, ep, fused=np.array([False, True]))
    assert fwd_a[0] == pytest.approx(fwd) and fwd_a[1] == 0.0
