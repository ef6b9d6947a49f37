"""GPT-OSS's eager passes with a broadcast operand run ATen's legacy elementwise loop, priced at the clamp's measured
share of the streaming rate (`ops.gpt_oss_experts.BROADCAST_PASSES`, hG session 51): YaRN's unfused RoPE (`t * cos_`,
`* sin_`, the negated chunk half; their gradients) and the fc2 bias loop's outer products (`b * p`; backward
`grad * p`, `grad * b`). Training only: serving engines fuse both.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.ops import gpt_oss_experts
from infraplan.ops.gpt_oss_experts import STRIDED_PASS_SHARE, gpt_oss_expert_passes
from infraplan.ops.rotary import unfused_rope_passes
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

SEQ = 4096
SURPLUS = 1.0 / STRIDED_PASS_SHARE - 1.0  # streaming-equivalent bytes a legacy-loop byte adds


def test_rope_prices_its_ten_legacy_loop_bytes_per_element_each_way() -> None:
    shape = load_model("gpt-oss-120b")
    tokens, width = 4096.0, (64 + 8) * 64.0
    (fwd, _), (bwd, _) = unfused_rope_passes(shape, tokens, width, SEQ)
    trig = 2 * 2 * 22.0 * SEQ * 64
    # forward 24 - 4 B over the fused kernel, of which t * cos_, * sin_ (4 B each) and the negated half (2 B) at the
    # legacy share: 20 + 10 x 0.90 = 29.0 B per element (20 B before); backward 24 + 10 x 0.90 = 33.0 B
    assert float(fwd) == pytest.approx((20.0 + 10.0 * SURPLUS) * tokens * width + trig)
    assert float(bwd) == pytest.approx((24.0 + 10.0 * SURPLUS) * tokens * width)
    assert float(fwd - trig) / (tokens * width) == pytest.approx(29.01, abs=0.01)


def test_the_bias_loops_outer_products_are_priced_at_the_legacy_share(monkeypatch: pytest.MonkeyPatch) -> None:
    shape, rows = load_model("gpt-oss-120b"), 4096.0 * 4
    (on_f, k_on), (on_b, _) = gpt_oss_expert_passes(shape, rows, 2.0 * 2880, 8)
    monkeypatch.setattr(gpt_oss_experts, "BROADCAST_PASSES", False)
    (off_f, k_off), (off_b, _) = gpt_oss_expert_passes(shape, rows, 2.0 * 2880, 8)
    down = rows * 2880  # elements of the fc2 output the loop adds its bias to
    assert float(on_f - off_f) == pytest.approx(2.0 * SURPLUS * down)  # b x p: its 2 B write
    assert float(on_b - off_b) == pytest.approx(8.0 * SURPLUS * down)  # grad x p and grad x b: 4 B each
    assert k_on == k_off  # the same kernels, each slower
    (fused_f, _), _ = gpt_oss_expert_passes(shape, rows, 2.0 * 2880, 8, fused=True)
    assert float(fused_f) == 0.0  # TE's fused grouped MLP (H021) runs no bias loop


def _h023_tokens_per_s(model: str) -> float:
    clear_one_plan_memo()
    return estimate_training(model, "dgx-h100-superpod", 64, tp=1, pp=4, ep=8, seq_len=SEQ, global_batch=1280,
                             micro_batch=1, recompute="selective", dtype="bf16", stack="nemo-26.04",
                             order="tp-cp-dp-pp").tokens_per_s_per_gpu


def test_only_gpt_oss_training_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    on = {m: _h023_tokens_per_s(m) for m in ("gpt-oss-120b", "qwen3-30b-a3b")}
    monkeypatch.setattr(gpt_oss_experts, "BROADCAST_PASSES", False)
    off = {m: _h023_tokens_per_s(m) for m in ("gpt-oss-120b", "qwen3-30b-a3b")}
    clear_one_plan_memo()
    # H023's plan: ~0.25 ms more of a ~16 ms layer and micro-batch on the H100 (RoPE ~0.18, bias loop ~0.07)
    assert 0.005 < 1.0 - on["gpt-oss-120b"] / off["gpt-oss-120b"] < 0.03
    assert on["qwen3-30b-a3b"] == off["qwen3-30b-a3b"]  # no YaRN scale, no expert biases
