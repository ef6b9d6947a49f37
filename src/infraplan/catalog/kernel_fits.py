"""Kernel fits a catalog accelerator carries per serving stack: measured kernels reduced to a few constants each
(decode attention, plain GEMM waves, absorbed-MLA decode and its BMMs), read by `hardware.kernels`,
`serving.decode_kernels`, `serving.mla_decode` and `serving.mla_absorb`; `schemas.KernelEfficiency` holds them per
engine family and dtype. Split out of `catalog.schemas` (session 53) to keep it under the module cap.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

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
