"""Typed results of the training layer: `infraplan train` (TrainingEstimate) and `infraplan search`.

The field names and nesting are the JSON `--json` has always printed (README "Usage"); every time is in
seconds, every size in bytes. `StepBreakdown` holds the step-time components of `training/step_time.py`
(COMPONENTS): they add up to `step_time_s`. `MemoryBreakdown` holds the per-GPU memory terms of
`training/memory.py` (heaviest pipeline stage).
"""

from __future__ import annotations

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.catalog.published_mfu import PublishedMfu
from infraplan.catalog.stacks import DEFAULT_TRAINING_STACK
from infraplan.results import Result
from infraplan.training.flops import MODEL_FLOP_CONVENTION


def published_mfu_flag(mfu: float, ceiling: PublishedMfu | None, consequence: str = "",
                       causal_ratio: float = 1.0) -> dict[str, object]:
    """The `beyond_published_mfu` fields of a plan predicted at `mfu` against the best published MFU of its
    accelerator family, stack class and precision (`catalog.published_mfu.published_mfu_ceiling`): the flag and its
    reason (the ceiling and its source, then `consequence`, e.g. search's ranking) when the plan exceeds it, else
    nothing. `search` and the single estimate (`train`, the batched sweep) both ask it, so one plan gets one
    answer however it is asked. Like with like: `mfu` is in `training.flops.MODEL_FLOP_CONVENTION`; a ceiling
    published with the causal half of the scores is compared with `mfu x causal_ratio`
    (`training.flops.causal_flops_ratio` of the plan's model and sequence)."""
    if ceiling is None:
        return {}
    ours = mfu * causal_ratio if ceiling.flop_convention == "causal_scores" else mfu
    if not ours > ceiling.mfu:
        return {}
    same = "" if ours == mfu else f" ({ours:.1%} counting the causal half of the scores, as the figure does)"
    reason = (f"predicted MFU {mfu:.1%}{same} exceeds the best published {ceiling.mfu:.1%} for {ceiling.family} "
              f"{ceiling.dtype} under stack class {ceiling.stack}, {ceiling.basis} ({ceiling.source})")
    return {"beyond_published_mfu": True,
            "beyond_published_mfu_reason": f"{reason}; {consequence}" if consequence else reason}


class PlanConfig(Result):
    """One parallel plan: degrees, batch, sequence length and the named variants (unitless counts)."""

    tp: int = Field(description="tensor parallel degree")
    pp: int = Field(description="pipeline stages")
    dp: int = Field(description="data parallel degree")
    cp: int = Field(description="context parallel degree")
    ep: int = Field(description="expert parallel degree (inside DP, or folded over TP x CP x DP)")
    etp: int = Field(description="expert tensor parallel degree (ranks each expert is split over; TP unless folded)")
    vpp: int = Field(description="virtual (interleaved) stages per pipeline stage")
    micro_batch: int = Field(description="micro-batch, sequences")
    global_batch: int = Field(description="global batch, sequences")
    seq_len: int = Field(description="sequence length, tokens")
    recompute: str = Field(description="activation recompute: none | selective | full")
    recompute_layers: int = Field(0, description="full recompute of only the first k layers of each model chunk "
                                  "(Megatron-Core block method); 0: every layer")
    offload_layers: int = Field(0, description="CPU activation offload: the first N layers' saved activations in "
                                "host memory (Megatron-Core `cpu_offloading_num_layers`); 0: none")
    zero: int = Field(description="ZeRO stage 0-3")
    zero_shard: int = Field(0, description="ranks ZeRO shards over (hybrid sharding, `train --zero-shard`), "
                            "replicated across DP x CP / zero_shard groups; DP x CP: all of them")
    dtype: str = Field(description="GEMM precision: bf16 | fp8 | mxfp8 | nvfp4")
    attention: str = Field(description="attention kernel: flash | unfused")
    order: str = Field(description="rank placement, innermost axis first")
    sequence_parallel: bool = Field(description="norms/dropout split over TP")
    schedule: str = Field(description="pipeline schedule: 1f1b | interleaved")
    gpus: int = Field(description="accelerators: TP x CP x PP x DP")
    micro_batches: int = Field(description="micro-batches per step per pipeline")


