"""The GEMM rate and operand widths each serving format (`serve --dtype`) runs at on an accelerator under an engine.

Precision (`dtype`): bf16; fp8 (W8A8 at the fp8 peak, e.g. TensorRT-LLM/vLLM fp8); int8 (W8A8 priced as fp8,
SmoothQuant); int4 (weight-only W4A16, AWQ/GPTQ/MXFP4 weights with bf16 activations: weights read at 0.5 B, GEMMs at the
accelerator's weight-only rate `weight_only_matmul_fraction` x bf16 peak where its catalog gives one, else at the bf16
rate; `WEIGHT_ONLY_RATE`). The mixed-input kernels convert the 4-bit weights to bf16 in registers: Marlin / Marlin-MoE
(Frantar et al. 2024, arXiv:2408.11743; vLLM's W4A16 kernels) use the Ampere `mma.sync`, which on Hopper reaches about
2/3 of the peak that only `wgmma` attains (FlashAttention-3, Shah et al. 2024, arXiv:2407.08608, sec. 1-2): H100 / H200
/ H800 carry 0.47 = 2/3 x their bf16 0.70. ASSUMPTION: the same ceiling for the Triton MXFP4 MoE kernels of GPT-OSS on
Hopper. Prefill only: decode stays bound by the 4-bit weight reads. ISL-8192 TTFT median: Kimi K2 INT4 (vLLM) -19 % ->
-1 %, GPT-OSS -36 % -> -27 %. Blackwell's Marlin keeps `mma.sync` under a `tcgen05` peak: 0.22-0.26 (H200's 0.47 x
AIConfigurator's Marlin MoE tables, validation/calibration/aic_marlin_int4_moe.py); nvfp4 (W4A4 as TensorRT-LLM/ModelOpt
serve DeepSeek-R1-FP4: e2m1 weights and activations in 16-element blocks with e4m3 scales, 0.5625 B per element, at the
fp4 rate, `ops.precision`); mxfp4 (OCP MX weights, 0.53125 B, with mxfp8 activations, as GPT-OSS is served on Blackwell:
a mixed fp4 x fp8 tensor-core MMA runs at the fp8 rate, PTX ISA tcgen05.mma kind::f8f6f4; MTIA's mxfp8 one,
`eight_bit_rate`). nvfp4 only on accelerators with the format in their catalog; mxfp4 on one without it (Hopper) runs
weight-only as int4 does, its weights read at 0.53125 B (4.25 bits: the e8m0 scale per 32) and its GEMMs at the
weight-only rate (`serving.deployment.mxfp4_weight_only`; vLLM's MXFP4 MoE; not its sm_100 `tcgen05` MXFP4 x BF16:
`trtllm_gen_moe.bf16_input_gemm`); mxfp8 (W8A8 MXFP8: weights and activations at 1.03125 B, e4m3 with an e8m0 scale per
32, at the mxfp8 peak and fraction, else fp8's; weights read at the engine's fp8 small-M rate; `ops.precision` "Serving
formats"). A checkpoint quantising some GEMM kinds only (GPT-OSS MXFP4, Kimi K2.5 INT4: the routed experts;
`ops.precision.weight_scope`) runs every other GEMM (attention, MLA BMMs, router, shared experts, dense layers) at bf16;
the routed experts' kernel terms take their weights' format. The LM head: bf16, or the run's format where the checkpoint
stores it so (GPTQ / AWQ `lm_head: true`, `ops.precision.head_dtype`). KV: bf16, fp8 or int8.

Release GEMM rates (`RELEASE_MATMUL_RATE`, `_matmul_fraction`; adopted hT52): a serving stack profile may carry its
release's measured GEMM fraction of peak per accelerator and dtype (`matmul_fraction`: AIConfigurator 0.7.0's gemm_perf
tables of TensorRT-LLM 1.0.0rc3, fp8 0.50 / bf16 0.85, SGLang 0.5.6.post2 / 0.5.8.post1, hD53, vLLM 0.12.0, hA54) in
place of the accelerator's for the plain GEMMs and the LM head; grouped experts and a block-fp8 checkpoint's fp8 GEMMs
(`serving.release_tables`) keep theirs. A prefill then adds 1.07 P over a decode step to a TensorRT-LLM window (notes,
hT52; dense 20.90 -> 20.05 %). An fp8 table times the GEMM with its input's eager cast (a cost in M x K): the figure is
the GEMM's alone where the engine fuses the cast (vLLM, 0.82 / 0.705 H200 / H100) or runs it apart (SGLang, hT54);
TensorRT-LLM 1.0.0rc3's stays whole (net: `release_stacks.TRTLLM_GEMM_NET_OF_QUANT`, off). vLLM's bf16 0.93: round 10.
"""

