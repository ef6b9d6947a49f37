"""MLA decode attention with absorbed weights: priced by its bytes or its FLOPs, whichever binds.

Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434 sec. 2.1; DeepSeek-V3, arXiv:2412.19437 sec. 2.1.1)
caches one latent c_KV of `kv_lora_rank` elements plus the shared rotary key of `qk_rope_head_dim` per token and
layer (576 for DeepSeek-V3/R1, 576 B in fp8: `ops.params.mla_latent_width`). At decode the up projections are
absorbed (W_UK into the query, W_UV after the attention; DeepSeek-V2 sec. 2.1.2, "absorb"), so every
local head attends the latent itself: per (decode query, cached token, layer, local head)

    score    q_absorbed (kv_lora + rope) . [c_KV; k_rope]   2 (kv_lora + rope) FLOPs
    value    p * c_KV                                       2 kv_lora FLOPs

2 (576) + 2 (512) = 2,176 FLOPs per head, 278,528 for DeepSeek-R1's 128 heads at TP1, against 576 B read: 484
FLOP/B. All heads of a GPU share the one latent, so the arithmetic intensity grows with the local heads (num_heads /
TP; the latent is whole on every TP rank): at TP1 (attention data parallelism, wide EP) the kernel is compute-bound
(ridge points at the fused-attention rate below: ~130 FLOP/B on H200, ~170 on B200), at TP8 (16 heads, 60 FLOP/B) it
reads memory. FlashMLA (DeepSeek, github.com/deepseek-ai/FlashMLA README, Feb 2025; recalled, confidence high)
reports exactly this: "up to 3000 GB/s in memory-bound configuration and 660 TFLOPS in computation-bound
configuration on H800 SXM5" for its bf16 decode kernel at 128 heads. So a decode iteration's cached-token term is
max(bytes / HBM bandwidth, FLOPs / fused-attention rate) per cached token (both linear in the context, so the max
per token is the max of the sums); the rate is the catalog's fused-attention rate (`hardware.kernels`:
attention_max_fraction x bf16 peak, 0.5: 495 TFLOP/s on H200, 1,125 on B200; FlashMLA's 660 on H800 is 0.67 of its
peak, so this is conservative). ASSUMPTION: bf16 MMA although the cache is fp8 (FlashMLA upcasts; an fp8 MLA kernel
would double the rate: measured below and rejected). Speculative decoding multiplies the queries per row (1 + K
verification tokens through every layer, the draft layer's: `serving.speculative.decode_query_layers`).

Effect (toggle `MLA_DECODE_COMPUTE`, same tree; mean |error|): MLPerf v5.1 frontier set 25.80 -> 24.43 %
(DeepSeek-R1 B200 Offline H076 +8.6 -> -11.1 %, Server H077 +94.9 -> +59.5 %); Hopper MoE set, its 142 MLA rows
(DeepSeek-R1/V3 TensorRT-LLM / SGLang, Kimi K2 vLLM) TPOT 10.23 -> 10.20 %, TTFT 27.36 % unchanged: only the six
DeepSeek-R1 TensorRT-LLM attention-DP 8 rows move (TPOT mean |error| 0.109 -> 0.103, median -0.029 -> +0.010;
8192 x 1024 at 256 clients -0.289 -> -0.221; 1024 x 8192 at 256, the one row of nearly pure decode, +0.106 ->
+0.216, suggests a faster kernel on H200 than this rate), the TP8 rows are memory-bound;
disaggregated set, its 28 DeepSeek-V3 rows (attention-DP decode pools) TPOT 21.8 -> 16.7 %, TTFT 56.5 -> 55.7 %.
Dense models (dense, inference sets) have no MLA and do not move. Rejected: the fp8 rate (2x): frontier 25.20 %,
disaggregated TPOT 20.1 %; FlashMLA's 0.67 of peak: frontier 24.65 %, disaggregated TPOT 18.4 %.

Decomposition of the wide-EP decode step that H077 questions (DeepSeek-R1 nvfp4, dgx-b200, attention DP 8 x EP 8,
TensorRT-LLM profile; 155 sequences per GPU at a 2,700-token context, `llm_iteration.decode_time`): 28.0 ms =
GEMMs 12.7 (routed experts 7.8: 32 local experts at ~39 tokens each, bound by their 0.8 GB of fp4 weights per
layer; MLA projections and absorption 3.2; router and shared expert 1.6), EP dispatch + combine 4.4, element-wise
1.8, MoE routing kernels 1.7, this attention term 6.3 (2.2 as a byte read), LM head 0.3, fixed 0.7. The run's
Little's law (4.98 req/s x ~249 s in flight / 8 GPUs) puts ~155 sequences per GPU at a measured TPOT mean of
66.5 ms: ~38 ms per step stay unexplained (see `validation.inference_frontier`). Checked and not adopted: the EP
all-to-all is 38 us per dispatch or combine here (DeepEP's low-latency kernels take 77 / 114 us at EP8 and 128 tokens
over RDMA on H800, an upper bound: +7 ms at most); the experts' ~39 tokens already pad to a 64-row tile and stay
bound by their weights; prefills at the measured 4.98 req/s are ~35 prompt tokens per GPU per step (<= 6 % even
if every rank stalls for all); CUDA graphs captured only up to 128 sequences (the LLM API default) would make this
step eager, max(GPU, 40.5 ms of launches): H077 +42 % but H076 -21 %, and no source states the harness's cap.

Measured kernel (`MEASURED_MLA_DECODE`; the accelerator's `mla_decode_attention[engine][latent dtype]`, today
TensorRT-LLM on H100 / H200). NVIDIA AIConfigurator 0.12.0's measured TensorRT-LLM 1.3.0rc20 absorbed-MLA generation
kernel (aiconfigurator-core wheel, Apache-2.0: systems/data/{h100_sxm,h200_sxm}/mla/trtllm/1.3.0rc20/
generation_mla_perf.parquet; DeepSeek-V3's 576-wide latent, 1-128 local heads, batch 1-1,024, context 128-131,072)
fits, per layer, t = fixed_s + query_head_s x batch x local heads + max(latent bytes / (f x HBM), FLOPs / R): on
H200 with an fp8 latent 15.0 us, 1.52 ns, f = 0.63 (3.0 TB/s), R = 718 TF/s (FlashMLA's published 660 TF/s on
H800, above, is the same order); mean |error| 7.5 % over all 920 rows, where the roofline above (one 4 us launch,
bytes at 0.88, FLOPs at 495 TF/s) is 49 % off: 3-4x too fast below ~64 sequences x 1k tokens (TP8, 4 sequences at
1k: 15.3 us measured, ~5 us roofline), 1.4x too slow at 128 heads and long contexts (1,024 x 8k: 3.3 ms vs 4.7).
The fit's fixed_s replaces the attention op's launch in `decode_fixed_s`, f x HBM the latent's byte rate, R the
fused-attention rate of `cached_token_s`; the per-row term goes into the head table (`decode_terms`). Prefill keeps
the roofline. Effect (toggle, one tree; mean |error|, every row): Hopper disaggregated 25.67 -> 23.91 % (TTFT 35.55
-> 33.60, TPOT 15.79 -> 14.23; `validate`'s sample 27.65 -> 24.85): its TensorRT-LLM TP8 decode pools' TPOT -29 ..
-7 -> -23 .. -3 %, attention-DP8 pools with 8k contexts faster (b64: -9 -> -16 %); Hopper MoE/MLA set 15.86 ->
16.01 % (TPOT 9.56 -> 9.88; sample 16.28 -> 16.42): its 52 TensorRT-LLM DeepSeek rows TPOT 16.2 -> 19.6 %, each
+4 to +11 points (they already run above their measurement: `validation/notes/trtllm_deepseek_tried.md`); dense,
MLPerf v4.1 and v5.1 unchanged (no MLA row on an accelerator with the fit).

Release fits (`RELEASE_MLA_DECODE`): a serving stack profile may carry its own release's measured MLA kernel per
accelerator and latent dtype (an `MlaDecodeFit` in the stack's `decode_attention`), which replaces the catalog's
1.3.0rc20 fit. TensorRT-LLM 1.2.0rc6.post1 (NVIDIA Dynamo 0.8.1's tensorrtllm-runtime, by AIConfigurator 0.12.0's
generator/config/backend_version_matrix.yaml) has no table; the nearest measured release is 1.2.0rc5
(AIConfigurator 0.7.0 wheel, Apache-2.0: systems/data/{h200_sxm,h100_sxm}/trtllm/1.2.0rc5/generation_mla_perf.txt,
the same shapes and fit as above; ASSUMPTION: rc6.post1 runs rc5's kernel): H200 fp8 28.0 us, 2.05 ns, f 0.58,
R 750 TF/s (mean |error| 10.5 % over its 920 rows; the 1.3.0rc20 fit is 31 % off there, 0.62x the measured time):
the rc5 kernel's fixed time is ~2x rc20's (TP8, 4 sequences at 1k: 30.5 vs 15.3 us). Used by
`validation/data/stacks/trtllm-1.2.0rc6-dynamo.yaml` (the disaggregated set's TensorRT-LLM rows; notes round 12).

Blackwell fits (hB, session 56; `MEASURED_MLA_DECODE_BLACKWELL`, OFF): the same fit of AIConfigurator 0.12.0's
b200_sxm / gb200 / b300_sxm tables, TensorRT-LLM 1.3.0rc20 and SGLang 0.5.14 (its `trtllm_mla` backend, SGLang's
default for DeepSeek-V3 on sm100: sglang 0.5.9 srt/server_args.py:1277-1286), both latent dtypes, in the b200 /
gb200 / b300 files (validation/calibration/aic_blackwell_mla_decode.{py,json}: mean |error| 10-12 % on the fitted
rows, 14-17 % on all, where the roofline is 49-53 %). Finding: over an fp8 cache the compute-bound rate is ~2x the
bf16 one (TensorRT-LLM 2,571 / 1,296 TF/s on B200, SGLang 2,265 / 1,214 on GB200: SGLang quantises the query to fp8
there, trtllm_mla_backend.py:765-772), against one rate of attention_max_fraction x the bf16 peak (990 / 1,075 TF/s)
in the roofline, which the "fp8 rate" test above rejected on Hopper. Off: it worsens the gated sets, Blackwell
serving 19.746 -> 19.792 % (TPOT 10.43 -> 10.56; its 212 DeepSeek rows move both ways) and MLPerf v5.1 23.78 ->
26.18 % (DeepSeek-R1 B200 Offline +6.5 -> +28.5 %, Server +71.0 -> +106.4 %: that set's engine decodes slower than
the model already); out of sample, LMSYS's GB200 DeepSeek decode (SGLang, fp8 cache, attention DP) -40.8 -> -33.6 %
(validation/notes/out_of_sample_s56/serving_oos2.py). Hopper's fits are unaffected by the toggle.

SGLang on Hopper (hJ, session 56; `SGLANG_HOPPER_MLA_FIT_DTYPES`: fp8 on, bf16 on the roofline): SGLang runs MLA
models on sm90 with its `fa3` backend (sglang 0.5.6.post2 srt/server_args.py:1390-1393; 0.5.9 the same). Over an fp8
latent cache it does not run an fp8 kernel: the query stays bf16 (the fp8 branch, flashattention_backend.py:1076,
needs head_dim <= 256; MLA's is 576) and the layer's whole latent buffer, the pool's (size + page) x 576
(mem_cache/memory_pool.py:1394-1401), is cast to bf16 before FA3 reads it (flashattention_backend.py:1197-1199; 0.5.9
:1274). AIConfigurator 0.12.0 measures that kernel
(systems/data/{h100_sxm,h200_sxm}/mla/sglang/0.5.14/generation_mla_perf.parquet, kernel_source flash_attention): over
fp8 it runs 1.7-2.1x (median) and 4-7x (batch x context >= 64k) slower than over bf16. Fitted as above
(validation/calibration/aic_hopper_sglang_mla_decode.{py,json}; the catalog's `mla_decode_attention.sglang` of
h100-sxm / h200, h800 H100's): H200 bf16 16.0 us / 0.67 ns / f 0.86 / 573 TF/s, fp8 20.2 / 0.58 / 0.06 / 128 (mean
|error| 17 / 10 % on all 1,448 rows; the roofline priced before, a halved byte read at 0.88: 49 / 85 %); H100 bf16
15.7 / 1.00 / 0.79 / 700, fp8 20.1 / 0.73 / 0.08 / 123. ASSUMPTION: the table's pool is about its rows' tokens (the
collector is not in the wheel); a server's pool is larger, so a real fp8 step pays more (the cast is per pool token):
the answer is a lower bound. TensorRT-LLM's fp8 kernel is already its measured one (above: 0.74-0.99x the bf16 time).
vLLM runs FlashMLA over an fp8 latent on sm90 (FLASH_ATTN_MLA takes bf16 only: vllm 0.15.1
v1/attention/backends/mla/flashattn_mla.py:46-49), which AIConfigurator 0.10.0's vllm/0.14.0 tables time at a median
1.24-1.28x the bf16 kernel (not faster, as the roofline's halved read says); not priced: those tables hold a 0.1 ms
floor a layer even at batch 1 (~140-170 us fitted fixed time, no CUDA-graphed kernel's; notes "hJ (session 56)").
`kernel_path` names what was priced (`serve`).
"""

