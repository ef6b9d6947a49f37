"""Decode-step kernels from measured tables: the weight reads of small-M GEMMs and attention over the KV cache.

Source: NVIDIA AIConfigurator 0.12.0's measured kernel tables (aiconfigurator-core wheel, PyPI, Apache-2.0:
aiconfigurator_core/systems/data/{h100_sxm,h200_sxm,b200_sxm,gb200}/{gemm,attention}/<backend>/<version>/*.parquet;
backends TensorRT-LLM 1.3.0rc20, vLLM 0.24.0, SGLang 0.5.14). One form for every accelerator, stack and dtype; the
fitted values are catalog data with the fit in each accelerator's `efficiency.source` (h100-sxm, h200, b200,
gb200); an accelerator, stack or dtype without them keeps the roofline.

Small-M GEMMs (adopted, `MEASURED_WEIGHT_READS`). The roofline read every weight at one `memory_bandwidth_fraction`
(0.85-0.88) whatever its dtype and kernel. The tables' GEMMs (gemm_perf.parquet: TensorRT-LLM's Linear, vLLM's
torch / CUTLASS fp8 / FlashInfer CuTe-DSL nvfp4 kernels, SGLang's torch / sgl-kernel fp8 / FlashInfer nvfp4) at
M <= 64 and N x K >= 4 M elements fit t = a + bytes moved / (fraction x HBM bandwidth) per stack and dtype (~6,100
shapes each; mean |error| 5-30 %): bf16 0.74-0.88, fp8 0.69-0.82 (H200: TensorRT-LLM 0.82, vLLM 0.73, SGLang 0.74),
nvfp4 on B200 / GB200 0.52-0.54 (TensorRT-LLM), 0.76-0.78 (vLLM), 0.63-0.64 (SGLang): an nvfp4 decode GEMM saves
far less than its 0.5625 / 1 bytes against fp8. `a` is 3-4 us for bf16 (the catalog's 4 us launch) but 6-15 us
for fp8 / nvfp4, whose op holds the activation quantisation the engines fuse into the previous kernel: not
priced here. `weight_read_fraction[engine][dtype]` sets the memory term of the layers' plain GEMMs
(`hardware.kernels.weight_read_rates`) and of the bf16 LM head; grouped expert GEMMs (other kernels, not
measured here) and int4 / mxfp4 weights keep the roofline. int8 (W8A8) weights read at the fp8 fit
(`ops.precision.SERVING_FORMATS`, `weight_read_dtype`; the tables hold no int8 GEMM on these parts; hQ69).

Decode attention (measured, NOT adopted: `MEASURED_DECODE_ATTENTION` False). generation_attention_perf.parquet
(batch 1-2,048, context 2-131,072, query / KV heads, bf16 / fp8 cache) over the rows with 128-wide heads, no
window, 4 or 8 query heads per KV head (the grouped-query models served here), context >= 128 and >= 1 MiB of KV
fits t_layer = fixed_s + KV bytes / (kv_read_fraction x HBM bandwidth) (~650-680 rows per stack and dtype, mean
|error| 9-16 %): fixed_s 7-16 us (the roofline's one launch: 4 us); kv_read_fraction over a bf16 cache 0.74-0.95,
over an fp8 cache 0.87-0.88 on Blackwell but on Hopper 0.74-0.81 (TensorRT-LLM), 0.57-0.74 (vLLM FA3), 0.48-0.60
(SGLang FA3). The roofline's one launch + bytes at 0.85-0.88 is 1.5-3.5x too fast below ~64 MiB of cache per layer
(small batch, short context, high TP) and within ~10 % from 256 MiB up; at the MLPerf v5.1 B200 operating points
(255-1,525 sequences per GPU, 2^28-2^30 B per layer) it agrees with the tables, so the B200 step lines' missing
7-24 ms are not decode attention (its measured fixed cost adds 0.2-0.9 ms a step). Where the rule would stand
(`serving.llm_iteration`): `fixed_s` per layer replaces the attention's one launch of a decode iteration
(`decode_fixed_s`; prefill keeps its launch) and the cache of full and sliding layers is read at
`kv_read_fraction` (`kv_token_s`, the window term of `head_s`); MLA's latent decode keeps `serving.mla_decode`.
The measured op holds the engine's RoPE / cache-append launches (`serving.engine_kernels.attention_op_kernels`:
under the roofline they are launched with the attention core, `engine_kernels.attention_launch_s`).

Toggled on one tree (a copy of the working tree, every run at once; mean |error| %): base / + weight reads
(shipped) / + weight reads and attention fixed_s only / + kv_read_fraction only / + both:
  Hopper MoE/MLA 17.68 / 17.68 / 17.93 / 17.67 / 17.93; Hopper disaggregated 29.64 / 28.78 / 28.78 / 28.78 / 28.78;
  MLPerf v5.1 24.05 / 24.30 / 24.17 / 24.45 / 24.32; MLPerf v4.1 (incl. TensorRT-LLM's H100 8B rows) 6.02 / 6.06 /
  6.28 / 8.87 / 9.11; Hopper dense 20.75 / 20.73 / 21.07 / 21.01 / 21.43 (TPOT 12.15 / 12.11 / 12.68 / 12.55 /
  13.27). Weight reads in the dense set: vLLM's fp8 TPOT rows move toward the measurements (Llama 3 70B H200 -8
  -> 0 to +3 %; summed |error| -18 points), TensorRT-LLM's (+8 to +14 -> +12 to +17 %, +16 points) and SGLang's (+6)
  away; v5.1 Llama 3.1 405B B200 Server -12.9 -> -17.5 %, Interactive +5.6 -> -4.3 %, DeepSeek-R1 B200 Offline /
  Server -14.5 / +53.5 -> -16.1 / +50.6 %. The attention rule on top makes 42 dense rows worse and 18 better (vLLM
  70B H200 fp8 -> +8 to +11 %, TensorRT-LLM -> +15 to +21 %; v4.1's TensorRT-LLM 8B H100 rows -9 -> -14 %): the
  model's decode steps are already long enough in other terms (the body's six element-wise launches a layer,
  where TensorRT-LLM fuses norms, RoPE and activation), so the measured attention is recorded, not adopted.
With each engine's own element-wise kernels (`serving.engine_kernels`, adopted) the rule still loses (a later tree;
mean |error| %, without -> with it): Hopper dense 19.83 -> 20.15 (TPOT 12.13 -> 12.63), MoE/MLA 16.78 -> 16.77,
disaggregated 28.51 -> 28.51, MLPerf v5.1 23.65 -> 23.90, v4.1 5.65 -> 8.40 (TensorRT-LLM H100 8B rows -1 to -11 ->
-3 to -16 %): the fp8-cache read fractions on Hopper (vLLM 0.57-0.74, SGLang 0.48-0.60 of HBM) slow the fp8-KV
rows that the model already prices within a few % (vLLM Llama 3 70B H200 fp8 TPOT 0 to +3 -> +7 to +9 %).

Release fits (adopted, `RELEASE_DECODE_ATTENTION`): a serving stack profile may carry its own release's measured
decode attention per accelerator and KV dtype (`decode_attention` in the stack YAML, e.g. the vLLM 0.12.0 profile
from AIConfigurator 0.7.0's systems/data/{h100_sxm,h200_sxm}/vllm/0.12.0/generation_attention_perf.txt, the same
fit as above); where it has one it replaces the roofline and the family's fit for that accelerator and dtype.
"""

