"""The element-wise kernels each serving engine family runs per decoder layer, decode and prefill alike.

The serving body used to charge every engine `ops.layer.layer_ops`' inference passes: 10 h + 3 f elements per token
in six launches (norms, residuals, rotary, activation; no cache append). The engines' own code runs fewer, fused
kernels; `ENGINE_KERNELS` charges per engine family what it runs (elements per token, x `ACT_BYTES`, on one GPU):

* add + RMSNorm, twice a layer (all three): the residual add fused into the norm, reading x and the residual and
  writing both, 4 h each. vLLM 0.12.0 `model_executor/models/llama.py` `LlamaDecoderLayer.forward`
  (`input_layernorm(hidden_states, residual)`, `post_attention_layernorm`; `layers/layernorm.py` fused_add_rms_norm,
  or one Inductor kernel of its native form: `config/vllm.py` sets custom_ops "none" under Inductor); SGLang 0.5.6
  `srt/models/llama.py:265,273` (sgl-kernel fused_add_rmsnorm); AIConfigurator 0.12.0's TensorRT-LLM op model
  (`aiconfigurator_core/sdk/models/llama.py:143,168` `generation_add_norm_1/2`, ElementWise 2 h -> 2 h).
* the gated activation, once (all three): silu_and_mul, reading gate and up and writing f (AIConfigurator
  `generation_act_gate` 2 f -> f; vLLM `SiluAndMul`; SGLang `srt/models/llama.py:101`); a shared expert's
  (DeepSeekMoE) bytes but not its launch: both engines run the shared expert on a second stream beside the routed
  experts (SGLang `srt/models/deepseek_v2.py` `forward_normal_dual_stream`; vLLM `fused_moe/shared_fused_moe.py`)
  or, SGLang with DeepSeek-V3/R1 and no EP, inside the routed fused MoE (`serving.routed_experts`).
* RoPE on Q and K, read and written in place, 2 (q + k) (vLLM `RotaryEmbedding`, SGLang `rotary_emb`,
  `srt/models/llama.py:196`); MLA: the rotary parts only (q_pe of the local heads, k_pe).
* the KV-cache append: the new K and V read (2 B) and written at the cache dtype. vLLM: one kernel,
  `reshape_and_cache_flash` inside the FlashAttention backend's forward (`v1/attention/backends/flash_attn.py:642`);
  SGLang: two index copies (`srt/mem_cache/memory_pool.py:798-799`, K then V) and, for a cache dtype other than
  bf16, two casts before them (`:782-783`); SGLang runs RoPE and the append as one kernel with a bf16 cache for
  the models that pass `fused_set_kv_buffer_arg` (`srt/models/utils.py` `enable_fused_set_kv_buffer`: qwen3_moe,
  gpt_oss, bailing_moe); TensorRT-LLM: RoPE and the append are its attention op's one QKV pre-processing kernel
  (AIConfigurator's op model lists no RoPE or append op beside `generation_attention`; ASSUMPTION: one launch).
* MLA (DeepSeek-V2/V3): the q_a and kv_a RMSNorms of the latents, 2 (q_lora + kv_lora) elements: two launches
  in turn in vLLM (`model_executor/layers/mla.py:134,147`), one on the critical path in SGLang (the kv_a norm on a
  second stream under CUDA graphs, `srt/models/deepseek_v2.py:1768-1775`) and TensorRT-LLM (AIConfigurator
  `deepseek.py:366` prices `generation_q_a_layernorm` only). The latent append: vLLM one kernel
  (concat_and_cache_mla); SGLang one Triton kernel (`set_mla_kv_buffer`) and, off bf16, two casts; TensorRT-LLM's
  RoPE + append kernel runs on a second stream beside the query BMM (AIConfigurator `deepseek.py:376-399`, an
  OverlapOp): no launch on the critical path.
* fp8 activation quantisation (`ACTIVATION_QUANT`; W8A8 fp8 deployments), each stack's `activation_quant` (fused |
  attention_output | every_linear; a user's YAML without it: its family's shipped profile's, `serving.engines`):
  TensorRT-LLM fuses it into the producing
  kernel (AIConfigurator prices the norm and the GEMMs with `low_precision_input` and no quant op): none. Read in
  AIConfigurator 0.7.0 (sdk/models.py:468-555, operations.py:147-180), only the output projection and the down
  projection are `low_precision_input` (the attention and SiLU-mul kernels write fp8); QKV and gate-up keep the
  table's measured input cast (`norm_outputs`: those two in kernels of their own; the TensorRT-LLM 1.0.0rc3 release
  stack's OFF variant, `validation.release_stacks.TRTLLM_GEMM_NET_OF_QUANT`, hT54). SGLang
  quantises every fp8 linear's input in its own kernel (`srt/layers/quantization/fp8_utils.py` `apply_fp8_linear`:
  static_quant_fp8 / sglang_per_token_quant_fp8 / per_token_group_quant_fp8): QKV, output, gate/up, down (MLA: the fused
  q_a/kv_a, q_b and output projections; DSA: the indexer's wq_b and wk too, ReplicatedLinears with the layer's quant
  config, sglang 0.5.6 srt/layers/attention/nsa/nsa_indexer.py:133-147, hC63; routed experts: in `MOE_ROUTING_KERNELS`;
  shared experts on their stream or fused). Read again in sglang 0.5.9 for DeepSeek's 128 x 128 block-fp8 checkpoints on
  Hopper: every block-fp8 linear quantises its input in its own kernel before DeepGEMM
  (`layers/quantization/fp8_utils.py:440-485`, `sglang_per_token_group_quant_fp8`; DeepGEMM first in the auto order,
  :254-274); no norm + quant fusion on CUDA (`layers/communicator.py`: ROCm gfx95 only); the absorbed W_UK / W_UV BMMs
  run in bf16, dequantised at
  load (`models/deepseek_common/deepseek_weight_loader.py:503-515`, SGL_USE_DEEPGEMM_BMM off): three launches on a
  routed MLA layer, five on the first dense ones (`routed_layer_share`). MXFP8 (W8A8, `ops.precision`) the same:
  sglang 0.5.9's `triton_mxfp8_blockscaled_linear` quantises each linear's input per 32 in its own kernel
  (`mxfp8_group_quantize`, fp8_utils.py:657-687), called from every mxfp8 linear (fp8.py:602-617).
  vLLM compiles the quantisation with the norm and the activation that feed it (Inductor, custom ops
  "none"), leaving the output projection's input after the attention op: one launch (ASSUMPTION: Inductor fuses the
  others; `config/vllm.py`). vLLM 0.9 (the MLPerf v5.1 MI300X rows, validation/data/stacks/vllm-0.9-rocm.yaml)
  casts every fp8 linear's input (w8a8_utils.py:350-365; V1's norm + quant pass off, config.py:3908).
  Each cast also moves its bytes (`QUANT_BYTES`, hA52): the bf16 input read and the fp8 copy written, 2 + 1 B per
  element (inference writes no transposed copy, unlike training's `ops.precision` casts), in the layer's one
  `memory_bound_time` pass; AIConfigurator 0.12.0's measured vLLM static cast (quantize/vllm/0.24.0/scale_matrix_perf
  .parquet, H200) is within 6 % of 3 B at the memory rate from M K >= 2^25 and 2.1-3.0 us below (the catalog's 4 us
  launch: 1.6-1.9x). The bytes on (vLLM 0.9's rule on as well), validate: MLPerf v5.1 24.57 -> 24.65 % (the rule
  alone 24.45), dense Hopper 20.88 -> 20.92, disaggregated 14.47 -> 14.55, MoE 14.91 -> 14.92.
  Only the GEMM kinds a checkpoint quantises launch one (`ops.precision.weight_scope`): a kind it keeps in bf16 runs
  the unquantised linear method, whose input needs no cast (vLLM 0.18.0 / SGLang `UnquantizedLinearMethod`).
* nvfp4 activation quantisation (`NVFP4_QUANT`; W4A4 nvfp4 deployments, hN80): a stack that does not fuse its casts
  quantises every nvfp4 linear's input in a kernel of its own, whatever its fp8 rule: the cast is an opaque C++ op
  called inside the linear's apply, which Inductor cannot fuse into the norm or activation before it. vLLM 0.11.0
  (model_executor/layers/quantization/modelopt.py:1000, 0.12.0 :1085: `scaled_fp4_quant`, then FlashInfer's CUTLASS
  FP4 GEMM, the default backend, 0.11.0 :853-857) with its RMSNorm / SiluMul + quant passes off by default (0.11.0
  config/compilation.py:77 `enable_fusion` False; 0.12.0 config/vllm.py:86-100 only with the rms_norm / quant_fp8
  custom ops on, "none" under Inductor); SGLang 0.5.9 (srt/layers/quantization/modelopt_quant.py:1290
  `fp4_quantize` in `ModelOptFp4LinearMethod.apply`). TensorRT-LLM fuses them (`fused`, as for fp8). Bytes: the bf16
  input read and the e2m1 + scale copy written, 2 + 0.5625 B per element. vLLM 0.17.0 fuses more (not modelled: the
  validation set's vllm-0.16 profile keeps this rule): SiluAndMul + the cast for nvfp4 models (config/vllm.py:100-110)
  and, at TP > 1 on SM100, the all-reduce + RMSNorm + the cast (:113-135, compilation/passes/fusion/
  allreduce_rms_fusion.py:811-822), leaving the output projection's. Measured on the Blackwell set's vLLM nvfp4
  Llama 3.1 70B rows (60, TP 1-8): TPOT median -0.138 -> -0.008, mean |error| 13.3 -> 5.1 %
  (validation/notes/serving_blackwell_tried.md, round 5).
* int8 activation quantisation (`INT8_QUANT`; W8A8 int8, SmoothQuant's per-token dynamic scale, hQ69): as nvfp4's,
  every int8 linear's input in a kernel of its own on a stack that does not fuse its casts. vLLM 0.12.0's one CUDA
  W8A8 int8 kernel (model_executor/layers/quantization/kernels/scaled_mm/__init__.py:28-30, `CutlassScaledMM`) casts
  with `ops.scaled_int8_quant` (scaled_mm/cutlass.py:116-122), the C++ op `_C.dynamic_scaled_int8_quant`
  (_custom_ops.py:1695-1733), which Inductor cannot fuse, and its norm + quant patterns are fp8's only
  (compilation/fusion.py:342-357); SGLang 0.5.9 runs `per_token_quant_int8`, a Triton kernel, in every int8 linear
  (srt/layers/quantization/w8a8_int8.py:216, compressed_tensors_w8a8_int8.py:174). TensorRT-LLM fused, as its fp8
  (ASSUMPTION: its source is not readable here). Bytes 2 + 1 B an element. Before, int8 launched no cast at all.

* Qwen3's QK norm (`QK_NORM_KERNELS`; model types qwen3 / qwen3_moe): a per-head RMSNorm of Q and of K between
  the QKV GEMM and RoPE, every layer. SGLang (0.5.1.post1 / 0.5.6 `srt/models/qwen3.py` and 0.5.6 `qwen3_moe.py`
  `_apply_qk_norm`): `q.reshape(-1, head_dim)` of the split QKV output, a copy when the batch holds more than one
  token (the slice's row stride is q + 2 kv, not q), then the norm; under CUDA graphs K's copy and norm run on a
  second stream, so two launches sit on the critical path (four when eager). vLLM 0.12.0 (`qwen3.py:145-151`,
  `qwen3_moe.py:305-309`): `q_norm` / `k_norm` in their native form before `rotary_emb`, compiled by Inductor
  (custom ops "none"); ASSUMPTION: Inductor emits one kernel per tensor, Q's and K's norm with their rotation, one
  launch more than a Llama layer's RoPE. TensorRT-LLM (not readable here: the PyPI wheel is a stub): ASSUMPTION, one
  launch, its Qwen3 attention's fused QK-norm + RoPE kernel ahead of the attention op (recalled, `QKNormRoPEAttention`).
  Each launch passes over the token's Q and K once (read and write). Round 9 measured it with TensorRT-LLM at one
  launch (dense 19.83 -> 19.71 %, MoE / MLA 16.28 -> 16.30 %) and left it off, the gain resting on that unsourced
  launch; issue 13 round 13 switches it on with TensorRT-LLM at 0 extra launches (ASSUMPTION: the fused QK-norm +
  RoPE kernel takes the place of the RoPE launch, in the same pass over Q and K), since every engine runs the norm
  (training prices it too, `ops.qk_norm`); round 9 measured this variant at dense 19.90, MoE 16.24 %.
  Llama 4's weightless QK norm (`use_qk_norm`, on its RoPE layers: `TransformerShape.qk_norm_layers`, 36 of
  Scout's 48; Maverick's config has it off) the same per normed layer, on their share: SGLang 0.5.6.post2
  (srt/models/llama4.py:333-337) copies Q and K together (`.contiguous()`) and norms them, two launches; vLLM
  0.12.0 (model_executor/models/llama4.py:289-296) runs `qk_norm` on Q and on K after RoPE, compiled by
  Inductor as Qwen3's (ASSUMPTION: one launch); TensorRT-LLM: ASSUMPTION, fused as Qwen3's (0).

* DeepSeek Sparse Attention's indexer (DeepSeek-V3.2; `INDEXER_PROLOGUE`, hU62): between its three projections
  (GEMMs of `ops.mla_gemms`, a launch each; wq_b's and wk's fp8 input casts fused with the norms that feed them by
  the rule above, as q_b's and q_a / kv_a's are: the same inputs) and the indexer op, vLLM 0.12.0's `Indexer.forward`
  (model_executor/models/deepseek_v2.py:864-899) runs: the key's LayerNorm (fp32 `F.layer_norm`, layers/
  layernorm.py:427-442), rotation (the indexer's own neox rope, :1039-1045, pure torch: rotary_embedding/
  deepseek_scaling_rope.py:108-165) and concatenation, one Inductor kernel; the query's rotation and concatenation,
  one (ASSUMPTION: one kernel per tensor, as for Qwen3's QK norm below; the two ropes differ in size); the query's
  per-128 fp8 cast, `torch.ops._C.per_token_group_fp8_quant` (layers/quantization/utils/fp8_utils.py:611-614), an
  opaque op: one; the head weights scaled by the query scales (:895-897), after the bf16 weights_proj GEMM and the
  opaque cast, so fused into neither: one. `INDEXER_PROLOGUE_KERNELS` vLLM 4 a layer forward, decode and prefill alike
  (one code path; decode's CUDA-graph replay still runs each kernel, at the launch cost every element-wise kernel
  here pays), over every forward of a layer holding an indexer (the draft layer's too: `serving.sparse_decode`);
  bytes `ops.sparse_attention.indexer_prologue_bytes` (58,752 B a token). The key's fp8 cast and the ops after it
  are the indexer op's (`serving.sparse_decode`; `vllm::sparse_attn_indexer` is a piecewise split op,
  config/compilation.py:642-655). SGLang 0.5.6 (srt/layers/attention/nsa/nsa_indexer.py, `Indexer.forward_cuda`
  :784-941, hC63): the rotation of the query's and key's rope parts in one in-place kernel
  (`apply_rope_with_cos_sin_cache_inplace`, layers/rotary_embedding.py:227-263, the indexer's `get_rope_wrapper`
  :157-165; the slice writes back, :225-226, copy a view onto itself: ATen's copy_ returns early, recalled), the
  query's Hadamard rotation (`rotate_activation`, sgl_kernel `hadamard_transform`, :83-91, :240), its fp8 cast
  (the Triton `act_quant`, nsa/triton_kernel.py:86-126, :846), and the head weights (`_get_logits_head_gate`,
  torch.compile'd, :170-175: the input cast to fp32 for the fp32 `weights_proj`, a kernel before the extern GEMM,
  and the scaling after it, one): 5 in every phase. The key's LayerNorm (flashinfer `layernorm`, one kernel:
  layers/layernorm.py:307-318, flashinfer 0.5.3 norm.py:250), Hadamard rotation and fp8 cast (:202, :243, :848) run
  on a second stream in a captured decode forward (:805-811) and on the critical path elsewhere: those 3 are the
  prefill call's (`serving.sparse_decode`). wq_b's and wk's fp8 input casts are the activation-quant rule's
  (`every_linear`: each linear's own kernel; below). TensorRT-LLM not readable here: ASSUMPTION, vLLM's 4, as the
  indexer op's count is (`INDEXER_PROLOGUE_KERNELS`). SGLang 0.5.9 (a profile's `dsa_indexer_release`,
  `RELEASE_PROLOGUE_KERNELS`, hM63): the head gate's weights_proj in bf16 and one compiled kernel after it
  (nsa_indexer.py:242-249), so 4; a captured decode's two eager scalings by the query scales (:989) are its decode
  call's (`serving.sparse_decode`). Bytes: vLLM's passes for every family (ASSUMPTION; SGLang's
  two Hadamard passes and fp32 weights input are not priced).

vLLM 0.12.0 runs no fusion passes across these kernels on Hopper (`config/vllm.py`: fuse_allreduce_rms False at
every level, fuse_attn_quant = IS_QUANTIZED = False; FlashAttention has no fused output quantisation). A recent
vLLM (0.34.0) fuses more, not modelled here (the rows run 0.12): at -O2 with TP > 1 on Hopper / Blackwell the TP
all-reduce carries the residual add and RMSNorm (`enable_allreduce_rms_fusion`: two launches fewer a layer) and a
quantised model's attention emits fp8 (`fuse_attn_quant`); its RoPE + cache fusion is ROCm-only.

The passes the attention op launches itself (TensorRT-LLM's pre-processing, vLLM's and SGLang's append) are
`attention_op_kernels`: launched with the attention core (`prefill_fixed_s`, and `decode_fixed_s` under the
roofline), held by the measured decode-attention fit when `decode_kernels.MEASURED_DECODE_ATTENTION` is on; their
bytes stay in the body. An engine family not listed keeps `layer_ops`' passes.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.model_config import TransformerShape
from infraplan.hardware.kernels import KernelRates, memory_bound_time
from infraplan.ops.layer import Elementwise
from infraplan.ops.params import ACT_BYTES, kv_width, q_width
from infraplan.ops.precision import scope_kinds, weight_scope
from infraplan.ops.qk_norm import qk_norm_share
from infraplan.ops.sparse_attention import indexer_prologue_bytes, is_sparse
from infraplan.serving.deployment import Deployment
from infraplan.serving.engine_facts import activation_quant, family_quant
from infraplan.serving.engines import serving_profile

ENGINE_KERNELS = True  # per-engine element-wise kernels (toggle; False: `layer_ops`' six passes for every engine)
ACTIVATION_QUANT = True  # fp8 activation-quantisation launches that the engine does not fuse (toggle)
QUANT_BYTES = True  # and their bytes per input element: the bf16 read, the fp8 copy written (hA52; toggle)
NVFP4_QUANT = True  # nvfp4: every linear's cast to fp4 on a stack that does not fuse casts (module docstring; toggle)
INT8_QUANT = True  # int8 (W8A8): every linear's cast, as nvfp4's (module docstring; hQ69; toggle)
INDEXER_PROLOGUE = True  # DSA's indexer passes before its op (module docstring; hU62; toggle)
# per engine family, on the critical path (module docstring): vLLM key norm + rope, query rope, query fp8 cast,
# head-weight scaling; SGLang rope, query Hadamard, query fp8 cast, head-gate input cast and scaling
INDEXER_PROLOGUE_KERNELS: dict[str, float] = {"trtllm": 4.0, "vllm": 4.0, "sglang": 5.0}
# per release a profile names (`dsa_indexer_release`, hM63): SGLang 0.5.9's prefill path (docstring); 0.5.6 the family's
RELEASE_PROLOGUE_KERNELS: dict[str, float] = {"sglang-0.5.6": 5.0, "sglang-0.5.9": 4.0}
QK_NORM = True  # Qwen3's per-head Q / K RMSNorm launches (module docstring; on since issue 13 round 13)
# on the critical path, per layer; TensorRT-LLM 0: its QK norm fused into the RoPE launch it replaces (module docstring)
QK_NORM_KERNELS: dict[str, float] = {"trtllm": 0.0, "vllm": 1.0, "sglang": 2.0}
_QK_NORM_MODELS = ("qwen3", "qwen3_moe")  # HF model types with q_norm / k_norm in every attention layer
ENGINES = ("trtllm", "vllm", "sglang")
_SGLANG_FUSED_ROPE_APPEND = ("qwen3_moe", "gpt_oss", "bailing_moe")  # `enable_fused_set_kv_buffer` callers


def applies(engine: str) -> bool:
    """Whether `engine`'s own element-wise table prices the body (module docstring)."""
    return ENGINE_KERNELS and engine in ENGINES