from __future__ import annotations

from infraplan.catalog.kernel_fits import MlaDecodeFit
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.sparse_attention import HEAD_TILES, is_sparse
from infraplan.serving import release_tables, speculative
from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import serving_profile

MLA_DECODE_COMPUTE = True  # absorbed MLA decode attention bound by its FLOPs too (module docstring; toggle to compare)
MEASURED_MLA_DECODE = True  # the engine's measured MLA decode kernel where the catalog has it (docstring; toggle)
RELEASE_MLA_DECODE = True  # a stack release's own measured MLA kernel comes first (docstring, "Release fits")
# the Blackwell parts' measured fits (b200 / gb200 / b300 `mla_decode_attention`, docstring "Blackwell fits"): off,
# they worsen the gated Blackwell serving set (19.746 -> 19.792 %); True applies them as the Hopper ones
MEASURED_MLA_DECODE_BLACKWELL = False
BLACKWELL_MLA_FIT_PARTS = frozenset({"b200", "gb200", "b300"})  # the catalog parts whose fits that toggle holds
# the latent dtypes whose SGLang FA3 MLA kernel on Hopper is priced as measured (docstring, "SGLang on Hopper"); the
# others keep the roofline. {"fp8"} (the lead, session 56): an fp8 pool is cast to bf16 whole every layer, 2-3x the
# roofline's TPOT, which `serve --kv-dtype fp8` must say; the validation rows ran SGLang's auto (bf16) cache
# (`validation.campaign_settings.SGLANG_AUTO_KV_MLA`, ON with it): MoE 14.709 -> 14.718 %, disaggregated 14.547 ->
# 14.651 % (both gates met). Empty: the roofline for both; {"bf16", "fp8"}: MoE 14.774 %, disaggregated 14.580 %
SGLANG_HOPPER_MLA_FIT_DTYPES: frozenset[str] = frozenset({"fp8"})
HOPPER_SGLANG_FIT_PARTS = frozenset({"h100-sxm", "h200", "h800"})  # the catalog parts whose SGLang fits it holds