class StepBreakdown(Result):
    """Where the step time goes, seconds per component; the components add up to the step time."""

    compute: float = Field(description="seconds of exposed compute (GEMMs, attention, element-wise, host floor)")
    tp_comm: float = Field(description="seconds of exposed tensor-parallel collectives")
    cp_comm: float = Field(description="seconds of exposed context-parallel K/V all-gathers")
    ep_comm: float = Field(description="seconds of exposed expert-parallel all-to-alls")
    pp_bubble: float = Field(description="seconds of pipeline bubble")
    pp_comm: float = Field(description="seconds of exposed pipeline send/recv and the tied embedding's "
                           "gradient all-reduce between the first and last stage (a blocking stack's host calls "
                           "around each send/recv are in host_exposed)")
    dp_comm_exposed: float = Field(description="seconds of data-parallel gradient/parameter traffic not hidden")
    optimizer: float = Field(description="seconds of the optimizer step's GPU work (its launches' exposed host "
                             "time is in host_exposed)")
    other: float = Field(description="seconds of the element-wise work: norms, residual adds, rotary and "
                         "activations; a quantised format's casts, amax reads and per-expert quantise and scale "
                         "kernels; an MoE layer's router, permute and unpermute passes; the LM loss "
                         "(cross-entropy) and the embedding's gather and dense backward (the exposed host issue "
                         "time is `host_exposed`)")
    host_exposed: float = Field(description="seconds the GPU waits for the host on the heaviest pipeline stage: "
                                "kernel issue no queued GPU work covers (eager PyTorch ~26 us a kernel; CUDA graphs: "
                                "one launch per layer and phase), the dispatch after each sync, the batch's and the "
                                "loss's host calls, a dropless MoE layer's host sync (`training.host_time`); the "
                                "optimizer's launches and a blocking pipeline's p2p host calls; the other stages' "
                                "host time is in pp_bubble where it sets the bubble")


class HostExposedPhases(Result):
    """`StepBreakdown.host_exposed` by the intervals the model prices it in (`training.host_time`); they add up to
    it. Each interval runs from one host-device sync to the next: the host issues ahead while GPU work is queued."""

    forward: float = Field(description="seconds in forward intervals: each forward where a sync ends it (pipeline "
                           "p2p, a stack's timers, a dropless MoE sync), else the first micro-batch's; the batch's "
                           "host calls between syncs and the loss calls after the LM head")
    backward: float = Field(description="seconds in backward intervals: each backward where synced, else the first "
                            "micro-batch's, less what its forward's queued GPU work hides")
    forward_backward: float = Field(description="seconds in the later micro-batches of an unsynced step, each forward "
                                    "+ backward one interval the host runs ahead in")
    moe_syncs: float = Field(description="seconds after dropless MoE layers' host syncs: the dispatch the emptied "
                             "queue waits for and, under CUDA graphs, the eagerly issued MoE block its own GPU work "
                             "does not hide")
    optimizer: float = Field(description="seconds of the optimizer's launches its GPU work does not cover and the "
                             "dispatch after its host sync (the grad-norm / inf check)")
    pp_comm: float = Field(description="seconds of a blocking pipeline's host calls around each send/recv (timers, "
                           "waits, the device sync: Megatron-LM <= v3.0, or VP = 1 on NeMo; 0 where p2p overlaps)")


class MemoryBreakdown(Result):
    """Memory per GPU on the heaviest stage, bytes per term."""

    weights: float = Field(description="bytes of weights")
    gradients: float = Field(description="bytes of gradients")
    optimizer: float = Field(description="bytes of optimizer state")
    activations: float = Field(description="bytes of stored activations")
    overhead: float = Field(description="bytes of runtime overhead: the CUDA context and library workspaces' reserve "
                            "and the plan's NCCL communicator buffers (`training.communicator_buffers`)")


