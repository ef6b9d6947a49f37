"""A training stack's MoE routing and expert-parallel communication: the `moe:` block of a stack YAML (`MoeRouting`).

How the busiest EP rank's load is set (dropless load imbalance or a capacity factor), how much of the EP dispatch and
combine hides behind compute (DeepEP, Megatron-Core's combined 1F1B), how the expert GEMMs run (grouped or per expert,
TE's fused grouped MLP) and which flex dispatcher backend Megatron-Bridge applies where: each field's source is in its
description below, each value in the stack YAML that sets it. Moved out of `catalog.stacks` (which re-exports it) for
room (hY2, session 38), unchanged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from infraplan.catalog.schemas import Spec


class MoeRouting(Spec):
    """How the stack routes tokens to experts and runs the EP all-to-all.

    `load_imbalance`: tokens on the busiest EP rank over the mean, dropless routing (the slowest rank sets the
    pace of the expert GEMMs and the all-to-all). 1.0 = force-balanced, as the NeMo / Megatron-Bridge MoE
    benchmarks run (`moe_router_force_load_balancing`, stated on their performance page). Real routing is a
    user's figure; 1.25 is the headroom Switch Transformer budgets above the mean (capacity factor 1.25,
    Fedus et al. 2022, arXiv:2101.03961 sec. 2.2 / Table 1).
    `capacity_factor` (token dropping, GShard / Switch): each expert's buffer holds c x the mean tokens, tokens
    beyond it are dropped and buffers are padded to it, so compute and all-to-all move c x the mean whatever
    the routing; it replaces `load_imbalance`.
    `dispatch_overlap_fraction`: share of the EP dispatch + combine hidden behind other compute (DeepEP
    kernels overlapped with the attention / expert compute of another micro-batch, DeepSeek-V3 arXiv:2412.19437
    sec. 3.2; Megatron-Core's combined 1F1B is `overlap_ep_comm`), at most that compute;
    `overlap_sm_fraction`: SMs the communication kernels take meanwhile (DeepSeek-V3: 20 of 132 H800 SMs).
    `dispatcher`: "alltoall" (NCCL all-to-all, one copy per routed expert) or "deepep" (DeepEP normal kernels,
    Megatron-core `moe_token_dispatcher_type: flex`: a token crosses the scale-out network once per destination
    node and is forwarded to that node's experts over NVLink; `training.step_time.deepep_node_dedup`).
    `fp8_dispatch`: under an fp8 recipe the tokens are quantised before the dispatch (1x128 tiles) and the
    combine stays bf16 (DeepSeek-V3 arXiv:2412.19437 sec. 3.3.3; DeepEP README "FP8 dispatching, BF16 combining").
    """

    load_imbalance: float = Field(1.0, ge=1.0, le=8.0)
    balanced_routing_note: str = Field(
        "", description="what a balanced plan (load_imbalance 1.0, no capacity_factor) says of the stack's routing, "
        "with its source: the stack's own router where it is not Megatron-Core's forced balancing (HAI-LLM: "
        "DeepSeek-V3's auxiliary-loss-free bias routing); empty: the forced-balancing note the NeMo MoE "
        "benchmarks' setting gives (`training.moe_notes`)")
    capacity_factor: float | None = Field(None, ge=1.0, le=8.0)
    dispatch_overlap_fraction: float = Field(0.0, ge=0, le=1)
    overlap_sm_fraction: float = Field(0.0, ge=0, lt=1)
    dispatcher: Literal["alltoall", "deepep"] = "alltoall"
    fp8_dispatch: bool = False  # fp8 plans: dispatch in fp8 (1 B + a 4 B scale per 128), combine in bf16 (DeepEP)
    overlap_ep_comm: bool = Field(
        False, description="Megatron-Core `overlap_moe_expert_parallel_comm` (0.16.1 pipeline_parallel/"
        "combined_1f1b.py:18-45 / :111-137, models/common/model_chunk_schedule_plan.py:190-254): the 1F1B steps "
        "run one micro-batch's forward with another's backward, layer by layer, each one's EP all-to-all on a "
        "stream of its own under the other's compute, as DualPipe pairs them (`training.expert_dispatch."
        "with_ep_comm`, `ep_paired`); the schedule's unpaired warm-up forwards and cool-down backwards "
        "(schedules.py:765-780) and its pipeline transfers on the all-to-all's NICs: `training.combined_1f1b`. "
        "Only where Megatron-Core accepts it (EP > 1, "
        "virtual stages when PP > 1, no full recompute: transformer_config.py:1855-1877); other plans run without")
    delay_wgrad_compute: bool = Field(
        False, description="Megatron-Core `delay_wgrad_compute` (0.16.1; needs `overlap_ep_comm`, "
        "transformer_config.py:1908-1912; Megatron-Bridge 0.6.0 training/comm_overlap.py:532-535): every TE linear "
        "puts its wgrad GEMM in a store (extensions/transformer_engine.py:525-529, :766-770; TE 2.14 module/"
        "linear.py:888-899, layernorm_linear.py:899-910, grouped_linear.py:484-485) that the combined 1F1B runs "
        "later, the experts' beside the all-to-alls and the attention's after its backward "
        "(models/common/model_chunk_schedule_plan.py:231, :252); TE still waits for a column-parallel linear's "
        "dgrad reduction inside its backward (linear.py:941-943), so no wgrad hides it "
        "(`training.tp_overlap.wgrad_deferred`); the inputs and output gradients each stored wgrad reads are held "
        "until then (`training.deferred_wgrad_memory`). Only on the plans that run the combined 1F1B; a plan that "
        "would run it with TP userbuffers is refused, as TE 2.14 refuses it (module/_common.py:212-216, "
        "`training.tp_overlap.deferred_wgrad_userbuffers_refused`)")
    shared_expert_overlap: bool = Field(
        False, description="Megatron-Core `moe_shared_expert_overlap` (0.16.1 transformer_config.py:550-552, "
        "alltoall dispatcher only :1090-1095; moe/moe_layer.py:238-292, moe/shared_experts.py:92-267): the shared "
        "experts run after the router on a side stream while the tokens are dispatched and combined: their TP "
        "gather, GEMMs and reduce-scatter one chain beside the dispatch, routed experts and combine, the GEMMs of "
        "both sharing the SMs (`training.shared_expert_side`, hD62; session 56: each phase's all-to-all hidden up "
        "to the shared GEMMs' time, the pair exposed), not the layer's window (`training.expert_dispatch."
        "with_ep_comm`). HAI-LLM did the same for DeepSeek-V2 (arXiv:2405.04434 Sec. "
        "3.1.3, RECALLED: 'we overlap the computation of shared experts with the expert parallel all-to-all "
        "communication'). Off: no such overlap (`dispatch_overlap_fraction` prices the whole-layer window). Refused "
        "with `dispatcher: deepep` (flex) or `overlap_ep_comm` (Megatron-Bridge 0.6.0 training/comm_overlap.py:"
        "513-515); off where a `flex_backend` is applied (flex_dispatcher_backend.py:80: `with_flex_dispatcher`)")
    expert_gemm: Literal["grouped", "per_expert"] = Field(
        "grouped", description="how the training experts' GEMMs run: one grouped kernel over every local expert's "
        "tiles, or one GEMM per local expert, each at its own shape (Transformer Engine 2.14 GroupedLinear: "
        "`te_general_grouped_gemm`, multi-stream cuBLAS, pytorch csrc/extensions/gemm.cpp:601-606; "
        "`training.layer_time`)")
    expert_gemm_streams: int = Field(
        1, ge=1, le=16, description="with `expert_gemm` per_expert, the concurrent streams the per-expert GEMMs "
        "are issued on, round robin (Transformer Engine 2.14: 4, `training.layer_kernels.TE_COMPUTE_STREAMS`): "
        "each run of that many GEMMs shares its waves; 1: one after another, each its own waves")
    fused_grouped_mlp: bool = Field(
        False, description="MXFP8 routed experts run Transformer Engine 2.14's fused grouped MLP (TE op fuser + "
        "NVTE_CUTEDSL_FUSED_GROUPED_MLP): SwiGLU / dGLU and the casts around them in the grouped GEMMs' epilogues "
        "(ops/fused/forward_grouped_mlp.py:327-410; `ops.layer`)")
    flex_backend: Literal["deepep", "hybridep"] | None = Field(
        None, description="the recipe's Megatron-Core flex dispatcher backend (Megatron-Bridge "
        "`moe_flex_dispatcher_backend`), run only on the accelerators of `deepep_accelerators` / "
        "`hybridep_accelerators` (`apply_flex_dispatcher_backend`; elsewhere `dispatcher`): DeepEP / HybridEP "
        "kernels priced as they send (`training.expert_dispatch.flex_dispatch_seconds`); None: off")
    deepep_accelerators: tuple[str, ...] = Field(
        (), description="accelerators where Megatron-Bridge applies the DeepEP backend (compute capability 8 / 9, "
        "B200, B300: megatron-bridge 0.3.1 training/flex_dispatcher_backend.py:47-53)")
    hybridep_accelerators: tuple[str, ...] = Field(
        (), description="accelerators where Megatron-Bridge applies the HybridEP backend (compute capability 8 / 9 "
        "/ 10, GB200 / GB300 included: megatron-bridge 0.3.1 training/flex_dispatcher_backend.py:54-61)")

    @model_validator(mode="after")
    def _flex_backend_names_its_accelerators(self) -> MoeRouting:
        runs_on = {"deepep": self.deepep_accelerators, "hybridep": self.hybridep_accelerators}
        if self.flex_backend is not None and not runs_on[self.flex_backend]:
            raise ValueError(f"flex_backend {self.flex_backend} runs on no accelerator: list them in "
                             f"{self.flex_backend}_accelerators (Megatron-Bridge applies it per GPU)")
        if self.shared_expert_overlap and self.dispatcher != "alltoall":  # (hM56: priced as if it ran)
            raise ValueError(f"shared_expert_overlap runs with the alltoall dispatcher only (Megatron-Core raises for "
                             f"{self.dispatcher}, its flex: transformer_config.py:1090-1095)")
        if self.delay_wgrad_compute and not self.overlap_ep_comm:
            raise ValueError("delay_wgrad_compute needs overlap_ep_comm (Megatron-Core transformer_config.py:"
                             "1908-1912: 'overlap_moe_expert_parallel_comm must be enabled')")
        if self.shared_expert_overlap and self.overlap_ep_comm:
            raise ValueError("shared_expert_overlap and overlap_ep_comm: Megatron-Bridge asserts one or the other "
                             "(0.6.0 training/comm_overlap.py:513-515)")
        return self

    @property
    def load_factor(self) -> float:
        """Tokens the busiest EP rank computes and receives, over the balanced mean."""
        return self.capacity_factor if self.capacity_factor is not None else self.load_imbalance