def measured_fit(shape: TransformerShape, accelerator: Accelerator, engine: str, kv_dtype: str,
                 stack: str | None = None) -> MlaDecodeFit | None:
    """The measured absorbed-MLA decode kernel over a `kv_dtype` latent cache: the `stack` release's own
    (`decode_attention` in its profile, "Release fits"), else the catalog's for the serving engine family
    (`mla_decode_attention`; module docstring, "Measured kernel"), or None: not MLA, not measured, or toggled off."""
    fits = accelerator.efficiency.mla_decode_attention or {}
    if not (MEASURED_MLA_DECODE and shape.is_mla) or is_sparse(shape):  # DSA's sparse kernel: `serving.sparse_decode`
        return None
    if not MEASURED_MLA_DECODE_BLACKWELL and accelerator.catalog_name in BLACKWELL_MLA_FIT_PARTS:
        fits = {}  # the catalog's Blackwell fits held back (toggle above); a stack's release fit still applies
    if (engine == "sglang" and accelerator.catalog_name in HOPPER_SGLANG_FIT_PARTS
            and kv_dtype not in SGLANG_HOPPER_MLA_FIT_DTYPES):
        fits = {}  # SGLang's Hopper fit of this dtype held back (toggle above)
    profile = serving_profile(stack) if RELEASE_MLA_DECODE and stack else None
    release = (profile.decode_attention.get(release_tables.kernel_key(accelerator), {}).get(kv_dtype)  # type: ignore[call-overload]
               if profile else None)
    if isinstance(release, MlaDecodeFit):
        return release
    return fits.get(engine, {}).get(kv_dtype)  # type: ignore[call-overload]