from __future__ import annotations

import dataclasses

from infraplan.catalog.kernel_fits import MlaDecodeFit
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates, weight_read_rates
from infraplan.ops.precision import NON_TN_LAYOUTS, SERVING_FORMATS
from infraplan.serving import engine_kernels, mla_decode, release_tables
from infraplan.serving.deployment import eight_bit_rate, mxfp4_weight_only
from infraplan.serving.engines import serving_profile
from infraplan.serving.trtllm_gen_moe import bf16_input_gemm

MEASURED_DECODE_ATTENTION = False  # decode attention from the catalog's measured fits: not adopted (module docstring)
RELEASE_DECODE_ATTENTION = True  # a stack profile's own measured decode attention (`decode_attention`; docstring)
MEASURED_WEIGHT_READS = True  # small-M GEMM weight reads at the measured rate per stack and dtype (toggle)
ONE_EXTEND_CALL = False  # SGLang's mixed iteration: one attention call a layer: measured, NOT adopted (hC67; toggle)
# engines whose mixed batch runs one attention call a layer where their backend does (`one_attention_call`): vLLM's
# FlashAttention (hV2, session 67); SGLang's only with `ONE_EXTEND_CALL`
ONE_CALL_ENGINES = frozenset({"sglang", "vllm"})


def attention_terms(accelerator: Accelerator, rates: KernelRates, engine: str, kv_dtype: str,
                    shape: TransformerShape, stack: str | None = None) -> tuple[float, float]:
    """(seconds per layer of a decode step beside the cache reads, KV bytes read per second) of the serving
    engine family's decode attention over a `kv_dtype` cache (module docstring); where the catalog has no measured
    fit, and for MLA's latent cache without the engine's measured MLA kernel (`mla_decode.measured_fit`, which
    sets both), the roofline: the op's launches (its core and the engine's RoPE / append kernels,
    `engine_kernels.attention_launch_s`) and `rates.memory_bytes_per_s`. `stack`: the deployment's stack, whose
    release fit for this accelerator and dtype (`decode_attention`, module docstring) comes first."""
    mla = mla_decode.measured_fit(shape, accelerator, engine, kv_dtype, stack)  # the measured MLA kernel (`mla_decode`)
    if mla is not None:
        return mla.fixed_s, mla.kv_read_fraction * accelerator.memory_bandwidth_bytes_per_s
    profile = serving_profile(stack) if RELEASE_DECODE_ATTENTION and stack and not shape.is_mla else None
    by_dtype = profile.decode_attention.get(release_tables.kernel_key(accelerator), {}) if profile is not None else {}
    release = by_dtype.get(kv_dtype)  # type: ignore[call-overload]
    if release is not None and not isinstance(release, MlaDecodeFit):  # an MLA release fit is `mla_decode`'s
        return release.fixed_s, release.kv_read_fraction * accelerator.memory_bandwidth_bytes_per_s
    fits = accelerator.efficiency.decode_attention or {}
    table = fits.get(engine, {}) if MEASURED_DECODE_ATTENTION and not shape.is_mla else {}  # type: ignore[call-overload]
    fit = table.get(kv_dtype)  # bf16 / fp8 fits; an int8 cache keeps the roofline (no measured rows)
    if fit is None:
        return engine_kernels.attention_launch_s(shape, rates, engine, kv_dtype), rates.memory_bytes_per_s
    return fit.fixed_s, fit.kv_read_fraction * accelerator.memory_bandwidth_bytes_per_s