def _rope_elements(shape: TransformerShape, tp: int) -> float:
    """Q and K elements RoPE rotates per token on one GPU."""
    if shape.is_mla:
        return (shape.num_heads / tp + 1.0) * shape.qk_rope_head_dim
    return float(q_width(shape, tp) + kv_width(shape, tp) / 2.0)


def _append_read_elements(shape: TransformerShape, tp: int) -> float:
    """Activation elements the cache append reads per token (new K and V, or MLA's latent and rotary key)."""
    if shape.is_mla:
        return float(shape.kv_lora_rank + shape.qk_rope_head_dim)
    return float(kv_width(shape, tp))


def attention_op_kernels(shape: TransformerShape, engine: str, kv_dtype: str) -> float:
    """Launches per layer that the engine's attention op runs beside its core (RoPE / append; module docstring)."""
    if not applies(engine) or (engine == "trtllm" and shape.is_mla):  # MLA: overlapped with the query BMM
        return 0.0
    if engine == "sglang":
        fused = shape.model_type in _SGLANG_FUSED_ROPE_APPEND and kv_dtype == "bf16"
        copies = 1.0 if shape.is_mla else 2.0  # set_mla_kv_buffer's one kernel; K and V
        return 0.0 if fused else copies + (2.0 if kv_dtype != "bf16" else 0.0)
    return 1.0  # TensorRT-LLM's pre-processing kernel, vLLM's reshape_and_cache_flash / concat_and_cache_mla


