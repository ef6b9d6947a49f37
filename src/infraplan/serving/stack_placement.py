"""Where a serving stack's engine runs, and the one place an answer's serving stack is chosen.

Where an engine runs (`runs_on`, `default_on`, `vendor_kernels`; data in each stack YAML with its source; a user's
YAML that leaves them unset takes its family's): `serving_stack_for` is the one place an answer's stack is chosen
(`serve`, `serve-plan`, and through them `fleet-mix`, `plan` and the web). Without --stack, the shipped stack whose
`default_on` names the part's vendor (trtllm-0.x on NVIDIA, vllm-0.x on AMD, pytorch-mtia on Meta's MTIA), else the
only one whose `runs_on` does (vllm-0.x on Google TPUs, sglang-0.x on Intel Gaudi), else a refusal naming --stack;
the answer says which it assumed and why, and a profile with no measurement of its engine (pytorch-mtia's
`assumption`, hM69) says so in a warning (`assumption_note`). An asked stack that does not run on the part: refused
where its kernels are one vendor's (TensorRT-LLM, pytorch-mtia), else priced with a warning (hV42).

Data: each shipped stack YAML's `runs_on`, `default_on` and `vendor_kernels` (`catalog/stacks/<name>.yaml`, each with
its source: TensorRT-LLM's CUDA / TensorRT engines, vLLM 0.12.0's built-in platforms, SGLang 0.5.6.post2's devices).
The engine's own conventions (KV memory, batch limits, scheduler): `serving.engines`.
"""

from __future__ import annotations

from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK, ServingProfile, Stack, load_stack
from infraplan.errors import InputError
from infraplan.serving.engine_facts import serving_stacks, shipped_profile
from infraplan.serving.engines import ServingEngine, load_engine


def _runs_on(profile: ServingProfile) -> tuple[list[str], bool]:
    """The vendors a serving stack's engine runs on and whether its kernels are theirs alone: its `runs_on` /
    `vendor_kernels`, else its engine family's shipped profile's (module "Engine facts")."""
    shipped = shipped_profile(profile.engine)
    vendors = profile.runs_on if profile.runs_on is not None else (shipped.runs_on if shipped is not None else None)
    own = profile.vendor_kernels
    return list(vendors or []), bool(own if own is not None else shipped is not None and shipped.vendor_kernels)


def where_it_runs(profile: ServingProfile) -> dict[str, object]:
    """A profile's fields a release copy of a shipped profile leaves unset (its family's), so a comparison of the two's
    pricing fields sets them equal: where its engine runs (`runs_on`, `default_on`, `vendor_kernels`) and the TP sizes
    its custom all-reduce runs at (`custom_all_reduce_world_sizes` + its source, hI58) and whether on one host only
    (`custom_all_reduce_one_host` + its source, hI59), and whether its token budget is split over attention-DP
    ranks (`token_budget_split_by_attention_dp` + its source, hG72) and its output reserve scaled under attention DP
    (`output_reserve_scale_by_attention_dp` + its source, hG73)."""
    return {key: getattr(profile, key) for key in ("runs_on", "default_on", "vendor_kernels",
                                                   "custom_all_reduce_world_sizes",
                                                   "custom_all_reduce_world_sizes_source",
                                                   "custom_all_reduce_one_host", "custom_all_reduce_one_host_source",
                                                   "token_budget_split_by_attention_dp",
                                                   "token_budget_split_by_attention_dp_source",
                                                   "output_reserve_scale_by_attention_dp",
                                                   "output_reserve_scale_by_attention_dp_source")}


def _vendor_in(vendor: str, vendors: list[str]) -> bool:
    return vendor.casefold() in {v.casefold() for v in vendors}


