"""Training precisions: which GEMMs run in which number format, at what rate, and what the casts cost.

One `PrecisionRecipe` per training dtype (the labels of `training.enums.Dtype`), read by the step time
(GEMM rate and operand bytes, cast passes, the layers kept in bf16), the memory model (the low-precision
weight copies) and MFU (the peak the recipe's GEMMs run at). The layer's linear GEMMs (QKV / MLA projections,
output projection, FFN and experts, router) take the recipe's format; the attention core (FlashAttention
softmax(QK^T)V), norms, the embedding and the optimizer stay in bf16/fp32 in every recipe below.

* bf16: the reference; no casts.
* fp8 (Transformer Engine, e4m3 forward / e5m2 gradients; Micikevicius et al. 2022, arXiv:2209.05433): a
  cast reads the bf16 tensor (2 B) and writes a 1 B copy and a 1 B transposed copy (Hopper's fp8 GEMMs take
  only the TN layout) = 4 B per element; 3 B where the accelerator's fp8 GEMMs take the NN / NT layouts too
  (`skips_transposed_copy`, below). Scaling: delayed, current (per-tensor) or blockwise 128x128 weights /
  1x128 activations (DeepSeek-V3, arXiv:2412.19437 sec. 3.3) is the stack's `fp8` recipe
  (`catalog.stacks.Fp8Recipe`: amax passes, extra kernels, GEMM rate multiplier). Weights keep a 1 B copy.
* mxfp8 (OCP Microscaling v1.0; 32-element blocks along the reduction dimension, an e8m0 scale each): the
  scale is found inside the cast kernel (no amax pass). Because the blocks run along K, the transposed
  operand cannot be re-used: the cast writes a row-wise and a column-wise copy, 2 (1 + 1/32) B, so 2 + 2.0625
  B per element moved, in one kernel (TE 2.14 `MXFP8Quantizer::quantize`, one `nvte_quantize_v2` for both usages,
  csrc/quantizer.cpp:1645-1657); operands are 1 + 1/32 B. Blackwell tensor cores run it natively at the fp8 rate
  (B200 datasheet: 4.5 PF dense fp8/fp6/mxfp8). Weights keep both copies (2.0625 B), their scales swizzled at every
  GEMM (`ops.gemm_scale_work`).
* nvfp4 (NVIDIA, "Pretraining Large Language Models with NVFP4", arXiv:2509.25149, sec. 2-4): e2m1 values
  in 16-element blocks with an e4m3 block scale and a per-tensor fp32 scale: operands are 0.5 + 1/16 B;
  the per-tensor scale needs the tensor's amax first (one extra read, as fp8 current scaling); row- and
  column-wise copies, the random Hadamard transform of the wgrad inputs fused into the cast (2 + 2 x 0.5625
  B per element). Fprop, dgrad and wgrad run in NVFP4 at the fp4 rate (B200: 9 PF dense), but the recipe
  keeps a share of the linear layers in bf16: the 12B model of the paper kept the first two and the last
  eight of its 62 blocks (16 % of the linear layers, sec. 4.1, "Mixed precision") - `bf16_layer_share`.
  Weights keep both 4-bit copies (1.125 B).

The GEMM rate of a format is its dense peak times the accelerator's measured fraction for it, falling back
through `rate_dtypes` (mxfp8 -> fp8, nvfp4 -> fp4) where no fraction is measured.

Blockwise fp8 on Hopper (`scaling_rate_ratio`): sm90's fp8 tensor cores take no block scales, so a 1x128 /
128x128 block-scaled GEMM promotes its partial sums to fp32 registers once per 128-element K block and applies
the two scales there, on CUDA cores, in the main loop (DeepSeek-V3 report sec. 3.3.2). Transformer Engine 2.14
forces this split accumulation in all three GEMMs of `Float8BlockScaling` (transformer_engine/common/recipe/
__init__.py:348-350, asserted :367-369; pytorch/cpp_extensions/gemm.py:146-148), where per-tensor current scaling
runs fprop with fast accumulation (:247); its expert GEMMs (`GroupedLinear` -> `general_grouped_gemm`,
gemm.py:185-283) are one cuBLAS GEMM per expert spread over several streams (one cuBLAS workspace per stream,
gemm.py:52-58; the C++ side is not in the wheel), not a fused grouped kernel with a per-tile cost like
TensorRT-LLM's MoE (`serving.routed_experts`), so dense and expert GEMMs take one rate. The rate is the accelerator's
`fp8_block_matmul_ratio` times its per-tensor fp8 rate: measured block-scaled / per-tensor fp8 GEMM throughput
over training-size shapes (the catalog entry's source). Blackwell (non-TN fp8 layouts, `emulates_block_scaling`)
runs it as an MXFP8 GEMM (TE 2.14 csrc/extensions/gemm.cpp:288-299: cuBLASLt has no 128-block fp8 GEMM there, the
block scales are converted to E8M0 MXFP8 scales per GEMM, `ops.gemm_scale_work`): the part's mxfp8 rate over its fp8
rate (toggle `BLOCKWISE_AS_MXFP8`).

Parameters kept only quantised (`params_only_quantised`, a stack's `fp8_param_gather`): Megatron-Bridge's
`bf16_with_fp8_current_scaling_mixed` and `bf16_with_mxfp8_mixed` presets set `fp8_param_gather` (megatron-bridge
0.3.1 training/mixed_precision.py:289, :251), which sets `fp8_param` (:74-90); Megatron-Core then builds the GEMM
weights inside TE's `fp8_model_init` (megatron-core 0.16.1 fp8_utils.py:606-645, transformer_config.py:444-449:
"keep the parameters in fp8 precision to save memory"), so no bf16 weights stay beside the fp8 / MXFP8 copy and the
fp32 master weights live in the optimizer. MXFP8 all-gathers bf16 into the gradient buffer and casts from it
(`reuse_grad_buf_for_mxfp8_param_ag`, distributed/param_and_grad_buffer.py:340-355). NVFP4 likewise: megatron-bridge
0.3.1's NVFP4 preset set no parameter flag (mixed_precision.py:392-403), 0.6.0's `bf16_with_nvfp4_mixed` (the preset
of the NVFP4 perf configs) sets `fp4_param_gather` and so `fp4_param` (0.6.0 mixed_precision.py:50-56, :405-417), and
Megatron-Core 0.16.1 builds each layer's weights inside `fp8_model_init` with the NVFP4 recipe (fp4_utils.py:120-166
`get_fp4_context(is_init=True)`, transformer_block.py:344-352): 2D-scaled NVFP4 weights (row- and column-wise,
1.125 B) and no bf16 copy. The recipe's per-GEMM kernels, scale swizzles and column-wise gather fixes beyond the
casts: `ops.nvfp4_recipe`.

The transposed fp8 copy by accelerator (`skips_transposed_copy`; toggle `NON_TN_FP8_COPIES`): Transformer Engine
2.14's per-tensor quantizers (`Float8Quantizer`, delayed scaling; `Float8CurrentScalingQuantizer`) allocate and write
the transposed copy only where `nvte_is_non_tn_fp8_gemm_supported()` is false (transformer_engine_torch 2.14
csrc/quantizer.cpp:252-265, :431-434, :574-584, :769-772: `with_transpose = columnwise_usage && !non_tn`, the
row-wise copy serving both GEMM operands otherwise), true for compute capability 10.x / 11.x and >= 13.0
(transformer_engine/pytorch/utils.py:522-528): Blackwell. The accelerator's catalog `fp8_gemm_layouts` carries it
([tn] Hopper, [tn, nn, nt] Blackwell). The blockwise quantizer (`Float8BlockQuantizer`, quantizer.cpp:922-) does
not ask: its column-wise copy has its own 1x128 scales along the other dimension, a second quantisation, not a
transpose. Nor do MXFP8 / NVFP4 (scales along K). No transposed copy is built after TP's fp8 all-gather either
(pytorch/distributed.py:1058-1067). Serving quantises only forward GEMM inputs (row-wise): no transposed copy is
priced there.

Where Transformer Engine 2.14 casts under sequence parallelism (`shard_cast_terms`; read in the transformer-engine
2.14 wheel and the transformer-engine-torch 2.14 sdist): the input of a column-parallel GEMM that TE's norm produces
(QKV, FC1: LayerNormLinear) is quantised on the rank's sequence shard inside the norm call and all-gathered in the
low-precision format (pytorch/module/layernorm_linear.py:197-275, `gather_along_first_dim(..., quantizer)`); a
row-parallel GEMM's output gradient (projection, FC2) is quantised on its shard and all-gathered the same way
(module/base.py:1186, 1202-1234). Every format gathers its quantised copies (distributed.py `_all_gather_fp8`
:977-1018, `_start_all_gather_fp8_blockwise` :1071-1140, `_all_gather_mxfp8` :1504-1550, `_all_gather_nvfp4`) but
per-tensor fp8, whose transposed copy cannot be gathered (:1000-1014, float8_tensor.py `supports_only_rowwise_all_
gather`): its transpose is built on the gathered tensor (read 1 B, write 1 B). Current scaling finds the amax of a
norm-produced input inside the norm kernel (csrc/extensions/normalization.cpp:115-119, 156-158, 201-202
`FUSED_NORM_AMAX_FP8`, then `quantize_with_amax`: scale kernel + cast, no amax read); every other operand runs
`nvte_compute_amax` (a read of the bf16 tensor), `nvte_compute_scale_from_amax` and the cast (csrc/quantizer.cpp
:857-909): Megatron-Core's own SwiGLU feeds FC2 (`use_te_activation_func` False, transformer_config.py:816), so TE's
fused activation-amax path (activation.cpp:40-41) does not run. NVFP4's norm with the random Hadamard transform's
post-RHT amax stays unfused (normalization.cpp:121-124): its amax read is kept.

Serving formats (`SERVING_FORMATS`, one `ServingFormat` per `serve --dtype`; `serving.format_precision`
prices them, `serving.deployment` refuses a part or engine that lacks one): bf16; fp8 and int8 (W8A8); int4
(weight-only W4A16); nvfp4 (W4A4); mxfp4 (native mxfp4 x mxfp8 where the part lists mxfp4, else weight-only);
mxfp8 (W8A8 MXFP8, OCP Microscaling v1.0: e4m3 weights and activations, one e8m0 scale byte per 32 elements along
K, 1.03125 B an element; the activations quantised per 32 before each GEMM, forward only, no transposed copy). MXFP8
GEMMs run at the part's mxfp8 peak and its own measured fraction, else fp8's (`RECIPES["mxfp8"].rate_dtypes`), and
read their weights at the engine's measured fp8 small-M rate (`weight_read_dtype`): NVIDIA AIConfigurator 0.12.0
prices a ModelOpt MXFP8 layer as the fp8 class (aiconfigurator_core sdk/models/helpers.py:545-557 GEMMs, :576 MoE:
"the same 1 B/elem weights and the same FP8 tensor-core throughput class"). The engines that run it
(`ServingFormat.engines`): SGLang 0.5.9 (`--quantization mxfp8`, server_args.py:97, quantization/__init__.py:55 ->
`Fp8Config(use_mxfp8)`, SM100 and later only, fp8.py:157-158; dense GEMMs `triton_mxfp8_blockscaled_linear`, its
input quantised per 32 in `mxfp8_group_quantize`, fp8_utils.py:657-687; experts on the cutlass MoE at EP 1 only,
server_args.py:2127-2175) and TensorRT-LLM (ModelOpt MXFP8 checkpoints, as AIConfigurator 0.12.0 reads them,
helpers.py:425-465; TensorRT-LLM's own wheel is a PyPI stub, its QuantAlgo not read). vLLM 0.12.0 has no MXFP8
linear method (quantization/__init__.py:11-43; quark's OCP MX schemes leave mxfp8 out, utils/ocp_mx_utils.py:18-26;
only mxfp4 x mxfp8 experts, mxfp4.py:70-71). int8 (W8A8, SmoothQuant's per-token activation scale) is priced as
fp8 on a part listing both at one peak (hQ69): its GEMMs at the int8 peak and fp8's measured fraction
(`Accelerator.same_mma_dtype`), its weights read at fp8's small-M rate (ASSUMPTION: AIConfigurator 0.12.0 measures
W8A8 int8, 'sq', on A100 only; the same 1 B operands through vLLM 0.12.0's one CUTLASS entry, _custom_ops.py:784-832
`cutlass_scaled_mm`, called by its fp8 linear, quantization/utils/w8a8_utils.py:147-163, and its int8 kernel,
kernels/scaled_mm/cutlass.py:138), its casts per `serving.engine_kernels` (`INT8_QUANT`). Before, int8 took the bf16
fraction and the roofline's read, and no cast: 4-13 % under fp8's TPOT on H100 / B200.

Which weights a format covers (`weight_scope`; toggle `CHECKPOINT_SCOPE`): every linear layer of the blocks (a format's
`scope`, "all"), or, where the model config's quantization_config stores the run's format for the routed experts only
(`catalog.model_config_quantization`: GPT-OSS's MXFP4 release, openai/gpt-oss-120b `modules_to_not_convert` self_attn,
mlp.router, embed_tokens, lm_head; Kimi K2.5's INT4 release, compressed-tensors `ignore` lm_head, self_attn,
shared_experts, the dense MLP), "experts": attention, router, shared experts and dense layers then keep bf16 weights
and run bf16 GEMMs (vLLM 0.18.0 runs every non-expert linear of an MXFP4 checkpoint unquantised,
quantization/mxfp4.py:215-230), in the memory plan and in every GEMM's width and rate (`serving.kv_cache`,
`serving.llm_iteration`). A config may keep other kinds in bf16 (`SCOPE_KINDS`: attention projections, attention
output, dense MLP, shared experts, routed experts; ModelOpt NVFP4 DeepSeek releases keep attention or its q / kv
projections): the scope is then its quantised kinds joined by `+`, each GEMM role priced by its kind (`ROLE_KINDS`,
`quantised_roles`), the router kept in bf16 under any scope but `all`; the kinds' activation casts
(`serving.engine_kernels`) and the MLA BMMs' format (`serving.mla_absorb`, kv_b's) follow it (`kind_dtype`). A run in
another format than the config stores is that format on every layer, said in one line
(`serving.serve_inputs.checkpoint_mismatch`). The stored width (`stored_weight_bytes`) adds the group scales a
compressed-tensors integer config states (Kimi K2.5: 4 bits + a bf16 scale per 32 = 0.5625 B;
`catalog.model_config_quantization`).

The LM head's format (`head_dtype`): bf16 under every scope, as the engines run it, except where the config stores
it in the run's format and the engine runs it so (GPTQ / AWQ `lm_head: true`; vLLM 0.18.0 gives the head the
Marlin W4A16 method of the other linears: `catalog.model_config_quantization.lm_head_quantised`): its weights are
then held at the stored width (`ops.head.end_table_bytes`) and its GEMM takes the format's precision path as every
other GEMM of the run does (`serving.llm_iteration`: int4 reads 4-bit weights at the weight-only rate, so
memory-bound decode reads a quarter of the bf16 bytes and compute-bound prefill gains nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_config_quantization import KINDS
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.scalar_path import pick, to_float

ArrayLike = np.ndarray | float | int

BF16_BYTES = 2.0


@dataclass(frozen=True)
class PrecisionRecipe:
    """One training precision (see module docstring)."""

    label: str
    peak_dtype: str  # the catalog peak the recipe's GEMMs run at (MFU is quoted against it)
    rate_dtypes: tuple[str, ...]  # measured matmul fractions to use, first found
    operand_bytes: float  # bytes per GEMM operand element (element + its share of the block scales)
    cast_bytes: float  # bytes moved per element cast: the bf16 read + every low-precision copy written
    amax_read_passes: float  # extra reads of a cast tensor to find its per-tensor scale (0: none / the stack's)
    weight_copy_bytes: float  # bytes per parameter of the low-precision weight copies kept beside bf16
    bf16_layer_share: float  # share of the layers whose linear GEMMs stay in bf16
    # under a stack's `fp8_param_gather`, the weights live only in the low-precision copy (module docstring)
    params_only_quantised: bool = False
    # the part of `cast_bytes` that is a transposed copy of the row-wise one, not written where the accelerator's
    # fp8 GEMMs take non-TN layouts (`skips_transposed_copy`)
    transposed_copy_bytes: float = 0.0

    @property
    def casts(self) -> bool:
        """The recipe quantises GEMM operands (bf16 does not)."""
        return self.cast_bytes > 0.0

    def cast_bytes_on(self, fp8_gemm_layouts: tuple[str, ...], fp8_recipe: str) -> float:
        """Bytes moved per element cast on an accelerator whose fp8 GEMMs take `fp8_gemm_layouts`, under the
        stack's fp8 scaling recipe: less the transposed copy where `skips_transposed_copy`."""
        skipped = self.transposed_copy_bytes if skips_transposed_copy(fp8_gemm_layouts, fp8_recipe) else 0.0
        return self.cast_bytes - skipped

    def supported(self, accelerator: Accelerator) -> bool:
        return accelerator.supports(self.peak_dtype)

    def gemm_flops_per_s(self, accelerator: Accelerator) -> float:
        """Dense peak of the format times the measured (or fallback) matmul fraction."""
        if not self.supported(accelerator):
            raise InputError(f"{accelerator.name} has no {self.peak_dtype} tensor-core rate in its catalog file; "
                             f"--dtype {self.label} needs one")
        fractions = accelerator.efficiency.matmul_max_fraction
        measured = next((d for d in self.rate_dtypes if d in fractions), None)
        fraction = accelerator.matmul_fraction(measured if measured else self.peak_dtype)
        return accelerator.peak(self.peak_dtype) * fraction


