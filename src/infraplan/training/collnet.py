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

__all__ = ["SEARCH_SHARP_NOTE", "sharp_note", "sharp_profile", "stack_collnet_notes"]

SEARCH_SHARP_NOTE = ("--sharp: every plan's DP gradient all-reduce (ZeRO 0) reduces in the switches (IB SHARP, NCCL "
                     "CollNet); ZeRO 1-3's reduce-scatter and all-gather are priced without it (no fewer bytes per "
                     "NIC, `network.sharp`)")
"""The note of `search --sharp`: which plans SHARP moves."""


def sharp_profile(profile: Stack, cluster: Cluster) -> Stack:
    """The resolved stack with NCCL CollNet on; one InputError line unless every switch tier of the job's cluster
    does SHARP."""
    require_sharp(cluster.topology)
    return profile.model_copy(update={"nccl_collnet": True})


def sharp_note(zero: int) -> str:
    """What `--sharp` changed in a plan of this ZeRO stage: ZeRO 0's gradient all-reduce, not ZeRO 1-3's
    reduce-scatter and all-gather (no fewer bytes per NIC through the switches' tree, `network.sharp`)."""
    said = ("the DP gradient all-reduce reduces in the switches (IB SHARP, NCCL CollNet)" if zero == 0 else
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
        return [sharp_note(zero).replace("--sharp:", f"stack {profile.name} (nccl_collnet):", 1)]
    where = reason.removeprefix("--sharp needs SHARP switches on every tier; ")
    return [f"stack {profile.name} sets nccl_collnet, but NCCL finds no CollNet and keeps its ring / tree ({where})"]
