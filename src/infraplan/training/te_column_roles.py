"""The roles of a layer's Transformer Engine column-parallel GEMMs that take a sequence-parallel gathered input (moved
out of `training.sp_regather` for the memory model's import, hD66, unchanged): their wgrad input re-gather
(`sp_regather`), their input gradient's TP reduction under their own wgrad (`tp_overlap.async_dgrad_window_s`), their
re-gathered input held by a deferred wgrad (`deferred_wgrad_memory`).

In Megatron-Core 0.16.1's layers these are the QKV (GQA) and FC1 inputs (the norm's T x h output), a shared expert's
FC1 input (`SharedExpertMLP`'s TEColumnParallelLinear; not under `moe_shared_expert_overlap`, where the linear has no
SP mode and keeps the input Megatron gathered: `ops.layer.SHARED_OVERLAP_MEGATRON_GATHERS`) and, in MLA under SP, the
q / kv latents the up projections take (TELayerNormColumnParallelLinear, `ops.layer.MLA_DOWN_ON_SEQUENCE_SHARD`; the
T x h input of `linear_q_proj` where q_lora_rank is None); sources in `training.sp_regather`'s docstring.
"""

from __future__ import annotations

from infraplan.ops import layer as ops_layer
from infraplan.ops.layer import Layout

GATHERED_INPUT_ROLES = ("qkv", "ffn_up", "shared_up")  # the T x h norm output's column-parallel GEMMs
MLA_GATHERED_INPUT_ROLES = ("q_up", "kv_up")  # the latents (q_proj's h where q_lora_rank is None)


def column_parallel_roles(lay: Layout) -> tuple[str, ...]:
    """The roles of the layer's TE column-parallel GEMMs that take an SP-gathered input (module docstring): their input
    re-gather (`sp_regather`), their input gradient's TP reduction under their own wgrad
    (`tp_overlap.async_dgrad_window_s`)."""
    roles = GATHERED_INPUT_ROLES + (MLA_GATHERED_INPUT_ROLES if ops_layer.MLA_DOWN_ON_SEQUENCE_SHARD else ())
    if lay.shared_expert_overlap and ops_layer.SHARED_OVERLAP_MEGATRON_GATHERS:  # its FC1 takes the gathered input
        roles = tuple(r for r in roles if r != "shared_up")
    return roles