def gemm_rates(accelerator: Accelerator, rates: KernelRates, engine: str, dtype: str) -> KernelRates:
    """`rates` for the plain GEMMs of a deployment of weight precision `dtype`: the memory term at the dtype's
    measured small-M weight-read rate (`hardware.kernels.weight_read_rates`; module docstring); int4 / mxfp4
    weights, and grouped expert GEMMs (not measured here), keep `memory_bandwidth_fraction`. Where the catalog
    fits the engine's plain `dtype` GEMMs per wave (`plain_gemm_wave`), their K-loop rate and fixed s per wave too
    (priced where `hardware.kernels.WAVE_FIXED`): the fit's fraction of the peak of the dtype the MMA runs in
    (`mma_dtype`; hY54: it was the weight dtype's peak, right for nvfp4, the only shipped fit, but a weight-only
    fit would have run its K loop at its 4-bit peak)."""
    out = weight_read_rates(rates, accelerator, engine, dtype) if MEASURED_WEIGHT_READS else rates
    fit = (accelerator.efficiency.plain_gemm_wave or {}).get(engine, {}).get(dtype)  # type: ignore[call-overload]
    if fit is None:
        return out
    return dataclasses.replace(out, wave_fixed_s=fit.wave_fixed_s,
                               wave_flops_per_s=accelerator.peak(mma_dtype(accelerator, dtype, engine)) * fit.fraction)


