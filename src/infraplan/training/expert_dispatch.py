"""The MoE expert-parallel all-to-all of a layer: DeepEP's node deduplication, fp8 dispatch and the overlap of
dispatch / combine with the layer's compute (`Stack.moe`), priced on the plan's EP rank stride.

A recipe's flex dispatcher (Megatron-Core `moe_token_dispatcher_type: flex`, DeepEP or HybridEP: `MoeRouting
.flex_backend`) runs only on the GPUs Megatron-Bridge applies it on (`with_flex_dispatcher`) and is priced as its
kernels send (`flex_dispatch_seconds`), across nodes at DeepEP's published RDMA rate for the nodes spanned
(`deepep_rdma_bytes_per_s`), which counts the token's own node as one of the nodes it reaches (deep-ep 1.0.0
README and tests/test_internode.py); the `dispatcher: deepep` stacks' cross-node all-to-all likewise (round 14).
The NeMo frontier rows keep the alltoall dispatcher but H029, whose performance configuration runs HybridEP
(validation.sets `MODEL_RECIPE_FLEX_BACKEND`; round 11a of validation/notes/training_sets_tried.md).

It is the only per-layer term that depends on the EP rank stride (so on PP and the rank order): the search
prices the rest of a layer once per stride-free row (`training.step_time._per_layer`) and this on every row.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.identity_memo import IdentityMemo
from infraplan.network.collectives import Fabric, group_domain
from infraplan.network.mnnvl_all_to_all import measured_efficiency
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.ops.moe_routing import FP8_DISPATCH_PAIR_SHARE
from infraplan.scalar_path import is_plain, pick, smaller, to_bool
from infraplan.training.layer_kernels import collective_times as _collective_times


def ep_domains(fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An EP group of n ranks at rank stride s on the fabric: (n, the d = min(n, floor(D / s)) ranks it has in
    each scale-up domain of D GPUs, the N = n / d domains it spans)."""
    n = np.maximum(np.asarray(group, dtype=np.float64), 1.0)
    domain = group_domain(fabric, n, stride)  # the job's placement (`network.placement`)
    per_domain = np.clip(np.floor(domain / np.maximum(np.asarray(stride, dtype=np.float64), 1.0)), 1.0, n)
    return n, per_domain, n / per_domain


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
    n, per_domain, nodes = ep_domains(fabric, group, stride)
    reached = expected_nodes_per_token(shape, nodes)
    k = float(shape.experts_per_token)
    return np.asarray(np.where(nodes > 1.0, np.minimum(reached / k, 1.0), 1.0), dtype=np.float64)


