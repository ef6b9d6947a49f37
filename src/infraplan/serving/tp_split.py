"""A TP the serving engine cannot split the model's KV heads or FFN over (hW, session 72).

`check_deployment` refused TP not dividing the query heads and nothing else, so `serve` priced layouts that vLLM and
SGLang raise on at start-up and that `train` refuses: a user config.json of 24 heads and 6 KV heads at TP 4, or of
`intermediate_size` 11009 at TP 8. Both engines build the QKV projection with `divide(tp, kv_heads)` where TP is at
least the KV heads (each KV head replicated) and `divide(kv_heads, tp)` below it (vLLM 0.12.0 model_executor/layers/
linear.py:918-923, SGLang 0.5.9 srt/layers/linear.py:890-895), so the KV heads must divide TP or TP them, the rule
`train` keeps for Megatron-Core; and they split each FFN width over TP (`ops.ffn_split`, with those files' lines).
The FFN rule is checked without attention DP (the dense parts' split under attention DP differs by engine; the routed
experts' MoE TP has its own rule, `check_deployment`'s wide EP); vLLM's and SGLang's fused MoE floors the routed
width (vllm fused_moe/layer.py:526, sglang fused_moe_triton/layer.py:227), so the routed experts are not checked here.
TensorRT-LLM's and the MTIA stack's layers were not read: priced as before. `serve` refuses such a layout (one line),
`serve --tp auto` and `serve-plan` try only the TPs it allows.

Which TPs those two try (`tp_degrees`, hG73): vLLM and SGLang build any TP dividing the query heads (vLLM 0.12.0
config/model.py:1143-1148 `verify_with_parallel_config`; SGLang 0.5.9 srt/models/llama.py:139) whose KV-head and FFN
splits hold (above), not only powers of two: TP 3 / 6 of GPT-3 175B's 96 heads, TP 7 of BLOOM's 112, TP 24 of
Mixtral 8x22B's 48 heads on one NVL72 domain. Their custom all-reduce runs at TP 2, 4, 6, 8 only (NCCL at 3, 5, 7:
`ServingEngine.custom_all_reduce_at`). Every other engine keeps the powers of two it was searched at (its layers were
not read).
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.ffn_split import ffn_split_broken

ENGINE_NAMES = {"vllm": "vLLM", "sglang": "SGLang"}  # the engines whose splits were read, as their notes name them
TP_SPLIT_SOURCES = {"vllm": "vLLM 0.12.0 model_executor/layers/linear.py:464, :918-923, :1293",
                    "sglang": "SGLang 0.5.9 srt/layers/linear.py:336, :890-895, :1337"}


def tp_split_refusal(shape: TransformerShape, tp: int, engine: str | None, attention_dp: int = 1,
                     pool: str = "") -> str | None:
    """Why the engine family `engine` (trtllm | vllm | sglang) cannot split `shape` over TP `tp` (module docstring),
    else None. `pool`: "prefill-" for the prefill pool's --prefill-tp."""
    if engine not in TP_SPLIT_SOURCES or tp <= 1:
        return None
    kv = shape.num_kv_heads
    if kv % tp and tp % kv:
        fits = ", ".join(str(t) for t in range(1, shape.num_heads + 1)
                         if shape.num_heads % t == 0 and (kv % t == 0 or t % kv == 0))
        why = (f"{shape.name}'s {kv} KV heads neither divide TP {tp} nor are divided by it (TPs meeting both head "
               f"rules: {fits})")
    elif attention_dp > 1 or not (broken := ffn_split_broken(shape, tp)):
        return None
    else:
        why = broken
    return (f"--{pool}tp {tp}: {why}; the engine splits each layer evenly over TP and asserts it divides "
            f"({TP_SPLIT_SOURCES[engine]})")


def tp_degrees(shape: TransformerShape, engine: str | None, most: int, powers: tuple[int, ...],
               per_stage: int = 0) -> tuple[list[int], list[int]]:
    """(tried, unbuilt): the TPs `serve --tp auto` and serve-plan try, up to `most` (the scale-up domain), dividing the
    query heads and, where given, the `per_stage` accelerators a pipeline stage; unbuilt: those dividing both that the
    engine does not build (`tp_split_refusal`). vLLM / SGLang: every such degree (module docstring); any other
    engine: the degrees of `powers` only."""
    heads = shape.num_heads
    pool = range(1, min(most, heads) + 1) if engine in TP_SPLIT_SOURCES else (t for t in powers if t <= most)
    divided = [t for t in pool if heads % t == 0 and (per_stage <= 0 or per_stage % t == 0)]
    tried = [t for t in divided if not tp_split_refusal(shape, t, engine)]
    return tried, [t for t in divided if t not in tried]