def _body_passes(shape: TransformerShape, engine: str, kv_dtype: str, tp: int,
                 release: str | None = None) -> tuple[float, float]:
    """(bytes per token, launches) per layer of the passes outside the attention op, plus the attention op's
    pre-processing bytes (its launches: `attention_op_kernels`)."""
    h = float(shape.hidden_size)
    f_act = (shape.ffn_hidden_size * (shape.experts_per_token if shape.is_moe else 1)
             + shape.shared_ffn_hidden_size) / tp
    elements, kernels = 8.0 * h + 3.0 * f_act, 3.0
    if shape.is_mla:  # vLLM runs the two latent norms in turn; SGLang overlaps them on two streams
        elements, kernels = elements + 2.0 * (shape.q_lora_rank + shape.kv_lora_rank), kernels + (
            2.0 if engine == "vllm" else 1.0)
    rope = 2.0 * _rope_elements(shape, tp)
    fused_rope = engine == "trtllm" or (engine == "sglang" and attention_op_kernels(shape, engine, kv_dtype) == 0.0)
    kernels += 0.0 if fused_rope else 1.0
    qk_norm = qk_norm_kernels(shape, engine)  # Qwen3: each launch reads and writes Q and K once
    index = indexer_prologue_kernels(shape, engine, release)  # DSA's indexer passes (module docstring)
    kernels += qk_norm + index
    index_bytes = indexer_prologue_bytes(shape, ACT_BYTES) if index else 0.0
    read = _append_read_elements(shape, tp)
    append_bytes = read * ACT_BYTES + read * DTYPE_BYTES[kv_dtype]
    if engine == "sglang" and kv_dtype != "bf16":
        append_bytes += read * (ACT_BYTES + DTYPE_BYTES[kv_dtype])  # the cast pass before the copies
    return elements * ACT_BYTES + (1.0 + qk_norm) * rope * ACT_BYTES + append_bytes + index_bytes, kernels


