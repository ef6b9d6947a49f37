"""Where a job's ranks sit among the scale-up domains, and so which parallel groups stay inside one.

The collective pricing (`network.fabric`, `network.collective_efficiency`, `network.collectives`, the EP
all-to-all of `training.expert_dispatch`, the pipeline p2p of `training.step_traffic`) decides a group's domain
from its rank stride s and size n: a group is priced inside one NVLink domain when n s <= D_g, and across domains
with min(n, floor(D_g / s)) members in each otherwise (`network.fabric.group_domain`). Without a placement D_g is
the node's `scale_up_domain` D for every group: every block of ranks taken as aligned to the domains.

Ranks are numbered in the order the launcher lists the nodes (Megatron-Core's `RankGenerator`, megatron-core
0.16.1 core/parallel_state.py: rank = a mixed-radix number over the `order` string, TP innermost; Slurm / torchrun
give consecutive ranks to a node's GPUs). Every parallel group of such an order (TP, CP, DP, EP inside DP, PP) is
the set c + s i + s n o (i < n), c < s: its ranks lie in the block [s n o, s n (o + 1)). A group is inside one
domain for every c exactly when its block is (if a domain edge B falls inside the block, the group c = 0 crosses
it unless B lies in the block's last stride gap, where the group c = s - 1 does). When the job's ranks fill units
of U consecutive GPUs that each lie inside one domain (`job_placement_unit`), a block of n s ranks never crosses an
edge when n s divides U; any other block crosses one in some group of a job of G > U GPUs, and the worst such
group holds gcd(U, n s) of its block on the smaller side. `group_domain` returns D_g = gcd(U, n s): n s itself for
a block dividing U (inside), else the smaller side, whose floor(D_g / s) members bound the slowest group, which
bounds the step. A block larger than U that U divides spans n s / U whole units of U / s members.

The unit U (`Node.placement`):
* `fill`: the job fills whole domains in rank order (every GPU of a domain used): U = D. On 72-GPU GB200 NVL72
  racks EP64 groups 64..127, 128..191, ... cross the rack edges at 72, 144, ... (7 of every 9 groups), EP16 and
  EP32 groups too (64..79, 64..95), while EP8 or TP4 groups (dividing 72) never do.
* `slurm_segment`: NVIDIA's launcher for its GB200 NVL72 performance runs, NeMo 2.6.2
  scripts/performance/executors.py:112-118 ("add --segment flag to sbatch if job uses GB200 and goes beyond one
  rack"): with 4 GPUs per node and more than 18 nodes, `--segment` = the largest divisor of the node count that is
  at most 18 (the compute trays of one NVL72 rack). Slurm's block topology (topology/block, `--segment`) places
  each segment of that many nodes inside one block (one NVL72 rack), so U = segment x GPUs per node: a 256- or
  512-GPU job runs 16 trays (64 GPUs) per rack, a 576-GPU job 18 (72, as `fill`). Segments are taken one to a
  domain (ASSUMPTION: where two segments of 9 or fewer nodes fit in one rack, whether Slurm puts them together is
  not stated; the unit is the one segment).
A job of G <= D GPUs runs inside one domain under either policy (the launcher's comment above: no segment for a
job that does not go beyond one rack): unit 0, every group inside.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from infraplan.catalog.schemas import Node


def segment_nodes(nodes: int, nodes_per_domain: int) -> int:
    """NeMo's GB200 `--segment` (scripts/performance/executors.py:114-118): the largest divisor of `nodes` that is at
    most `nodes_per_domain` (1 when only 1 divides)."""
    return next(s for s in range(min(nodes_per_domain, nodes), 0, -1) if nodes % s == 0)


def job_placement_unit(node: Node, gpus: int) -> int:
    """GPUs of consecutive ranks known to share one scale-up domain in a job of `gpus` GPUs (module docstring): 0
    for a job inside one domain (every group aligned), the domain under `fill`, the segment's GPUs under
    `slurm_segment`."""
    domain, per_node = node.scale_up_domain, node.accelerators_per_node
    if gpus <= domain:
        return 0
    if node.placement == "slurm_segment" and domain % per_node == 0 and gpus % per_node == 0:
        return segment_nodes(gpus // per_node, domain // per_node) * per_node
    return domain


def placement_notes(node: Node, gpus: int) -> list[str]:
    """One line saying where a job beyond one domain puts its ranks, when the system states a launcher's placement."""
    unit = job_placement_unit(node, gpus)
    if unit == 0 or node.placement != "slurm_segment":
        return []
    return [f"ranks placed {unit} GPUs per {node.scale_up_domain}-GPU NVLink domain (NeMo's GB200 launcher: Slurm "
            f"--segment {unit // node.accelerators_per_node} nodes); a group whose block of ranks does not divide "
            f"{unit} crosses a domain edge and is priced across it (network.placement)"]



def pipeline_hop_crossings(block: int, stride: int, pp: int, replicas: int, replica_step: int,
                           unit: int) -> np.ndarray:
    """Whether hop j (stage j -> j + 1, j < `pp` - 1) of replica d crosses an edge of the `unit`-GPU domains, as a
    (replicas, PP - 1) array. Replica d's stage j holds the `block` consecutive ranks from d `replica_step` +
    j `stride`, each sending to the rank `stride` further; ranks r and r + s sit in different domains when r // U
    differs from (r + s) // U, so the hop crosses for some rank of the block exactly when a multiple of U lies
    strictly inside (start, start + s + block). Serving's replicas (`serving.pipeline_hops`) and training's
    (`training.pipeline_hops`) both."""
    hop = np.arange(max(pp - 1, 0), dtype=np.int64)
    start = np.arange(replicas, dtype=np.int64)[:, None] * replica_step + hop * stride
    crosses: np.ndarray = (start // unit + 1) * unit < start + stride + block
    return crosses


@lru_cache(maxsize=4096)
def pipeline_hops_across(block: int, stride: int, pp: int, replicas: int, replica_step: int, unit: int) -> int:
    """The most crossing hops of any one pipeline replica (`pipeline_hop_crossings`); offsets repeat mod U, so the
    first min(`replicas`, U) replicas hold every pattern. 0 without a pipeline or a unit."""
    if pp <= 1 or unit <= 0:
        return 0
    return int(pipeline_hop_crossings(block, stride, pp, min(replicas, unit), replica_step, unit).sum(axis=1).max())