def scaling_rate_ratio(accelerator: Accelerator, scaling: str) -> float:
    """fp8 GEMM rate of a stack's scaling recipe over the per-tensor fp8 rate: for `blockwise`, the accelerator's
    measured `fp8_block_matmul_ratio` (block scales applied in the main loop; module docstring), or on Blackwell its
    MXFP8 GEMM rate over its fp8 one (`emulates_block_scaling`); else 1."""
    ratio = accelerator.efficiency.fp8_block_matmul_ratio
    if scaling == "blockwise" and ratio is not None:
        return ratio
    if emulates_block_scaling(accelerator.fp8_gemm_layouts, scaling) and RECIPES["mxfp8"].supported(accelerator):
        return RECIPES["mxfp8"].gemm_flops_per_s(accelerator) / RECIPES["fp8"].gemm_flops_per_s(accelerator)
    return 1.0


def emulates_block_scaling(fp8_gemm_layouts: tuple[str, ...], fp8_recipe: str) -> bool:
    """Whether Transformer Engine runs a `blockwise` fp8 GEMM as an MXFP8 GEMM (module docstring): on compute
    capability >= 10.0, which the catalog marks by non-TN fp8 GEMM layouts (`Accelerator.fp8_gemm_layouts`)."""
    return BLOCKWISE_AS_MXFP8 and fp8_recipe == "blockwise" and NON_TN_LAYOUTS.issubset(fp8_gemm_layouts)