def qk_norm_kernels(shape: TransformerShape, engine: str) -> float:
    """Launches per layer on the critical path of Qwen3's per-head Q / K RMSNorm (module docstring), and of Llama 4's
    on its share of QK-normed layers (`ops.qk_norm.qk_norm_share`)."""
    share = 1.0 if shape.model_type in _QK_NORM_MODELS else qk_norm_share(shape)
    if not (QK_NORM and applies(engine)) or not share:
        return 0.0
    return QK_NORM_KERNELS[engine] * share


def indexer_release(engine: str, stack: str | None) -> str | None:
    """The release whose DSA indexer kernels `stack` runs (its profile's `dsa_indexer_release`), or None: the
    engine family's counts."""
    profile = serving_profile(stack) if stack else None
    return profile.dsa_indexer_release if profile is not None and profile.engine == engine else None


def indexer_prologue_kernels(shape: TransformerShape, engine: str, release: str | None = None) -> float:
    """Launches per layer of DSA's indexer passes between its projections and its op (module docstring), as
    `release` runs them where named (`RELEASE_PROLOGUE_KERNELS`), else as the engine family's counted release."""
    if not (INDEXER_PROLOGUE and applies(engine) and is_sparse(shape)):
        return 0.0
    return RELEASE_PROLOGUE_KERNELS[release] if release else INDEXER_PROLOGUE_KERNELS[engine]


