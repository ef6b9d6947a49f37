"""What a catalog accelerator's kernels reach of its datasheet: the number formats a peak or a fraction is keyed by
(`Dtype`, bytes per element with the block scales' share in `DTYPE_BYTES`), `KernelEfficiency` (the calibration data
every rate of `hardware.kernels`, `serving.decode_kernels` and the collectives reads; each figure's source in the
accelerator file's `efficiency.source`), and the kernel fits it carries per serving stack: measured kernels reduced
to a few constants each (decode attention, plain GEMM waves, absorbed-MLA decode and its BMMs), read by
`hardware.kernels`, `serving.decode_kernels`, `serving.mla_decode` and `serving.mla_absorb`, held per engine family
and dtype in `KernelEfficiency`. Split out of `catalog.schemas` (the fits in session 53, the dtypes and
`KernelEfficiency` in session 58) to keep it under the module cap.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from infraplan.catalog.file_checks import DeviceBytesPerS
from infraplan.catalog.spec_base import Spec

EngineFamily = Literal["trtllm", "vllm", "sglang"]
Fraction = Annotated[float, Field(gt=0, le=1)]
# the fused-attention kernel a training stack runs (`FrameworkRules.attention_kernel`), rated per part in
# `KernelEfficiency.attention_kernel_fraction`: cuDNN's fused attention (Transformer Engine's FusedAttention, PyTorch
# SDPA's cudnn backend), FlashAttention-2 (flash-attn 2.x, PyTorch SDPA's flash backend) or FlashAttention-3
AttentionKernel = Literal["cudnn", "fa2", "fa3"]


class DecodeAttentionFit(Spec):
    """A serving stack's decode-attention op on one accelerator and KV dtype: time per layer of one decode step =
    `fixed_s` + KV bytes read / (`kv_read_fraction` x HBM bandwidth) (fitted to measured kernels;
    `serving.decode_kernels`)."""

    fixed_s: float = Field(ge=0, description="seconds per layer and decode step whatever the cached tokens")
    kv_read_fraction: Fraction = Field(description="KV-cache bytes read per second / datasheet HBM bandwidth")


class PlainGemmWaveFit(Spec):
    """A serving stack's plain GEMMs of one weight dtype: the K loop at `fraction` of the dense peak of the dtype
    its MMA runs in (`serving.decode_kernels.mma_dtype`: the weight dtype's for nvfp4 / fp8 / int8, bf16 for the
    weight-only int4) plus `wave_fixed_s` per wave of tiles (fitted to measured kernels; `hardware.kernels`
    "Per-wave fixed time")."""

    fraction: Fraction = Field(description="the K loop's FLOP/s / the dense peak of the dtype its MMA runs in")
    wave_fixed_s: float = Field(  # (le: 10 x the largest fitted, b300's 2.28 us; hH53)
        ge=0, le=2.28e-5, description="seconds per wave of full tiles besides the K loop")


class MlaDecodeFit(Spec):
    """A serving stack's absorbed-MLA decode kernel on one accelerator and latent-cache dtype: time per layer of one
    decode step = `fixed_s` + `query_head_s` x decode queries x local heads + max(latent bytes read /
    (`kv_read_fraction` x HBM bandwidth), score and value FLOPs / `flops_per_s`) (fitted to measured kernels;
    `serving.mla_decode`)."""

    fixed_s: float = Field(ge=0, description="seconds per layer and decode step whatever the batch and context")
    query_head_s: float = Field(ge=0, description="seconds per (decode query, local head) and layer")
    kv_read_fraction: Fraction = Field(description="latent-cache bytes read per second / datasheet HBM bandwidth")
    flops_per_s: float = Field(gt=0, description="score and value FLOPs per second where they bind")


class MlaBmmFit(Spec):
    """A serving stack's absorbed-MLA batched GEMM (W_UK into the query, or W_UV after the attention) on one
    accelerator and weight dtype, as its decode phase runs it: time of one such BMM per layer = `fixed_s` +
    `head_s` x local heads + `token_head_s` x decode tokens x local heads (fitted to measured kernels;
    `serving.mla_absorb`)."""

    fixed_s: float = Field(ge=0, description="seconds per BMM and layer whatever the heads and tokens")
    head_s: float = Field(ge=0, description="seconds per local head, BMM and layer")
    token_head_s: float = Field(ge=0, description="seconds per (decode token, local head), BMM and layer")


# mxfp8 / mxfp4 (OCP microscaling, 32-element blocks with an 8-bit scale) and nvfp4 (16-element blocks, fp8
# scale): catalog peaks only; which GEMMs run in them is precision physics, not the catalog
Dtype = Literal["fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4", "fp4", "mxfp8", "nvfp4", "mxfp4"]
DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0, "tf32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5, "fp4": 0.5,
    "mxfp8": 1.0 + 1.0 / 32, "nvfp4": 0.5 + 1.0 / 16, "mxfp4": 0.5 + 1.0 / 32,  # element + its share of the scale
}


class KernelEfficiency(Spec):
    """How close real kernels come to the datasheet on this accelerator (the calibration data).

    GEMM time = max(FLOPs / (peak * matmul_max_fraction), bytes / (bandwidth * memory_bandwidth_fraction))
    after padding M and N to the tile and counting waves over `compute_units`, plus `kernel_overhead_s`.
    `matmul_max_fraction` is the measured maximum achievable matmul rate (MAMF) over peak for large
    square GEMMs; small or skinny GEMMs fall below it through the overhead, tiling and roofline terms.
    """

    matmul_max_fraction: dict[Dtype, Fraction] = Field(min_length=1)  # empty: no GEMM rate at all (refused)
    weight_only_matmul_fraction: Fraction | None = Field(
        None, description="weight-only (W4A16 mixed-input) GEMM rate / dense bf16 peak; None: the bf16 fraction")
    fp8_block_grouped_depth: float | None = Field(
        None, ge=0, description="block-scaled (128x128) fp8 grouped expert GEMM: the per-output-tile cost as K-depth "
        "elements, a GEMM of depth K running at the fp8 rate x K / (K + this) (`serving.routed_experts`); None: 0")
    fp8_block_matmul_ratio: Fraction | None = Field(
        None, description="block-scaled (1x128 / 128x128) fp8 GEMM rate / per-tensor fp8 rate, where the block "
        "scales are applied in the GEMM's main loop (Hopper); training's blockwise recipe (`ops.precision`); None: 1")
    w4a16_mxfp4_moe_fixed_s: float | None = Field(
        None, ge=0, description="weight-only (W4A16) MXFP4 fused MoE: fixed seconds per routed layer beyond the "
        "modelled launches, independent of EP (TensorRT-LLM on Hopper, measured; `serving.routed_experts`); None: 0")
    w4a16_mxfp4_moe_token_s: float | None = Field(
        None, ge=0, description="weight-only (W4A16) MXFP4 fused MoE: seconds per token of the layer's input, "
        "independent of EP, beyond the modelled routing traffic (`serving.routed_experts`); None: 0")
    attention_max_fraction: Fraction = Field(description="fused attention kernel rate / dense bf16 peak")
    attention_kernel_fraction: dict[AttentionKernel, Fraction] | None = Field(None, description="a named kernel's "
        "rate / bf16 peak, for a stack that names it (`FrameworkRules.attention_kernel`); absent: the fraction above")
    attention_exp_per_s: float | None = Field(
        None, gt=0, description="softmax exponentials per second of the special-function units (MUFU ex2), which "
        "fused attention adds per score to its tensor-core time (`hardware.kernels.exp_seconds`: the rate by head "
        "dimension); None: one attention rate for every head dimension")
    fp8_kv_context_attention_ratio: float | None = Field(
        None, ge=1, description="prefill (context) attention rate over an fp8 KV cache / the fused-attention rate, "
        "where the serving stack runs an FP8 context FMHA (`fp8_kv_context_fmha`; measured, "
        "`serving.kv_cache.context_fmha_speedup`); None: 1")
    memory_bandwidth_fraction: Fraction
    weight_read_fraction: dict[EngineFamily, dict[Dtype, Fraction]] | None = Field(
        None, description="memory-bound (small-M) GEMM bytes/s / datasheet HBM bandwidth, per serving engine family "
        "and weight dtype, measured (`hardware.kernels.weight_read_rates`); None: memory_bandwidth_fraction")
    decode_attention: dict[EngineFamily, dict[Literal["bf16", "fp8"], DecodeAttentionFit]] | None = Field(
        None, description="decode attention per serving engine family and KV dtype, measured "
        "(`serving.decode_kernels`); None or absent: one kernel launch + KV bytes at memory_bandwidth_fraction")
    plain_gemm_wave: dict[EngineFamily, dict[Dtype, PlainGemmWaveFit]] | None = Field(
        None, description="plain GEMMs' K-loop fraction and fixed s per wave per serving engine family and weight "
        "dtype, measured (`hardware.kernels.WAVE_FIXED`, `serving.decode_kernels.gemm_rates`); None: whole waves")
    mla_decode_attention: dict[EngineFamily, dict[Literal["bf16", "fp8"], MlaDecodeFit]] | None = Field(
        None, description="absorbed-MLA decode attention per serving engine family and latent-cache dtype, measured "
        "(`serving.mla_decode`); None or absent: one kernel launch + max(bytes, FLOPs) at the roofline rates")
    mla_absorb_bmm: dict[EngineFamily, dict[Literal["bf16", "fp8"], MlaBmmFit]] | None = Field(
        None, description="absorbed-MLA W_UK / W_UV batched GEMMs of the decode phase per serving engine family and "
        "weight dtype, measured (`serving.mla_absorb`); None or absent: the grouped-GEMM roofline")
    compute_units: int = Field(gt=0, description="SMs / cores / PEs that GEMM tiles are spread over")
    matmul_tile_m: int = Field(128, gt=0)
    matmul_tile_n: int = Field(128, gt=0)
    matmul_stream_k: bool = Field(False, description="plain GEMMs balance their tiles' K over the SMs (stream-K, "
                                  "`hardware.kernels`); False: whole waves of full-K tiles (every preset so far)")
    kernel_overhead_s: float = Field(ge=0, description="fixed cost per kernel: launch, prologue, tail")
    scale_up_collective_efficiency: Fraction = Field(
        description="measured collective bus bandwidth / scale-up line rate (NCCL busbw convention)")
    nvls_all_reduce_bus_bytes_per_s: DeviceBytesPerS | None = Field(
        None, description="NCCL NVLS (NVLink SHARP) all-reduce busbw, large messages, measured on the 8 GPUs of one "
        "NVSwitch board (`network.fabric.NVLS_MEASURED_RANKS`); None: no sourced figure, NVLS not priced")
    nvls_all_reduce_enabled: bool = Field(
        False, description="price NCCL's NVLS all-reduce from `nvls_all_reduce_bus_bytes_per_s` "
        "(`network.nvlink_all_reduce`); set on the accelerators with the figure (h100-sxm, h200, h800), as NCCL "
        "enables NVLS by default")
    source: str