_MX = DTYPE_BYTES["mxfp8"]
_NV = DTYPE_BYTES["nvfp4"]
RECIPES: dict[str, PrecisionRecipe] = {
    "bf16": PrecisionRecipe("bf16", "bf16", ("bf16", "fp16"), BF16_BYTES, 0.0, 0.0, 0.0, 0.0),
    "fp8": PrecisionRecipe("fp8", "fp8", ("fp8",), 1.0, BF16_BYTES + 2.0 * 1.0, 0.0, 1.0, 0.0, True, 1.0),
    "mxfp8": PrecisionRecipe("mxfp8", "mxfp8", ("mxfp8", "fp8"), _MX, BF16_BYTES + 2.0 * _MX, 0.0, 2.0 * _MX, 0.0,
                             True),
    "nvfp4": PrecisionRecipe("nvfp4", "nvfp4", ("nvfp4", "fp4"), _NV, BF16_BYTES + 2.0 * _NV, 1.0, 2.0 * _NV,
                             10.0 / 62.0, True),
}


# fp8 scaling recipes (`catalog.stacks.Fp8Recipe`) whose norm kernel finds the amax, and whose transposed copy is
# built after TP's all-gather (module docstring; on an accelerator that needs one, `skips_transposed_copy`)
NORM_FUSED_AMAX_RECIPES = ("current",)
GATHERED_TRANSPOSE_RECIPES = ("delayed", "current")
# the per-tensor fp8 recipes, whose column-wise operand is the row-wise copy transposed (module docstring)
PER_TENSOR_RECIPES = ("delayed", "current")
NON_TN_LAYOUTS = frozenset(("nn", "nt"))
NON_TN_FP8_COPIES = True  # no transposed copy where the fp8 GEMMs take non-TN layouts (False: 4 B everywhere)
BLOCKWISE_AS_MXFP8 = True  # blockwise fp8 on Blackwell at the MXFP8 GEMM rate (`emulates_block_scaling`; False: fp8's)