def flops_per_cached_token(shape: TransformerShape, tp: int, query_layers: float) -> float:
    """FLOPs one cached token costs the absorbed MLA decode attention of one GPU over `query_layers` (decode
    query, layer) pairs: per local head 2 (kv_lora + rope) for the score and 2 kv_lora for the latent value sum
    (module docstring). Zero for other attention and with `MLA_DECODE_COMPUTE` off."""
    if not (shape.is_mla and MLA_DECODE_COMPUTE) or is_sparse(shape):  # DSA: per row (`serving.sparse_decode`)
        return 0.0
    per_head = 2.0 * (2.0 * shape.kv_lora_rank + shape.qk_rope_head_dim)
    return per_head * shape.num_heads / tp * query_layers


def cached_token_s(shape: TransformerShape, rates: KernelRates, tp: int, query_layers: float,
                   fit: MlaDecodeFit | None = None) -> float:
    """Seconds one cached token costs the decode attention's tensor cores (`flops_per_cached_token` at the fused-
    attention rate, or at the measured kernel's `fit`); the iteration takes the larger of this and the token's byte
    read."""
    rate = fit.flops_per_s if fit is not None else rates.attention_flops_per_s
    return flops_per_cached_token(shape, tp, query_layers) / rate


def decode_terms(shape: TransformerShape, accelerator: Accelerator, rates: KernelRates, dep: Deployment,
                 layers: float) -> tuple[float, float]:
    """(seconds per cached token of the tensor-core bound, seconds per decode row) of the absorbed MLA decode over
    `layers` layers: each row runs 1 + K queries through every layer and K through the draft layer (`query_layers`);
    the per-row term is the measured kernel's `query_head_s` per local head (module docstring, "Measured kernel"),
    0 without one. The cached token's byte read and the fixed time are `serving.decode_kernels.attention_terms`'."""
    fit = measured_fit(shape, accelerator, dep.engine, dep.kv_dtype, dep.stack)
    query_layers = speculative.decode_query_layers(dep, layers)  # verification and draft queries
    row_s = fit.query_head_s * shape.num_heads / dep.tp * query_layers if fit is not None else 0.0
    return cached_token_s(shape, rates, dep.tp, query_layers, fit), row_s


