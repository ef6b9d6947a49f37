"""Block-fp8 plain GEMMs: a serving release's measured kernel as a floor under the roofline.

What is modelled. A checkpoint released with 128 x 128 block-scaled fp8 weights (`routed_experts.
FP8_BLOCK_MODEL_TYPES`: DeepSeek-V3/R1, Qwen3 MoE) runs its dense projections (MLA's fused q_a / kv_a down
projection, q_b, the output projection, the shared expert's gate-up and down, the dense layers' FFN) through the
engine's block-scaled fp8 Linear: the activations are quantised per 1 x 128 group and the GEMM applies one scale per
K block of 128. At decode (M of a few rows) such a GEMM has few output tiles to spread over the SMs and walks its K
blocks serially, so it takes a launch + the longer of the K loop and the weight stream, not the weight bytes at the
HBM rate that `hardware.kernels` prices (the roofline: 7.9 us for DeepSeek-V3's 2,112 x 7,168 q_a / kv_a at 4 rows;
measured 13.9 us). Form, per GEMM:

    t = fixed_s + max(k_s x K, N x K x 1 B / (weight_read_fraction x HBM bandwidth)),

applied as a floor (`max` with the roofline's time) to every plain (not grouped) fp8 GEMM of a block-fp8 model
family on a stack whose profile carries `fp8_block_gemm` for the accelerator. This form does not grow with M, so
prefill-sized GEMMs keep the roofline unless the wave form below binds ("Large M"). The router (a bf16 GEMM in
the engines' DeepSeek gate; ASSUMPTION, recalled) and the LM head (bf16) are not block-fp8: untouched; the grouped
expert GEMMs and MLA's absorbed BMMs have their own measured rules (`serving.routed_experts`, `serving.mla_absorb`).

Source: NVIDIA AIConfigurator 0.7.0 (aiconfigurator wheel, PyPI, Apache-2.0) systems/data/{h200_sxm,h100_sxm}/trtllm/
1.2.0rc5/gemm_perf.txt, gemm_dtype fp8_block (TensorRT-LLM 1.2.0rc5's block-scaled fp8 Linear, activation
quantisation included), the rows of M <= 16 and N x K >= 2^20 (1,350 shapes per GPU, N and K 128-16,384), relative
least squares: H200 fixed 4.51 us, 1.268 ns per K element, weight stream at 0.763 of 4.8 TB/s (mean |error| 4.3 %,
max 15.6 %); H100 4.45 us, 1.275 ns, 0.793 of 3.35 TB/s (4.9 %, 21.5 %). The additive form (fixed + K term +
weight stream) fits worse (5.1 / 5.8 %) and needs a read fraction above 1. The values are in the stack YAML that
carries them (validation/data/stacks/trtllm-1.2.0rc6.yaml: rc5 as the nearest measured release of 1.2.0rc6.post1,
an ASSUMPTION labelled there). Per layer at 4 rows on H200 (roofline -> floor, us): q_a / kv_a 7.9 -> 13.6, shared
gate-up 6.8 -> 13.6, q_b 5.2 -> 6.5, output projection 7.8 -> 8.5, shared down 4.3 -> 5.0.

Large M (`LARGE_M_WAVES`): from `large_m` rows (512, the fit's range) the floor is also at least the same table's
wave form, t = wave_fixed_s + waves x (wave_s + wave_k_s x K) + activation_s x M x K, waves = ceil(ceil(M / tile_m)
ceil(N / tile_n) / SMs): output tiles of 64 x 128 in waves over the SMs, each wave walking K, plus the 1 x 128
activation quantisation reading the M x K bf16 input. Fit on the rows of M >= 512, N and K 256-16,384 (1,734 shapes
per GPU): H200 3.29 us, 1.154 us per wave, 1.510 ns per wave and K element (16,384 FLOPs per SM per 1.51 ns: ~72 % of
the dense fp8 peak), 1.712 ps per activation element (~1.75 TB/s at 3 B); mean |error| 4.5 %, median 3.1 %, p90
10.7 % (H100 5.2 / 3.8 / 11.9 %); with 128 x 128 tiles 14.7 %, without the activation term 13.7 %. At 8,192 rows the
roofline prices DeepSeek's narrow GEMMs 1.3-3x under the table (shared gate-up 512 x 7,168: 51 vs 153 us; q_a / kv_a
217 vs ~280 us): a TP8 8k prompt 0.262 -> 0.283 s; at 1,024 rows the two agree (TP8 1k prompt 54.6 -> 55.4 ms).
The 1.0.0rc3 stacks (validation/data/stacks/trtllm-1.0.0rc3*.yaml) carry both forms fitted the same way to that
release's table (same wheel, trtllm/1.0.0rc3): large M mean |error| 4.4 / 5.2 % (H200 / H100).

The catalog's small-M GEMM fit (`serving.decode_kernels`, `weight_read_fraction`) prices the weight reads only and
leaves the fixed time out (by its docstring, the activation quantisation the engines fuse into the previous kernel);
the block-scaled Linear's K loop is not in it.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.serving_profile import BlockFp8GemmFit
from infraplan.ops.layer import Gemm
from infraplan.serving import release_tables
from infraplan.serving.engines import serving_profile

RELEASE_BLOCK_FP8_GEMM = True  # a stack release's measured block-fp8 GEMM floor (module docstring; toggle to compare)
LARGE_M_WAVES = True  # the floor's wave form from `large_m` rows up (module docstring, "Large M"; toggle to compare)
NOT_BLOCK_FP8_ROLES = ("router",)  # plain GEMMs the engines run in bf16 (module docstring)
FP8_WEIGHT_BYTES = 1.0


def release_fit(accelerator: Accelerator, stack: str | None, dtype: str,
                block_fp8_model: bool) -> BlockFp8GemmFit | None:
    """The stack profile's `fp8_block_gemm` fit for this accelerator where the rule applies (fp8 weights of a
    block-scaled model family), else None."""
    if not (RELEASE_BLOCK_FP8_GEMM and stack and dtype == "fp8" and block_fp8_model):
        return None
    profile = serving_profile(stack)
    return profile.fp8_block_gemm.get(release_tables.kernel_key(accelerator)) if profile is not None else None


def floor_s(fit: BlockFp8GemmFit, accelerator: Accelerator, g: Gemm, compute_units: int) -> np.ndarray:
    """Seconds below which the plain GEMM record `g` (`ops.layer`, `g.count` per mean layer) does not run: 0 where it
    has no rows, for grouped GEMMs and for the roles outside the block-fp8 Linear; from `large_m` rows up the wave
    form over `compute_units` SMs (module docstring, "Large M") where the fit has one (`LARGE_M_WAVES`)."""
    m = np.asarray(g.m, dtype=np.float64)
    if g.grouped or g.role in NOT_BLOCK_FP8_ROLES:
        return np.zeros_like(m)
    k, n = np.asarray(g.k, dtype=np.float64), np.asarray(g.n, dtype=np.float64)
    stream_s = n * k * FP8_WEIGHT_BYTES / (fit.weight_read_fraction * accelerator.memory_bandwidth_bytes_per_s)
    small_s = fit.fixed_s + np.maximum(fit.k_s * k, stream_s)
    if LARGE_M_WAVES and fit.wave_k_s > 0:
        waves = np.ceil(np.ceil(m / fit.tile_m) * np.ceil(n / fit.tile_n) / compute_units)
        wave_form_s = fit.wave_fixed_s + waves * (fit.wave_s + fit.wave_k_s * k) + fit.activation_s * m * k
        small_s = np.where(m >= fit.large_m, np.maximum(small_s, wave_form_s), small_s)
    return np.where(m > 0, g.count * small_s, 0.0)