def mma_dtype(accelerator: Accelerator, dtype: str, engine: str) -> str:
    """The dtype a plain GEMM of `dtype` weights runs its MMA (its K loop) in, as `serving.llm_iteration.
    serving_precision` prices its rate (it reads native mxfp4's 8-bit rate here, the one rule): the format's own
    where the activations are quantised with the weights (W8A8 fp8 / int8 / mxfp8, W4A4 nvfp4: the peak
    `ops.precision.SERVING_FORMATS` names, `peak_dtype`); native mxfp4 at the 8-bit rate (MXFP4 x MXFP8,
    `deployment.eight_bit_rate`) unless the engine feeds it bf16 activations (`trtllm_gen_moe.bf16_input_gemm`); else
    bf16: bf16 and the weight-only formats (int4 W4A16, mxfp4 on a part without mxfp4 tensor cores), whose weights
    are widened to the activations' bf16 before the MMA."""
    fmt = SERVING_FORMATS.get(dtype)
    if fmt is None:  # not a serving format (fp16, ...): its own
        return dtype
    if fmt.peak_dtype is not None:
        return fmt.peak_dtype
    if dtype == "mxfp4" and not (mxfp4_weight_only(accelerator, dtype) or bf16_input_gemm(accelerator, dtype, engine)):
        return eight_bit_rate(accelerator)
    return "bf16"


def vllm_flash_attention(accelerator: Accelerator, shape: TransformerShape) -> bool:
    """Whether vLLM serves `shape` on `accelerator` with its FlashAttention backend (FLASH_ATTN), whose mixed batch
    is one call: the first valid backend of its priority list for a non-MLA model is FLASH_ATTN below compute
    capability 10, FLASHINFER on 10.x (vllm 0.12.0 platforms/cuda.py:46-83 `_get_backend_priorities`, the same in
    0.15.1 :45-82 and through 0.19.0 :50-113). The catalog marks 10.x by non-TN fp8 GEMM layouts
    (`Accelerator.fp8_gemm_layouts`, as `ops.precision.emulates_block_scaling` reads it; ASSUMPTION: an unmarked
    NVIDIA part, e.g. rubin, as below 10). FLASH_ATTN takes an fp8 cache only on FlashAttention 3, sm_90
    (flash_attn.py:147-152 `supports_kv_cache_dtype`); the catalog's parts below 10 with an fp8 cache are Hopper (a
    part without fp8 refuses one: `deployment.kv_gaps`; ASSUMPTION: an Ada part, sm_89, would fall to FLASHINFER
    there: none in the catalog). MLA models run the MLA backends."""
    return (accelerator.vendor.lower() == "nvidia" and not shape.is_mla
            and not NON_TN_LAYOUTS.issubset(accelerator.fp8_gemm_layouts))


def one_attention_call(engine: str, accelerator: Accelerator, shape: TransformerShape) -> bool:
    """Whether `engine` runs a mixed iteration's attention (prefill chunks beside decode rows) as one call a layer,
    by the backend it picks (`mixed_shared_s`): vLLM's FlashAttention yes, its FlashInfer and MLA backends no;
    SGLang's every CUDA backend yes, priced only with `ONE_EXTEND_CALL` (not adopted); TensorRT-LLM no."""
    if engine not in ONE_CALL_ENGINES:
        return False
    if engine == "vllm":
        return vllm_flash_attention(accelerator, shape)
    return ONE_EXTEND_CALL