def _sparse_kernel_missing(accelerator: Accelerator) -> str:
    """What a DSA answer on a part without the sparse MLA kernel says (hN60: priced in silence): vLLM 0.12.0's sparse
    FlashMLA runs on sm90 and sm100 only (flashmla_sparse.py:89-90), the parts `ops.sparse_attention.HEAD_TILES`
    names; "" on those."""
    if accelerator.catalog_name in HEAD_TILES:
        return ""
    return (f"; {accelerator.catalog_name} is not a part the sparse FlashMLA kernel runs on (sm90 / sm100 only, vLLM "
            "0.12.0 flashmla_sparse.py:89-90): priced as if its engine ran one at the roofline")


def kernel_path(shape: TransformerShape, accelerator: Accelerator, engine: str, kv_dtype: str,
                stack: str | None = None) -> str | None:
    """In words, the absorbed-MLA decode kernel and latent-cache path a deployment is priced with (`serve` prints it),
    or None for a model without MLA. SGLang over an fp8 latent on Hopper says what it runs (a bf16 cast of the whole
    buffer, then FA3; docstring "SGLang on Hopper") and, priced by the roofline, that the answer is optimistic."""
    if not shape.is_mla:
        return None
    if is_sparse(shape):
        return (f"DeepSeek Sparse Attention, roofline: the indexer's {shape.index_head_dim}-wide fp8 keys of every "
                f"cached token, the absorbed MLA core over the top {shape.index_topk} latents per query "
                "(serving.sparse_decode; no measured sparse kernel)" + _sparse_kernel_missing(accelerator))
    fit = measured_fit(shape, accelerator, engine, kv_dtype, stack)
    cast = engine == "sglang" and kv_dtype == "fp8" and accelerator.catalog_name in HOPPER_SGLANG_FIT_PARTS
    if fit is None:
        line = (f"roofline: {kv_dtype} latent bytes at the memory rate, FLOPs at the fused-attention rate (no measured "
                f"{engine} MLA kernel for {accelerator.catalog_name} in use)")
        if not cast:
            return line + _vllm_fp8_note(accelerator, engine, kv_dtype)
        return line + ("; optimistic: SGLang's fa3 on sm90 casts the whole fp8 latent buffer to bf16 each layer "
                       "(its flashattention_backend.py, lines 1197-1199), measured 1.7-2.1x the bf16 kernel's time "
                       "(median), "
                       "4-7x at batch x context >= 64k (AIConfigurator 0.12), not priced (toggle "
                       "SGLANG_HOPPER_MLA_FIT_DTYPES in serving.mla_decode)")
    catalog = (accelerator.efficiency.mla_decode_attention or {}).get(engine, {}).get(kv_dtype)  # type: ignore[call-overload]
    where = "the catalog's" if fit is catalog else "the stack release's"
    path = ("SGLang fa3 on sm90 over an fp8 latent cache cast whole to bf16 each layer "
            "(its flashattention_backend.py, lines 1197-1199): " if cast else "")
    return (f"{path}measured {engine} MLA decode kernel, {kv_dtype} latent ({where} fit: {fit.fixed_s * 1e6:.1f} us "
            f"a layer, latent read at {fit.kv_read_fraction:.2f} of HBM, {fit.flops_per_s / 1e12:,.0f} TF/s)")