def _quant_rule(engine: str, dtype: str, stack: str | None) -> str | None:
    """The activation-quant rule a run follows (`_quant_inputs`), None where no cast runs apart."""
    quantised = ("fp8", "mxfp8") + ("nvfp4",) * NVFP4_QUANT + ("int8",) * INT8_QUANT
    if not (ACTIVATION_QUANT and dtype in quantised and applies(engine)):
        return None
    profile = serving_profile(stack) if stack else None  # a stack of another engine family: the family's own
    rule = activation_quant(profile) if profile is not None and profile.engine == engine else family_quant(engine)
    if rule == "fused":
        return None
    return "every_linear" if dtype in ("nvfp4", "int8") else rule  # nvfp4, int8: an opaque cast op inside every
    # linear, Inductor fuses none (module docstring)


def indexer_query_launches(shape: TransformerShape, dep: Deployment) -> float:
    """Launches a layer of the DSA indexer's query side outside its op, which SGLang's key-only path skips
    (`serving.sparse_decode.short_prefill`): the prologue's passes but the rope (ASSUMPTION: one in-place kernel
    over the key alone as over both, nsa_indexer.py:264 in 0.5.6 / 0.5.9) and wq_b's input cast where the rule
    counts the indexer's linears."""
    prologue = indexer_prologue_kernels(shape, dep.engine, indexer_release(dep.engine, dep.stack))
    cast = (_quant_rule(dep.engine, dep.dtype, dep.stack) == "every_linear"
            and "attention" in scope_kinds(weight_scope(shape, dep.dtype)))
    return max(prologue - 1.0, 0.0) + float(cast and prologue > 0)


