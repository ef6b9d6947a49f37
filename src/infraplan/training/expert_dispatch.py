"""The MoE expert-parallel all-to-all of a layer: DeepEP's node deduplication, fp8 dispatch and the overlap of
dispatch / combine with the layer's compute (`Stack.moe`), priced on the plan's EP rank stride.

It is the only per-layer term that depends on the EP rank stride (so on PP and the rank order): the search
prices the rest of a layer once per stride-free row (`training.step_time._per_layer`) and this on every row.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.network.collectives import Fabric
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.scalar_path import is_plain, pick, smaller, to_bool
from infraplan.training.layer_kernels import collective_times as _collective_times
from infraplan.training.layer_time import ACT


def deepep_node_dedup(shape: TransformerShape, fabric: Fabric, group: ArrayLike, stride: ArrayLike) -> np.ndarray:
    """Scale-out bytes of a DeepEP dispatch / combine over those of a per-expert all-to-all (<= 1).

    DeepEP's normal (internode) kernels send a token over RDMA once per destination node and forward it to
    that node's experts over NVLink (DeepEP README, "normal kernels ... asymmetric-domain bandwidth
    forwarding"; DeepSeek-V3 arXiv:2412.19437 sec. 3.2.2). The EP group of n ranks, stride s, spans
    N = n / min(n, floor(D / s)) scale-up domains of D GPUs, each holding E / N experts. A token misses a
    given node with P (`ops.expert_routing`: balanced top-k of E, or DeepSeek's group-limited routing, where
    groups map onto nodes and a token reaches at most `topk_group` nodes, arXiv:2412.19437 sec. 3.2.2); it
    then crosses to (N - 1)(1 - P) remote nodes where the per-expert all-to-all sends k (N - 1) / N copies:
    the ratio N (1 - P) / k. One domain (N = 1): 1.
    The NVLink leg (9x the NIC bandwidth on a DGX H100) runs beside the RDMA sends and is not priced.
    """
    n = np.maximum(np.asarray(group, dtype=np.float64), 1.0)
    per_domain = np.clip(np.floor(fabric.scale_up_domain / np.maximum(np.asarray(stride, dtype=np.float64), 1.0)),
                         1.0, n)
    nodes = n / per_domain
    reached = expected_nodes_per_token(shape, nodes)
    k = float(shape.experts_per_token)
    return np.asarray(np.where(nodes > 1.0, np.minimum(reached / k, 1.0), 1.0), dtype=np.float64)


# fp8 dispatch (`MoeRouting.fp8_dispatch`): bytes of a dispatch + combine pair over two bf16 ones: the dispatch
# moves 1 B per element plus a 4 B fp32 scale per 1x128 tile, the combine 2 B (DeepSeek-V3 sec. 3.3.3)
FP8_DISPATCH_PAIR_SHARE = (1.0 + 4.0 / 128.0 + 2.0) / (2.0 * ACT)


def _ep_seconds(shape: TransformerShape, fabric: Fabric, records: tuple[Collective, ...],
                stack: Stack, fp8: ArrayLike = False, one: bool = False) -> np.ndarray:
    """Seconds of the EP all-to-alls, forward; DeepEP dispatchers move the deduplicated bytes over the NICs;
    with `fp8_dispatch` fp8 plans (`fp8`) dispatch in fp8 and combine in bf16. `one`: a `PlanArrays.one_row`
    plan's records (Python floats)."""
    if stack.moe.dispatcher == "deepep" and shape.is_moe:
        records = tuple(replace(c, bytes=c.bytes * deepep_node_dedup(shape, fabric, c.group, c.stride))
                        for c in records)
    if stack.moe.fp8_dispatch and shape.is_moe:
        share = pick(to_bool(fp8), FP8_DISPATCH_PAIR_SHARE, 1.0)
        records = tuple(replace(c, bytes=c.bytes * share) for c in records)
    return _collective_times(fabric, records, "ep", one)


def _with_ep_comm(times: dict[str, np.ndarray], ep_fwd: np.ndarray, full: np.ndarray,
                  stack: Stack) -> dict[str, np.ndarray]:
    """`times` with the EP all-to-all (`ep_fwd` seconds forward; backward the same, again under full recompute)."""
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
    hidden_pair = smaller(moe.dispatch_overlap_fraction * raw, compute_pair)
    out["ep_paired"] = raw - hidden_pair
    out["compute_paired"] = compute_pair + hidden_pair * ep_sm / (1.0 - ep_sm)
    if moe.dispatch_overlap_fraction > 0.0:
        for phase in ("fwd", "bwd"):
            hidden = smaller(moe.dispatch_overlap_fraction * out[f"ep_{phase}"], out[f"compute_{phase}"])
            out[f"ep_{phase}"] = out[f"ep_{phase}"] - hidden
            out[f"compute_{phase}"] = out[f"compute_{phase}"] + hidden * ep_sm / (1.0 - ep_sm)
    return out