def deepep_own_node_factor(fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> np.ndarray:
    """N / (N - 1) for an EP group over N > 1 scale-up domains (1 inside one): DeepEP's internode kernels move
    the token's own-node copy through the same RDMA-buffer and forwarding stages as the remote ones, and its
    published RDMA rate counts it (`flex_dispatch_seconds`), so the time of the (N - 1) / N remote share of a
    token's node copies at that rate is the remote bytes x N / (N - 1)."""
    _, _, nodes = ep_domains(fabric, group, stride)
    return np.asarray(np.where(nodes > 1.0, nodes / np.maximum(nodes - 1.0, 1.0), 1.0), dtype=np.float64)


# fp8 dispatch (`MoeRouting.fp8_dispatch`): `ops.moe_routing.FP8_DISPATCH_PAIR_SHARE` (shared with serving)


def with_flex_dispatcher(stack: Stack, accelerator: str) -> Stack:
    """`stack` as Megatron-Bridge runs it on `accelerator`: the recipe's flex backend (`MoeRouting.flex_backend`)
    kept where `apply_flex_dispatcher_backend` applies it (megatron-bridge 0.3.1 training/flex_dispatcher_backend.py
    :47-69: DeepEP on compute capability 8 / 9 and the devices named B200 / B300, HybridEP on 8 / 9 / 10, as the
    stack's accelerator lists say), dropped elsewhere (the recipe's `moe_token_dispatcher_type`, alltoall).
    The same object when nothing changes (the one-plan memo is keyed by identity); one copy per stack and
    accelerator otherwise."""
    moe = stack.moe
    if moe.flex_backend is None:
        return stack
    runs = accelerator in (moe.deepep_accelerators if moe.flex_backend == "deepep" else moe.hybridep_accelerators)
    if runs:
        return stack
    kept = _DROPPED.get(stack, accelerator)
    if kept is not None:
        return kept
    dropped = stack.model_copy(update={"moe": moe.model_copy(update={"flex_backend": None})})
    return _DROPPED.put(stack, accelerator, dropped)


_DROPPED: IdentityMemo[Stack] = IdentityMemo(256)  # (stack, accelerator) -> its copy, by the stack's identity


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
# round 14: the `dispatcher: deepep` stacks' cross-node all-to-all priced as DeepEP's kernels send
# (`flex_dispatch_seconds`, at `deepep_rdma_bytes_per_s`) instead of NCCL's all-to-all of the deduplicated bytes
# (`deepep_node_dedup` x `deepep_own_node_factor`); inside one scale-up domain NCCL's all-to-all as before
DEEPEP_KERNEL_RATE = True


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
    (one token copy), n ranks of stride s over N domains of d = n / N ranks:
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
        n, per_domain, nodes = ep_domains(fabric, c.group, c.stride)
        token_bytes = np.asarray(c.bytes, dtype=np.float64) / k
        # every node a token reaches, its own included; none inside one scale-up domain
        scale_out = np.where(nodes > 1.0, token_bytes * expected_nodes_per_token(shape, nodes), 0.0)
        scale_up = token_bytes * expected_nodes_per_token(shape, n) * (per_domain - 1.0) / per_domain
        # inside the domain at the measured NVL72 all-to-all rate where one is tabled (`network.mnnvl_all_to_all`)
        measured = measured_efficiency(fabric.accelerator, per_domain)
        up_rate = fabric.scale_up_bytes_per_s * (1.0 if measured is None else measured)
        seconds = np.maximum(scale_out / deepep_rdma_bytes_per_s(fabric, nodes), scale_up / up_rate)
        total = total + np.where(np.asarray(c.mask) & (n > 1.0), c.count * seconds, 0.0)
    return float(total) if one else total  # type: ignore[return-value]  # a float: the annotation is the array's


def ep_seconds(shape: TransformerShape, fabric: Fabric, records: tuple[Collective, ...],
               stack: Stack, fp8: ArrayLike = False, one: bool = False) -> np.ndarray:
    """Seconds of the EP all-to-alls, forward; a `dispatcher: deepep` stack's all-to-all across scale-up domains as
    DeepEP's kernels send it at its published rate (`flex_dispatch_seconds`; with `DEEPEP_KERNEL_RATE` off: NCCL's
    all-to-all of the deduplicated bytes at the per-node-copy rate, `deepep_node_dedup` x `deepep_own_node_factor`),
    inside one domain NCCL's; with `fp8_dispatch` fp8 plans (`fp8`) dispatch in fp8 and combine in bf16. `one`: a
    `PlanArrays.one_row` plan's records (Python floats). A flex backend (`MoeRouting.flex_backend`, kept by
    `with_flex_dispatcher`) is priced as its kernels send (`flex_dispatch_seconds`)."""
    if stack.moe.flex_backend is not None and shape.is_moe:
        return flex_dispatch_seconds(shape, fabric, records, one)
    deepep = stack.moe.dispatcher == "deepep" and shape.is_moe
    if deepep and not DEEPEP_KERNEL_RATE:
        records = tuple(replace(c, bytes=c.bytes * deepep_node_dedup(shape, fabric, c.group, c.stride)
                                * deepep_own_node_factor(fabric, c.group, c.stride)) for c in records)
    if stack.moe.fp8_dispatch and shape.is_moe:
        share = pick(to_bool(fp8), FP8_DISPATCH_PAIR_SHARE, 1.0)
        records = tuple(replace(c, bytes=c.bytes * share) for c in records)
    if deepep and DEEPEP_KERNEL_RATE:  # across domains as DeepEP's kernels send, at its published rate
        crosses = to_bool(ep_scale_out(fabric, records, one))
        return pick(crosses, flex_dispatch_seconds(shape, fabric, records, one),  # type: ignore[no-any-return]
                    _collective_times(fabric, records, "ep", one))
    return _collective_times(fabric, records, "ep", one)


def ep_scale_out(fabric: Fabric, records: tuple[Collective, ...], one: bool = False) -> np.ndarray:
    """1 where the EP all-to-all crosses scale-up domains (its ranks span N > 1 of them, `ep_domains`: its time is
    the NICs'), else 0 (`training.combined_1f1b.p2p_on_ep_nic_s`)."""
    crosses: np.ndarray = np.zeros(())
    for c in records:
        if c.role == "ep":
            _, _, nodes = ep_domains(fabric, c.group, c.stride)
            crosses = np.maximum(crosses, np.where(np.asarray(c.mask) & (nodes > 1.0), 1.0, 0.0))
    return float(crosses) if one else crosses  # type: ignore[return-value]  # a float: the annotation is the array's


def with_ep_comm(times: dict[str, np.ndarray], ep_fwd: np.ndarray, full: np.ndarray,
                 stack: Stack, fabric: Fabric | None = None, records: tuple[Collective, ...] = (),
                 one: bool = False) -> dict[str, np.ndarray]:
    """`times` with the EP all-to-all (`ep_fwd` seconds forward; backward the same, again under full recompute).
    With Megatron-Core's combined 1F1B (`MoeRouting.overlap_ep_comm`) also `ep_scale_out` (`ep_scale_out` of the
    `records` on `fabric`) and `ep_pair_idle`, the paired layer's time in which no all-to-all runs
    (`training.combined_1f1b`)."""
    out = dict(times)
    compute_fwd = out["compute_fwd"]
    out["ep_fwd"] = ep_fwd + (0.0 if is_plain(compute_fwd) else np.zeros(np.shape(compute_fwd)))
    out["ep_bwd"] = out["ep_fwd"] + pick(full, out["ep_fwd"], 0.0)
    # EP dispatch/combine overlap (DeepEP-style, `Stack.moe`): the hidden share runs under the layer's compute
    # (never longer than it), which loses the SMs the communication kernels hold meanwhile. Per phase, a forward's
    # all-to-all can only hide under forward compute; DualPipe pairs a forward chunk with a backward chunk of the
    # other direction and overlaps each one's all-to-all with the other's compute (DeepSeek-V3 arXiv:2412.19437
    # sec. 3.2.1, Fig. 4), so there the window is the pair's compute: `ep_paired` / `compute_paired` (per layer,
    # forward + backward), which `step_time` takes for DualPipe plans.
    moe = stack.moe
    ep_sm = moe.overlap_sm_fraction
    raw = out["ep_fwd"] + out["ep_bwd"]
    compute_pair = out["compute_fwd"] + out["compute_bwd"]
    # Megatron-Core's combined 1F1B (`MoeRouting.overlap_ep_comm`) runs the all-to-alls on their own stream
    pair_share = 1.0 if moe.overlap_ep_comm else moe.dispatch_overlap_fraction
    hidden_pair = smaller(pair_share * raw, compute_pair)
    out["ep_paired"] = raw - hidden_pair
    out["compute_paired"] = compute_pair + hidden_pair * ep_sm / (1.0 - ep_sm)
    if moe.overlap_ep_comm:
        out["ep_pair_idle"] = out["compute_paired"] - hidden_pair
        out["ep_scale_out"] = (ep_scale_out(fabric, records, one) if fabric is not None else 0.0) + 0.0 * raw
    if moe.dispatch_overlap_fraction > 0.0:
        for phase in ("fwd", "bwd"):
            hidden = smaller(moe.dispatch_overlap_fraction * out[f"ep_{phase}"], out[f"compute_{phase}"])
            out[f"ep_{phase}"] = out[f"ep_{phase}"] - hidden
            out[f"compute_{phase}"] = out[f"compute_{phase}"] + hidden * ep_sm / (1.0 - ep_sm)
    return out
