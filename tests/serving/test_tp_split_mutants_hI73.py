"""Mutants of `serving.tp_split` the hW72 tests let live (hI73).

vLLM 0.12.0 and SGLang 0.5.9 build the QKV projection with `divide(tp, kv_heads)` where TP is at least the KV heads
(each KV head replicated over TP / kv ranks) and `divide(kv_heads, tp)` below (vllm model_executor/layers/linear.py:
918-923, sglang srt/layers/linear.py:890-895): a TP that is a multiple of the KV heads builds. Their shared experts
are a dense MLP split over TP (MergedColumnParallelLinear's `divide`, vllm linear.py:464), so a shared width TP does
not divide is refused like a dense FFN. The FFN rule is not applied under attention DP (module docstring of
`serving.tp_split`: the dense parts' split there differs by engine).
"""

from __future__ import annotations

from pathlib import Path

from tests.config_copies import config_copy

import infraplan
from infraplan.serving.tp_split import tp_split_refusal


def test_a_tp_that_is_a_multiple_of_the_kv_heads_builds() -> None:
    qwen = infraplan.load_model("qwen3-30b-a3b")  # 32 query heads, 4 KV heads: TP 8 replicates each KV head twice
    llama = infraplan.load_model("llama3-8b")  # 32 / 8: TP 16 and 32 replicate them
    for engine in ("vllm", "sglang"):
        assert tp_split_refusal(qwen, 8, engine) is None
        assert all(tp_split_refusal(llama, tp, engine) is None for tp in (16, 32))


def test_a_shared_expert_width_is_split_over_tp(tmp_path: Path) -> None:
    # one shared expert of moe_intermediate_size (transformers' deepseek_v3 reads no shared_expert_intermediate_size,
    # hW74), routed ones as wide
    shape = infraplan.load_model(config_copy(tmp_path, "deepseek-v3", "shared2050",
                                             moe_intermediate_size=2050))  # 2 x 5^2 x 41
    said = tp_split_refusal(shape, 4, "vllm")
    assert said is not None and "shared2050's shared expert width 2,050 is not divisible by TP 4" in said, said
    assert tp_split_refusal(shape, 2, "sglang") is None


def test_the_ffn_rule_is_not_applied_under_attention_dp(tmp_path: Path) -> None:
    shape = infraplan.load_model(config_copy(tmp_path, "llama3-8b", "ffn11009", intermediate_size=11009))
    assert tp_split_refusal(shape, 8, "sglang") is not None
    assert tp_split_refusal(shape, 8, "sglang", attention_dp=8) is None
