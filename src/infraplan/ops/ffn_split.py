"""Which FFN widths of a model a tensor-parallel split leaves fractional: the one width rule of `train` / `search`
(`training.ffn_split_rules`) and `serve` / `serve-plan` (`serving.tp_split`).

A framework that splits a linear layer over its TP ranks gives each rank an equal column (up projection) or row
(down projection) block of the FFN's intermediate width and asserts the width divides: megatron-core 0.16.1
`divide` (utils.py:466-475: "{} is not divisible by {}") in ColumnParallelLinear (tensor_parallel/layers.py:842)
and RowParallelLinear (:1166), for the routed experts over the expert TP group in TEGroupedLinear
(extensions/transformer_engine.py:1525-1527); vLLM 0.12.0 and SGLang 0.5.9 `divide` in MergedColumnParallelLinear
(vllm model_executor/layers/linear.py:464, sglang srt/layers/linear.py:336) and RowParallelLinear (:1293, :1337).
The widths split are the dense model's FFN, an MoE model's dense layers (DeepSeek's first k) and shared experts over
TP, and its routed experts over expert TP.
A width below is `(name, width, routed)`: routed widths are split by expert TP, the others by TP.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape

FFN_SPLIT_TPS = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32, 48, 64, 72, 96, 128)  # degrees a refusal may name


def ffn_widths(shape: TransformerShape) -> list[tuple[str, int, bool]]:
    """The FFN widths a tensor split divides: (what it is, its width, split by expert TP rather than TP)."""
    if not shape.is_moe:
        return [("FFN width (intermediate_size)", shape.ffn_hidden_size, False)]
    return [(name, width, routed) for name, width, routed in (
        ("routed expert width", shape.ffn_hidden_size, True),
        ("shared expert width", shape.shared_ffn_hidden_size, False),
        ("dense layers' FFN width", shape.dense_ffn_hidden_size, False)) if width]


def ffn_split_uneven(shape: TransformerShape, tp: Any, expert_tp: Any = None) -> Any:
    """Where TP `tp` (an MoE model's routed experts: `expert_tp`; None: not checked) leaves a width of `ffn_widths`
    fractional, per plan (ints: a bool; arrays of degrees >= 1: a bool array). (The widths read directly, not
    through `ffn_widths`' list: a single estimate asks it once; an absent width is 0, which every split divides.)"""
    bad: Any = (shape.shared_ffn_hidden_size % tp != 0) | (shape.dense_ffn_hidden_size % tp != 0)
    split = expert_tp if shape.is_moe else tp
    return bad if split is None else bad | (shape.ffn_hidden_size % split != 0)


def ffn_split_broken(shape: TransformerShape, tp: int, expert_tp: int | None = None) -> str | None:
    """The first width `ffn_split_uneven` finds fractional at one plan's degrees, said with the degrees that divide it
    (of `FFN_SPLIT_TPS`), else None."""
    for name, width, routed in ffn_widths(shape):
        split = expert_tp if routed else tp
        if split is not None and width % split:
            label = "expert TP" if routed else "TP"
            fits = ", ".join(str(t) for t in FFN_SPLIT_TPS if width % t == 0)
            return f"{shape.name}'s {name} {width:,} is not divisible by {label} {split} ({label}s dividing it: {fits})"
    return None
