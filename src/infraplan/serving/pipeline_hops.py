"""The activations a serving replica's pipeline stages hand on in one iteration, each hop priced where its two
stages sit: inside one scale-up domain at the scale-up rate, across a domain edge at the scale-out rate.

Layout. A replica's stage j is one group of s = TP x attention DP accelerators (its TP ranks, and with attention DP
every attention rank's TP ranks of that stage), the group `serving.replica_packing` places inside one scale-up
domain of D GPUs: k = D // s groups a domain, the replica's PP groups in stage order, so stage j sits in the replica's
domain j // k (hT74; until then ranks were numbered consecutively, so a group of an s not dividing D straddled a
domain edge that the packing it is priced on never puts it across). Engines place TP inside a node and PP across
nodes: vLLM's `initialize_model_parallel` reshapes its ranks as (DP, PP, TP) with TP innermost
(vllm/distributed/parallel_state.py; its distributed-serving guide sets TP to a node's GPUs and PP to the nodes),
TensorRT-LLM's `Mapping` numbers rank = pp_rank x tp_size + tp_rank with its attention-DP ranks inside tp_size
(tensorrt_llm/mapping.py), SGLang launches a stage's tp_size GPUs (attention DP inside it) per pp_rank -- all cited
from the sources as we recall them, not re-read here. The domain is the fabric's placement unit U where one is set
(`Fabric.placement_unit`, `network.fabric.group_domain`). A replica is priced as one starting at a domain
edge: `replica_packing` places each replica where it crosses no more edges than that (`aligned_gpus`, hK74: a
replica of at most D GPUs whole inside one domain; TP2 PP3 x 2 on 8-GPU nodes one replica a node, where the groups
packed back to back put the second's stages 3 | 4, 5 across an edge the pricing did not see), so every replica's
hops cost the same and the held count is of that placement (vLLM's DP ranks outermost put each attention rank's
pipeline apart instead: not modelled).

Hops. Hop j (stage j -> j + 1) sends each of stage j's s ranks' M x h activations to the rank s further, all s sends
at once, and lasts as long as the slowest. It stays inside when both groups sit in one domain: (j + 1) % k != 0
(`hop_crosses_domain`); a group of more than D (s > D) spans domains and every hop crosses. A hop inside is
`network.collectives.send_recv_time` of a pair whose 2 s ranks share a domain; a hop across is the same transfer
with one member on each side: one NIC at the scale-out rate and the tier latency of the pair's extent (training
prices its pipeline sends with the same function at its `pp_stride`, `training.step_traffic`). The iteration pays
its PP - 1 hops in turn (`pipeline_hops_time`): TP4 PP4 on 8-GPU domains sends stage 1 -> 2 over the NICs and
the other two hops over NVLink; TP3 PP4 (two groups of 3 a node, 2 GPUs idle) the same one hop.

ASSUMPTION: a hop that crosses a switch tier above the scale-up domain pays the latency of the tier the pair's
extent 2 s crosses (`network.fabric.group_link`), not of the tier its two domains meet at.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from infraplan.network.collectives import Fabric, send_recv_time


def hop_crosses_domain(stage_ranks: int, pp: int, attention_dp: int, unit: int) -> np.ndarray:
    """Whether each of the PP - 1 hops (stage j -> j + 1, j < PP - 1) crosses an edge of the `unit`-GPU domains: its
    two stage groups of TP x attention DP sit in different domains (module docstring)."""
    group = stage_ranks * attention_dp
    hop = np.arange(1, max(pp, 1), dtype=np.int64)  # j + 1: the receiving stage
    if group > unit:  # a stage spans domains: every pair has a member on each side
        return np.ones(len(hop), dtype=bool)
    crosses: np.ndarray = hop % (unit // group) == 0
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
    group = stage_ranks * attention_dp  # a rank sends to its peer one stage group further
    seconds = np.zeros_like(size)
    if inside:  # the pair's 2 s ranks share one domain
        seconds = inside * send_recv_time(replace(fabric, placement_unit=2 * group), size, group)
    if across:  # one member on each side of the edge
        seconds = seconds + across * send_recv_time(replace(fabric, placement_unit=group), size, group)
    return np.asarray(seconds, dtype=np.float64)


def hops_note(fabric: Fabric, tp: int, pp: int, attention_dp: int, word: str, pool: str = "") -> str | None:
    """Which of a replica's PP - 1 stage hops cross to another scale-up domain (`hop_crosses_domain`), where any
    does; None at PP 1 or with every hop inside."""
    unit = fabric.placement_unit or fabric.scale_up_domain
    crosses = np.flatnonzero(hop_crosses_domain(tp, pp, attention_dp, unit)).tolist() if pp > 1 else []
    if not crosses:
        return None
    group = tp * attention_dp
    where = (f"each stage's {group} {word}s span domains" if group > unit else
             f"{unit // group} stage group{'s' if unit // group > 1 else ''} of {group} a domain, in stage order")
    hops, inside = ", ".join(f"{j} -> {j + 1}" for j in crosses), pp - 1 - len(crosses)
    which = (f"its stage hop (stage {hops})" if pp == 2 else  # PP 2: not "1 of its 1 stage hops" (hW75)
             f"{len(crosses)} of its {pp - 1} stage hops (stage {hops})")
    return (f"PP {pp}{f' ({pool} pool)' if pool else ''} on {unit}-{word} scale-up domains ({where}; a replica "
            f"starts at a domain edge): {which} {'crosses' if len(crosses) == 1 else 'cross'} to the next domain over "
            "the NICs" + (f", {inside} over the scale-up links" if inside else "") + " (serving.pipeline_hops)")