class PlanMetrics(Result):
    """One plan's predicted step: throughput, utilisation, memory and the time breakdown."""

    step_time_s: float = Field(description="seconds per optimizer step")
    tokens_per_s: float = Field(description="tokens per second, whole job")
    tokens_per_s_per_gpu: float = Field(description="tokens per second per GPU")
    model_tflops_per_gpu: float = Field(description="model TFLOP/s per GPU (`mfu_flop_convention`)")
    mfu: float = Field(description="model FLOPs utilisation, fraction of the dense peak of the plan's own dtype "
                       "(`config.dtype`: bf16, fp8 / mxfp8 or nvfp4, each its own peak, so MFUs of two dtypes do not "
                       "compare: `model_tflops_per_gpu` does), in `mfu_flop_convention` (full s x s scores: above 1 "
                       "is possible at long sequences on a part near its peak, where the causal kernels run fewer "
                       "FLOPs than the convention counts)")
    hfu: float = Field(description="hardware FLOPs utilisation: `mfu`'s FLOPs plus recompute (Megatron SC'21 "
                       "HFU), fraction of peak")
    executed_flops_utilisation: float = Field(description="FLOPs the priced kernels run (causal attention as the "
                                              "kernel runs it, recompute included) over the dtype's dense peak; "
                                              "never above 1")
    mfu_flop_convention: str = Field(MODEL_FLOP_CONVENTION, description="the model-FLOP count of "
                                     "`model_tflops_per_gpu`, `mfu` and `hfu`")
    memory_per_gpu_bytes: float = Field(description="bytes per GPU, heaviest stage")
    memory_capacity_bytes: float = Field(description="bytes of accelerator memory")
    memory_breakdown_bytes: MemoryBreakdown = Field(description="bytes per GPU by term")
    fits: bool = Field(description="memory_per_gpu_bytes <= memory_capacity_bytes")
    memory_overflow_term: str | None = Field(description="the largest memory term when the plan does not fit")
    memory_headroom_bytes: float = Field(description="bytes of accelerator memory left after the priced memory "
                                         "(capacity - memory_per_gpu_bytes; negative: does not fit)")
    memory_margin_bytes: float = Field(description="bytes of headroom a plan is expected to keep for the allocator's "
                                       "fragmentation and what is not priced (ASSUMPTION: a share of capacity, "
                                       "`--memory-margin`)")
    low_memory_headroom: bool = Field(False, description="memory_headroom_bytes below memory_margin_bytes (search "
                                      "ranks such plans after those with the margin, as it does plans beyond the MFU "
                                      "guard)")
    low_memory_headroom_reason: str | None = Field(None, description="the headroom, the margin and its basis")
    cuda_graphs: bool = Field(False, description="the plan's layers replayed from captured CUDA graphs (its stack's "
                              "`cuda_graphs`, within its `cuda_graphs_when` bounds: `training.cuda_graph_rule`)")
    breakdown_s: StepBreakdown = Field(description="seconds per step-time component (they add up to step_time_s)")
    host_exposed_phases_s: HostExposedPhases = Field(description="breakdown_s.host_exposed by phase (seconds; they "
                                                     "add up to it)")
    config: PlanConfig = Field(description="the plan")
    train_command: str | None = Field(None, description="the `infraplan train` command line that reproduces this "
                                      "plan exactly (search rows)")
    beyond_published_mfu: bool = Field(False, description="predicted MFU exceeds the best published MFU for this "
                                       "accelerator family, stack class and precision (search, train and sweep alike)")
    beyond_published_mfu_reason: str | None = Field(None, description="the ceiling exceeded and its source")
    error_band: ErrorBand | None = Field(None, description="expected relative error (validation residuals of the "
                                         "nearest cases; catalog/error_bands.yaml; on the default stack, the cases "
                                         "re-run on it: `basis` says which)")


class TrainingEstimate(PlanMetrics):
    """`infraplan train`: one plan of one model on one system (`estimate_training`)."""

    model: str = Field(description="model name")
    system: str = Field(description="system name")
    accelerator: str = Field(description="accelerator name")
    parameters: int = Field(description="total model parameters (count)")
    stack: str = Field(DEFAULT_TRAINING_STACK, description="software-stack profile assumed (catalog/stacks; --stack)")
    optimizer: str = Field("adam", description="the optimizer priced: adam | muon (the stack's or its model "
                           "recipe's; --optimizer; `training.optimizers`)")
    notes: list[str] = Field(default_factory=list, description="what infraplan chose that the user did not give")
    lora_rank: int | None = Field(None, description="LoRA adapters' rank on a frozen base (--lora-rank); null: every "
                                  "weight trained")
    lora_targets: str | None = Field(None, description="the projections the adapters are on (--lora-targets: "
                                     "attention = Q, K, V, O; all = every linear but the router); null without "
                                     "--lora-rank")
    trainable_params_count: int | None = Field(None, description="parameters trained (the adapters', or the DSA "
                                               "warm-up's indexer); null without --lora-rank or --dsa-stage warmup")
    dsa_stage: str | None = Field(None, description="a DeepSeek Sparse Attention model's training stage priced "
                                  "(--dsa-stage): sparse | warmup (the indexer alone, the model frozen, dense "
                                  "attention); null for a model without the indexer")