def skips_transposed_copy(fp8_gemm_layouts: tuple[str, ...], fp8_recipe: str) -> bool:
    """Whether an fp8 cast writes no transposed copy (module docstring): the stack's fp8 scaling recipe is per-tensor
    and the accelerator's fp8 GEMMs take the NN and NT layouts (`Accelerator.fp8_gemm_layouts`)."""
    return NON_TN_FP8_COPIES and fp8_recipe in PER_TENSOR_RECIPES and NON_TN_LAYOUTS.issubset(fp8_gemm_layouts)


def shard_cast_terms(is_fp8: ArrayLike, fp8_recipe: str, fp8_amax_passes: float, amax_passes: ArrayLike,
                     bf16_share: ArrayLike, no_transpose: bool = False) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    """Bytes per cast element of the casts Transformer Engine runs on the sequence shard (module docstring), on the
    layers the recipe quantises: (an amax read before the cast of an output gradient, 2 B per read pass; the same
    before the cast of a norm-produced input, 0 where the norm finds the amax; the transposed copy built after
    the all-gather, per-tensor fp8, none where `no_transpose`: `skips_transposed_copy`). `is_fp8`: the plans whose
    dtype is fp8 (the stack's `fp8_recipe` and `fp8_amax_passes` apply), else the format's own `amax_passes`."""
    quantised = 1.0 - to_float(bf16_share)
    amax = 2.0 * pick(is_fp8, fp8_amax_passes, amax_passes) * quantised
    norm_amax = pick(is_fp8, 0.0 if fp8_recipe in NORM_FUSED_AMAX_RECIPES else amax, amax)
    gathered = fp8_recipe in GATHERED_TRANSPOSE_RECIPES and not no_transpose
    transpose = pick(is_fp8, 1.0 if gathered else 0.0, 0.0) * quantised
    return amax, norm_amax, transpose