def _quant_inputs(shape: TransformerShape, engine: str, dtype: str, tp: int,
                  stack: str | None) -> tuple[float, float]:
    """(launches, bf16 input elements per token on one GPU) per layer of the casts of GEMM inputs to fp8 (nvfp4)
    that run in kernels of their own: the stack's `activation_quant` rule (nvfp4: every linear unless fused;
    module docstring)."""
    rule = _quant_rule(engine, dtype, stack)
    if rule is None:
        return 0.0, 0.0
    kinds = scope_kinds(weight_scope(shape, dtype))  # a checkpoint's bf16 kinds quantise nothing (`ops.precision`)
    h = float(shape.hidden_size)
    output = 1.0 * ("attention_output" in kinds)  # the output projection's input, after the attention op
    out_width = float(shape.num_heads * shape.v_head_dim / tp if shape.is_mla else q_width(shape, tp))
    if rule == "attention_output":
        return output, output * out_width
    # every plain GEMM's input; the dense FFN's two on the layers without routed experts (DeepSeek's first 3)
    attention = 1.0 * ("attention" in kinds)  # QKV (MLA: the fused q_a / kv_a on h, and q_b on the q latent)
    dense = (1.0 - shape.routed_layer_share) * ("dense_mlp" in kinds)
    ffn = shape.dense_ffn_hidden_size if shape.is_moe else shape.ffn_hidden_size
    q_in = h + float(shape.q_lora_rank or shape.hidden_size) if shape.is_mla else h
    if rule == "norm_outputs":  # the inputs a norm writes: QKV (MLA: q_a / kv_a and q_b), the dense gate-up
        return (2.0 if shape.is_mla else 1.0) * attention + dense, attention * q_in + dense * h
    # DSA: the indexer's wq_b and wk, fp8 linears of the attention (module docstring); its weights_proj is bf16
    sparse = attention * is_sparse(shape)
    index, index_in = 2.0 * sparse, sparse * (float(shape.q_lora_rank or h) + h)
    return ((2.0 if shape.is_mla else 1.0) * attention + index + output + 2.0 * dense,
            attention * q_in + index_in + output * out_width + dense * (h + ffn / tp))


