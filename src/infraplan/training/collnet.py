"""`train --sharp` (and the web's `sharp`): NCCL CollNet on, so the DP all-reduce reduces in IB SHARP switches.

The stack's `nccl_collnet` field does the pricing (`network.sharp.collnet_fabric`, read by `step_time`); the knob
sets it on the resolved stack and refuses, in one line, a system whose switches do no SHARP (RoCE / Ethernet:
`network.sharp.require_sharp`), where a stack file's `nccl_collnet: true` is left to NCCL's fallback (ring / tree).
"""

from __future__ import annotations

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import System
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.network.sharp import require_sharp
from infraplan.training.results import TrainingEstimate

__all__ = ["sharp_note", "sharp_stack"]


def sharp_stack(model: str | TransformerShape, system: str | System | Cluster, gpus: int,
                stack: str | Stack | None) -> Stack:
    """The stack (with its recipe for the model, as `estimate_training` resolves it) with NCCL CollNet on; one
    InputError line unless every switch tier of the system does SHARP."""
    require_sharp(Cluster.resolve(system).for_gpus(gpus).topology)
    name = (load_model(model) if isinstance(model, str) else model).name
    return resolve_stack(stack, "training", name).model_copy(update={"nccl_collnet": True})


def sharp_note(result: TrainingEstimate) -> TrainingEstimate:
    """The estimate with a note saying what SHARP changed: ZeRO 0's gradient all-reduce, not ZeRO 1-3's
    reduce-scatter and all-gather (no fewer bytes per NIC through the switches' tree, `network.sharp`)."""
    zero = result.config.zero
    said = ("the DP gradient all-reduce reduces in the switches (IB SHARP, NCCL CollNet)" if zero == 0 else
            f"ZeRO {zero} reduce-scatters and all-gathers over DP: IB SHARP would send no fewer bytes per NIC, so "
            "they are priced without it (`network.sharp`)")
    return result.model_copy(update={"notes": [*result.notes, f"--sharp: {said}"]})