def recipe(label: str) -> PrecisionRecipe:
    """The recipe of a training dtype label; one-line InputError for an unknown one."""
    if label not in RECIPES:
        raise InputError(f"--dtype must be one of {', '.join(RECIPES)}")
    return RECIPES[label]


@dataclass(frozen=True)
class ServingFormat:
    """One serving weight format (`serve --dtype`; module docstring, "Serving formats")."""

    label: str
    peak_dtype: str | None  # the catalog peak a part needs to run it; None: any part (bf16, weight-only formats)
    weight_read_dtype: str  # the measured small-M weight-read rate its GEMMs take (`hardware.kernels`)
    engines: tuple[str, ...] | None = None  # the engine families that run it; None: every one
    engines_source: str = ""  # where `engines` is read
    scope: str = "all"  # the weights a checkpoint of it stores so, without a config saying (`weight_scope`)

    def part_runs(self, accelerator: Accelerator) -> bool:
        """The accelerator's catalog lists the peak the format's GEMMs need (or it needs none)."""
        return self.peak_dtype is None or accelerator.supports(self.peak_dtype)

    def engine_runs(self, engine: str | None) -> bool:
        return self.engines is None or engine in self.engines


SERVING_FORMATS: dict[str, ServingFormat] = {
    "bf16": ServingFormat("bf16", None, "bf16"),
    "fp8": ServingFormat("fp8", "fp8", "fp8"),
    "int8": ServingFormat("int8", "int8", "fp8"),  # W8A8: fp8's measured small-M rate (module docstring)
    "int4": ServingFormat("int4", None, "int4"),  # weight-only W4A16
    "nvfp4": ServingFormat("nvfp4", "nvfp4", "nvfp4"),
    "mxfp4": ServingFormat("mxfp4", None, "mxfp4"),  # native where the part lists mxfp4, else weight-only
    "mxfp8": ServingFormat("mxfp8", "mxfp8", "fp8", ("trtllm", "sglang"),
                           "vLLM 0.12.0 has no MXFP8 linear method, quantization/__init__.py:11-43; SGLang 0.5.9 "
                           "--quantization mxfp8 and TensorRT-LLM's ModelOpt MXFP8 run it"),
}


