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

What a group that spans domains costs at least (`spanning_bound`, moved from `network.collective_formulas`, hE62):
the collective of its k members inside one domain (`spanning_members`) at the same per-peer chunk, priced in-domain,
which it moves over the same NVLink path; `spanning_bounded` / `in_one_pass` price a collective and that bound in one
numpy pass. The collective formulas (`network.collective_formulas`, `network.collectives`) apply it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.catalog.schemas import Node
from infraplan.network.fabric import Fabric, group_domain
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS, MathOps, anywhere


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


def domains_needed(node: Node, gpus: int) -> int:
    """Scale-up domains a job of `gpus` GPUs placed afresh holds (`job_placement_unit`): one inside a domain, under
    `slurm_segment` its segments packed whole, domain // segment of them a domain (Slurm's --segment keeps each
    segment in one block; RECALLED, not read here: a 480-GPU job's 8 segments of 15 trays take 8 racks of 18),
    else ceil(gpus / domain)."""
    unit, domain = job_placement_unit(node, gpus), node.scale_up_domain
    if not unit:
        return 1
    if node.placement == "slurm_segment" and unit < domain:
        return -(-(gpus // unit) // (domain // unit))
    return -(-gpus // domain)


def fitting_gpus(node: Node, gpus: int, step: int, domains: int) -> int:
    """The most GPUs, at most `gpus` and in whole `step`s, whose layout afresh (`domains_needed`) fits `domains`
    scale-up domains; 0 where none does (a shrunk restart launched anew on the domains in service, hT76)."""
    step = max(1, int(step))
    return next((g for g in range(int(gpus) // step * step, 0, -step) if domains_needed(node, g) <= domains), 0)


def gpus_laid_as(node: Node, unit: int, gpus: int, domains: int) -> int:
    """The GPUs of `gpus` a job laid out `unit` GPUs a domain (a larger job's placement kept: its Slurm --segment)
    runs on `domains` scale-up domains: whole units, max(D // unit, 1) of them a domain, as `domains_needed` packs
    them (hZ2 77: a 480-GPU job's 60 a rack on 7 racks runs 420, not the 480 that 504 GPUs in service hold). 0 for
    a job inside one domain (unit 0)."""
    if unit <= 0:
        return 0
    return min(int(gpus) // unit, int(domains) * max(node.scale_up_domain // unit, 1)) * unit


def layout_refusal(node: Node, gpus: int, built: int, system: str, device: str = "GPU") -> str | None:
    """Why a job of `gpus` cannot be laid out on a system of `built` scale-up domains (`domains_needed` above
    them: NeMo's --segment of 11 trays for 440 GPUs takes 10 of gb200-nvl72-superpod's 8 racks), one line; None
    where it fits."""
    needed, unit = domains_needed(node, gpus), job_placement_unit(node, gpus)
    if needed <= built:
        return None
    return (f"--gpus {gpus:,}: the job's ranks are placed {unit} {device}s a {node.scale_up_domain}-{device} NVLink "
            f"domain (NeMo's GB200 launcher: Slurm --segment {unit // node.accelerators_per_node} nodes, "
            f"network.placement), {needed:,} domains, and system {system} has {built:,}; give a count whose segments "
            f"fit (a multiple of {node.scale_up_domain} fills whole domains)")


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
    strictly inside (start, start + s + block). Training's replicas (`training.pipeline_hops`); serving's place each
    stage group inside a domain instead (`serving.pipeline_hops`, hT74)."""
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


def in_one_pass(formula: Callable[[Any, Any, Any], Any], first: tuple[Any, Any, Any],
                second: tuple[Any, Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """`formula(*first)` and `formula(*second)` (each (size, n, stride) on arrays of one broadcast shape) priced in
    one pass on the two end to end. Bit for bit each pass's: every formula is element-wise, and its whole-array
    tests only skip work whose elements `where` would drop (in one domain or spanning, the tables' node columns
    with zero weight, `collective_efficiency`), so each element gets the value it gets alone
    (tests/network/test_joined_bounds_hP22.py)."""
    columns = np.broadcast_arrays(*first, *second)
    shape, count = columns[0].shape, columns[0].size
    both = np.asarray(formula(*(np.concatenate((columns[i].ravel(), columns[i + 3].ravel())) for i in range(3))))
    return both[:count].reshape(shape), both[count:].reshape(shape)


def spanning_bounded(formula: Callable[[Any, Any, Any], Any], fabric: Fabric, size: Any, n: Any, stride: Any,
                     ring: bool) -> Any:
    """`spanning_bound(formula(size, n, stride), ...)` of a reduce-scatter or all-to-all on arrays, the collective
    and its in-domain bound priced in one pass (`in_one_pass`) where some group spans domains."""
    local, spans = spanning_members(NUMPY_OPS, fabric, n, stride)
    if not anywhere(spans):
        return formula(size, n, stride)
    t, bound = in_one_pass(formula, (size, n, stride), (size * local / np.maximum(n, 1.0), local, stride))
    if ring:
        bound = (n - 1.0) / local * bound
    return np.where(spans, np.maximum(t, bound), t)


def spanning_members(xp: MathOps, fabric: Fabric, n: Any, stride: Any) -> tuple[Any, Any]:
    """(k, the members of a group of n ranks `stride` apart in one scale-up domain; whether the group spans domains
    with k > 1), by the job's placement (`fabric.group_domain`, the unit above)."""
    domain = group_domain(fabric, n, stride)
    local = xp.minimum(xp.maximum(xp.floor(domain / stride), 1.0), n)
    return local, (n * stride > domain) & (local > 1.0)


def spanning_bound(xp: MathOps, fabric: Fabric, t: Any, size: Any, n: Any, stride: Any, ring: bool,
                   inside: Callable[[Any, Any], Any], whole_buffer: bool = False) -> Any:
    """`t`, a collective's time over n ranks `stride` apart, bounded below where the group spans scale-up domains
    by the collective of its k local members (k = the members in one domain) with the same per-peer chunk, a
    size x k / n buffer, priced in-domain by `inside(buffer, k)` (the measured in-domain efficiency and latency).

    The spanning collective moves that chunk over the same NVLink path: an all-to-all runs every pair of the k
    local members among its pairs, so it takes at least their exchange; a ring runs n - 1 steps of the chunk,
    each member sending (k - 1) / k of its bytes over NVLink (the rest over its NIC, `fabric.ring_scale_up_limit`),
    so it takes at least (n - 1) / k x the in-domain ring of k (which runs k - 1 such steps at (k - 1) / k):
    t >= (n - 1) / k x inside. NCCL's tree does not run n - 1 steps: its in-domain leg is a chain through the k
    local members that carries the whole buffer once up (reduce) and once down (broadcast), the inter-node double
    binary tree between (NCCL 2.4+, src/graph/trees.cc and connect.cc; recalled: ASSUMPTION, not re-read); those
    legs leave each local member with the sum of the k local buffers, an all-reduce of the whole buffer over k,
    so the tree takes at least that (`whole_buffer`: t >= inside(size, k), `ring` then ignored). Without the
    bound a group spanning domains read the cross-domain tables (alpha-beta below 16 MiB, efficiency 1 at large
    sizes) and could beat one inside a domain: a 16-rank all-to-all over two H100 boards at 100 KB per rank 5.1
    us against 9.3 us for 8 ranks on one board; a reduce-scatter over two GB200 NVL72 racks 727 GB/s of busbw
    against 615 GB/s inside one (the measured in-domain ring efficiency, `network.nvlink_collectives`)."""
    local, spans = spanning_members(xp, fabric, n, stride)
    if not (spans if xp is FLOAT_OPS else anywhere(spans)):
        return t
    if whole_buffer:
        bound = inside(size, local)
    else:
        bound = inside(size * local / xp.maximum(n, 1.0), local)
        if ring:
            bound = (n - 1.0) / local * bound
    return xp.where(spans, xp.maximum(t, bound), t)
