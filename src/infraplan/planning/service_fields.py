"""Which service kinds read which field of a plan or fleet-mix service: a field no reader of the kind reads is refused.

Modelled: the readers of each `ServiceSpec` field, as the sizing code reads them (planning/scenario_sizing.py: demand,
size_training, size_llm, size_image, size_inference; planning/pool_capacity.pool_option: recsys, video); a key set
on a service whose kind never reads it would change nothing, so it is refused in one line naming the kinds that do
(hU45). Fleet-mix's table is planning/fleet_spec.FIELD_READERS. Moved out of `planning.scenario_spec` (hS42).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field, model_validator

from infraplan.catalog.schemas import Spec


def kinds_text(kinds: Sequence[str]) -> str:
    """Service kinds in a sentence: 'recsys', 'llm and image', 'training, llm and recsys'."""
    return kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"


def check_fields_read(service: Spec, kind: str, readers: Mapping[str, Sequence[str]]) -> None:
    """ValueError for a field a service of its kind does not read (`readers`: field -> the kinds that read it),
    naming the kinds that do: a key that changes nothing is refused in one line, not ignored. A field at its
    default is not asked for (a dumped spec, `compare --vary`, carries every default). `kind`: the service's."""
    for name, kinds in readers.items():
        field = type(service).model_fields[name]
        if kind not in kinds and getattr(service, name) != field.get_default(call_default_factory=True):
            article = "an" if kind in ("llm", "image") else "a"
            raise ValueError(f"{name} is read by {kinds_text(kinds)} services only; {article} {kind} service does "
                             "not read it: drop it")


VIDEO_JOB_READERS: dict[str, tuple[str, ...]] = {"daily_hours": ("video",), "input": ("video",), "ladder": ("video",),
                                                 "codec": ("video",), "quality": ("video",)}
"""The video transcoding job's fields (planning/pool_capacity.pool_option): read by video services only."""

SERVICE_FIELD_READERS: dict[str, tuple[str, ...]] = {
    # who reads what: planning/scenario_sizing.py (demand, size_training, size_llm, size_image, size_inference),
    # planning/pool_capacity.pool_option (recsys, video); `peak_to_average` has its own rule (above)
    "model": ("training", "llm", "recsys", "image"), "qps": ("recsys",), "latency_slo": ("recsys", "image"),
    **VIDEO_JOB_READERS, "growth": ("llm", "recsys", "image", "video"),  # demand(): a training run is one run
    "tokens": ("training",), "deadline": ("training",), "gpus": ("training",), "seq_len": ("training",),
    "global_batch": ("training",), "dtype": ("training",), "optimizer": ("training",), "dtypes": ("llm",),
    "dsa_stage": ("training",), "dsa_warmup_tokens": ("training",), "dsa_warmup_global_batch": ("training",),
    "stack": ("training", "llm"),  # image generation runs without a stack (serving/diffusion.py)
    "workload": ("llm", "image"), "rate": ("llm", "image"), "tokens_per_day": ("llm",), "ttft_slo": ("llm",),
    "tpot_slo": ("llm",), "images_per_day": ("image",),
    **dict.fromkeys(("kv_dtype", "speculative_tokens", "acceptance", "try_speculative"), ("llm",))}  # serve-plan's
"""The kinds of `plan`'s services (ServiceSpec) that read each field; fleet-mix's are in planning/fleet_spec.py."""


class ServePlanOptionFields(Spec):
    """An LLM service's serve-plan options beside its stack and dtypes (`plan`'s and `fleet-mix`'s services alike:
    `fleet_mix_llm.llm_options`; `serving.capacity_space`); read by llm services only (the readers above)."""

    kv_dtype: Literal["bf16", "fp8", "int8"] | None = Field(
        None, description="llm: KV cache precision of every deployment searched, as serve-plan --kv-dtype [each "
        "weight dtype's, as serve takes it]")
    speculative_tokens: int = Field(0, ge=0, le=8, description="llm: MTP / speculative draft tokens per decode step "
                                    "of every deployment searched, with acceptance, as serve-plan "
                                    "--speculative-tokens [0]")
    acceptance: float | None = Field(None, ge=0.0, le=1.0, allow_inf_nan=False, description="llm: the drafts' "
                                     "per-token acceptance rate, as serve-plan --acceptance")
    try_speculative: bool = Field(False, description="llm: search with and without the model's MTP module as the "
                                  "draft, as serve-plan --try-speculative")

    @model_validator(mode="after")
    def _drafts_whole(self) -> ServePlanOptionFields:
        """The drafts' fields together, as serve-plan takes its options (`capacity_space.draft_choices`), refused
        when the file is read rather than as a pool's shortfall (hR48): acceptance needs drafts, drafts need an
        acceptance, and speculative_tokens and try_speculative exclude each other. Another kind naming one is
        refused by its readers (SERVICE_FIELD_READERS)."""
        if getattr(self, "kind", "llm") != "llm":
            return self
        if self.try_speculative and self.speculative_tokens:
            raise ValueError("give speculative_tokens (searched as given) or try_speculative, not both")
        if self.acceptance is not None and not (self.speculative_tokens or self.try_speculative):
            raise ValueError("acceptance is the drafts' acceptance: it needs speculative_tokens or try_speculative")
        if self.speculative_tokens and self.acceptance is None:
            raise ValueError("speculative_tokens needs acceptance, the drafts' per-token acceptance rate "
                             "(DeepSeek-V3's MTP: 0.85-0.9)")
        return self