def mixed_shared_s(engine: str, decode_attention_s: float, accelerator: Accelerator, shape: TransformerShape) -> float:
    """The part of a decode step's fixed attention seconds (`decode_attention_s`: the op's fixed time a layer x
    layers, `attention_terms`) that a mixed iteration (prefill chunks beside decode rows) of `engine` does not pay,
    for `IterationCost.shared_fixed_s`: all of it where the engine's backend runs one call over the mixed batch
    (`one_attention_call`), none elsewhere. The one call's fixed time stays (`prefill_fixed_s`); the decode rows'
    cache reads stay (`kv_token_s`).

    vLLM (adopted, hV2 session 67). Its FlashAttention backend (dense models on Hopper, `vllm_flash_attention`)
    writes every token's K / V with one `reshape_and_cache_flash` and runs one `flash_attn_varlen_func` over the
    whole batch, a decode row being a sequence of query length 1 in `cu_seqlens_q` (vllm 0.12.0
    v1/attention/backends/flash_attn.py:642-708; 0.15.1 :673-731 and `do_kv_cache_update` :761-800; 0.17.0 :690-748,
    :778-810; the same in 0.16.0, 0.18.0, 0.19.0); the cascade path (:712) runs only on a common prefix of >= 256
    tokens (:881-911; none in the benchmark prompts). FlashInfer (10.x) splits the batch, decodes first, into its
    prefill and decode wrappers (or TRT-LLM's context and decode kernels): two calls (0.12.0 flashinfer.py:1198-1330;
    0.17.0 :1357-1475). MLA runs `forward_mha` for the prefill tokens and `forward_mqa` for the decode tokens
    (mla/common.py:1949-2068; 0.17.0 model_executor/layers/attention/mla_attention.py:557-646): two calls. Measured
    (mean |error|): dense Hopper 0.179793 -> 0.179182 (TTFT 0.26291 -> 0.26197, TPOT 0.09667 -> 0.09639), MoE/MLA
    0.147275 -> 0.147530 (its vLLM TTFTs are already short: median -14 to -29 %), every other set unchanged
    (validation/notes/serving_hopper_tried.md, "Session 67, hV2").

    SGLang runs one attention call a layer over a mixed batch. `mix_with_running` makes every decode row an extend
    row of one token and sets ForwardMode.MIXED (sglang 0.5.6 managers/schedule_batch.py:1507-1536; 0.5.9
    :1770-1790). `is_extend` counts MIXED (model_executor/forward_batch_info.py:96-102; 0.5.9 :105-111).
    `AttentionBackend.forward` sends a batch to `forward_decode` only in DECODE mode and a MIXED one to
    `forward_extend` on CUDA (`forward_mixed` on NPU only; layers/attention/base_attn_backend.py:79-119, the same
    in 0.5.9). No decode kernel runs: the decode rows' query goes through the extend kernel beside the prompt
    tokens, e.g. FA3's one `flash_attn_with_kvcache` over the batch (flashattention_backend.py:794-830), and the
    NSA backend's one kernel over every token (nsa_backend.py:861-1027). Speculative SGLang never mixes
    (server_args.py:4008-4015 asserts mixed chunk off with drafts; `request_intake.loop_scheduler`).
    TensorRT-LLM is not readable here (ASSUMPTION: two calls).

    SGLang's: measured, NOT adopted (`ONE_EXTEND_CALL` False; hC67, validation/notes/inference_frontier_tried.md).
    On its own it moves the sets (mean |error|) MoE/MLA 0.1471571 -> 0.1471447, dense Hopper 0.1800451 -> 0.1797769,
    Blackwell 0.1974456 -> 0.1974599, disaggregated unchanged. But it moves the SGLang stack's fitted front end
    (`validation.serving_host_fits`, "stack/sglang") 0.1880 -> 0.1910 s, 10 ms off the stored 0.181 s and past its
    tolerance. Refitted (0.191 s), every serving set ends above the base: MoE/MLA 0.1471640, disaggregated 0.1481599,
    Blackwell 0.1974599, dense 0.1802535. The refit's +10 ms on every SGLang TTFT costs the prefill-first 0.5.1.post1
    Qwen3-32B rows more than the mixed-chunk rows gain. Adopting it means the refit too: the three SGLang
    `request_latency_s` (catalog sglang-0.x, validation sglang-0.x-mixed-chunk and sglang-0.5.1) 0.181 -> 0.191."""
    return decode_attention_s if one_attention_call(engine, accelerator, shape) else 0.0