def kernel_field(shape: TransformerShape, accelerator: Accelerator, dep: Deployment) -> dict[str, str]:
    """The result's `deployment.mla_decode_kernel` (`kernel_path` of the deployment's decode), none without MLA."""
    path = kernel_path(shape, accelerator, dep.engine, dep.kv_dtype, dep.stack)
    return {} if path is None else {"mla_decode_kernel": path}


def _vllm_fp8_note(accelerator: Accelerator, engine: str, kv_dtype: str) -> str:
    """vLLM over an fp8 latent on Hopper runs FlashMLA, FLASH_ATTN_MLA taking bf16 only (vllm 0.15.1
    v1/attention/backends/mla/flashattn_mla.py:46-49, flashmla.py:49-53); AIConfigurator 0.10.0's vllm/0.14.0
    generation_mla_perf tables (h100_sxm / h200_sxm) time it at a median 1.24 / 1.28x the bf16 kernel, where the
    roofline halves the read. Not priced: those tables' 0.1 ms floor a layer is no kernel's (docstring)."""
    if engine != "vllm" or kv_dtype != "fp8" or accelerator.catalog_name not in HOPPER_SGLANG_FIT_PARTS:
        return ""
    return ("; optimistic: vLLM on sm90 runs FlashMLA over an fp8 latent (FLASH_ATTN_MLA takes bf16 only), measured "
            "at a median 1.24-1.28x the bf16 kernel's time (AIConfigurator 0.10, vLLM 0.14), not priced")
