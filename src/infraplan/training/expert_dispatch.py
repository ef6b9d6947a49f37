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
prices the rest of a layer once per stride-free row (`training.layer_terms.per_layer_terms`) and this on every row.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster.deepep import (
    deepep_node_dedup,
    deepep_own_node_factor,
    deepep_rdma_bytes_per_s,
    ep_domains,
    flex_dispatch_seconds,
)
from infraplan.identity_memo import IdentityMemo
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.ops.moe_routing import FP8_DISPATCH_PAIR_SHARE
from infraplan.scalar_path import is_plain, pick, smaller, to_bool
from infraplan.training.layer_kernels import collective_times as _collective_times
from infraplan.training.shared_expert_side import with_side_stream

# DeepEP's kernels (`ep_domains`, `deepep_node_dedup`, `deepep_own_node_factor`, `deepep_rdma_bytes_per_s`,
# `flex_dispatch_seconds`) live in `cluster.deepep`, shared with serving; re-exported here for their training callers
__all__ = ["DEEPEP_KERNEL_RATE", "deepep_node_dedup", "deepep_own_node_factor", "deepep_rdma_bytes_per_s",
           "ep_domains", "ep_scale_out", "ep_seconds", "flex_dispatch_seconds", "with_ep_comm",
           "with_flex_dispatcher"]


# fp8 dispatch (`MoeRouting.fp8_dispatch`): `ops.moe_routing.FP8_DISPATCH_PAIR_SHARE` (shared with serving)


def with_flex_dispatcher(stack: Stack, accelerator: str) -> Stack:
    """`stack` as Megatron-Bridge runs it on `accelerator`: the recipe's flex backend (`MoeRouting.flex_backend`)
    kept where `apply_flex_dispatcher_backend` applies it (megatron-bridge 0.3.1 training/flex_dispatcher_backend.py
    :47-69: DeepEP on compute capability 8 / 9 and the devices named B200 / B300, HybridEP on 8 / 9 / 10, as the
    stack's accelerator lists say), dropped elsewhere (the recipe's `moe_token_dispatcher_type`, alltoall); where
    it is applied, `shared_expert_overlap` is off (megatron-bridge 0.6.0 flex_dispatcher_backend.py:80, 0.3.1 :69;
    Megatron-Core's flex dispatcher refuses it, transformer_config.py:1090-1095). The same object when nothing
    changes (the one-plan memo is keyed by identity); one copy per stack and accelerator otherwise."""
    moe = stack.moe
    if moe.flex_backend is None:
        return stack
    runs = accelerator in (moe.deepep_accelerators if moe.flex_backend == "deepep" else moe.hybridep_accelerators)
    if runs and not moe.shared_expert_overlap:
        return stack
    kept = _DROPPED.get(stack, accelerator)
    if kept is not None:
        return kept
    change = {"shared_expert_overlap": False} if runs else {"flex_backend": None}
    dropped = stack.model_copy(update={"moe": moe.model_copy(update=change)})
    return _DROPPED.put(stack, accelerator, dropped)


_DROPPED: IdentityMemo[Stack] = IdentityMemo(256)  # (stack, accelerator) -> its copy, by the stack's identity


# round 14: the `dispatcher: deepep` stacks' cross-node all-to-all priced as DeepEP's kernels send
# (`flex_dispatch_seconds`, at `deepep_rdma_bytes_per_s`) instead of NCCL's all-to-all of the deduplicated bytes
# (`deepep_node_dedup` x `deepep_own_node_factor`); inside one scale-up domain NCCL's all-to-all as before
DEEPEP_KERNEL_RATE = True


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
    if moe.shared_expert_overlap:  # Megatron-Core `moe_shared_expert_overlap`: the shared expert's side stream beside
        # the dispatch, routed experts and combine (`training.shared_expert_side`, hD62; session 56: min(all-to-all,
        # shared GEMMs) hidden per phase)
        crosses = ep_scale_out(fabric, records, one) if fabric is not None else 0.0
        with_side_stream(out, full, crosses)
    if moe.dispatch_overlap_fraction > 0.0:
        for phase in ("fwd", "bwd"):
            hidden = smaller(moe.dispatch_overlap_fraction * out[f"ep_{phase}"], out[f"compute_{phase}"])
            out[f"ep_{phase}"] = out[f"ep_{phase}"] - hidden
            out[f"compute_{phase}"] = out[f"compute_{phase}"] + hidden * ep_sm / (1.0 - ep_sm)
    return out
