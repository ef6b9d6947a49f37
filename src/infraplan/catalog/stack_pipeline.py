"""How a training framework runs pipeline parallelism: the pipeline fields of a `Stack`.

`catalog.stacks.Stack` inherits these (as it does `catalog.stack_framework_rules.FrameworkRules`), so a stack YAML
stays one flat file; each YAML states its framework's default or its source:

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

from typing import Literal

from pydantic import Field, field_validator

from infraplan.catalog.schemas import Spec

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
                raise ValueError(f"pipeline layout {layout!r}: unknown character(s) {''.join(bad)!r} (E embedding, "
                                 "t decoder layer, m MTP module, L loss, | between stages, x*n / (...)*n repeats)")
        return layouts
