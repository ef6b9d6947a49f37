"""Blackwell's fused fp4 MoE (trtllm-gen): which routed layers run it, and the launches it makes beside its GEMMs.

`routing_kernels` gives the launches a routed layer pays beside its two grouped expert GEMMs (`serving.routed_experts
.moe_routing_time`): `routed_experts.MOE_ROUTING_KERNELS` (6: top-k, align / sort, the activation quantisation or
workspace set-up before each grouped GEMM, sum) unless the experts run the trtllm-gen fused MoE below.

Fused MXFP4 MoE (`TRTLLM_GEN_MXFP4_MOE`, hO80). Native MXFP4 experts on an NVIDIA part with mxfp4 tensor cores
(sm_100: B200 / B300 / GB200 / GB300) run FlashInfer's trtllm-gen fused MoE, vLLM's default there (vllm 0.12.0
quantization/mxfp4.py:134-141, SM100_FI_MXFP4_BF16; :958-1002 call `trtllm_fp4_block_scale_moe` with the router
logits, the mxfp8 quantisation before it on the MXFP8 path); ASSUMPTION (recalled, not read: no TensorRT-LLM source
here) that TensorRT-LLM's TRTLLM MoE backend runs the same kernels. Beside its two grouped GEMMs it launches one
routing kernel (one block up to 4 tokens, one cluster beyond; histogram / offsets kernels only past the cluster's
tokens: flashinfer 0.6.1 csrc/trtllm_fused_moe_routing_renormalize.cu:29, :438-493), gathers the tokens in GEMM1 and
fuses the bias and clamped SwiGLU there (trtllm_fused_moe_runner.cu:520-541: no activation kernel except DeepSeek
fp8), and one finalize (:551-555): 2 launches, 3 with the quantisation of the input (`TRTLLM_GEN_MOE_KERNELS`), where
`MOE_ROUTING_KERNELS` counts 6; and no activation kernel, whose launch the engine's element-wise passes count on
every layer (`serving.engine_kernels`; its bytes are left there): net 2. AIConfigurator 0.12.0's B200 tables of this
MoE (GPT-OSS-120B experts, balanced, EP 1, one token = 4 experts): TensorRT-LLM 1.3.0rc20 w4a8_mxfp4_mxfp8 25.3 us,
vLLM 0.24.0 trtllm mxfp4 bf16 31.2 us (TP8 19.6 us); the model's GEMMs, routing and activation launch 44.1 us
before, 28.1 us after.

The input's quantisation by engine (`VLLM_MXFP4_BF16_INPUT`, hV, session 51; the third launch exists only where the
engine quantises the bf16 hidden states before the call). On sm_100 with FlashInfer:
* vLLM: MXFP4 x BF16 by default, the hidden states passed as they are (x_quant = x, no scale): read in vllm 0.12.0
  quantization/mxfp4.py:134-141 (SM100_FI_MXFP4_BF16 unless VLLM_USE_FLASHINFER_MOE_MXFP4_MXFP8, default 0; the
  `mxfp8_quantize` at :958-1002 only on that MXFP8 path) and vllm 0.18.0 mxfp4.py:140-146 (the same default;
  validation/notes/serving_hopper_moe_tried.md round 14); 0.15.1, the Blackwell set's release, the same (read in its
  wheel, session 53: quantization/mxfp4.py:106-140, SM100_FI_MXFP4_BF16 unless VLLM_USE_FLASHINFER_MOE_MXFP4_MXFP8 or
  its _CUTLASS variant, both default 0 in envs.py:1254-1263). Routing and finalize only: 2 launches, net 1.
* TensorRT-LLM: W4A8 MXFP4 x MXFP8 with an mxfp8 quantisation launch (AIConfigurator 0.12.0 tables it as
  w4a8_mxfp4_mxfp8, above; ASSUMPTION, recalled: TensorRT-LLM's default quant_algo for an mxfp4 checkpoint on
  sm_100): 3, net 2.
* SGLang 0.5.9: FlashInfer's MXFP8-activation path on sm_100 (srt/layers/quantization/mxfp4.py:136-159, :327-349,
  read in session 50's hN round 14): 3, net 2. NVFP4 (W4A4) always quantises the input (below): 3, net 2.
* Hopper (sm_90) has no mxfp4 tensor cores and so no trtllm-gen MoE: weight-only, the generic count, any engine.
The vLLM one-token layer is then 24.1 us (TP8 17.0) against its table's 31.2 (19.6). Alone (hV) the Blackwell set went
20.718 -> 20.739 % (validation/notes/serving_blackwell_tried.md round 13): it waited for the GEMMs below.

W4A16 GEMMs (`VLLM_MXFP4_BF16_GEMM`, hX, session 51; `bf16_input_gemm`). The same MXFP4 x BF16 path feeds bf16
activations to the tensor cores, the e2m1 weights converted to bf16 in the kernel: a W4A16 GEMM (fp4 weight bytes
from HBM, the bf16 MMA rate, 2,250 TF on a B200, half the 8-bit rate the W4A8 engines run at; PTX ISA tcgen05.mma
kind::f16 vs kind::f8f6f4, recalled), priced by `serving.format_precision.serving_precision` at the part's bf16
fraction x bf16 peak (ASSUMPTION, no table of the trtllm-gen MxE2m1 x BF16 GEMM's efficiency here). Not the
catalog's `weight_only_matmul_fraction`: that is the `mma.sync` mixed-input rate (Marlin; Hopper's weight-only MXFP4),
which the Blackwell parts carry since session 54 (AIConfigurator's Marlin int4 MoE tables, `serving.llm_iteration`)
and a `tcgen05` kernel does not run at. Only where the input rule above holds (vLLM, native MXFP4, NVIDIA parts with
mxfp4 tensor cores); Hopper's weight-only path is unchanged. It moves prefill, not decode: GPT-OSS-120B on a DGX B200
under vLLM, an 8,192-token iteration 51.2 -> 75.4 ms (TP1) / 29.6 -> 32.5 ms (TP8), a 4-sequence decode step 4.071 /
2.916 ms unchanged (the one-token experts read their weights: 24.10 -> 24.11 us a layer at TP1, 17.0 -> 17.6 at TP8,
still under the table's 31.2 / 19.6: the table's extra time at one token is not the MMA rate).
Both rules on: Blackwell 20.718 -> 20.572 % (TTFT 31.056 -> 30.640, TPOT 10.380 -> 10.503; vLLM 0.15.1 TTFT mean
|error| 0.200 -> 0.148, median -0.169 -> -0.040, TPOT 0.123 -> 0.133; unversioned vLLM TTFT 0.217 -> 0.212, TPOT
0.077 -> 0.102); MoE Hopper 14.919, disaggregated 14.547, MLPerf v5.1 24.368 % bit-identical
(validation/notes/serving_blackwell_tried.md round 14).

Fused NVFP4 MoE (`TRTLLM_GEN_NVFP4_MOE`, hF83). NVFP4 (W4A4) experts on an NVIDIA part run the same fused MoE
(`trtllm_fp4_block_scale_moe`, the fp4 quantisation of the input its third launch; nvfp4 runs on Blackwell only):
* SGLang 0.5.9 picks it for DeepSeek-V3 / R1 on sm_100 where the checkpoint is modelopt_fp4 (or fp8) and no
  all-to-all backend is set (srt/server_args.py:1288-1309, `moe_runner_backend = "flashinfer_trtllm"`).
* vLLM 0.17.0 tries it first for every NVFP4 MoE on the sm_100 family (model_executor/layers/fused_moe/oracle/
  nvfp4.py:140-147, FLASHINFER_TRTLLM before CUTEDSL, FlashInfer CUTLASS, vLLM CUTLASS, Marlin;
  experts/trtllm_nvfp4_moe.py:65-68 capability family 100, DeepSeek-V3 routing supported, :228-254).
* TensorRT-LLM: its MoE backend is a launch setting (AIConfigurator 0.12.0's template writes `moe_config.backend`
  with CUTLASS as the default, generator/config/backend_templates/trtllm/extra_engine_args.1.2.0rc6.post1.yaml.j2);
  the measured runs cannot have run CUTLASS: AIConfigurator 0.12.0's B200 tables (moe/trtllm/1.3.0rc20, DeepSeek-R1
  experts, nvfp4, balanced, MoE TP 8, 4 tokens) give the CUTLASS MoE (`moe_torch_flow_cutlass`) 87.5 us a layer and
  the trtllm-gen one (`moe_torch_flow_min_latency`) 25.2 us, and with CUTLASS the MoE (58 x 87.5 us = 5.1 ms) and the
  MLA block (mla/trtllm/1.3.0rc20 mla_generation_module_perf, 16 heads, bf16 projections, fp8 cache, 4 sequences:
  37.5 us x 61 = 2.3 ms) alone exceed the measured 7.19 ms step of TensorRT-LLM 1.2.0rc6.post2's TP8 run at 4 clients
  (silicon sample, DeepSeek-R1 nvfp4, 1,024 / 1,024). ASSUMPTION: the TRTLLM backend, as for MXFP4 above.
The model's DeepSeek-R1 nvfp4 routed layer at MoE TP8 (grouped GEMMs, these launches and the activation's), 1 / 4 /
16 / 64 tokens: 40 / 51 / 85 / 145 us with six launches -> 24 / 35 / 69 / 129 us, against the trtllm-gen table's
21 / 25 / 55 / 95 us (CUTLASS 67 / 88 / 186 / 303): the grouped GEMMs stay 10-35 us over it from 4 tokens (not fitted).
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.ops.precision import kind_dtype
from infraplan.serving.routed_experts import MOE_ROUTING_KERNELS

TRTLLM_GEN_MXFP4_MOE = True  # Blackwell's fused MXFP4 MoE (module docstring; toggle)
TRTLLM_GEN_NVFP4_MOE = True  # the same fused MoE for NVFP4 experts (module docstring; toggle)
VLLM_MXFP4_BF16_INPUT = True  # vLLM's MXFP4 MoE takes the bf16 input unquantised (module docstring; toggle)
VLLM_MXFP4_BF16_GEMM = True  # and its expert GEMMs run W4A16 at the bf16 rate (module docstring; toggle)
TRTLLM_GEN_MOE_KERNELS = 3  # its launches beside the GEMMs: routing, finalize, the input's quantisation
TRTLLM_GEN_INPUT_QUANTISATION = 1  # of those, the input's quantisation (mxfp8 / nvfp4), launched before the call
TRTLLM_GEN_FUSED_ACTIVATION = 1  # the activation launch `engine_kernels` counts a layer, fused into GEMM1 here
BF16_INPUT_MXFP4_ENGINES = ("vllm",)  # engine families whose sm_100 MXFP4 MoE default is MXFP4 x BF16 (docstring)


def fused_formats() -> tuple[str, ...]:
    """The expert formats that run the trtllm-gen fused MoE on an NVIDIA part with their tensor cores (the toggles)."""
    return ("mxfp4",) * TRTLLM_GEN_MXFP4_MOE + ("nvfp4",) * TRTLLM_GEN_NVFP4_MOE


def runs_fused_moe(accelerator: Accelerator, dtype: str) -> bool:
    """Whether experts in `dtype` run the trtllm-gen fused MoE on `accelerator`: a fused format (`fused_formats`) on
    an NVIDIA part with its tensor cores (module docstring)."""
    return dtype in fused_formats() and accelerator.vendor == "NVIDIA" and accelerator.supports(dtype)


def bf16_input_gemm(accelerator: Accelerator, dtype: str, engine: str) -> bool:
    """Whether the `engine` family's native `dtype` expert GEMMs on `accelerator` take bf16 activations (W4A16: fp4
    weight bytes, the bf16 tensor-core rate; `serving.format_precision.serving_precision`): vLLM's MXFP4 x BF16 on a
    part with mxfp4 tensor cores running the fused MoE (module docstring, "W4A16 GEMMs"; toggle)."""
    return (VLLM_MXFP4_BF16_GEMM and dtype == "mxfp4" and engine in BF16_INPUT_MXFP4_ENGINES
            and runs_fused_moe(accelerator, dtype))


def input_quantised(dtype: str, engine: str) -> bool:
    """Whether the `engine` family quantises the fused MoE's bf16 input to `dtype`'s activation format before the
    call (module docstring: vLLM's MXFP4 x BF16 does not; every engine's NVFP4 and the others' MXFP4 x MXFP8 do)."""
    return not (VLLM_MXFP4_BF16_INPUT and dtype == "mxfp4" and engine in BF16_INPUT_MXFP4_ENGINES)


def routing_kernels(accelerator: Accelerator, shape: TransformerShape, run_dtype: str, engine: str = "trtllm") -> int:
    """Launches beside the expert GEMMs of a routed layer of a run in `run_dtype` (its experts in their format,
    `ops.precision.kind_dtype`) under the `engine` family (`Deployment.engine`): for native MXFP4 or NVFP4 experts on
    an NVIDIA part with the format's tensor cores the fused MoE's own, less the activation launch it fuses and the
    input's quantisation where the engine runs none (`input_quantised`; Hopper's weight-only MXFP4 has no mxfp4
    tensor cores: `serving.deployment.mxfp4_weight_only`), else `MOE_ROUTING_KERNELS`."""
    dtype = kind_dtype(shape, run_dtype, "routed_experts")
    if runs_fused_moe(accelerator, dtype):
        unquantised = 0 if input_quantised(dtype, engine) else TRTLLM_GEN_INPUT_QUANTISATION
        return TRTLLM_GEN_MOE_KERNELS - TRTLLM_GEN_FUSED_ACTIVATION - unquantised
    return MOE_ROUTING_KERNELS