def default_serving_stack(accelerator: Accelerator) -> tuple[str, str | None]:
    """The shipped serving stack a serve without --stack runs on `accelerator`, by what runs on its vendor (each
    stack YAML's `runs_on` / `default_on`, with their sources): the one whose `default_on` names the vendor
    (trtllm-0.x on NVIDIA, vllm-0.x on AMD), else the only one whose `runs_on` does (vllm-0.x on Google TPUs,
    sglang-0.x on Intel Gaudi); InputError naming --stack where none (or several, none the default) runs there.
    With it the line saying which and why; None for the default serving stack (NVIDIA: the answer as before)."""
    vendor = accelerator.vendor
    names = [DEFAULT_SERVING_STACK, *sorted(n for n in serving_stacks() if n != DEFAULT_SERVING_STACK)]
    profiles = {n: p for n in names if (p := load_stack(n).serving) is not None}
    chosen = [n for n, p in profiles.items() if _vendor_in(vendor, p.default_on)]
    running = [n for n, p in profiles.items() if _vendor_in(vendor, _runs_on(p)[0])]
    if len(chosen) == 1 or (not chosen and len(running) == 1):
        name = chosen[0] if chosen else running[0]
        if name == DEFAULT_SERVING_STACK:
            return name, None
        why = (f"the stack {vendor} parts run by default (its `default_on`)" if chosen else
               f"the only shipped serving stack that runs on {vendor} parts (its `runs_on`)")
        # "no stack named", not "no --stack": a plan's or fleet-mix's row says it too, where the ask is a `stack` field
        return name, (f"no stack named: priced on {name}, {why}; {DEFAULT_SERVING_STACK}, the default on NVIDIA GPUs, "
                      f"does not run on {accelerator.name} (--stack, or a plan's `stack`, names another)")
    which = (f"several shipped serving stacks run there ({', '.join(running)}) and none is its default" if running
             else "no shipped serving stack runs there")
    raise InputError(f"{accelerator.name} ({vendor}): {which}; give --stack (in a plan or fleet-mix: a pool's or "
                     f"service's `stack`): a shipped profile ({', '.join(names)}) or a serving stack YAML, to say "
                     "which software serves it")


def stack_on_accelerator(engine: ServingEngine, accelerator: Accelerator) -> str | None:
    """Whether an asked serving stack runs on `accelerator`'s vendor (its `runs_on`): None where it does; a warning
    line where it does not but its engine loads other hardware as plugins (vLLM, SGLang: `vendor_kernels` false);
    InputError where its kernels are one vendor's (TensorRT-LLM's CUDA / TensorRT engines)."""
    profile = load_stack(engine.ref).serving
    if profile is None:
        return None
    vendors, own_kernels = _runs_on(profile)
    if not vendors or _vendor_in(accelerator.vendor, vendors):
        return None
    # "stack NAME", not "--stack NAME": a plan's or fleet-mix's pool or service asks it by its `stack` field (hR42)
    named = f"stack {engine.name} ({load_stack(engine.ref).display_name}) runs on {', '.join(vendors)} parts"
    if own_kernels:
        try:
            other = f"; with no stack named it runs {default_serving_stack(accelerator)[0]}"
        except InputError:
            other = ""
        raise InputError(f"{named} only: its kernels are built for them (`vendor_kernels`), not for "
                         f"{accelerator.name} ({accelerator.vendor}){other}")
    return (f"{named}, not {accelerator.name} ({accelerator.vendor}): priced with its profile as if it ran there "
            "(the engine loads other hardware as a platform plugin; no measurement of it there is in the catalog)")


def serving_stack_for(asked: str | None, accelerator: Accelerator) -> tuple[ServingEngine, list[str]]:
    """The serving stack an answer on `accelerator` runs and the lines saying so: `asked` (a name, versioned engine
    name or YAML; checked by `stack_on_accelerator`) or, None, `default_serving_stack`'s. The one place `serve`,
    `serve-plan` and through them `fleet-mix`, `plan` and the web choose it."""
    if asked is not None:
        engine = load_engine(asked)
        return engine, list(filter(None, [stack_on_accelerator(engine, accelerator), assumption_note(engine)]))
    name, why = default_serving_stack(accelerator)
    engine = load_engine(name if name != DEFAULT_SERVING_STACK else None)
    return engine, list(filter(None, [why, assumption_note(engine)]))


def assumed_profile(stack: Stack) -> bool:
    """Whether `stack` is a serving profile with no measurement of its engine (its `assumption`: pytorch-mtia)."""
    return stack.serving is not None and stack.serving.assumption is not None


def assumed_default(accelerator: Accelerator) -> bool:
    """Whether the stack `accelerator` serves on with no stack named is an `assumed_profile` (Meta's MTIA parts)."""
    try:
        return assumed_profile(load_stack(default_serving_stack(accelerator)[0]))
    except InputError:
        return False


def assumption_note(engine: ServingEngine) -> str | None:
    """The warning an answer on a serving stack with no measurement of its engine carries (its `assumption`:
    pytorch-mtia, the profile of LLMs on Meta's MTIA parts, hM69), whether asked or its part's default; None for a
    profile without one (every engine measured in the validation sets)."""
    stack = load_stack(engine.ref)
    if stack.serving is None or stack.serving.assumption is None:
        return None
    return f"stack {engine.name} ({stack.display_name}) is an ASSUMPTION: {stack.serving.assumption}"
