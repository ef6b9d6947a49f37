"""The activations a serving replica's pipeline stages hand on in one iteration, each hop priced where its two
stages sit: inside one scale-up domain at the scale-up rate, across a domain edge at the scale-out rate.

Layout. A replica's ranks are numbered TP innermost, then the PP stages, then the attention-DP ranks (the
replica's TP x PP x attention-DP layout; rank = (a PP + j) TP + t). Engines place TP inside a node and PP across
nodes: vLLM's `initialize_model_parallel` reshapes its ranks as (DP, PP, TP) with TP innermost
(vllm/distributed/parallel_state.py; its distributed-serving guide sets TP to a node's GPUs and PP to the nodes),
TensorRT-LLM's `Mapping` numbers rank = pp_rank x tp_size + tp_rank (tensorrt_llm/mapping.py) -- both cited from
the sources as we recall them, not re-read here. Consecutive ranks fill a scale-up domain of D GPUs (the
`network.placement` rule: Slurm / torchrun give a node's GPUs consecutive ranks), or the fabric's placement unit U
where one is set (`Fabric.placement_unit`, `network.fabric.group_domain`). ASSUMPTION: a replica starts at a
domain edge (an engine is launched on whole nodes; replicas of at most D GPUs pack into a domain without
straddling its edge), so a replica of at most D GPUs keeps every hop inside.

Hops. Stage j of attention rank a holds ranks [o + j s, o + (j + 1) s), s = TP, o = a TP PP; hop j sends each of
stage j's s ranks' M x h activations to the rank s further, all s sends at once, and lasts as long as the slowest.
Its pair group's block [o + j s, o + (j + 2) s) is inside one domain for every pair exactly when no multiple of D
lies strictly inside it (`network.placement`'s block rule), and the attention ranks run their layers in lock-step
(the EP all-to-all), so a hop crosses when it does so for any of them (`hop_crosses_domain`). A hop inside is
`network.collectives.send_recv_time` of a pair whose 2 s ranks share a domain; a hop across is the same transfer
with one member on each side: one NIC at the scale-out rate and the tier latency of the pair's extent (training
prices its pipeline sends with the same function at its `pp_stride`, `training.step_traffic`). The iteration pays
its PP - 1 hops in turn (`pipeline_hops_time`): TP4 PP4 on 8-GPU domains sends stage 1 -> 2 over the NICs and
the other two hops over NVLink, where every hop was priced inside before (stride TP, 2 s <= D).

ASSUMPTION: a hop that crosses a switch tier above the scale-up domain pays the latency of the tier the pair's
extent 2 s crosses (`network.fabric.group_link`), not of the tier its two domains meet at.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from infraplan.network.collectives import Fabric, send_recv_time
from infraplan.network.placement import pipeline_hop_crossings


def hop_crosses_domain(stage_ranks: int, pp: int, attention_dp: int, unit: int) -> np.ndarray:
    """Whether each of the PP - 1 hops (stage j -> j + 1, j < PP - 1) crosses an edge of the `unit`-GPU domains in
    some attention rank's pipeline: a multiple of `unit` strictly inside its pair block (module docstring)."""
    crosses: np.ndarray = np.any(pipeline_hop_crossings(stage_ranks, stage_ranks, pp, attention_dp,
                                                        stage_ranks * pp, unit), axis=0)
    return crosses


def pipeline_hops_time(fabric: Fabric, size_bytes: npt.ArrayLike, stage_ranks: int, pp: int,
                       attention_dp: int = 1) -> np.ndarray:
    """Seconds the PP - 1 stage-to-stage sends of `size_bytes` per rank take in one iteration (0 at PP 1): each hop
    at the scale-up rate where its pair stays in one domain, else at the scale-out rate (module docstring)."""
    size = np.asarray(size_bytes, dtype=np.float64)
    if pp <= 1:
        return np.zeros_like(size)
    unit = fabric.placement_unit or fabric.scale_up_domain
    crosses = hop_crosses_domain(stage_ranks, pp, attention_dp, unit)
    across = int(np.count_nonzero(crosses))
    inside = len(crosses) - across
    seconds = np.zeros_like(size)
    if inside:  # the pair's 2 s consecutive ranks share one domain
        seconds = inside * send_recv_time(replace(fabric, placement_unit=2 * stage_ranks), size, stage_ranks)
    if across:  # one member on each side of the edge
        seconds = seconds + across * send_recv_time(replace(fabric, placement_unit=stage_ranks), size, stage_ranks)
    return np.asarray(seconds, dtype=np.float64)
