"""The records of a layer's operation table (`ops.layer.layer_ops`): the layout one layer runs under and what one
GPU runs for it.

* `Layout`: tokens per GPU and the parallel layout (TP, EP outside and inside TP, expert TP and MoE parallel
  folding, CP, sequence parallelism, rank strides), the low-precision cast bytes (`ops.precision`) and the expert
  load factor, per configuration (arrays broadcast).
* `Gemm`: `count` (m x k) @ (k x n) GEMMs, 2 m n k FLOPs each; `grouped` (MoE experts) one grouped-GEMM kernel.
* `AttentionCore`: Q K^T and P V, 4 T s (heads) d FLOPs forward, half the pairs when causal.
* `Elementwise`: memory-bound passes (bytes, kernel launches); `Collective`: kind, bytes per rank (the gathered
  size for all-gather), group and rank stride, count.
* `LayerOps`: one layer's table, and its kernel counts for the host issue time (`training.host_time`,
  `serving.host_overhead`).
Frozen dataclasses with a fast `__init__` (`scalar_path.fast_frozen_init`: a single estimate builds thousands).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from infraplan.scalar_path import fast_frozen_init, is_plain, pick, to_float

__all__ = ["ArrayLike", "AttentionCore", "Collective", "CollectiveKind", "Elementwise", "Gemm", "LayerOps", "Layout",
           "Phase", "collective_launches"]

ArrayLike = np.ndarray | float | int
Phase = Literal["training", "inference"]
CollectiveKind = Literal["all_gather", "reduce_scatter", "all_reduce", "all_to_all"]


@fast_frozen_init
@dataclass(frozen=True)
class Layout:
    """The parallel layout one layer runs under (arrays broadcast: one element per configuration)."""

    tokens: ArrayLike  # M: tokens through the layer on one GPU
    tp: ArrayLike = 1
    ep: ArrayLike = 1  # expert-parallel degree outside the TP group (training: inner factor of DP)
    ep_inside_tp: int = 1  # expert-parallel degree inside the TP group (serving)
    etp: ArrayLike | None = None  # ranks each expert is split over (None: TP, the unfolded layout)
    folded: ArrayLike = False  # MoE parallel folding: the EP x ETP group laid over the stage's TP x CP x DP ranks
    # Megatron-Core's all-to-all dispatcher gathers the routed copies over expert TP whenever ETP > 1, folded or
    # not (`ops.layer.ROUTED_GATHER_AT_EXPERT_TP`; training/layer_time sets it for megatron stacks on alltoall)
    routed_gather_at_expert_tp: ArrayLike = False
    cp: ArrayLike = 1
    sequence_parallel: ArrayLike = False
    seq_len: ArrayLike = 0  # keys each query attends to (the whole sequence)
    batch: ArrayLike = 1  # sequences in the micro-batch
    ep_stride: ArrayLike = 1  # rank distance between EP peers
    fp8_casts: ArrayLike = False  # low-precision casts of GEMM inputs and output gradients (fp8, mxfp8, nvfp4)
    cast_bytes: ArrayLike = 4.0  # bytes moved per cast element (`ops.precision`; fp8: read 2, write 1 + 1)
    # casts on the sequence shard, bytes per element (`ops.precision.shard_cast_terms`): an output gradient's and a
    # norm-produced input's amax reads, a transposed copy built after TP's all-gather
    amax_bytes: ArrayLike = 0.0
    norm_amax_bytes: ArrayLike = 0.0
    gathered_transpose_bytes: ArrayLike = 0.0
    expert_load_factor: ArrayLike = 1.0  # tokens of the busiest EP rank / mean (imbalance or capacity factor)
    moe_dispatcher: str = "alltoall"  # whose permute passes run: alltoall, deepep, hybridep (`ops.moe_routing`)
    quantization_padding: bool = False  # TEGroupedMLP pads / unpads quantised expert rows (`ops.moe_routing`)
    fused_grouped_mlp: ArrayLike = False  # MXFP8 experts' SwiGLU + casts in TE's fused grouped-MLP epilogues
    qkv_split_copies: bool = False  # Megatron-Core's GQA query copy / QKV-gradient cat (`ops.qk_norm`)
    unfused_elementwise: tuple[str, ...] = ()  # what the stack's eager model code runs unfused (`ops.eager_passes`)
    phase: Phase = "training"
    # Megatron-Core `moe_shared_expert_overlap` (training): the shared expert's T x h pair is Megatron's own bf16
    # gather / scatter on a side stream, its TE linears without SP (`ops.layer.SHARED_OVERLAP_MEGATRON_GATHERS`)
    shared_expert_overlap: bool = False


@fast_frozen_init
@dataclass(frozen=True)
class Gemm:
    """`count` GEMMs (m x k) @ (k x n); `grouped`: one grouped-GEMM kernel runs all of them (MoE experts),
    in `share` of the layers (a layer kind's share of the model: the kernel's time is not linear in count)."""

    role: str
    m: ArrayLike
    n: ArrayLike
    k: ArrayLike
    count: ArrayLike = 1.0
    grouped: bool = False
    share: ArrayLike = 1.0

    def flops(self) -> np.ndarray:
        return to_float(2.0 * self.m * self.n * self.k * self.count * self.share)  # type: ignore[no-any-return]

    def kernels(self) -> np.ndarray:
        """Kernel launches: one per GEMM, one per grouped GEMM."""
        launches = (1.0 if self.grouped else self.count) * self.share
        return launches if type(launches) is float else to_float(launches)  # type: ignore[return-value]


@fast_frozen_init
@dataclass(frozen=True)
class AttentionCore:
    """Scores, softmax and values of one layer on one GPU."""

    query_tokens: ArrayLike
    keys: ArrayLike
    heads: ArrayLike  # local heads (heads / TP)
    head_dim: float  # mean of the query/key and value widths (MLA: (nope + rope + v) / 2)
    batch: ArrayLike
    causal: bool = True

    def flops(self) -> np.ndarray:
        """Q K^T and P V FLOPs forward (half the pairs when causal)."""
        full = 4.0 * self.query_tokens * self.keys * self.heads * self.head_dim
        return np.asarray(full * (0.5 if self.causal else 1.0), dtype=np.float64)


@fast_frozen_init
@dataclass(frozen=True)
class Elementwise:
    """Memory-bound passes moving `bytes` in `kernels` launches, where `mask` holds."""

    role: str
    bytes: ArrayLike
    kernels: float
    mask: ArrayLike = True


@fast_frozen_init
@dataclass(frozen=True)
class Collective:
    """`count` collectives of `bytes` (per rank; the gathered size for all-gather) over `group` ranks."""

    kind: CollectiveKind
    role: str  # "tp", "cp", "ep"
    bytes: ArrayLike
    group: ArrayLike
    stride: ArrayLike
    count: float = 1.0
    mask: ArrayLike = True
    # an SP all-gather of a TE GEMM's input beyond the T x h pair (`training.tp_quantised_collectives`)
    te_gather: bool = False
    # the share of `count` Megatron-Core issues itself, outside TE's linears (its tensor_parallel mappings, the MoE
    # dispatcher's calls): no TE userbuffers run it (`training.tp_overlap.outside_userbuffer_seconds`); on MLA's one
    # latent record the rope key's byte share (`ops.mla_gemms.mla_sp_collectives`)
    outside_te: float = 0.0

    def launches(self) -> np.ndarray:
        """Collective kernels launched (none for a group of one)."""
        return np.where(np.asarray(self.mask) & (np.asarray(self.group) > 1), self.count, 0.0)


def collective_launches(records: tuple[Collective, ...] | list[Collective], plain: bool) -> Any:
    """Collective kernels `records` launch (`Collective.launches` summed): `plain`, one plan's Python numbers
    (each record's count where its mask holds and its group is above one, summed from 0.0 in order); else arrays,
    summed from a 0-d zero. The host time of a layer's table, of the end stages' (`training.head_time`) and of the
    LoRA adapters' (`training.adapter_host`) count them so."""
    if plain:  # (summed from 0.0 in order as `sum` adds floats, without a generator resumed per record)
        total = 0.0
        for c in records:
            total = total + (c.count if c.mask and c.group > 1 else 0.0)
        return total
    return sum((c.launches() for c in records), np.zeros(()))


@fast_frozen_init
@dataclass(frozen=True)
class LayerOps:
    """What one GPU runs for one layer: forward GEMMs (backward = data + weight gradient of each)."""

    gemms: tuple[Gemm, ...]
    attention: AttentionCore
    elementwise_fwd: tuple[Elementwise, ...]
    elementwise_bwd: tuple[Elementwise, ...]
    collectives_fwd: tuple[Collective, ...]
    collectives_bwd: tuple[Collective, ...]

    def gemm_flops(self) -> np.ndarray:
        """Forward GEMM FLOPs of the layer."""
        return np.asarray(sum(g.flops() for g in self.gemms), dtype=np.float64)

    def gemm_kernels(self) -> np.ndarray:
        kept = self.__dict__.get("_gemm_kernels")  # (a frozen table: counted once, its value asked 2-3 times; hP2)
        if kept is not None:
            return kept  # type: ignore[no-any-return]
        total: Any = 0  # (`sum`'s int start and order, without a generator: one plan's float as it is)
        for g in self.gemms:
            total = total + g.kernels()
        total = total if type(total) is float else to_float(total)
        self.__dict__["_gemm_kernels"] = total
        return total  # type: ignore[no-any-return]

    def collective_launches_fwd(self, plain: bool) -> Any:
        """Collective kernels of the forward (`Collective.launches`); `plain`: one plan's Python numbers (counted
        once per table: its host time asks twice)."""
        kept = self.__dict__.get("_launches_fwd")
        if kept is not None and kept[0] is plain:
            return kept[1]
        total = collective_launches(self.collectives_fwd, plain)
        self.__dict__["_launches_fwd"] = (plain, total)
        return total

    def elementwise_kernels(self, passes: tuple[Elementwise, ...], plain: bool) -> Any:
        """Kernels of the element-wise `passes` that run (their mask)."""
        if plain:  # one plan: `pick`'s choice of each plain mask without its call, summed from 0.0 in order (hP9)
            total: Any = 0.0
            for e in passes:
                mask = e.mask
                total = total + ((e.kernels if mask else 0.0) if type(mask) is bool else pick(mask, e.kernels, 0.0))
            return total
        return sum((pick(e.mask, e.kernels, 0.0) for e in passes), np.zeros(()))

    def forward_kernels(self, attention: Any) -> Any:
        """Kernels and collectives the host launches for one forward of the layer: its GEMMs (one per grouped
        GEMM), `attention` kernels for the attention core, the element-wise passes and the collectives; Python
        numbers when `attention` is one (the one-plan path), arrays otherwise. Training and serving count eager
        host issue time with it (`training.host_time.kernel_counts`, `serving.host_overhead`)."""
        plain = is_plain(attention)
        return (self.gemm_kernels() + attention + self.elementwise_kernels(self.elementwise_fwd, plain)
                + self.collective_launches_fwd(plain))
