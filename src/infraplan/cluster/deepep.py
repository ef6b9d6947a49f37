"""DeepEP's normal (prefill / training) kernels across scale-up domains: what they send and at what rate.

DeepEP's normal kernels send a token once per destination node over RDMA and forward it to that node's experts over
NVLink (DeepEP README, "normal kernels ... asymmetric-domain bandwidth forwarding"; DeepSeek-V3 arXiv:2412.19437
sec. 3.2.2), at the README's published internode rate for the nodes the EP group spans. Shared by the training model
(`training.expert_dispatch`: `dispatcher: deepep` stacks and Megatron-Core's flex dispatcher) and the serving model
(`serving.ep_all_to_all`: a serving profile's `deepep_normal_kernels`); moved here from `training.expert_dispatch`
unchanged (session 52; the cluster layer, the lowest that may read both network/ and ops/) so that serving prices
the same kernels with the same code.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import Fabric, group_domain
from infraplan.network.nvlink_collectives import mnnvl_all_to_all_efficiency
from infraplan.ops.expert_routing import expected_nodes_over, expected_nodes_per_token
from infraplan.ops.layer import ArrayLike, Collective


def ep_domains(fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An EP group of n ranks at rank stride s on the fabric: (n, the d = min(n, floor(D / s)) ranks it has in
    each scale-up domain of D GPUs, the N = n / d domains it spans)."""
    n = np.maximum(np.asarray(group, dtype=np.float64), 1.0)
    domain = group_domain(fabric, n, stride)  # the job's placement (`network.placement`)
    per_domain = np.clip(np.floor(domain / np.maximum(np.asarray(stride, dtype=np.float64), 1.0)), 1.0, n)
    return n, per_domain, n / per_domain


