"""Serving stacks' engine facts: what a stack YAML states of its engine, else its engine family's shipped
profile, and the shipped serving stacks by name. Moved out of `serving.engines` unchanged (hL76: engines.py was at
398 lines of its 400), which builds its `ServingEngine` from them; `family_stack` and `stated_fact` were its
`_family_stack` and `_stated`.

Engine facts (`kv_cache_dtypes`, `weight_formats`, `cuda_graph_scope`, `speculative_decoding`, `activation_quant`,
`custom_all_reduce_world_sizes`: the TP sizes its custom all-reduce runs at, NCCL at others;
`custom_all_reduce_one_host`: whether it runs only with every TP rank on one host; data in each stack YAML with its
source): the KV-cache and weight formats the engine offers (`serving.deployment` rejects another; weight formats
unset: the family's `ops.precision.SERVING_FORMATS` engines, pytorch-mtia states MTIA's own, hM2), which iterations
its captured CUDA graphs replay (`serving.host_overhead`), whether it runs a model's MTP module as a draft
(`serve-plan` searches MTP only there: `serving.capacity_space`) and which fp8 GEMM inputs it casts in kernels of
their own (`serving.engine_kernels`). A user's YAML that leaves one unset takes its engine family's
shipped profile's value (`kv_cache_dtypes`, `cuda_graph_scope`, `speculative_decoding` below), so an SGLang YAML
without them still has no int8 cache and still runs its prefill iterations eager.
"""

from __future__ import annotations

from typing import get_args

from infraplan.catalog.serving_profile import KvCacheDtype
from infraplan.catalog.stacks import ServingProfile, list_stacks, load_stack
from infraplan.ops.precision import SERVING_FORMATS


def serving_stacks() -> list[str]:
    """Names of the shipped serving stack profiles."""
    return [n for n in list_stacks() if load_stack(n).kind == "serving"]


def family_stack(ref: str) -> str | None:
    """The shipped profile of a versioned engine name (`vllm-0.12.0` -> `vllm-0.x`), or None."""
    key = ref.lower()
    for name in serving_stacks():
        family = load_stack(name).stack_class
        if key == family or key.startswith(family + "-") or key.startswith(family + "_"):
            return name
    return None


def shipped_profile(engine: str) -> ServingProfile | None:
    """The `serving:` block of the shipped profile of an engine family (`trtllm` -> trtllm-0.x)."""
    family = family_stack(engine)
    return load_stack(family).serving if family is not None else None


def kv_cache_dtypes(profile: ServingProfile) -> tuple[str, ...]:
    """The KV-cache formats a serving stack's engine offers: its `kv_cache_dtypes`, else (a user's YAML that leaves
    it unset) those of its engine family's shipped profile (module "Engine facts")."""
    stated = profile.kv_cache_dtypes
    if stated is None and (shipped := shipped_profile(profile.engine)) is not None:
        stated = shipped.kv_cache_dtypes
    return tuple(stated) if stated is not None else get_args(KvCacheDtype)


def stated_fact(profile: ServingProfile, field: str) -> object:
    """A profile's engine fact `field`, else its family's shipped profile's, else None (module "Engine facts")."""
    stated = getattr(profile, field)
    if stated is None and (shipped := shipped_profile(profile.engine)) is not None:
        stated = getattr(shipped, field)
    return stated


def budget_tiers(profile: ServingProfile) -> tuple[tuple[float, int], ...]:
    """The profile's token budget tiers in bytes, smallest first (`token_budget_by_memory_gib`, else its family's)."""
    tiers = stated_fact(profile, "token_budget_by_memory_gib")
    return tuple((gib * 2.0**30, tokens) for gib, tokens in sorted(tiers)) if isinstance(tiers, list) else ()


def custom_all_reduce_world_sizes(profile: ServingProfile) -> tuple[int, ...]:
    """The TP sizes a serving stack's custom all-reduce runs at: its `custom_all_reduce_world_sizes`, else its engine
    family's shipped profile's, else () (any size; module "Engine facts")."""
    sizes = stated_fact(profile, "custom_all_reduce_world_sizes")
    return tuple(sizes) if isinstance(sizes, list) else ()


def weight_formats(profile: ServingProfile) -> tuple[tuple[str, ...], str]:
    """(the serving weight formats a stack's kernels run, where its YAML says so): its `weight_formats` and their
    source, else its engine family's shipped profile's, else (""), the family's list: the formats of
    `ops.precision.SERVING_FORMATS` whose `engines` name it, each with its source there (module "Engine facts")."""
    shipped = shipped_profile(profile.engine)
    stating = profile if profile.weight_formats is not None else shipped
    if stating is not None and stating.weight_formats is not None:
        return tuple(stating.weight_formats), stating.weight_formats_source or f"stack {profile.engine} YAML"
    return tuple(d for d, f in SERVING_FORMATS.items() if f.engine_runs(profile.engine)), ""


def speculative_decoding(profile: ServingProfile) -> bool:
    """Whether a serving stack's engine runs a model's MTP module as a speculative draft: its
    `speculative_decoding`, else its engine family's shipped profile's, else False (module "Engine facts")."""
    stated = profile.speculative_decoding
    if stated is None and (shipped := shipped_profile(profile.engine)) is not None:
        stated = shipped.speculative_decoding
    return bool(stated)


def cuda_graph_scope(profile: ServingProfile) -> str:
    """Which iterations a serving stack's CUDA graphs replay (all | decode-only): its `cuda_graph_scope`, else
    its engine family's shipped profile's (module "Engine facts")."""
    stated = profile.cuda_graph_scope
    if stated is None and (shipped := shipped_profile(profile.engine)) is not None:
        stated = shipped.cuda_graph_scope
    return stated or "all"


def activation_quant(profile: ServingProfile) -> str:
    """Which quantised GEMMs' inputs a serving stack casts to fp8 in kernels of their own (fused |
    attention_output | norm_outputs | every_linear; `serving.engine_kernels`): its `activation_quant`, else its
    engine family's shipped profile's (module "Engine facts")."""
    stated = profile.activation_quant
    if stated is None and (shipped := shipped_profile(profile.engine)) is not None:
        stated = shipped.activation_quant
    return stated or "fused"


def family_quant(engine: str) -> str:
    """`activation_quant` of an engine family's shipped profile (fused where the family has none)."""
    shipped = shipped_profile(engine)
    return activation_quant(shipped) if shipped is not None else "fused"