class MfuCeiling(Result):
    """The published-MFU ceiling a search held one precision's plans to (`catalog.published_mfu`), and what it did
    to the ranking: the plans the objective puts ahead of the best plan that it ranked after it."""

    dtype: str = Field(description="the precision of the plans it guards")
    mfu: float = Field(description="the ceiling, a fraction of `dtype`'s dense peak, in `flop_convention`")
    flop_convention: str = Field(description="the model-FLOP count of the figure: full_scores, or causal_scores "
                                 "(a plan's MFU is then counted with the causal half of the scores before comparing)")
    family: str = Field(description="the accelerator family whose figure it is")
    stack_class: str = Field(description="the software-stack class of the figure")
    figure_dtype: str = Field(description="the precision the figure was published in (another than `dtype` where "
                              "the family has none in it: `lookup` own_other_precision)")
    source: str = Field(description="where the figure is published")
    lookup: str = Field(description="own (the family's figure for the stack class and precision) | own_other_stack | "
                        "own_other_precision (the family's share in the nearest precision) | any_family (the family "
                        "has no figure: the best of any family)")
    fallback: bool = Field(description="not the family's own figure in this precision (own_other_precision or "
                           "any_family)")
    basis: str = Field(description="the lookup in words")
    ranks: bool = Field(description="whether the ceiling ranked plans (false: --no-mfu-guard or what-if hardware, "
                        "where it only flags)")
    ranked_after_count: int = Field(0, description="plans of this precision the objective puts ahead of the best "
                                    "plan (faster under time, less memory under memory) that were ranked after it "
                                    "for exceeding this ceiling (count)")
    fastest_ranked_after_step_time_s: float | None = Field(None, description="the fastest of those plans' seconds "
                                                           "per step; null when none")
    fastest_ranked_after_mfu: float | None = Field(None, description="that plan's MFU, fraction of `dtype`'s dense "
                                                   "peak (full scores); null when none")
    fastest_ranked_after_config: PlanConfig | None = Field(None, description="that plan's layout (the model's "
                                                           "fastest of this precision, which the ceiling displaced: "
                                                           "`train` prices it); null when none")


class DtypeChoice(Result):
    """What a search's `--dtype auto` chose and what it left (`training.dtype_choice`)."""

    chosen: str = Field(description="the best plan's precision")
    model_class: str = Field(description="dense | moe: the class the precisions were looked up under")
    considered: list[str] = Field(description="precisions auto searched: those the accelerator and the stack run "
                                  "with a published pre-training recipe for the model class "
                                  "(catalog/training_precisions.yaml)")
    left_out: list[str] = Field(description="precisions the accelerator and stack run that auto did not search: no "
                                "published pre-training recipe for the model class")
    alternative: str | None = Field(description="the precision of the fastest plan in any other precision (left "
                                    "out ones included); null when no other fits or none is run")
    alternative_tokens_per_s: float | None = Field(description="that plan's tokens per second, whole job")
    alternative_step_time_s: float | None = Field(description="that plan's seconds per step")
    alternative_mfu: float | None = Field(description="that plan's MFU, fraction of its own dtype's dense peak")
    summary: str = Field(description="one line: the precision chosen, why, and what the alternative gives")


