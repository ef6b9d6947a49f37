"""The MoE settings of the NeMo 26.06 GB200 performance configurations that the frontier csv's last columns carry.

Round 13h: the same rule for every row, so GPT-OSS 120B's GB200 MXFP8 row (H021, TP1 PP1 EP64 GBS1280 MBS4) runs
`gpt_oss_120b_pretrain_64gpu_gb200_fp8mx_config` (perf_recipes/gpt_oss/gb200/gpt_oss.py:221-266 with
gpt_oss/common.py:23-49, unchanged in 0.6.2): the same columns, no recompute. Which megatron-core the 26.06 rows
ran: Megatron-Bridge 0.6.x's README (:18) names NeMo 26.06 the stack with full-iteration graphs, HybridEP and
all-to-all overlap but no megatron-core version, and the sdists pin none (pyproject: an editable 3rdparty
submodule); by PyPI's upload dates Megatron-Bridge 0.5.0 and megatron-core 0.18.0 / 0.18.1 came out on 2026-06-22/23
(the 26.06 month), 0.19.2 on 2026-09-18. Every setting these configurations use exists in 0.18.1 as in 0.19.2
(transformer_config.py:465, :625, :851, :876, :927, :1140 in 0.18.1).

Issue 13 round 13c (validation/notes/training_sets_tried.md). The GB200 MXFP8 rows of DeepSeek-V3 (H015, TP1 PP4 VP4
EP64) and Qwen3-235B-A22B (H025, TP1 PP8 VP3 EP32) match, plan for plan, Megatron-Bridge 0.6.0's
`deepseek_v3_pretrain_256gpu_gb200_fp8mx_config` (perf_recipes/deepseek/gb200/deepseek_v3.py:134-190) and
`qwen3_235b_a22b_pretrain_256gpu_gb200_fp8mx_config` (perf_recipes/qwen/gb200/qwen3_moe.py:462-512); both functions are
unchanged in 0.6.2, whose README (:18) names NeMo 26.06 the stack that "integrates full-iteration CUDA graphs,
HybridEP/router optimizations, all-to-all overlap, MXFP8 attention, and pipeline-layout balancing", and every
setting they use exists in megatron-core 0.19.2 (paged stash, rank capacity factor, TE op fuser, high-priority
all-to-all stream, `cuda_graph_impl` "full_iteration": transformer_config.py:511, :977-982, :1032, :1268). The
columns `perf_config_stack` reads beside the older ones (each an empty string or absent on the other rows):

* `flex_sms`: SMs the HybridEP dispatch / combine kernels hold while they run. `_benchmark_common` sets
  `moe_hybridep_num_sms = 32` on every performance configuration with the HybridEP backend (perf_recipes/
  _common.py:86-87 in 0.6.0 and 0.6.2); megatron-core 0.19.2 passes it as `num_sms_dispatch_api` and
  `num_sms_combine_api` (transformer/moe/token_dispatcher.py:1142-1156, fused_a2a.py:284-345). Under Megatron-
  Core's combined 1F1B the all-to-all runs beside the other micro-batch's compute, which has the rest of the SMs:
  `MoeRouting.overlap_sm_fraction` = flex_sms / the accelerator's `compute_units` (GB200: 32 of 148).
* `expert_gemm`: "grouped" where the configuration fuses the routed experts' MLP into Transformer Engine's fused
  grouped kernels: `use_transformer_engine_op_fuser` (qwen/common.py:51, deepseek/common.py:70) selects
  megatron-core 0.19.2's fused GroupedMLP (transformer/moe/experts.py:285-290), and with
  NVTE_CUTEDSL_FUSED_GROUPED_MLP=1 (the configs' env: qwen3_moe.py:508, deepseek_v3.py:180), MXFP8 and compute
  capability 10, TE 2.14 runs fc1 + SwiGLU as one cuDNN grouped GEMM + GLU kernel and fc2 as one grouped GEMM over
  every local expert (pytorch/ops/fused/forward_grouped_mlp.py:48-80, :386, :481; backward_grouped_mlp.py:208-219),
  not one cuBLAS GEMM per expert (`MoeRouting.expert_gemm`). The same kernels apply SwiGLU (dGLU backward) and write
  the next GEMM's quantised copies in their epilogues (forward_grouped_mlp.py:327-410), so the activation pass and
  those casts' bf16 reads go (`MoeRouting.fused_grouped_mlp`; `FUSED_GROUPED_MLP_EPILOGUES`, on since round 13h:
  H015 / H025 / H021 move further above the measured step). GPT-OSS (H021) runs the same fused op with its clamped
  quick-GeGLU (`ScaledClampedQGeGLU`, cuDNN act_func "geglu") from TE 2.16 (ops/fused/forward_grouped_mlp.py:22,
  :92-102); TE 2.14 has no such op, and megatron-core's fused GroupedMLP asserts without it (0.19.2 experts.py:
  286-289, :380-385), so the 26.06 GPT-OSS configuration implies TE >= 2.16.
* `moe_cuda_graph`: "graphed" where the whole iteration is one CUDA graph: `cuda_graph_impl = "full_iteration"`
  with the paged stash and a static per-rank token budget (`moe_paged_stash`, `moe_expert_rank_capacity_factor`
  1.5: qwen/common.py:37-47, deepseek/common.py:60-69) give the dropless MoE block static shapes, so no host sync
  or eager issue is left per layer (`Stack.moe_cuda_graph`). The budget pads the HybridEP receive buffer
  (token_dispatcher.py:1090-1102); the fused grouped MLP reads the device-side per-expert counts, so the padded
  rows are not computed (ASSUMPTION: the kernel walks only the received tokens; the force-balanced routing stays
  far inside the 1.5 budget).
* `pipeline_layout` "recipe": the model's recipe layout and MTP layer (the DeepSeek-V3 configs call
  `set_deepseek_v3_pipeline_model_parallel_layout`, deepseek_v3.py:157; the base recipe trains one MTP layer,
  recipes/deepseek/h100/deepseek_v3.py:123; layout for PP4 x VP4 :76): `recipe_training` of the row's model.

Not expressed (stated per row in `not_expressed`): `fp8_dot_product_attention` (Qwen3: MXFP8 attention; the model
prices attention in bf16), `fp8_output_proj` (DeepSeek-V3), `high_priority_a2a_comm_stream`
and the norm kernels' SM margin (NVTE_FWD/BWD_LAYERNORM_SM_MARGIN 20); the paged stash's copies of the grouped MLP's
saved tensors, on a side stream under the next layer's attention (megatron-core 0.19.2 transformer/moe/
paged_stash.py:296-375; exposure unsourced, round 13h notes).
`delay_wgrad_compute` (set by every one of these configurations) is the csv's `delay_wgrad` column since hM65
(`MoeRouting.delay_wgrad_compute`): at TP 1 it changes nothing priced (no TE TP reduction to hide).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.loader import load_accelerator, load_system

# the fused grouped MLP's epilogues (SwiGLU / GPT-OSS's clamped quick-GeGLU and the casts around it,
# `MoeRouting.fused_grouped_mlp`) with the `expert_gemm` grouped column: sourced, ON (round 13h: every sourced
# mechanism on; the rows go further above the measured step, validation/notes/training_sets_tried.md)
FUSED_GROUPED_MLP_EPILOGUES = True

# the frontier rows' `pipeline_layers` column (`validation.sets.frontier_row_stack`): "embedding+loss", the recipe's
# even split counting the embedding and the loss as pipeline layers (H004 / H005); "layout", a published plan whose
# PP x VP chunks Megatron-Core's even split cannot divide and its recipe lays out at no such PP x VP (DeepSeek-V3's 61
# layers on PP8 x VP4, H018: refused, `training.pipeline_split_rule`; Megatron-Bridge 0.3.1 recipes/deepseek/
# deepseek_v3.py:37-49 has layouts for 4, 8 and 16 chunks only, the nemo-26.04 recipe's `pipeline_layout_plans`, so
# H015's PP4 x VP4 and H017's PP16 run on them), so the run laid the layers out itself (Megatron-LM's DeepSeek-V3
# example's Et|(tt|)*30mL, recalled). The row keeps the even split's ceil(L / (PP x VP)) layers per chunk it was
# priced at: its stack takes the count, as the layout it ran did (hR44, hR45).
ROW_PIPELINE_LAYERS: dict[str, dict[str, Any]] = {
    "embedding+loss": {"account_for_embedding_in_pipeline_split": True, "account_for_loss_in_pipeline_split": True},
    "layout": {"pipeline_split_divisible": False,
               "pipeline_split_divisible_source": "the published run laid the layers out itself, a pipeline layout "
               "not carried here (validation.perf_config_moe.ROW_PIPELINE_LAYERS)"}}


def flex_sm_fraction(row: dict[str, str]) -> float:
    """The share of the row's accelerator SMs its flex dispatcher's kernels hold (`flex_sms` / compute units)."""
    accelerator = load_accelerator(load_system(row["infraplan_system"]).accelerator)
    return float(row["flex_sms"]) / float(accelerator.efficiency.compute_units)


def moe_perf_settings(row: dict[str, str], recipe_training: dict[str, dict[str, Any]]
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Stack fields, MoeRouting fields) of the row's `flex_sms`, `expert_gemm`, `moe_cuda_graph` and
    `pipeline_layout` columns (module docstring); `recipe_training`: the models' recipe layouts and MTP."""
    update: dict[str, Any] = {}
    moe: dict[str, Any] = {}
    if row.get("flex_sms"):
        moe["overlap_sm_fraction"] = flex_sm_fraction(row)
    if row.get("expert_gemm"):
        moe["expert_gemm"] = row["expert_gemm"]
        moe["fused_grouped_mlp"] = FUSED_GROUPED_MLP_EPILOGUES and row["expert_gemm"] == "grouped"
    if row.get("moe_cuda_graph"):
        update["moe_cuda_graph"] = row["moe_cuda_graph"]
    if row.get("pipeline_layout") == "recipe":
        update |= recipe_training[row["infraplan_model"]]
    return update, moe
