"""The KV-cache dtype a serving run takes when `--kv-dtype` is not given, and why (`default_kv_dtype`).

Every modelled engine defaults its KV cache to kv_cache_dtype "auto", and "auto" follows the checkpoint: FP8 where
the checkpoint's quantization config names an FP8 KV cache, else the model's activation dtype (bf16):
* SGLang 0.5.6.post2 model_executor/model_runner.py:1627-1639, 0.5.9 :1669-1687 (`kv_cache_dtype == "auto"`: FP8
  where the ModelOpt quant config's `kv_cache_quant_algo` is FP8, else `self.dtype`), the algo read from the flat
  config.json `kv_cache_scheme` or hf_quant_config.json (layers/quantization/modelopt_quant.py, 0.5.9 :429-452,
  :997-1024);
* vLLM from 0.16.0 (engine/arg_utils.py `resolve_kv_cache_dtype_string`, 0.18.0 :1526-1529; utils/torch_utils.py
  :262-342: ModelOpt `kv_cache_quant_algo` FP8 or `kv_cache_scheme` float / 8 bits -> fp8_e4m3). vLLM 0.12.0 does
  not (torch_utils.py:196-201: "auto" is the model dtype): its rows state their KV dtype;
* TensorRT-LLM: `kv_cache_config.dtype` "auto" (AIConfigurator 0.12.0's engine templates pass
  `kv_cache_config.dtype | default('auto')`, generator/config/backend_templates/trtllm/extra_engine_args.<release>
  .yaml.j2, e.g. 1.2.0rc5 :29, and its rule plugin maps bf16 to "auto", rule_plugin/trtllm.rule:54-55), which takes
  the checkpoint's kv_cache_quant_algo as AIConfigurator models it (aiconfigurator_core sdk/utils.py:1184-1203,
  sdk/models/helpers.py:644-650). TensorRT-LLM's own source is not on PyPI: read through AIConfigurator.

So (`default_kv_dtype`):
1. a model config with a `quantization_config`: the KV dtype it names (`TransformerShape.checkpoint_kv_dtype`,
   read by `catalog.model_config.checkpoint_kv_dtype`: ModelOpt configs only, as vLLM and SGLang read them), where the
   run's weights are the format it stores (`TransformerShape.checkpoint_weight_dtype`; GPT-OSS at fp8 is another
   checkpoint than its MXFP4 release: rule 2);
2. else fp8 or nvfp4 weights: fp8. The preset configs are the bf16 originals, so fp8 / nvfp4 weights mean a
   quantised checkpoint the config does not describe. ASSUMPTION: a ModelOpt checkpoint as NVIDIA publishes them,
   which names an FP8 KV cache: the 27 NVIDIA NVFP4 / FP8 checkpoint configs AIConfigurator 0.12.0 ships
   (aiconfigurator_core model_configs/nvidia--*_hf_quant_config.json, e.g. Qwen3-235B-A22B-NVFP4,
   DeepSeek-V3.1-NVFP4, Llama-3.1-70B-Instruct-FP8) name kv_cache_quant_algo FP8 in 24; the 3 MIXED_PRECISION
   ones (DeepSeek-V4, MiniMax-M3) name none. Block-fp8 releases that are not ModelOpt (Qwen3-32B-FP8) name no KV
   format and run bf16: give their config (or `--kv-dtype bf16`) to price them so;
3. else bf16 ("auto" = the activation dtype).

DeepSeek-V3 / R1 (hL65): their presets are the Hugging Face files, `quantization_config` included (fp8 e4m3 in
128 x 128 blocks, no KV format; aiconfigurator-core 0.12.0 model_configs/deepseek-ai--DeepSeek-V3_config.json:37-45,
-R1 :37-45), so rule 1 gives their fp8 runs a bf16 cache, as the engines' "auto" does with that checkpoint: SGLang
0.5.9 `Fp8Config` has no kv_cache_quant_algo (layers/quantization/fp8.py:111-213) and 0.5.23 reads it from the
config's own key, which DeepSeek's does not have (fp8.py:366-368; mem_cache/kv_cache_dtype.py:49-59: else the model
dtype; its DSA-only fp8 default on sm100, arg_groups/overrides.py:490-547, is not V3 / R1's); vLLM 0.18.0 resolves
"auto" from a ModelOpt config only (utils/torch_utils.py:262-341, engine/arg_utils.py:1526-1529). Before, the preset
had no quantization_config and rule 2 gave it fp8 where the real file gave bf16 (8 H200 TP8 fp8, 16 clients of
1,000 + 1,000 tokens: TPOT p50 21.58 vs 21.72 ms). Not the engines' "auto" but a deployment choice:
AIConfigurator 0.12.0 configures an fp8 / fp8_block / nvfp4 checkpoint with an fp8 KV cache and fp8 FMHA
(sdk/models/helpers.py:657-661); `--kv-dtype fp8` prices that.
DeepSeek Sparse Attention (DeepSeek-V3.2, hF66): SGLang overrides "auto" for a DSA model by the GPU, before the
checkpoint rules: fp8_e4m3 on compute capability 10 and later (Blackwell), else bfloat16 (sglang 0.5.23
srt/arg_groups/overrides.py:490-546, `_dsa_kv_cache_dtype_default`: `"fp8_e4m3" if major >= 10 and not
has_attention_sinks else "bfloat16"`, :533-535; the DSA test is the architecture, srt/configs/model_config.py:191,
DeepSeek-V3.2 has no learnable sinks). So an SGLang stack's DSA run takes fp8 on B200 / GB200 / B300 / GB300 / Rubin
and bf16 on Hopper whatever the checkpoint (`COMPUTE_CAPABILITY_MAJOR`). vLLM 0.18.0 overrides nothing for it
(model_executor/models/config.py:30-42, `DeepseekV32ForCausalLM` maps "bfloat16" to "auto" only): the rules above,
which give deepseek-ai's block-fp8 file (its quantization_config, no KV format) bf16. TensorRT-LLM: the rules above
(ASSUMPTION: its source is not on PyPI, no per-GPU DSA default read).
The result states the dtype and the reason (`deployment.kv_dtype`, `deployment.kv_dtype_source`). The validation
sets build their deployments with each row's stated KV dtype, so none of them moves.
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape

QUANTISED_CHECKPOINT_DTYPES = ("fp8", "nvfp4")  # weights that mean a ModelOpt checkpoint (docstring, rule 2)
# CUDA compute capability's major version by catalog part (NVIDIA's CUDA GPUs list, recalled: A100 8.0, H100 / H200 /
# H800 9.0, B200 / GB200 10.0, B300 / GB300 10.3; Rubin: ASSUMPTION, a later generation than Blackwell, so >= 10).
# Parts not listed (AMD: ROCm reports gfx9's 9.x to torch.cuda.get_device_capability, recalled; others run no SGLang
# DSA kernel) read as below 10. Only SGLang's DSA default reads it (docstring).
COMPUTE_CAPABILITY_MAJOR = {"a100-80gb": 8, "h100-sxm": 9, "h200": 9, "h800": 9, "b200": 10, "gb200": 10, "b300": 10,
                            "gb300": 10, "rubin": 10}
SGLANG_DSA_FP8_MAJOR = 10  # overrides.py:534 `major >= 10`


def varies_by_part(shape: TransformerShape) -> bool:
    """Whether the default KV dtype of `shape` depends on the engine and the part (a DSA model: docstring)."""
    return shape.index_topk > 0


def _sglang_dsa(accelerator: str) -> tuple[str, str]:
    major = COMPUTE_CAPABILITY_MAJOR.get(accelerator, 0)
    kv = "fp8" if major >= SGLANG_DSA_FP8_MAJOR else "bf16"
    return kv, (f"kv_cache_dtype auto: SGLang sets a DeepSeek Sparse Attention model's cache to {kv} on "
                f"{accelerator or 'this part'} (compute capability {major or 'below 10'}; fp8_e4m3 from 10, Blackwell, "
                "else bfloat16: sglang 0.5.23 arg_groups/overrides.py:533-535)")


def default_kv_dtype(shape: TransformerShape, dtype: str, engine: str = "", accelerator: str = "") -> tuple[str, str]:
    """(KV-cache dtype, the reason in one line) for a run of `shape` with `dtype` weights and no `--kv-dtype`, on
    `engine` ("sglang", "vllm", "trtllm") and the catalog part `accelerator` (`Accelerator.catalog_name`): only
    SGLang's DSA rule reads them (docstring)."""
    if engine == "sglang" and varies_by_part(shape):
        return _sglang_dsa(accelerator)
    # the config's checkpoint where the run is in its stored format, or one not read (hW41, `ops.precision`)
    if shape.checkpoint_kv_dtype and shape.checkpoint_weight_dtype in ("", dtype):
        if shape.checkpoint_kv_dtype == "fp8":
            return "fp8", ("kv_cache_dtype auto: the model config's quantization_config names an fp8 KV cache "
                           "(ModelOpt kv_cache_quant_algo / kv_cache_scheme)")
        stored = f" ({shape.checkpoint_weight_dtype} weights)" if shape.checkpoint_weight_dtype else ""
        return shape.checkpoint_kv_dtype, (
            f"kv_cache_dtype auto: the model config's quantization_config{stored} names no fp8 KV cache, so the "
            f"activation dtype, {shape.checkpoint_kv_dtype} (SGLang and vLLM read a KV format from ModelOpt's "
            "kv_cache_quant_algo / kv_cache_scheme only)")
    if dtype in QUANTISED_CHECKPOINT_DTYPES:
        return "fp8", (f"kv_cache_dtype auto on an {dtype} checkpoint: NVIDIA's ModelOpt {dtype} checkpoints name "
                       "kv_cache_quant_algo FP8 (the model config has no quantization_config; --kv-dtype bf16 "
                       "for one that names none)")
    return "bf16", "kv_cache_dtype auto: the model's activation dtype (no quantised KV cache in the checkpoint)"