# the GEMM kinds a checkpoint's scope states (`catalog.model_config_quantization`); a scope is `all` (every kind and
# the router), `experts` (the routed experts only) or its quantised kinds joined by `+`
SCOPE_KINDS = KINDS  # attention, attention_output, dense_mlp, shared_experts, routed_experts
WEIGHT_SCOPES = ("all", "experts")  # the named scopes (`weight_scope`)
CHECKPOINT_SCOPE = True  # a config's stored scope where --dtype is its format (`weight_scope`; toggle to compare)
# the `ops.layer` GEMM roles of each kind (the router's: quantised under `all` only; module docstring)
ROLE_KINDS = {"qkv": "attention", "qkv_down": "attention", "q_down": "attention", "kv_down": "attention",
              "q_up": "attention", "kv_up": "attention", "q_absorb": "attention", "v_absorb": "attention",
              "indexer_q": "attention", "indexer_k": "attention",  # DSA's wq_b / wk (weights_proj: as the router)
              "attention_out": "attention_output", "ffn_up": "dense_mlp", "ffn_down": "dense_mlp",
              "shared_up": "shared_experts", "shared_down": "shared_experts", "expert_up": "routed_experts",
              "expert_down": "routed_experts"}
_KIND_WORDS = {"attention": "attention projections", "attention_output": "attention output",
               "dense_mlp": "dense MLP", "shared_experts": "shared experts", "routed_experts": "routed experts"}