@lru_cache(maxsize=256)
def group_spans(n: int, stride: int, unit: int) -> frozenset[tuple[int, ...]]:
    """Each EP group's ranks in each scale-up domain it spans (in rank order), over one period of the placement: the
    job's ranks in order, `unit` consecutive ranks a domain (`Fabric.placement_unit`), blocks of n x `stride`
    consecutive ranks holding `stride` interleaved groups of n (the rank order `ep_domains` prices)."""
    block = n * stride
    period = block * unit // math.gcd(block, unit)
    spans = set()
    for first in range(0, period, block):
        for offset in range(stride):
            _, counts = np.unique((first + offset + stride * np.arange(n)) // unit, return_counts=True)
            spans.add(tuple(int(c) for c in counts))
    return frozenset(spans)


def ep_node_copies(shape: TransformerShape, fabric: Fabric, group: ArrayLike,
                   stride: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(the domains a token reaches, the domains the group spans) of an EP group, its own domain included, for
    DeepEP's copy a node (`deepep_node_dedup`, `flex_dispatch_seconds`): `expected_nodes_per_token` of the N of
    `ep_domains`, except where its blocks straddle the placement unit's edges (n x s neither dividing nor divided by
    it): there the slowest group as it really lies (`group_spans`: EP32 on 60-GPU segments is 28 | 4 over 2 domains,
    not "8 domains of 4", hE76; `expected_nodes_over`). `ep_domains`' N stays what a per-rank all-to-all's NIC share
    reads (gcd: (n - d) / n leaves the domain on the smaller side, network.placement)."""
    _, _, nodes = ep_domains(fabric, group, stride)
    reached = expected_nodes_per_token(shape, nodes)
    straddling = _straddling(fabric, group, stride)
    if straddling:
        reached, nodes = (np.array(np.broadcast_to(x, np.broadcast(reached, nodes, group, stride).shape),
                                   dtype=np.float64) for x in (reached, nodes))
    for i, spans in straddling:
        worst = _slowest(shape, spans)
        reached.flat[i], nodes.flat[i] = expected_nodes_over(shape, worst), float(len(worst))
    return reached, nodes


def slowest_spans(shape: TransformerShape, fabric: Fabric, group: int, stride: int) -> tuple[int, ...] | None:
    """The ranks in each domain of the group `ep_node_copies` prices where one EP group's blocks straddle the
    placement unit's edges (EP32 on 60-GPU segments of DeepSeek-V3: (16, 16)); None where they are aligned."""
    straddling = _straddling(fabric, group, stride)
    return _slowest(shape, straddling[0][1]) if straddling else None


def _slowest(shape: TransformerShape, spans: frozenset[tuple[int, ...]]) -> tuple[int, ...]:
    """The spans whose token reaches the most domains (`expected_nodes_over`)."""
    return max(sorted(spans), key=lambda t: expected_nodes_over(shape, t))


def ep_forward_ranks(fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> np.ndarray:
    """The ranks c an EP group holds in one scale-up domain on the side where DeepEP's NVLink leg is slowest
    (`flex_dispatch_seconds`): `ep_domains`' d, except where its blocks straddle the placement unit's edges: there
    every side of every group as it really lies (`group_spans`: EP32 on 60-GPU segments, 32 for the group inside one
    segment, 28 | 4 up to 16 | 16 beside it, not the gcd's 4; hE2 76). A rank on a side of c forwards (c - 1) / c
    of the ranks it reaches (the tokens it received over RDMA for the others) at the measured all-to-all rate of c
    ranks where one is tabled (`up_bytes_per_s`), so the slowest side is the largest (c - 1) / (c rate(c))."""
    _, per_domain, _ = ep_domains(fabric, group, stride)
    straddling = _straddling(fabric, group, stride)
    if straddling:
        per_domain = np.array(np.broadcast_to(per_domain, np.broadcast(per_domain, group, stride).shape),
                              dtype=np.float64)
    for i, spans in straddling:
        sides = sorted({c for t in spans for c in t})
        per_domain.flat[i] = float(max(sides, key=lambda c: (c - 1.0) / c / float(up_bytes_per_s(fabric, c))))
    return per_domain


def up_bytes_per_s(fabric: Fabric, ranks: ArrayLike) -> np.ndarray:
    """Scale-up rate per GPU of an exchange among `ranks` GPUs of one domain: the fabric's, at the measured NVL72
    all-to-all efficiency where one is tabled (`network.nvlink_collectives.mnnvl_all_to_all_efficiency`)."""
    measured = mnnvl_all_to_all_efficiency(fabric.accelerator, ranks)
    return np.asarray(fabric.scale_up_bytes_per_s * (1.0 if measured is None else measured), dtype=np.float64)


def _straddling(fabric: Fabric, group: ArrayLike,
                stride: ArrayLike) -> list[tuple[int, frozenset[tuple[int, ...]]]]:
    """(flat index, `group_spans`) of each element whose blocks of n x s ranks neither divide nor are divided by the
    placement unit (`ep_node_copies`, `ep_forward_ranks`); [] where the unit is 0 or every block is aligned."""
    unit = fabric.placement_unit
    if not unit:
        return []
    n, _, nodes = ep_domains(fabric, group, stride)
    s = np.maximum(np.asarray(stride, dtype=np.float64), 1.0)
    n, s, nodes = np.broadcast_arrays(n, s, nodes)
    block = n * s
    straddle = (nodes > 1.0) & (block % unit != 0) & (unit % block != 0)
    return [(int(i), group_spans(int(n.flat[i]), int(s.flat[i]), unit)) for i in np.flatnonzero(straddle)]


def deepep_node_dedup(shape: TransformerShape, fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> np.ndarray:
    """Scale-out bytes of a DeepEP dispatch / combine over those of a per-expert all-to-all (<= 1).

    DeepEP's normal (internode) kernels send a token over RDMA once per destination node and forward it to
    that node's experts over NVLink (DeepEP README, "normal kernels ... asymmetric-domain bandwidth
    forwarding"; DeepSeek-V3 arXiv:2412.19437 sec. 3.2.2). The EP group of n ranks, stride s, spans
    N = n / min(n, floor(D / s)) scale-up domains of D GPUs, each holding E / N experts. A token misses a
    given node with P (`ops.expert_routing`: balanced top-k of E, or DeepSeek's group-limited routing, where
    groups map onto nodes and a token reaches at most `topk_group` nodes, arXiv:2412.19437 sec. 3.2.2); it
    then crosses to (N - 1)(1 - P) remote nodes where the per-expert all-to-all sends k (N - 1) / N copies:
    the ratio N (1 - P) / k. One domain (N = 1): 1. These are the bytes on the NICs; the rate they move at is
    DeepEP's per node copy, the token's own node included (`deepep_own_node_factor`).
    The NVLink leg (9x the NIC bandwidth on a DGX H100) runs beside the RDMA sends and is not priced.
    """
    reached, nodes = ep_node_copies(shape, fabric, group, stride)  # (the domains each group really spans, hE76)
    k = float(shape.experts_per_token)
    return np.asarray(np.where(nodes > 1.0, np.minimum(reached / k, 1.0), 1.0), dtype=np.float64)


def deepep_own_node_factor(fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> np.ndarray:
    """N / (N - 1) for an EP group over N > 1 scale-up domains (1 inside one): DeepEP's internode kernels move
    the token's own-node copy through the same RDMA-buffer and forwarding stages as the remote ones, and its
    published RDMA rate counts it (`flex_dispatch_seconds`), so the time of the (N - 1) / N remote share of a
    token's node copies at that rate is the remote bytes x N / (N - 1). N is `ep_domains`' gcd reading, not the
    spans `ep_node_copies` counts, on purpose: the factor undoes the (N - 1) / N = (n - d) / n share NCCL's all-to-all
    puts on the NICs for that same reading, so the NICs carry one copy per domain reached (EP32 on 60-GPU segments:
    8 / 7 x 7 / 8; the spans' 2 would price 1.75x that, hE2 76)."""
    _, _, nodes = ep_domains(fabric, group, stride)
    return np.asarray(np.where(nodes > 1.0, nodes / np.maximum(nodes - 1.0, 1.0), 1.0), dtype=np.float64)


# DeepEP's published normal-kernel internode rates (deep-ep 1.0.0 sdist README.md:13-22, "Normal kernels with NVLink
# and RDMA forwarding": H800, one CX7 InfiniBand 400 Gb/s NIC per GPU, "~50 GB/s maximum bandwidth"): nodes of 8 GPUs
# the EP group spans (EP16 / 32 / 64) -> (dispatch, combine) GB/s, "bottleneck bandwidth (RDMA)"
DEEPEP_INTERNODE_RDMA_GBPS: dict[int, tuple[float, float]] = {2: (43.0, 43.0), 4: (44.0, 47.0), 8: (46.0, 45.0)}
DEEPEP_TEST_NIC_GBPS = 50.0  # the README's NIC line rate (400 Gb/s)
# the table as `deepep_rdma_bytes_per_s` interpolates it, once: log2 of the nodes, and the harmonic mean of each
# (dispatch, combine) pair as a share of the README's NIC
_DEEPEP_LOG2_NODES = np.log2(sorted(DEEPEP_INTERNODE_RDMA_GBPS))
_DEEPEP_NIC_SHARES = [2.0 / (1.0 / DEEPEP_INTERNODE_RDMA_GBPS[n][0] + 1.0 / DEEPEP_INTERNODE_RDMA_GBPS[n][1])
                      / DEEPEP_TEST_NIC_GBPS for n in sorted(DEEPEP_INTERNODE_RDMA_GBPS)]
# round 14 (validation/notes/training_sets_tried.md): the scale-out leg at the table's rate for the nodes spanned,
# as a share of the NIC's line rate, not at the fabric's achievable NCCL rate (False: as before)
DEEPEP_PUBLISHED_RDMA_RATE = True


def deepep_rdma_bytes_per_s(fabric: Fabric, nodes: ArrayLike) -> np.ndarray:
    """Scale-out rate per GPU of DeepEP's normal kernels for an EP group over `nodes` scale-up domains: the
    README's dispatch + combine pair (`DEEPEP_INTERNODE_RDMA_GBPS`, the harmonic mean of the two: a dispatch and a
    combine of the same bytes) as a share of its 50 GB/s NIC, times this fabric's NIC line rate, at most the
    fabric's achievable rate. Between / beyond the tabled 2, 4 and 8 nodes the share is interpolated in log2 nodes /
    held (ASSUMPTION: no other size is published). The README measured hidden 7,168 (fp8 dispatch, 7.2 KB a token;
    bf16 combine, 14 KB): smaller tokens are priced at the same rate (no published figure for them). Other GPUs
    take the H800 figures (ASSUMPTION): there the kernel forwards ~3x its EP16 RDMA bytes over ~160 GB/s of NVLink
    (~138 GB/s at 43 GB/s RDMA, DeepSeek-V3's routing), so the EP16 figure may be partly NVLink-bound on H800 and
    higher on H100 (2.25x the NVLink): no H100 figure is published. HybridEP (H029) takes DeepEP's figure:
    ASSUMPTION (no HybridEP internode rate is published in a package)."""
    if not DEEPEP_PUBLISHED_RDMA_RATE or fabric.nic_line_bytes_per_s <= 0.0:
        return np.asarray(fabric.nic_bytes_per_s, dtype=np.float64)
    share = np.interp(np.log2(np.maximum(np.asarray(nodes, dtype=np.float64), 1.0)), _DEEPEP_LOG2_NODES,
                      _DEEPEP_NIC_SHARES)
    return np.asarray(np.minimum(share * fabric.nic_line_bytes_per_s, fabric.nic_bytes_per_s), dtype=np.float64)


def flex_dispatch_seconds(shape: TransformerShape, fabric: Fabric, records: tuple[Collective, ...],
                          one: bool = False) -> np.ndarray:
    """Seconds of the EP dispatches / combines, forward, as the DeepEP / HybridEP kernels send them.

    What the kernels send (megatron-core 0.16.1 transformer/moe/fused_a2a.py:87-123, token_dispatcher.py
    :1170-1188): `get_dispatch_layout` marks the ranks (`is_token_in_rank`) and the RDMA ranks (nodes) each
    token goes to, and `dispatch` sends the bf16 hidden state once per destination rank, inside a node, and once
    per destination node over RDMA, forwarded there over NVLink (DeepEP README, normal kernels); the experts'
    duplicates are made after the receive (the permute, token_dispatcher.py:1296-1304). The hidden states go in
    the dtype they arrive in (no fp8 dispatch in Megatron-Core's DeepEP manager; HybridEP asserts it off,
    fused_a2a.py:311), so `fp8_dispatch` does not apply. Per rank and call, with b = the record's bytes / k
    (one token copy), n ranks of stride s over N domains of d = n / N ranks (a group straddling the placement
    unit's edges: the N its slowest group spans, `ep_node_copies`, and the d of its slowest side, `ep_forward_ranks`):
        scale-out bytes  b * N (1 - P_node)                       (every node a token reaches, its own included)
        scale-up bytes   b * n (1 - P_rank) * (d - 1) / d         (the ranks it reaches, forwarded in the node)
    (`ops.expert_routing`: the expected nodes / ranks a token reaches), each at the fabric's achievable rate
    per GPU and direction, the two legs concurrent: max of the two. Achieved rates: the DeepEP README's
    "normal kernels" table (deep-ep 1.0.0 sdist, README.md:13-22: H800 + CX7 400 Gb/s of ~50 GB/s, 4,096
    tokens, hidden 7,168, top-8 of 4 node groups; intranode EP8 153 / 158 GB/s over NVLink of ~160 GB/s;
    internode EP16 / 32 / 64 43 / 44 / 46 GB/s dispatch, 43 / 47 / 45 combine, "bottleneck bandwidth (RDMA)").
    Its RDMA figure counts every node a token reaches, its own included (tests/test_internode.py:39-43
    `num_rdma_token_sent = rdma_idx.ne(-1).sum()` over all nodes, :159 x hidden x 2 B, :174-186 / t): the
    own node's copy, which the sender writes straight into its own RDMA receive buffer and the forwarder warps
    then forward over NVLink like the remote ones (csrc/kernels/internode.cu:577, :711-721), runs at the same
    rate, so the scale-out time is b x every node reached over that rate; at EP16 over two nodes
    the NIC itself then carries ~21 GB/s. The rate is the README's figure for the nodes the group spans, as a
    share of its 50 GB/s NIC on this fabric's line rate (`deepep_rdma_bytes_per_s`: 43 GB/s at EP16 on a DGX
    H100; before round 14 the fabric's achievable NCCL rate, 50 x 0.94 = 47 GB/s, for every size). HybridEP (the
    deep_ep `hybrid-ep` branch, not on
    PyPI: Megatron-Bridge 0.6.0 runs it on H100 with NUM_OF_HYBRID_EP_RANKS_PER_NVLINK_DOMAIN 8 and USE_MNNVL 0,
    perf_recipes/qwen/h100/qwen3_moe.py:100-110, RDMA between 8-GPU NVLink domains) is priced the same
    (ASSUMPTION: no HybridEP inter-node figure is published in a package).
    Not overlapped with compute (the recipes leave `overlap_moe_expert_parallel_comm` off), so the SMs the
    kernels hold (`moe_deepep_num_sms` 20, `moe_hybridep_num_sms` 16: transformer_config.py:722-725) cost
    nothing beside them. The per-call latency (a few tens of microseconds) is not priced.
    """
    k = float(shape.experts_per_token)
    total: np.ndarray = np.zeros(())
    for c in records:
        if c.role != "ep":
            continue
        n, _, _ = ep_domains(fabric, c.group, c.stride)
        reached, nodes = ep_node_copies(shape, fabric, c.group, c.stride)  # (a straddling group's real span, hE76)
        per_domain = ep_forward_ranks(fabric, c.group, c.stride)  # (its largest side, hE2 76)
        token_bytes = np.asarray(c.bytes, dtype=np.float64) / k
        # every node a token reaches, its own included; none inside one scale-up domain
        scale_out = np.where(nodes > 1.0, token_bytes * reached, 0.0)
        scale_up = token_bytes * expected_nodes_per_token(shape, n) * (per_domain - 1.0) / per_domain
        # inside the domain at the measured NVL72 all-to-all rate where one is tabled (`network.nvlink_collectives`)
        seconds = np.maximum(scale_out / deepep_rdma_bytes_per_s(fabric, nodes),
                             scale_up / up_bytes_per_s(fabric, per_domain))
        total = total + np.where(np.asarray(c.mask) & (n > 1.0), c.count * seconds, 0.0)
    return float(total) if one else total  # type: ignore[return-value]  # a float: the annotation is the array's
