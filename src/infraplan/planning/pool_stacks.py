"""A pool's serving `stack` in a plan scenario or a fleet-mix spec: what it may name and where it is read.

Modelled: the precedence of a pool's LLM serving stack (the pool's, then the service's, then the part's vendor
default: stack_placement.serving_stack_for; fleet_mix_llm.asked_stack) and the pools on which it is refused: a pool
that serves no LLM, a part without LLM serving (a CPU, a video ASIC), a stack whose kernels are another vendor's
(stack_placement.stack_on_accelerator), a scenario with no LLM service to read it (hV43). Moved out of
`planning.scenario_spec` (hS42).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from infraplan.catalog.inference_loader import is_video_device
from infraplan.catalog.loader import looks_like_path
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.engines import load_engine
from infraplan.serving.stack_placement import stack_on_accelerator

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


def check_pool_system(pool: str, device: str, system: str) -> None:
    """A pool's `system` is what its devices are sized and powered as: its `device` must name the accelerator the
    system is built of (or the system itself). One rule for plan (`scenario._check_presets`) and fleet-mix (its pool
    takes `system:` as plan's does since hC51)."""
    built_of = Cluster.resolve(system).accelerator.name
    named = device if is_video_device(device) else Cluster.resolve(device).accelerator.name
    if named != built_of:
        shown = device if device == named else f"{device} ({named})"
        raise InputError(f"pool {pool!r}: device {shown} but system {system} is built of {built_of}; name one "
                         "accelerator")
