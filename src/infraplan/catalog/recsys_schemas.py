"""DLRM-family recommendation models and per-device memory profiles, as validated catalog data.

A model (Naumov et al., *Deep Learning Recommendation Model for Personalization and Recommendation
Systems*, arXiv:1906.00091) is:

    dense features --bottom MLP--> one vector ┐
    sparse features --embedding bags (sum-pooled lookups)--> one vector per table ├--interaction--> top MLP --> CTR

The interaction is the DLRM pairwise dot product, a DCN-v2 cross network (Wang et al., *DCN V2*,
arXiv:2008.13535: x_{l+1} = x0 * (U (V^T x_l) + b) + x_l with low-rank U, V), or a plain concatenation.
Per-sample FLOPs are the forward GEMM FLOPs (2 x multiply-accumulates); embedding bytes are the rows
read by the pooled lookups (row bytes = dim x dtype + the per-row quantisation header, 8 bytes of fp32
scale and bias for FBGEMM's row-wise int8/int4 tables).

A `RecsysProfile` holds what the accelerator catalog does not: how much of each memory tier a serving
runtime leaves for tables and weights, how efficiently random row gathers use each tier, the host DRAM
behind the host link and the vector (non-GEMM) rate (the host's power share is the device's one,
`cluster.host_share`, as in every command). Sources are in the files.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from infraplan.catalog.file_checks import Bytes, BytesPerS
from infraplan.catalog.kernel_fits import DTYPE_BYTES, Dtype
from infraplan.catalog.schemas import Fraction, Spec
from infraplan.units import parse_count

Count = Annotated[float, BeforeValidator(parse_count), Field(gt=0)]
Width = Annotated[int, Field(gt=0)]  # an MLP layer's output width (a 0 was a zero-FLOP layer cutting the net, hU50)
TierName = Literal["sram", "device", "host"]
# DCN-v2's x_{l+1} = x0 * (U V^T x_l + b) + x_l beyond its GEMMs: the bias add, the product with x0 and the
# residual add, 3 FLOPs per element and layer. Wang et al. 2021 (arXiv:2008.13535) eq. 1; TorchRec 1.9.2, the
# DLRM_DCN the MLPerf DLRM-v2 reference builds (torchrec/models/dlrm.py:881), runs the cross GEMMs without a bias
# (torchrec/modules/crossnet.py:179-180, `linear(x, V)`, `linear(., W)`) and all three in the pointwise expression
# `x_0 * (x_l_w + self.bias[layer]) + x_l` (:181). Not 2: no GEMM here prices the bias add (`gemm_time`: 2 m n k).
DCN_POINTWISE_FLOPS_PER_ELEMENT = 3.0


class TableGroup(Spec):
    """`count` embedding tables of the same shape."""

    count: int = Field(1, gt=0)
    rows: Count
    dim: int = Field(gt=0)
    pooling: float = Field(ge=0, description="mean lookups per sample per table (multi-hot size)")


class Interaction(Spec):
    kind: Literal["dot", "dcn", "concat"]
    layers: int = Field(0, ge=0, description="DCN cross layers")
    rank: int = Field(0, ge=0, description="DCN low rank (0 = full-rank cross layer)")

    @model_validator(mode="after")
    def _cross_keys_need_dcn(self) -> Interaction:
        """`layers` and `rank` shape DCN cross layers; a dot or concat interaction has none, so the keys would be
        read by nothing (hH66: `{kind: dot, layers: 5, rank: 64}` answered as `{kind: dot}`, without a word)."""
        given = [f"{key}: {value}" for key, value in (("layers", self.layers), ("rank", self.rank)) if value]
        if self.kind != "dcn" and given:
            raise ValueError(f"{', '.join(given)} shape DCN cross layers; a {self.kind} interaction has none: drop "
                             "them, or give kind: dcn")
        return self


class RecsysModel(Spec):
    """A DLRM-family model: tables, MLPs, interaction, dtypes and the batch it is served at by default."""

    name: str
    display_name: str
    source: str
    dense_features: int = Field(ge=0)
    tables: list[TableGroup] = Field(min_length=1)
    embedding_dtype: Dtype
    row_overhead_bytes: float = Field(0.0, ge=0, description="per-row quantisation header (scale, bias)")
    bottom_mlp: list[Width] = Field(min_length=1, description="output widths; the input is dense_features")
    interaction: Interaction
    top_mlp: list[Width] = Field(min_length=1, description="output widths; the input is the interaction output")
    dtype: Dtype = Field(description="dtype of the dense (GEMM) part")
    interaction_dtype: Dtype | None = Field(
        None, description="dtype of the DCN cross-network GEMMs where it differs from `dtype` (e.g. fp16 cross "
                          "layers with int8 MLPs); None: `dtype`")
    index_bytes: int = Field(4, gt=0, description="bytes per sparse index sent over the host link")
    default_batch: int = Field(gt=0)
    notes: str = ""

    @model_validator(mode="after")
    def _dims_agree(self) -> RecsysModel:
        if self.interaction.kind == "dot":
            bad = sorted({t.dim for t in self.tables if t.dim != self.bottom_mlp[-1]})
            if bad:
                raise ValueError(f"dot interaction needs every table dim = bottom MLP output {self.bottom_mlp[-1]}, "
                                 f"got {bad}")
        if self.interaction.kind == "dcn" and self.interaction.layers == 0:
            raise ValueError("dcn interaction needs layers > 0")
        if self.interaction.kind != "dcn" and self.interaction_dtype is not None:  # read by nothing there (hH66)
            raise ValueError(f"interaction_dtype {self.interaction_dtype} is the dtype of DCN cross-layer GEMMs; a "
                             f"{self.interaction.kind} interaction has none (its work runs in `dtype`, "
                             f"{self.dtype}): drop it, or give interaction kind: dcn")
        return self

    # --- shape accounting ------------------------------------------------------------------------------
    @property
    def num_tables(self) -> int:
        return sum(t.count for t in self.tables)

    @property
    def row_bytes(self) -> list[float]:
        return [t.dim * DTYPE_BYTES[self.embedding_dtype] + self.row_overhead_bytes for t in self.tables]

    def table_bytes(self) -> list[float]:
        """Bytes of each table group (all `count` tables of it)."""
        return [t.count * t.rows * rb for t, rb in zip(self.tables, self.row_bytes, strict=True)]

    def embedding_bytes(self) -> float:
        return float(sum(self.table_bytes()))

    def lookups_per_sample(self) -> float:
        return float(sum(t.count * t.pooling for t in self.tables))

    def embedding_bytes_per_sample(self) -> list[float]:
        """Row bytes read per sample by each table group's pooled lookups."""
        return [t.count * t.pooling * rb for t, rb in zip(self.tables, self.row_bytes, strict=True)]

    def interaction_width(self) -> int:
        """Width of the vector the interaction hands to the top MLP."""
        vectors = self.num_tables + 1
        if self.interaction.kind == "dot":
            return vectors * (vectors - 1) // 2 + self.bottom_mlp[-1]
        return self.bottom_mlp[-1] + sum(t.count * t.dim for t in self.tables)

    def gemms(self) -> list[tuple[str, int, int]]:
        """(part, in, out) of every weight GEMM per sample: bottom MLP, DCN cross layers, top MLP."""
        out: list[tuple[str, int, int]] = []
        width = self.dense_features
        for w in self.bottom_mlp:
            out.append(("bottom_mlp", width, w))
            width = w
        if self.interaction.kind == "dcn":
            d, r = self.interaction_width(), self.interaction.rank
            for _ in range(self.interaction.layers):
                out.extend([("interaction", d, r), ("interaction", r, d)] if r else [("interaction", d, d)])
        width = self.interaction_width()
        for w in self.top_mlp:
            out.append(("top_mlp", width, w))
            width = w
        return out

    def gemm_dtype(self, part: str) -> str:
        """The dtype a weight GEMM of `part` (bottom_mlp, interaction, top_mlp) runs in."""
        return self.interaction_dtype if part == "interaction" and self.interaction_dtype else self.dtype

    def dense_params(self) -> int:
        return sum(k * n + n for _, k, n in self.gemms())

    def dense_bytes(self) -> float:
        return float(sum((k * n + n) * DTYPE_BYTES[self.gemm_dtype(part)] for part, k, n in self.gemms()))

    def dot_interaction_flops(self) -> float:
        """Pairwise dot products: a (F x d) @ (d x F) product per sample."""
        if self.interaction.kind != "dot":
            return 0.0
        vectors = self.num_tables + 1
        return 2.0 * vectors * vectors * self.bottom_mlp[-1]

    def gemm_flops_per_sample(self) -> float:
        return 2.0 * sum(k * n for _, k, n in self.gemms()) + self.dot_interaction_flops()

    def vector_flops_per_sample(self) -> float:
        """Element-wise work: pooling adds, activations, DCN gate/residual (`DCN_POINTWISE_FLOPS_PER_ELEMENT` per
        element per layer)."""
        pooling = sum(t.count * t.pooling * t.dim for t in self.tables)
        activations = sum(self.bottom_mlp) + sum(self.top_mlp)
        dcn = (DCN_POINTWISE_FLOPS_PER_ELEMENT * self.interaction_width() * self.interaction.layers
               if self.interaction.kind == "dcn" else 0.0)
        return float(pooling + activations + dcn)

    def flops_per_sample(self) -> float:
        return self.gemm_flops_per_sample() + self.vector_flops_per_sample()

    def host_input_bytes_per_sample(self) -> float:
        """Request bytes over the host link: dense features (fp32), sparse indices and offsets, one fp32 score out."""
        return 4.0 * self.dense_features + self.index_bytes * (self.lookups_per_sample() + self.num_tables) + 4.0


