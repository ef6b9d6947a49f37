"""Group scales of an integer (GPTQ / AWQ / compressed-tensors) checkpoint: the bytes they add to each stored weight,
and the input widths a GPTQ / AWQ group must divide for the engine to build the layer.

A grouped integer checkpoint stores one scale (and, asymmetric, one zero) per `group_size` weights along a linear
layer's input dimension (vLLM 0.18.0 gptq.py / awq.py `create_weights`: `scales` [in / group, out]). The engine builds
a quantised linear only where the group divides its input width: gptq.py:250-255 and awq.py:191-196 raise "The input
size is not aligned with the quantized weight shape" (Marlin, where gptq / awq convert to it on CUDA: utils/
marlin_utils.py:188-194, "is not divisible by group_size"). A routed-expert layer (`FusedMoE`) falls back to the
MoE WNA16 kernel where Marlin's shape rule fails (gptq_marlin.py:244-254, awq.py:107-128, marlin_utils.py:230-246),
which halves the group until it divides the hidden and the expert widths and stops below 32 weights
(moe_wna16.py:239-245, `assert group_size >= 32`). Such a config is refused in one line (`check_group_alignment`),
where it was priced as fractional groups. Widths are checked on the whole layer (TP 1); a TP that splits a
row-parallel input (o_proj, down_proj) to a width the group does not divide is not checked here.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.errors import InputError

_MOE_MIN_GROUP = 32  # moe_wna16.py:245: the smallest group the MoE WNA16 kernel halves down to


def stored_bytes(quant: dict[str, Any]) -> float:
    """Bytes per weight of an integer checkpoint stored in groups: the bits plus a 2 B scale per group (compressed-
    tensors, Kimi K2.5's groups of 32: vLLM 0.18.0 schemes/compressed_tensors_wNa16.py:127-151; GPTQ / AWQ: gptq.py /
    awq.py `create_weights`, a group_size neither a count nor -1 refused), and a packed zero per group where asymmetric
    (GPTQ `sym: false`, AWQ `zero_point`; Marlin drops a symmetric one's zeros; g_idx, < 0.1 %, left out); 0 for any
    other (the format's own width, `catalog.kernel_fits.DTYPE_BYTES`)."""
    method = str(quant.get("quant_method", "")).lower()
    if method in ("gptq", "awq"):
        bits, group = quant.get("bits") or quant.get("w_bit"), group_size(quant)
        if type(bits) is not int or group is None or group < 0:
            return 0.0  # per-channel scales (group_size -1): within the format's width
        zeros = not quant.get("sym", True) if method == "gptq" else bool(quant.get("zero_point", True))
        return bits / 8.0 + (2.0 + (bits / 8.0 if zeros else 0.0)) / group
    if method != "compressed-tensors":
        return 0.0
    groups = quant.get("config_groups")
    weights = [g.get("weights") for g in groups.values() if isinstance(g, dict)] if isinstance(groups, dict) else []
    widths = {w["num_bits"] / 8.0 + 2.0 / w["group_size"] if isinstance(w, dict) and w.get("type") == "int"
              and w.get("strategy") == "group" and w.get("symmetric") and type(w.get("num_bits")) is int
              and type(w.get("group_size")) is int and w["group_size"] > 0 else 0.0 for w in weights}
    return widths.pop() if len(widths) == 1 else 0.0


def group_size(quant: dict[str, Any]) -> int | None:
    """A GPTQ / AWQ config's `group_size` (AWQ's `q_group_size`): weights per scale, -1 (per channel) or None (not
    stated); one that is neither a count nor -1 is bad input (true was read as 1 weight per scale before)."""
    method = str(quant.get("quant_method", "")).lower()
    group = quant.get("group_size", quant.get("q_group_size"))
    if group is not None and (type(group) is not int or group == 0 or group < -1):
        raise InputError(f"quantization_config ({method}) group_size is weights per scale or -1, got {group!r}")
    return group


def kind_input_widths(shape: TransformerShape) -> dict[str, tuple[int, ...]]:
    """The input widths of each linear kind's matrices (HF module layout, `model_config_quantization.kind_modules`):
    QKV (MLA: q_a / kv_a on the hidden width, q_b on q_lora_rank, kv_b on kv_lora_rank), the output projection on
    heads x v_head_dim, an MLP's gate / up on the hidden width and its down on its own width (the shared experts' on
    their total width, as DeepSeek and Qwen2-MoE build them as one MLP)."""
    h = shape.hidden_size
    attention = ((h, shape.q_lora_rank, shape.kv_lora_rank) if shape.q_lora_rank else (h, shape.kv_lora_rank)
                 ) if shape.is_mla else (h,)
    return {"attention": attention, "attention_output": (shape.num_heads * shape.v_head_dim,),
            "dense_mlp": (h, shape.dense_ffn_hidden_size if shape.is_moe else shape.ffn_hidden_size),
            "shared_experts": (h, shape.shared_ffn_hidden_size), "routed_experts": (h, shape.ffn_hidden_size)}


def _moe_group(group: int, widths: tuple[int, ...]) -> int:
    """The group the MoE WNA16 kernel runs (moe_wna16.py:239-245): halved until it divides every width, 0 where it
    would fall below 32."""
    while any(w % group for w in widths):
        group //= 2
        if group < _MOE_MIN_GROUP:
            return 0
    return group


def check_group_alignment(shape: TransformerShape, quant: dict[str, Any], kinds: tuple[str, ...], head: bool,
                          name: str) -> None:
    """Refuse, in one line, a GPTQ / AWQ group size that does not divide the input width of a quantised kind's
    matrix (`kinds`; the LM head on the hidden width where `head`), as vLLM 0.18.0 refuses it (module docstring)."""
    method = str(quant.get("quant_method", "")).lower()
    group = group_size(quant) if method in ("gptq", "awq") else None
    if group is None or group < 0:
        return
    widths = kind_input_widths(shape)
    for kind in kinds:
        if kind == "routed_experts":
            if not _moe_group(group, widths[kind]):
                raise InputError(f"model config {name!r}: quantization_config ({method}) group_size {group}, nor it "
                                 f"halved down to {_MOE_MIN_GROUP}, divides the routed experts' input widths "
                                 f"{widths[kind][0]} and {widths[kind][1]}: vLLM 0.18.0 refuses it "
                                 "(moe_wna16.py:239-245)")
            continue
        if bad := next((w for w in widths[kind] if w % group), 0):
            raise InputError(f"model config {name!r}: quantization_config ({method}) group_size {group} does not "
                             f"divide the {kind} input width {bad}: vLLM 0.18.0 refuses it (gptq.py:250 / awq.py:191 "
                             "'input size is not aligned')")
    if head and shape.hidden_size % group:
        raise InputError(f"model config {name!r}: quantization_config ({method}) group_size {group} does not divide "
                         f"the LM head's input width {shape.hidden_size}: vLLM 0.18.0 refuses it (gptq.py:250)")
