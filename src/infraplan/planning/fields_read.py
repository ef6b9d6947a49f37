"""Which fields of a plan scenario's or a fleet-mix spec's services and pools are read, and what they may name: a key
that would change nothing, or name what cannot run there, is refused in one line. Both moved out of
`planning.scenario_spec` (hS42); planning/service_fields.py and planning/pool_stacks.py until session 62 (hS).

- A service's fields: the readers of each `ServiceSpec` field, as the sizing code reads them (planning/
  scenario_sizing.py: demand, size_training, size_llm, size_image, size_inference; planning/pool_capacity.pool_option:
  recsys, video); a key set on a service whose kind never reads it would change nothing, so it is refused naming the
  kinds that do (hU45). Fleet-mix's table is planning/fleet_spec.FIELD_READERS. An LLM service's draft options
  (`ServePlanOptionFields`, hR48).
- A pool's serving `stack`: the precedence of a pool's LLM serving stack (the pool's, then the service's, then the
  part's vendor default: stack_placement.serving_stack_for; fleet_mix_llm.asked_stack) and the pools on which it is
  refused: a pool that serves no LLM, a part without LLM serving (a CPU, a video ASIC), a stack whose kernels are
  another vendor's (stack_placement.stack_on_accelerator), a scenario with no LLM service to read it (hV43); and a
  pool's `system`, read as the system its devices are (`check_pool_system`, hC51).
- A refusal in the spec's words (`spec_words`): a CLI model's line naming its option (`--ladder 9: a 1080p input
  has 6 rungs`) names the service's key (`ladder`) when a spec's service reached it (hI63 / hO63).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, model_validator

from infraplan.catalog.inference_loader import is_video_device
from infraplan.catalog.loader import looks_like_path
from infraplan.catalog.schemas import Spec
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.engines import load_engine
from infraplan.serving.stack_placement import stack_on_accelerator

CLI_OPTION = re.compile(r"(?<![\w-])--([a-z0-9]+(?:-[a-z0-9*]+)*)")
"""A CLI option in a line of text ('--ttft-slo', '--prefill-*'), group 1 its name: the one pattern `spec_words` and
the web's `request_fields.web_words` rewrite options by."""


def spec_words(line: str, service: Spec) -> str:
    """`line` (a sizing model's refusal, written for the CLI) with each option that spells one of `service`'s keys
    named as that key: '--ladder 9: ...' -> 'ladder 9: ...', '--latency-slo' -> 'latency_slo'. An option that is no
    key of the spec's (recsys's --batch, serve-plan's --tp) is left as the CLI's. The one rule for every refusal
    that fleet-mix's and `plan`'s sizing passes on (planning/pool_capacity.pool_option, fleet_mix_llm.llm_option,
    scenario_sizing.size)."""
    keys = set(type(service).model_fields)
    return CLI_OPTION.sub(lambda m: key if (key := m.group(1).replace("-", "_")) in keys else m.group(0), line)


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
    "no_spare_policy": ("training",),
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


POOL_STACK_RULE = ("the serving stack of the pool's LLM deployments (a shipped profile, a versioned engine name or a "
                   "serving stack YAML, as serve-plan --stack); it comes before the service's `stack`, which comes "
                   "before the part's vendor default (stack_placement.serving_stack_for); image generation reads no "
                   "stack (serving/diffusion.py), training its service's training stack")
"""A pool's `stack` field description, `plan`'s and `fleet-mix`'s (the precedence: fleet_mix_llm.asked_stack)."""


def check_pool_stack(stack: str, device: str, system: str | None = None, serves: Sequence[str] | None = None, *,
                     files: bool = False) -> None:
    """InputError (a ValueError: the pool's one-line error at load) for a pool's serving `stack` that names no
    serving stack or that no LLM deployment of the pool reads or runs: a pool whose `serves` leaves out llm, a part
    without LLM serving (a CPU, a video ASIC), a stack whose kernels are another vendor's (TensorRT-LLM on MTIA:
    `stack_placement.stack_on_accelerator`). A file (the stack's, or the pool's device or system) is read only with
    `files`, at the run (`check_pool_stacks`), as `check_llm_names` leaves it (the web refuses paths)."""
    if serves is not None and "llm" not in serves:
        raise ValueError(f"stack {stack!r} is the serving stack of the pool's LLM deployments; the pool serves only "
                         f"{', '.join(serves)}: drop it, or add llm to serves")
    if not files and looks_like_path(stack):
        return
    engine = load_engine(stack)  # a name, a versioned engine name, a YAML; a training stack refused
    if not files and any(looks_like_path(ref) for ref in (device, system or "")):
        return
    accelerator = None if is_video_device(device) else Cluster.resolve(system or device).accelerator
    kind = "video-asic" if accelerator is None else accelerator.kind
    if accelerator is None or kind == "cpu":
        raise ValueError(f"stack {stack!r} is the serving stack of the pool's LLM deployments; {device} ({kind}) "
                         "does not run LLM serving: drop it")
    stack_on_accelerator(engine, accelerator)  # refused where its kernels are another vendor's; else a row's line


def check_pool_stacks(pools: Sequence[Any]) -> None:
    """Every pool's `stack` as `check_pool_stack` checks it with its files read (`plan`'s and `fleet-mix`'s checks
    before any sizing): one InputError line naming the pool."""
    for pool in pools:
        if pool.stack is not None:
            try:
                check_pool_stack(pool.stack, pool.device, getattr(pool, "system", None), getattr(pool, "serves", None),
                                 files=True)
            except ValueError as exc:  # InputError too
                raise InputError(f"pool {pool.name!r}: {exc}") from None


def check_stacks_read(pools: Sequence[Any], services: Sequence[Any]) -> None:
    """ValueError for a pool's `stack` where no service is an LLM one: nothing would read it."""
    if not any(s.kind == "llm" for s in services):
        for pool in pools:
            if pool.stack is not None:
                raise ValueError(f"pool {pool.name!r} names a serving stack ({pool.stack}), which only llm services "
                                 "read; there is none: drop it")


def pool_device_of_system(data: Any) -> Any:
    """A pool that names a catalog `system:` and no `device:` is built of that system's accelerator (hP77): `{name: g,
    system: gb200-nvl72}` was refused "pools.0.device: Field required" by plan and fleet-mix alike, where a planner
    names the system it buys. One rule for both (`check_pool_system`'s): the device is `Cluster.resolve(system)
    .accelerator`'s name (gb200-nvl72: gb200; dgx-h100-superpod: h100-sxm). A system file (a path) still needs its
    `device:` (the web reads no files; its message is pydantic's "Field required")."""
    if not isinstance(data, dict) or data.get("device") is not None:
        return data
    system = data.get("system")
    if not isinstance(system, str) or not system.strip() or looks_like_path(system):
        return data
    return {**data, "device": Cluster.resolve(system).accelerator.name}


def check_pool_system(pool: str, device: str, system: str) -> None:
    """A pool's `system` is what its devices are sized and powered as: its `device` must name the accelerator the
    system is built of (or the system itself). One rule for plan (`scenario_checks.check_presets`) and fleet-mix (its
    pool takes `system:` as plan's does since hC51)."""
    built_of = Cluster.resolve(system).accelerator.name
    named = device if is_video_device(device) else Cluster.resolve(device).accelerator.name
    if named != built_of:
        shown = device if device == named else f"{device} ({named})"
        raise InputError(f"pool {pool!r}: device {shown} but system {system} is built of {built_of}; name one "
                         "accelerator")
