"""What a training framework refuses or defaults to, and how it runs pipeline parallelism: those fields of a `Stack`.

`catalog.stacks.Stack` inherits these, so a stack YAML stays one flat file. Each limit is optional (None: a user's
file without it: every option, with a note) and needs its `<field>_source`, the framework code or docs that say it
(checked by `_limits_have_a_source`). Consumers: `training.schedules.stack_schedules` (pipeline schedules),
`training.stack_limits` (ZeRO stages, context parallelism, dtypes, default ZeRO), `training.plan_rules` (expert
layouts, micro-batch rules), `training.pipeline_split_rule` (whether the even pipeline split needs PP x VPP to divide
the layers), `training.stage_split` (how the balanced split cuts stages), `training.estimate` (default schedule, rank
order), `training.hybrid_shard`, `training.one_plan_memo` (the attention kernel's rate),
`training.sparse_attention_rules` (DeepSeek Sparse Attention and its context parallelism).

How the framework runs pipeline parallelism (`PipelineRules`, which `Stack` inherits too; each YAML states its
framework's default or its source):

* `pipeline_split` (even | balanced) and Megatron-Core's `account_for_embedding_in_pipeline_split` /
  `account_for_loss_in_pipeline_split`: how the layers are cut into pipeline stages and whether the embedding
  and the loss count as a layer (`training.schedules.heaviest_stage`); `pipeline_layouts` (Megatron-Core
  `pipeline_model_parallel_layout` strings, used where a plan's p x v chunks match one) and `mtp_num_layers` (MTP
  modules trained): `training.pipeline_layout`.
* `p2p_synchronize`, `p2p_transfers_per_micro_batch`, `p2p_overlap_needs_interleaving`: which pipeline send/recv
  exchanges block the host (Megatron-LM <= v3.0 `_communicate`, DeepSpeed's TrainSchedule, Megatron-Core's
  non-interleaved 1F1B; `training.step_assembly`).
* `pipeline_dp_overlap_fraction`, `pipeline_grad_reduce_deferred`: how the gradient reduction overlaps under a
  pipeline (`training.step_assembly`, `training.zero3_edges`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from infraplan.catalog.kernel_fits import AttentionKernel
from infraplan.catalog.schemas import Spec


class CudaGraphRule(Spec):
    """The plans a stack's CUDA graphs capture (`Stack.cuda_graphs_when`; `training.cuda_graph_rule.graphed`): those
    within every bound given (a bound left out holds for any plan); the others launch eagerly."""

    max_pp: int | None = Field(None, ge=1, description="graphed only at PP at most this (torchtitan 0.3.0: 1, "
                               "trainer.py:179-211 refuses graphs with a pipeline)")
    max_ep: int | None = Field(None, ge=1, description="graphed only at EP at most this (torchtitan 0.3.0: 1, its "
                               "default token dispatcher is not graph-safe; a stack file with HybridEP's "
                               "non_blocking_capacity_factor or MinimalAsyncEP leaves it out)")


class FrameworkRules(Spec):
    """The framework's limits and defaults (the fields below), each with its source."""

    pipeline_schedules: tuple[str, ...] | None = Field(
        None, min_length=1, description="the pipeline schedules the framework ships, by their `--schedule` names "
        "(`training.schedules.stack_schedules`): `search` tries only these for pipelined plans (PP > 1; a plan "
        "without a pipeline runs none) and `train` notes any other it prices; None (a user's file without the "
        "field): every registered schedule, with a note")
    pipeline_schedules_source: str | None = Field(
        None, description="where `pipeline_schedules` comes from (the framework's code or docs); required with it")
    zero_stages: tuple[Literal[0, 1, 2, 3], ...] | None = Field(
        None, min_length=1, description="the ZeRO stages the framework runs without pipeline parallelism (PP = 1; "
        "Megatron-Core 0.8's distributed optimizer is ZeRO-1, torchtitan's FSDP2 has no ZeRO-1): `search` proposes "
        "no other at PP = 1, `train` notes one (`training.stack_limits`); None: every stage, with a note")
    zero_stages_source: str | None = Field(None, description="where `zero_stages` comes from; required with it")
    pipeline_zero_stages: tuple[Literal[0, 1, 2, 3], ...] | None = Field(
        None, min_length=1, description="the ZeRO stages the framework runs together with pipeline parallelism "
        "(PP > 1; DeepSpeed's pipeline engine refuses ZeRO-2 / 3): `search` proposes no other with PP > 1, `train` "
        "notes one (`training.stack_limits`); None (a user's file without the field): every stage, with a note")
    pipeline_zero_stages_source: str | None = Field(
        None, description="where `pipeline_zero_stages` comes from; required with it")
    model_parallel_zero_stages: tuple[Literal[0, 1, 2, 3], ...] | None = Field(
        None, min_length=1, description="the ZeRO stages the framework runs together with tensor, context or expert "
        "parallelism (TP, CP or EP > 1; NeMo 2.1's FSDPStrategy, its ZeRO-2, builds none): `search` proposes no "
        "other there, `train` notes one (`training.stack_limits`); None: no limit beyond `zero_stages`")
    model_parallel_zero_stages_source: str | None = Field(
        None, description="where `model_parallel_zero_stages` comes from; required with it")
    default_zero: Literal[0, 1, 2, 3] | None = Field(
        None, description="the ZeRO stage the framework runs when none is set, without a pipeline (PP = 1): what "
        "`train` prices without --zero (`training.stack_limits.default_zero`); None: ZeRO-1, with a note")
    default_zero_source: str | None = Field(None, description="where `default_zero` comes from; required with it")
    pipeline_default_zero: Literal[0, 1, 2, 3] | None = Field(
        None, description="the ZeRO stage the framework runs when none is set, with pipeline parallelism (PP > 1; "
        "torchtitan's FSDP2 keeps the parameters gathered from forward to backward there: ZeRO-2); None: ZeRO-1")
    pipeline_default_zero_source: str | None = Field(
        None, description="where `pipeline_default_zero` comes from; required with it")
    pipeline_default_schedule: Literal["1f1b"] | None = Field(
        None, description="the pipeline schedule the framework runs when none is named, where it does not interleave "
        "on its own (torchtitan: 1F1B, one stage per rank): `train` without --vpp / --schedule runs it rather than the "
        "interleave a Megatron/NeMo recipe would set (`training.estimate.default_virtual_stages`); None: that choice")
    pipeline_default_schedule_source: str | None = Field(
        None, description="where `pipeline_default_schedule` comes from; required with it")
    pipeline_micro_batch_rules: Literal["megatron", "torch"] | None = Field(
        None, description="whose rules on the micro-batches per step m the framework's pipeline schedules keep "
        "(`training.schedule_models.MICRO_BATCH_RULES`): megatron (interleaved needs m a multiple of PP; 1F1B, "
        "ZB-H1 and ZB-V any m) or torch (torch.distributed.pipelining: 1F1B needs m >= PP, Interleaved1F1B and "
        "InterleavedZeroBubble m a multiple of max(1, m // PP)); `search` proposes no plan outside them, `train` "
        "refuses one; None: megatron's (the schedules' rules before stacks named theirs)")
    pipeline_micro_batch_rules_source: str | None = Field(
        None, description="where `pipeline_micro_batch_rules` comes from; required with it")
    context_parallel: bool | None = Field(
        None, description="the framework ships context parallelism as the plan's CP models it (the sequence split "
        "across CP ranks, K and V exchanged for attention: Megatron-Core / Transformer Engine, torch's "
        "context_parallel); false: `search` keeps CP 1, `train` notes CP > 1 (`training.stack_limits`); None: "
        "searched, with a note")
    context_parallel_source: str | None = Field(
        None, description="where `context_parallel` comes from; required with it")
    expert_tensor_parallel: Literal["any", "tp-or-ep"] | None = Field(
        None, description="how the framework may split the routed experts: any (Megatron-Core "
        "--expert-tensor-parallel-size: expert TP = TP, or another value with MoE parallel folding) or tp-or-ep "
        "(expert TP = TP without EP, expert TP 1 with EP > 1, EP taking its ranks from FSDP x CP x TP: torchtitan); "
        "`search` proposes no other plan, `train` refuses one (`training.plan_rules`); None: any")
    expert_tensor_parallel_source: str | None = Field(
        None, description="where `expert_tensor_parallel` comes from; required with it")
    expert_parallel_layout: Literal["ep-inside-dp", "ep-over-tp-cp-dp", "ep-over-tp-cp-dp-same-pp"] | None = Field(
        None, description="where the framework lays the routed experts' EP groups: ep-inside-dp (EP carved out of DP "
        "at expert TP = TP: EP must divide DP; megatron-core <= 0.9), ep-over-tp-cp-dp (expert TP innermost, then EP, "
        "then expert DP, over the stage's TP x CP x DP ranks at any expert TP: EP x expert TP must divide TP x CP x "
        "DP; torchtitan's sparse mesh) or ep-over-tp-cp-dp-same-pp (the same, from megatron-core 0.10's expert rank "
        "generator, whose pipeline groups must be the dense ones: under tp-cp-pp-dp with PP > 1, EP x expert TP = "
        "TP x CP); `training.plan.PlanArrays.experts_over_stage`, `training.plan_rules`; None: ep-inside-dp")
    expert_parallel_layout_source: str | None = Field(
        None, description="where `expert_parallel_layout` comes from; required with it")
    rank_order: Literal["tp-cp-pp-dp", "tp-cp-dp-pp"] | None = Field(
        None, description="the order in which the framework numbers ranks, innermost first (`train --order`), used "
        "when `train` is given none: Megatron-Core's RankGenerator default tp-cp-ep-dp-pp (PP outermost) is "
        "tp-cp-dp-pp here; the Llama 3 paper's [TP, CP, PP, DP] is tp-cp-pp-dp; None: tp-cp-pp-dp")
    rank_order_source: str | None = Field(None, description="where `rank_order` comes from; required with it")
    dtypes: tuple[Literal["bf16", "fp8", "mxfp8", "nvfp4"], ...] | None = Field(
        None, min_length=1, description="the precisions the stack trains in: `search` tries no other, `train` notes "
        "one (`training.stack_limits.stack_dtype_notes`); None: every precision the accelerator has")
    dtypes_source: str | None = Field(None, description="where `dtypes` comes from; required with it")
    zero_shard_stages: tuple[Literal[1, 2, 3], ...] | None = Field(
        None, min_length=1, description="the ZeRO stages the framework shards over a group smaller than DP x CP, "
        "replicated across the groups (`train --zero-shard N`: FSDP2 HSDP, Megatron-Core distributed-optimizer "
        "instances; `training.hybrid_shard`); None: none, `train --zero-shard` is refused")
    zero_shard_stages_source: str | None = Field(
        None, description="where `zero_shard_stages` comes from; required with it")
    optimizers: tuple[Literal["adam", "muon"], ...] | None = Field(
        None, min_length=1, description="the optimizers the framework ships (`training.optimizers.OPTIMIZERS`): "
        "`--optimizer` and the stack's `optimizer` take no other (Megatron-Core ships Muon from 0.16, "
        "optimizer/muon.py; 0.8-0.15 ship AdamW alone); None: adam, and muon on a megatron stack")
    optimizers_source: str | None = Field(None, description="where `optimizers` comes from; required with it")
    sparse_attention: Literal["none", "dsa", "dsa-allgather-cp"] | None = Field(
        None, description="DeepSeek Sparse Attention (DeepSeek-V3.2's lightning indexer, `ops.sparse_attention`) as "
        "the framework ships it (`training.sparse_attention_rules`): none (a DSA model is refused), dsa (without "
        "context parallelism: megatron-core 0.16.0-0.18.x assert CP 1; a DSA plan at CP > 1 is refused) or "
        "dsa-allgather-cp (megatron-core 0.19: CP by all-gathering the keys and the indexer's keys); None: priced "
        "unchecked at any CP, with a note")
    sparse_attention_source: str | None = Field(
        None, description="where `sparse_attention` comes from; required with it")
    pipeline_split_divisible: bool | None = Field(
        None, description="the framework's even split refuses layers (+ the embedding / loss it counts) that PP x VPP "
        "does not divide, but where a `pipeline_layouts` entry has the p x v chunks (`training.plan_rules`: `search` "
        "never proposes, `train` refuses); false: it splits any count; None: true; the balanced split takes any count")
    pipeline_split_divisible_source: str | None = Field(
        None, description="where `pipeline_split_divisible` comes from; required with it")
    pipeline_partition: Literal["time", "parameters", "uniform", "type:transformer", "units"] | None = Field(
        None, description="how the framework's balanced split (`pipeline_split: balanced`) cuts the decoder into "
        "stages: time (the whole-layer cut that minimises the slowest stage at the plan's own rates, re-cut as rates "
        "move: `training.stage_split.balanced_heaviest_stage`) or DeepSpeed's `PipelineModule(partition_method=...)` "
        "strings, a cut fixed by the model and PP alone: parameters (`partition_balanced` of each layer's parameter "
        "count: the least spread), type:transformer (the same of 1 per decoder layer), uniform (the layer list's "
        "items cut evenly); or torchtitan's units (the embedding and the head one unit each beside the L layers, "
        "cut evenly, the remainder on the first stages), `training.pipeline_partition`; None: time")
    pipeline_partition_source: str | None = Field(
        None, description="where `pipeline_partition` comes from; required with it")
    attention_kernel: AttentionKernel | None = Field(
        None, description="the fused-attention kernel the framework selects on the part, priced at the part's "
        "`attention_kernel_fraction` of it where the catalog has one (`training.attention_core.STACK_ATTENTION_KERNEL`"
        "); None: the kernel the part's `attention_max_fraction` was measured on (cuDNN's on Hopper)")
    attention_kernel_source: str | None = Field(
        None, description="where `attention_kernel` comes from (the framework's backend choice); required with it")
    pipeline_layout_plans: tuple[tuple[Annotated[int, Field(ge=2)], Annotated[int, Field(ge=1)]], ...] = Field(
        (), description="the (PP, VPP) plans a model's recipe lays out itself (a Megatron-Core "
        "`pipeline_model_parallel_layout` it sets for that PP x VP), which the even split then need not divide "
        "(`training.pipeline_split_rule`); set by a model recipe (`catalog.model_recipes`), whose source says where; "
        "priced on the even split's layers per chunk (the layouts' own pricing: `Stack.pipeline_layouts`)")

    @model_validator(mode="after")
    def _limits_have_a_source(self) -> FrameworkRules:
        for name, what in (("pipeline_schedules", "ship those schedules"),
                           ("zero_stages", "run those ZeRO stages without a pipeline"),
                           ("pipeline_zero_stages", "run those ZeRO stages with pipeline parallelism"),
                           ("model_parallel_zero_stages", "run those ZeRO stages with TP, CP or EP > 1"),
                           ("context_parallel", "ship (or lack) context parallelism"),
                           ("default_zero", "run that ZeRO stage by default without a pipeline"),
                           ("pipeline_default_zero", "run that ZeRO stage by default with pipeline parallelism"),
                           ("pipeline_micro_batch_rules", "keep those rules on the micro-batches per step"),
                           ("pipeline_split_divisible", "refuse (or split) a layer count PP x VPP does not divide"),
                           ("pipeline_partition", "cut the stages so"),
                           ("pipeline_default_schedule", "run that schedule when none is named"),
                           ("expert_tensor_parallel", "split the experts so"),
                           ("expert_parallel_layout", "lay the expert groups so"),
                           ("rank_order", "number ranks in that order"), ("dtypes", "train in those precisions"),
                           ("zero_shard_stages", "shard those ZeRO stages over a part of DP"),
                           ("attention_kernel", "select that attention kernel"),
                           ("optimizers", "ship those optimizers"),
                           ("sparse_attention", "ship (or lack) DeepSeek Sparse Attention so")):
            if getattr(self, name) is not None and not (getattr(self, f"{name}_source") or "").strip():
                raise ValueError(f"{name} needs {name}_source: the framework code or docs that {what}")
        split = getattr(self, "pipeline_split", "balanced")  # (`Stack`'s field, beside these)
        if self.pipeline_partition not in (None, "time") and split != "balanced":
            raise ValueError(f"pipeline_partition {self.pipeline_partition} cuts a balanced split: pipeline_split is "
                             f"{split}")
        recipes = getattr(self, "model_recipes", ())  # (`Stack`'s fields, beside these: its own and its recipes')
        own = getattr(self, "optimizer", "adam")
        named = {own: "its `optimizer`", **{r.optimizer: f"its {r.model} recipe's `optimizer`" for r in recipes
                                             if r.optimizer and r.optimizer != own}}
        for optimizer, whose in named.items():
            refusal = optimizer_refusal(self, optimizer)
            if refusal is not None:  # which of the file's settings names it (hI61: `optimizers: [muon]` over an
                # adam default said only "ships no adam optimizer", with the parent's source for the list)
                raise ValueError(f"{whose} is {optimizer}: {refusal}")
        for default, stages in (("default_zero", "zero_stages"), ("pipeline_default_zero", "pipeline_zero_stages")):
            stage, runs = getattr(self, default), getattr(self, stages)
            if stage is not None and runs is not None and stage not in runs:
                raise ValueError(f"{default} {stage} is not among {stages} {list(runs)}")
        return self