def weight_scope(shape: TransformerShape, label: str) -> str:
    """Which weights a serving run in format `label` quantises (module docstring, "Serving formats"): the model
    config's stored scope where `label` is the format its quantization_config stores (`catalog.
    model_config_quantization`: GPT-OSS's MXFP4 and Kimi K2.5's INT4 checkpoints quantise the routed experts only),
    else the format's own `scope` (every linear layer)."""
    if CHECKPOINT_SCOPE and label == shape.checkpoint_weight_dtype and shape.checkpoint_weight_scope:
        return shape.checkpoint_weight_scope
    return SERVING_FORMATS[label].scope if label in SERVING_FORMATS else "all"


def scope_kinds(scope: str) -> frozenset[str]:
    """The GEMM kinds (`SCOPE_KINDS`) a scope quantises."""
    if scope == "all":
        return frozenset(SCOPE_KINDS)
    return frozenset(("routed_experts",)) if scope == "experts" else frozenset(scope.split("+"))


def kind_dtype(shape: TransformerShape, label: str, kind: str) -> str:
    """The format a run in `label` holds the `kind` GEMMs' weights in: `label` where its scope quantises them, else
    bf16; kind `lm_head`: the LM head's (`head_dtype`)."""
    if kind == "lm_head":
        return head_dtype(shape, label)
    return label if kind in scope_kinds(weight_scope(shape, label)) else "bf16"


def head_dtype(shape: TransformerShape, label: str) -> str:
    """The format a run in `label` holds the LM head's weights in and runs its GEMM at (module docstring): `label`
    where the model config stores the head in it (GPTQ / AWQ `lm_head: true`), else bf16."""
    stored = CHECKPOINT_SCOPE and shape.checkpoint_lm_head_quantised and label == shape.checkpoint_weight_dtype
    return label if stored else "bf16"


def quantised_roles(shape: TransformerShape, label: str) -> frozenset[str] | None:
    """The `ops.layer` GEMM roles a run in `label` quantises: None for every one (scope `all`), else those of its
    scope's kinds (the router not among them)."""
    scope = weight_scope(shape, label)
    if scope == "all":
        return None
    kinds = scope_kinds(scope)
    return frozenset(role for role, kind in ROLE_KINDS.items() if kind in kinds)


def scope_words(scope: str, head_quantised: bool = False) -> tuple[str, str]:
    """(the kinds a scope quantises, those it keeps in bf16 with the router and, unless the checkpoint stores it
    quantised (`head_dtype`), the LM head), in words."""
    kinds = scope_kinds(scope)
    kept = [_KIND_WORDS[k] for k in SCOPE_KINDS if k not in kinds]
    head = [] if head_quantised else ["LM head"]
    return ", ".join(_KIND_WORDS[k] for k in SCOPE_KINDS if k in kinds), ", ".join([*kept, "router", *head])


def stored_weight_bytes(shape: TransformerShape, label: str) -> float:
    """Bytes per quantised weight of a run in format `label`: the model config's stored width with its group scales
    where `label` is its format and it states one (Kimi K2.5's INT4: 0.5 + 2 / 32 B), else the format's own."""
    stored = shape.checkpoint_weight_bytes if CHECKPOINT_SCOPE and label == shape.checkpoint_weight_dtype else 0.0
    return stored or DTYPE_BYTES[label]