def activation_quant_kernels(shape: TransformerShape, engine: str, dtype: str, stack: str | None = None,
                             tp: int = 1) -> float:
    """Launches per layer that quantise a GEMM's bf16 input to fp8 on their own (module docstring); `stack`: the
    deployment's stack (its `activation_quant`), else the engine family's shipped profile."""
    return _quant_inputs(shape, engine, dtype, tp, stack)[0]


def elementwise_time(shape: TransformerShape, rates: KernelRates, dep: Deployment, tokens: np.ndarray,
                     layer_ops_pass: Elementwise) -> np.ndarray:
    """Seconds per layer of the element-wise passes outside the attention op for `tokens` tokens on one GPU: the
    engine's table, or `layer_ops`' inference pass (`layer_ops_pass`) where none applies."""
    if not applies(dep.engine):
        return memory_bound_time(rates, layer_ops_pass.bytes, kernels=layer_ops_pass.kernels)
    release = indexer_release(dep.engine, dep.stack) if is_sparse(shape) else None
    per_token, kernels = _body_passes(shape, dep.engine, dep.kv_dtype, dep.tp, release)
    quant_kernels, quant_elements = _quant_inputs(shape, dep.engine, dep.dtype, dep.tp, dep.stack)
    per_token += quant_elements * (ACT_BYTES + DTYPE_BYTES[dep.dtype]) if QUANT_BYTES else 0.0
    kernels += quant_kernels
    return memory_bound_time(rates, tokens * per_token, kernels=kernels)


def attention_launch_s(shape: TransformerShape, rates: KernelRates, engine: str, kv_dtype: str) -> float:
    """Seconds per layer of the attention op's launches under the roofline: its core and its pre-processing /
    append kernels (`attention_op_kernels`)."""
    return rates.kernel_overhead_s * (1.0 + attention_op_kernels(shape, engine, kv_dtype))