def optimizer_refusal(rules: FrameworkRules, optimizer: str) -> str | None:
    """Why the framework cannot step with `optimizer` (None: it can): one outside its `optimizers`, or, where the
    stack names none, Muon off a megatron stack (Muon is Megatron-Core's, optimizer/muon.py; DeepSpeed 0.14.4 and
    torchtitan 0.3.0 as modelled ship none)."""
    name = getattr(rules, "name", "the stack")
    if rules.optimizers is not None:
        if optimizer in rules.optimizers:
            return None
        return (f"stack {name} ships no {optimizer} optimizer (its optimizers: {', '.join(rules.optimizers)}; "
                f"{rules.optimizers_source})")
    stack_class = getattr(rules, "stack_class", "megatron")
    if optimizer == "muon" and stack_class != "megatron":
        return (f"stack {name} ({stack_class}) ships no Muon as modelled; Muon is Megatron-Core's (megatron-core "
                "0.16.1 optimizer/muon.py): a megatron stack runs it")
    return None


PipelineSplit = Literal["even", "balanced"]


class PipelineRules(Spec):
    """The framework's pipeline-parallel behaviour (the fields below)."""

    pipeline_dp_overlap_fraction: float | None = Field(
        None, ge=0, le=1, description="`dp_overlap_fraction` of plans with PP > 1 where the framework's pipeline "
        "engine reduces gradients after its schedule (None: the same as without a pipeline; `training.step_assembly`)")
    pipeline_dp_overlap_source: str | None = Field(
        None, description="where `pipeline_dp_overlap_fraction` comes from (the framework's code)")
    pipeline_grad_reduce_deferred: bool = Field(False, description="PP > 1: a stage's FSDP reduce-scatters run after "
        "its last backward (torch.distributed.pipelining), the first stage's whole one exposed (`training.zero3_edges`"
        "; hZ53); False: overlapped per micro-batch or bucket (Megatron, Megatron-FSDP, DeepSpeed)")
    pipeline_grad_reduce_source: str | None = Field(
        None, description="where `pipeline_grad_reduce_deferred` comes from (the framework's code)")
    p2p_synchronize: bool = Field(
        False, description="pipeline send/recv block the host: every p2p call waits on its requests and "
        "synchronises the device (Megatron-LM <= v3.0 `_communicate`), so each micro-batch's exchanges are on the "
        "critical path; false where p2p overlaps compute (Megatron-Core, NeMo; `training.step_assembly`)")
    p2p_transfers_per_micro_batch: float = Field(  # (le: 10 x the 4 sourced; 1e300 gave a 9e297 s step, hH53)
        2.0, ge=2, le=40.0, description="blocking transfers (`p2p_synchronize`) a stage with two pipeline neighbours "
        "waits for per micro-batch: 2 where a send and a receive go out as one batched exchange (Megatron-LM "
        "`_communicate`), 4 where each is its own blocking call (DeepSpeed's TrainSchedule); PP 2 waits for 2 "
        "(`training.step_assembly`)")
    p2p_transfers_source: str | None = Field(
        None, description="where `p2p_transfers_per_micro_batch` comes from (the framework's schedule code)")
    p2p_overlap_needs_interleaving: bool = Field(
        False, description="pipeline send/recv overlap compute only in the interleaved schedule (VP > 1): NeMo / "
        "Megatron-Bridge turn on `overlap_p2p_comm` only with virtual pipeline stages, and Megatron-Core's "
        "non-interleaved 1F1B waits on its batched requests and synchronises the device (`batch_p2p_sync`), so "
        "plans with VP = 1 pay every exchange as `p2p_synchronize` stacks do (`training.step_assembly`)")
    pipeline_split: PipelineSplit = Field(
        "even", description="how layers are cut into pipeline stages: even (Megatron-Core / NeMo default: L / PP per "
        "stage, embedding on the first and LM head + loss on the last on top) or balanced (whole layers moved off "
        "the end stages to minimise the heaviest, `training.schedules.heaviest_stage`)")
    account_for_embedding_in_pipeline_split: bool = Field(
        False, description="even split: the embedding counts as one layer (the first stage builds one fewer), "
        "Megatron-Core's TransformerConfig flag of that name")
    account_for_loss_in_pipeline_split: bool = Field(
        False, description="even split: the LM head + loss count as one layer (the last stage builds one fewer)")
    pipeline_layouts: tuple[str, ...] = Field(
        (), description="Megatron-Core `pipeline_model_parallel_layout` strings (E embedding, t layer, m MTP, "
        "L loss, | between the p x v chunks); a plan runs the one with p x v chunks, others the split "
        "(`training.pipeline_layout`)")
    mtp_num_layers: int = Field(
        0, ge=0, le=8, description="multi-token-prediction modules trained after the decoder (Megatron-Core "
        "`mtp_num_layers`; `training.pipeline_layout`)")
    @field_validator("pipeline_layouts")
    @classmethod
    def _layouts_use_megatrons_characters(cls, layouts: tuple[str, ...]) -> tuple[str, ...]:
        for layout in layouts:  # the full check against a model: `training.pipeline_layout.check_layout`
            bad = sorted(set(layout) - set("EtmL|,()*0123456789 "))
            if bad:
                raise ValueError(f"pipeline layout {layout!r}: unknown character{'s' * (len(bad) > 1)} "
                                 f"{''.join(bad)!r} (E embedding, "
                                 "t decoder layer, m MTP module, L loss, | between stages, x*n / (...)*n repeats)")
        return layouts