from __future__ import annotations

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.schemas import Accelerator
from infraplan.ops.precision import RECIPES
from infraplan.serving import decode_kernels, release_tables
from infraplan.serving.deployment import mxfp4_weight_only
from infraplan.serving.engines import serving_profile
from infraplan.serving.kv_cache import ACT_BYTES
from infraplan.serving.layer_work import GemmPrecision

WEIGHT_ONLY_RATE = True  # int4 GEMMs at the catalog's weight-only rate (module docstring; toggle to compare)
RELEASE_MATMUL_RATE = True  # a stack release's measured GEMM fraction of peak (`matmul_fraction`; docstring)


def _matmul_fraction(accelerator: Accelerator, dtype: str, stack: str | None, block_fp8: bool = False) -> float:
    """The accelerator's GEMM fraction of peak for `dtype`, or the stack release's measured one for this accelerator
    (`matmul_fraction` in its YAML, per-tensor fp8: not a `block_fp8` checkpoint's; docstring, "Release GEMM rates")."""
    profile = serving_profile(stack) if RELEASE_MATMUL_RATE and stack and not (block_fp8 and dtype == "fp8") else None
    fractions = profile.matmul_fraction.get(release_tables.kernel_key(accelerator), {}) if profile is not None else {}
    return fractions.get(dtype, accelerator.matmul_fraction(dtype))  # type: ignore[call-overload]


def serving_precision(accelerator: Accelerator, dtype: str, stack: str | None = None, stored: float = 0.0,
                      engine: str = "trtllm", block_fp8: bool = False) -> GemmPrecision:
    """The GEMM rate and operand widths a serving `dtype` runs at on `accelerator` under `engine` (`stack`: its
    release's measured GEMM fraction, not a `block_fp8` checkpoint's; `stored`: its weight bytes per parameter)."""
    if dtype == "nvfp4":  # W4A4 at the fp4 rate (module docstring)
        nv = DTYPE_BYTES["nvfp4"]
        return GemmPrecision(RECIPES["nvfp4"].gemm_flops_per_s(accelerator), nv, nv)
    if dtype == "mxfp4" and (mma := decode_kernels.mma_dtype(accelerator, dtype, engine)) != "bf16":  # x 8-bit
        return GemmPrecision(RECIPES[mma].gemm_flops_per_s(accelerator), DTYPE_BYTES["mxfp4"],
                          DTYPE_BYTES["mxfp8"])
    if dtype == "mxfp8":  # W8A8 MXFP8: weights and activations 1 B + an e8m0 scale per 32 (`ops.precision`)
        mx = DTYPE_BYTES["mxfp8"]
        return GemmPrecision(RECIPES["mxfp8"].gemm_flops_per_s(accelerator), mx, mx)
    if dtype in ("fp8", "int8"):
        return GemmPrecision(accelerator.peak(dtype) * _matmul_fraction(accelerator, dtype, stack, block_fp8), 1.0, 1.0,
                          accelerator.peak(dtype) * accelerator.matmul_fraction(dtype))
    rate = grouped = accelerator.peak("bf16") * accelerator.matmul_fraction("bf16")
    weight_only = accelerator.efficiency.weight_only_matmul_fraction
    if (dtype == "int4" or mxfp4_weight_only(accelerator, dtype)) and weight_only is not None and WEIGHT_ONLY_RATE:
        rate = grouped = accelerator.peak("bf16") * weight_only
    elif dtype == "bf16":
        rate = accelerator.peak("bf16") * _matmul_fraction(accelerator, "bf16", stack)
    return GemmPrecision(rate, stored or DTYPE_BYTES[dtype], ACT_BYTES, grouped)  # `stored`: a checkpoint's scales
