"""The step's exposed host issue time as its own breakdown row (`breakdown_s.host_exposed`; hK, sessions 58-59).

`step_assembly.assemble_step` sums the priced components into the step first (`PRICED_COMPONENTS`: the step keeps
its bits), then takes out of them what the model prices as host issue time no queued GPU work covers
(`training.host_time`): the heaviest stage's, held in `other` (`step_assembly.stage_seconds`), the optimizer's
launches' exposed rest, held in `optimizer` (`optimizer_step.optimizer_seconds`: in practice the dispatch after its
host sync; its 20 launches hide behind its memory-bound GPU time), and a blocking pipeline's p2p host calls, held in
`pp_comm` (`pipeline_hops.blocking_p2p_host_s`: Megatron-LM <= v3.0, DeepSpeed, NeMo at VP = 1). The rows then add
up to the step bit for bit (`_closing`: `other` and the host row within an ulp). Not separated: the pipeline
bubble's share of the other stages' host time (the schedules' bubbles, `training.schedules`, `exact_bubbles`, are
maxima over rank orders, not linear in the stages' seconds: no exact share without a second bubble evaluation).
"""

from __future__ import annotations

import math
from operator import itemgetter
from typing import Any

import numpy as np

__all__ = ["moved_phases", "with_host_row"]

# the components before `other`, in `step_assembly.PRICED_COMPONENTS`' order
_HEAD = itemgetter("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm_exposed", "optimizer")


def with_host_row(out: dict[str, Any], host_exposed: Any, moved: tuple[Any, Any, Any] | None,
                  step: Any) -> dict[str, Any]:
    """`out` with the step's exposed host issue time in its own component `host_exposed`, after `step_time_s` is
    summed (`step`: the step keeps its bits; the components add up to it bit for bit, `_closing`): the heaviest
    stage's (`host_exposed`: seconds per step, the GPU waiting for the host over its micro-batches, `stage_seconds`)
    out of `other`, and `moved` = (the optimizer's GPU time, its launches' exposed host time, a blocking pipeline's
    p2p host calls: `optimizer_step.optimizer_seconds`, `pipeline_hops.blocking_p2p_host_s`) out of `optimizer` (its
    GPU time, as priced) and `pp_comm` (the phases `optimizer` and `pp_comm`, `step_assembly`). The pipeline
    bubble's share of the other stages' host time stays in `pp_bubble` (the schedules' bubbles are not linear in the
    stages' seconds: no exact share). `moved` None: the heaviest stage's alone, unclosed (an evaluation's forward
    passes, `training.forward_pass`: hK58's rows, their bits). Keys in `step_assembly.COMPONENTS`' order."""
    if moved is None:
        out["other"] = out["other"] - host_exposed
        out["host_exposed"] = host_exposed
        out["step_time_s"] = step
        return out
    optimizer_gpu, optimizer_host, p2p_host = moved
    out["pp_comm"] = out["pp_comm"] - p2p_host
    out["optimizer"] = optimizer_gpu
    out["other"], out["host_exposed"] = _closing(out, out["other"] - host_exposed,
                                                 host_exposed + optimizer_host + p2p_host, step)
    out["step_time_s"] = step
    return out


def moved_phases(out: dict[str, Any], optimizer_host: Any, p2p_host: Any) -> None:
    """Set the host row's phases `optimizer` and `pp_comm` (`with_host_row`'s `moved`) in `out`: arrays of the host
    row's shape on a grid (a stack without blocking p2p: zeros), one plan's floats."""
    if type(out["host_exposed"]) is not float and type(p2p_host) is float:
        p2p_host = np.zeros(np.shape(out["host_exposed"])) + p2p_host
    out["host_exposed_optimizer"], out["host_exposed_pp_comm"] = optimizer_host, p2p_host


def _closing(out: dict[str, Any], other: Any, host: Any, step: Any) -> tuple[Any, Any]:
    """(`other`, `host`) within an ulp such that the components summed in their order from 0 give `step` bit for bit
    (a reader's `sum(breakdown_s.values()) == step_time_s`): the partial sum before `other`, `head`; the X nearest
    step - host with X + host == step (where both neighbours round away, a tie, `host` an ulp toward it), and X -
    head (exact where other <= head, Sterbenz); kept where it closes, else both as they were. The same IEEE
    operations on one plan's floats and a grid's arrays (the same bits)."""
    head: Any = sum(_HEAD(out))  # (from 0, in order: the step's additions)
    if type(step) is float:
        if head + other + host == step:
            return other, host
        x = step - host
        x = x if x + host == step else math.nextafter(x, math.inf if x + host < step else -math.inf)
        tied = host if x + host == step else math.nextafter(host, math.inf if x + host < step else -math.inf)
        closed = x - head
        return (closed, tied) if head + closed + tied == step else (other, host)
    x = step - host
    x = np.where(x + host == step, x, np.nextafter(x, np.where(x + host < step, np.inf, -np.inf)))
    tied = np.where(x + host == step, host, np.nextafter(host, np.where(x + host < step, np.inf, -np.inf)))
    closed = x - head
    keep = (head + other + host == step) | ((head + closed) + tied != step)
    return np.where(keep, other, closed), np.where(keep, host, tied)
