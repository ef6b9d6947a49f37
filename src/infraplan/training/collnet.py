"""`--sharp` of `train` and `search` (the API's and the web's `sharp`): NCCL CollNet on, so the DP all-reduce
reduces in IB SHARP switches.

The stack's `nccl_collnet` field does the pricing (`network.sharp.collnet_fabric`, read by `step_time` and the
search's grids); the knob sets it on the resolved stack (`sharp_profile`, called by `training.estimate.
resolve_training` and `training.search.search_plans`, so the CLI, the API, the web and the sweep share it) and
refuses, in one line, a system whose switches do no SHARP (RoCE / Ethernet: `network.sharp.require_sharp`), where a
stack file's `nccl_collnet: true` is left to NCCL's fallback (ring / tree).
"""

from __future__ import annotations

from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.network.sharp import require_sharp, sharp_switches

__all__ = ["SEARCH_SHARP_NOTE", "search_sharp_note", "sharp_note", "sharp_profile", "stack_collnet_notes"]

SEARCH_SHARP_NOTE = ("--sharp: every plan's DP gradient all-reduce (ZeRO 0) reduces in the switches (IB SHARP, NCCL "
                     "CollNet); ZeRO 1-3's reduce-scatter and all-gather are priced without it (no fewer bytes per "
                     "NIC, `network.sharp`)")
"""The note of `search --sharp`: which plans SHARP moves (`search_sharp_note`: a stack that all-reduces ZeRO 1/2's
gradients)."""


def search_sharp_note(profile: Stack) -> str:
    """`SEARCH_SHARP_NOTE`, or, where the stack all-reduces ZeRO 1/2's gradients (`Stack.grad_reduce_all_reduce`:
    DeepSpeed), saying those plans' all-reduce reduces in the switches as ZeRO 0's (hL54)."""
    if not profile.grad_reduce_all_reduce:
        return SEARCH_SHARP_NOTE
    return ("--sharp: every plan's DP gradient all-reduce (ZeRO 0, and ZeRO 1/2's: the stack all-reduces their "
            "gradients) reduces in the switches (IB SHARP, NCCL CollNet); the parameter all-gathers and ZeRO-3's "
            "reduce-scatters are priced without it (no fewer bytes per NIC, `network.sharp`)")


def sharp_profile(profile: Stack, cluster: Cluster) -> Stack:
    """The resolved stack with NCCL CollNet on; one InputError line unless every switch tier of the job's cluster
    does SHARP."""
    require_sharp(cluster.topology)
    return profile.model_copy(update={"nccl_collnet": True})


def sharp_note(zero: int, all_reduce: bool = False) -> str:
    """What `--sharp` changed in a plan of this ZeRO stage: ZeRO 0's gradient all-reduce, not ZeRO 1-3's
    reduce-scatter and all-gather (no fewer bytes per NIC through the switches' tree, `network.sharp`). `all_reduce`:
    the stack's `grad_reduce_all_reduce` (DeepSpeed), whose ZeRO 1/2 gradients are all-reduced on the same CollNet
    fabric (`step_traffic.dp_collectives`; hL54: the note said they were priced without SHARP while they were not)."""
    said = ("the DP gradient all-reduce reduces in the switches (IB SHARP, NCCL CollNet)" if zero == 0 else
            f"ZeRO {zero}'s DP gradient all-reduce (the stack's grad_reduce_all_reduce) reduces in the switches (IB "
            "SHARP, NCCL CollNet); its parameter all-gather is priced without it (`network.sharp`)"
            if all_reduce and zero in (1, 2) else
            f"ZeRO {zero} reduce-scatters and all-gathers over DP: IB SHARP would send no fewer bytes per NIC, so "
            "they are priced without it (`network.sharp`)")
    return f"--sharp: {said}"


def stack_collnet_notes(profile: Stack, cluster: Cluster, zero: int) -> list[str]:
    """What a stack file's `nccl_collnet: true` did, said as `--sharp` says it; on switches without SHARP, that
    NCCL falls back to its ring / tree (`network.sharp.collnet_fabric`). None without the field."""
    if not profile.nccl_collnet:
        return []
    reason = sharp_switches(cluster.topology)
    if reason is None:
        note = sharp_note(zero, profile.grad_reduce_all_reduce)
        return [note.replace("--sharp:", f"stack {profile.name} (nccl_collnet):", 1)]
    where = reason.removeprefix("--sharp needs SHARP switches on every tier; ")
    return [f"stack {profile.name} sets nccl_collnet, but NCCL finds no CollNet and keeps its ring / tree ({where})"]