class MemoryTierProfile(Spec):
    """One memory tier as a recommendation server uses it.

    Capacity and bandwidth default to the accelerator catalog (sram_*; memory_*; host: the host link
    bandwidth) unless given here. `usable_fraction` is what the runtime leaves for tables and weights.
    """

    name: TierName
    label: str
    usable_fraction: Fraction = 1.0
    random_access_efficiency: Fraction = Field(description="achieved / peak bandwidth for pooled row gathers")
    streaming_efficiency: Fraction | None = Field(None, description="for weights; default: catalog memory fraction")
    capacity_bytes: Bytes | None = None
    bandwidth_bytes_per_s: BytesPerS | None = None

    @model_validator(mode="after")
    def _host_capacity(self) -> MemoryTierProfile:
        """The accelerator catalog gives no host DRAM size, so a host tier without `capacity_bytes` held nothing and
        was dropped without a word (`recsys.embedding.resolve_tiers`; hH66): tables that spill then read "does not
        fit", the host tier unlisted."""
        if self.name == "host" and self.capacity_bytes is None:
            raise ValueError("a host tier needs capacity_bytes (the host DRAM its tables may spill to, e.g. 256GB): "
                             "the accelerator catalog gives none")
        return self


class RecsysProfile(Spec):
    """How one accelerator serves recommendation models (beyond its catalog entry)."""

    accelerator: str
    source: str
    tiers: list[MemoryTierProfile] = Field(min_length=1)
    vector_flops_per_s: float | None = Field(
        None, gt=0, description="non-GEMM (SIMD/vector/CUDA-core) rate; none: the catalog fp32 peak, else 1/16 "
                    "of the GEMM peak, stated in the answer (`recsys.estimate.vector_rate`)")
    host_link_efficiency: Fraction = Field(0.8, description="achieved / line rate for request transfers")

    @model_validator(mode="after")
    def _tiers_ordered(self) -> RecsysProfile:
        order = ["sram", "device", "host"]
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names) or names != sorted(names, key=order.index):
            raise ValueError(f"tiers must be distinct and ordered sram, device, host; got {names}")
        return self
