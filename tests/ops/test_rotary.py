"""YaRN's scaled RoPE, which Megatron-Core runs unfused in training (`ops.rotary`, issue 12/13).

The scale on the cos / sin comes from the HF `rope_scaling` as Megatron-Core computes it; where it is not 1 the
eager `_apply_rotary_pos_emb_bshd` moves 24 B per Q / K element forward and 28 B backward (over the fused
kernel's 4 B each way) plus the scaled cos / sin tables. Serving and models without the scale are untouched.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.errors import InputError
from infraplan.ops import layer as layer_module
from infraplan.ops.gpt_oss_experts import STRIDED_PASS_SHARE
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.rotary import unfused_rope_passes
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

SEQ = 4096


def _hf(rope_scaling: object) -> dict[str, object]:
    return {"model_type": "llama", "hidden_size": 1024, "num_hidden_layers": 2, "num_attention_heads": 8,
            "intermediate_size": 4096, "vocab_size": 32000, "rope_scaling": rope_scaling}


def test_the_yarn_scale_is_megatron_cores_concentration_factor() -> None:
    # GPT-OSS: factor 32 without mscale keys -> 0.1 ln 32 + 1; DeepSeek-V3 / Kimi K2: mscale = mscale_all_dim -> 1
    assert load_model("gpt-oss-120b").rope_mscale == pytest.approx(0.1 * math.log(32.0) + 1.0)
    for name in ("deepseek-v3", "kimi-k2", "llama3-8b", "qwen3-30b-a3b"):
        assert load_model(name).rope_mscale == 1.0
    ratio = shape_from_hf_config(_hf({"type": "yarn", "factor": 40, "mscale": 2.0, "mscale_all_dim": 1.0}), "x")
    assert ratio.rope_mscale == pytest.approx((0.2 * math.log(40.0) + 1.0) / (0.1 * math.log(40.0) + 1.0))
    assert shape_from_hf_config(_hf({"rope_type": "llama3", "factor": 8.0}), "x").rope_mscale == 1.0
    with pytest.raises(InputError):
        shape_from_hf_config(_hf({"rope_type": "yarn", "factor": "big"}), "x")


def test_unfused_rope_moves_its_eager_bytes_over_the_fused_kernel() -> None:
    shape = load_model("gpt-oss-120b")
    tokens, width = 4096.0, (64 + 8) * 64.0  # local query + key heads x head_dim at TP 1
    (fwd_bytes, fwd_kernels), (bwd_bytes, bwd_kernels) = unfused_rope_passes(shape, tokens, width, SEQ)
    trig = 2 * 2 * 22.0 * SEQ * 64  # scaled cos and sin, 22 B per position and channel each, for Q and for K
    # 10 B each way (the broadcast cos / sin products, the strided half's negation) at the legacy loop's share of
    # the streaming rate (hG, session 51: `ops.gpt_oss_experts.BROADCAST_PASSES`; before, 20 / 24 B)
    surplus = 10.0 * (1.0 / STRIDED_PASS_SHARE - 1.0)
    assert float(fwd_bytes) == pytest.approx((24.0 - 4.0 + surplus) * tokens * width + trig)
    assert float(bwd_bytes) == pytest.approx((28.0 - 4.0 + surplus) * tokens * width)  # incl. the empty slice's zeros
    assert (fwd_kernels, bwd_kernels) == (2 * (6.0 + 6.0 - 1.0), 2 * (7.0 - 1.0))
    assert unfused_rope_passes(load_model("llama3-8b"), tokens, width, SEQ) == ((0.0, 0.0), (0.0, 0.0))


def _layout(phase: str = "training") -> Layout:
    return Layout(tokens=4096.0, tp=1, ep=8, cp=1, sequence_parallel=False, seq_len=SEQ, batch=1, ep_stride=1,
                  fp8_casts=False, etp=1, folded=False, cast_bytes=0.0, expert_load_factor=1.0, phase=phase)


def test_only_training_layers_of_yarn_models_list_the_pass() -> None:
    def roles(name: str, phase: str = "training") -> list[str]:
        return [e.role for e in layer_ops(load_model(name), _layout(phase)).elementwise_fwd]

    assert "unfused_rope" in roles("gpt-oss-120b")
    assert "unfused_rope" not in roles("gpt-oss-120b", "inference")  # serving engines fuse YaRN
    for name in ("deepseek-v3", "llama3-8b", "mixtral-8x7b"):
        assert "unfused_rope" not in roles(name)
    backward = [e for e in layer_ops(load_model("gpt-oss-120b"), _layout()).elementwise_bwd if e.role == "unfused_rope"]
    assert len(backward) == 1 and float(backward[0].bytes) > 0.0


def _tokens_per_s(model: str) -> float:
    clear_one_plan_memo()
    return estimate_training(model, "dgx-h100-superpod", 64, tp=1, pp=4, ep=8 if "oss" in model else 1,
                             seq_len=SEQ, global_batch=1280, micro_batch=1, recompute="none", dtype="bf16",
                             stack="nemo-26.04", order="tp-cp-dp-pp").tokens_per_s_per_gpu


def test_the_eager_rope_slows_gpt_oss_training_by_a_few_per_cent(monkeypatch: pytest.MonkeyPatch) -> None:
    with_rope = _tokens_per_s("gpt-oss-120b")
    monkeypatch.setattr(layer_module, "unfused_rope_passes",
                        lambda shape, tokens, width, seq: ((0.0 * np.asarray(tokens), 0.0),) * 2)
    without = _tokens_per_s("gpt-oss-120b")
    clear_one_plan_memo()
    # ~0.85 GB and 34 launches per layer and 4,096-token micro-batch: ~0.4 ms of a ~13 ms layer on an H100
    assert 0.01 < 1.0 - with_rope / without < 0.06