class PlanSearchResult(Result):
    """`infraplan search` at one GPU count (`search_plans`): the best plans and the search statistics."""

    model: str = Field(description="model name")
    system: str = Field(description="system name")
    gpus: int = Field(description="accelerators searched over")
    objective: str = Field(description="ranking: time | memory")
    stack: str = Field(DEFAULT_TRAINING_STACK, description="software-stack profile assumed (catalog/stacks; --stack)")
    optimizer: str = Field("adam", description="the optimizer every plan is priced with: adam | muon (as train's)")
    best: PlanMetrics | None = Field(description="the best plan that fits, or null")
    top: list[PlanMetrics] = Field(description="the best plans that fit, best first")
    reason: str | None = Field(description="why no plan fits, when none does")
    lora_rank: int | None = Field(None, description="LoRA adapters' rank on a frozen base, every plan priced as "
                                  "`train --lora-rank` (--lora-rank); null: every weight trained")
    lora_targets: str | None = Field(None, description="the projections the adapters are on (--lora-targets); null "
                                     "without --lora-rank")
    dsa_stage: str | None = Field(None, description="a DeepSeek Sparse Attention model's training stage every plan "
                                  "is priced in (--dsa-stage): sparse | warmup (as train --dsa-stage); null: a model "
                                  "without the indexer")
    mfu_guard: bool = Field(True, description="plans above the best published MFU ranked after those within it "
                            "(off: by predicted time alone; the default on what-if hardware)")
    evaluated_count: int = Field(description="valid plans evaluated (count)")
    feasible_count: int = Field(description="plans that fit in memory and that the stack runs (count)")
    wall_time_s: float = Field(description="the search's own wall clock (not a model answer: it differs run to run), "
                               "seconds")
    configs_per_s: float | None = Field(description="plans evaluated per second")
    notes: list[str] = Field(default_factory=list, description="the accelerator's figures where they are SECONDARY "
                             "or PRELIMINARY, and a use other than its source's (`catalog.figures.figures_notes`); "
                             "what `train` says of the best plan: the stack's model recipe, the rank placement "
                             "(`training.moe_notes.search_notes`), the MoE routing and where its EP all-to-all runs "
                             "(`training.plan_notes.train_plan_notes`)")
    dtype_choice: DtypeChoice | None = Field(None, description="--dtype auto: the precision chosen, those "
                                             "searched and left out, and the best other precision's plan; null "
                                             "when a dtype was asked or no plan fits")
    ep_choice: str | None = Field(None, description="an MoE model: why the best plan runs its EP, the best plan of "
                                  "the other kind (EP 1 against EP > 1) in its precision and the step-time terms "
                                  "that differ most (`training.ep_choice`); null: a dense model or no plan")
    mfu_ceilings: list[MfuCeiling] = Field(default_factory=list, description="the published-MFU ceiling of each "
                                           "precision searched (none where no family has a figure in it), and the "
                                           "plans it ranked after the best")
    margin_ranked_after_count: int = Field(0, description="plans the objective puts ahead of the best plan that were "
                                           "ranked after it for their memory headroom alone (below the margin, "
                                           "within every MFU ceiling; count)")
    margin_fastest_ranked_after_step_time_s: float | None = Field(None, description="the fastest of those plans' "
                                                                  "seconds per step; null when none")
    tie_ranked_after_count: int = Field(0, description="plans within every MFU ceiling and the margin that the "
                                        "objective puts ahead of the best plan, ranked after it for a simpler "
                                        "layout: where the ceiling ranked a faster plan after the best, the plans "
                                        "within 1 % of the first within it come simplest layout first (no "
                                        "recompute, then the smaller CP, then fewer of TP and PP, then the "
                                        "smaller PP; count)")


class ScalingPoint(Result):
    """The best plan at one GPU count of a scaling sweep."""

    gpus: int = Field(description="accelerators")
    best: PlanMetrics | None = Field(description="the best plan that fits, or null")
    reason: str | None = Field(description="why no plan fits, when none does")
    evaluated_count: int = Field(description="valid plans evaluated (count)")
    feasible_count: int = Field(description="plans that fit in memory and that the stack runs (count)")
    mfu_ceilings: list[MfuCeiling] = Field(default_factory=list, description="the search's published-MFU ceilings "
                                           "at this count and the plans each ranked after the best")


class ScalingResult(Result):
    """`infraplan search --gpus A,B,...`: the best plan per GPU count (a scaling curve)."""

    model: str = Field(description="model name")
    system: str = Field(description="system name")
    scaling: list[ScalingPoint] = Field(description="one point per GPU count, in the order asked")
    dsa_stage: str | None = Field(None, description="a DeepSeek Sparse Attention model's training stage every point's "
                                  "plans are priced in (--dsa-stage): sparse | warmup (as train --dsa-stage); null: a "
                                  "model without the indexer")
    evaluated_count: int = Field(description="valid plans evaluated over every point (count)")
    wall_time_s: float = Field(description="the searches' own wall clock over every point (not a model answer), "
                               "seconds")
    notes: list[str] = Field(default_factory=list, description="the accelerator's figures where they are SECONDARY "
                             "or PRELIMINARY, and a use other than its source's (`catalog.figures.figures_notes`); "
                             "what `train` says of the best plan: the stack's model recipe, the rank placement "
                             "(`training.moe_notes.search_notes`), the MoE routing and where its EP all-to-all runs "
                             "(`training.plan_notes.train_plan_notes`)")

    @classmethod
    def from_searches(cls, results: list[PlanSearchResult]) -> ScalingResult:
        """Collect one search per GPU count into a scaling curve."""
        return cls(model=results[0].model, system=results[0].system, dsa_stage=results[0].dsa_stage,
                   scaling=[ScalingPoint(gpus=r.gpus, best=r.best, reason=r.reason, evaluated_count=r.evaluated_count,
                                         feasible_count=r.feasible_count, mfu_ceilings=r.mfu_ceilings)
                            for r in results],
                   evaluated_count=sum(r.evaluated_count for r in results),
                   wall_time_s=sum(r.wall_time_s for r in results),
                   notes=list(dict.fromkeys(n for r in results for n in r.notes)))  # each point's, once
