"""One answer per model: the kimi-k2 and deepseek-v3.2 presets are their Hugging Face files (hF, session 66).

* kimi-k2 is moonshotai/Kimi-K2-Instruct's config.json (aiconfigurator-core 0.12.0 model_configs/moonshotai--Kimi-K2-
  Instruct_config.json): model_type kimi_k2 and the block-fp8 quantization_config (:38-46). Before it carried
  Kimi-K2.5's INT4 quantization_config and model_type deepseek_v3, so `--dtype fp8` took an fp8 KV cache (rule 2 of
  `serving.kv_default`) where the file's own block-fp8 checkpoint takes bf16 (rule 1). The INT4 release is the
  kimi-k2.5 preset (Kimi-K2.5's text_config), which the Hopper MoE set's Kimi-K2.5 rows now read.
* deepseek-v3.2 carries its file's quantization_config (deepseek-ai--DeepSeek-V3.2_config.json:35-44), and SGLang's
  "auto" for a DSA model follows the GPU: fp8_e4m3 on compute capability >= 10, else bfloat16 (sglang 0.5.23
  srt/arg_groups/overrides.py:533-535); vLLM 0.18.0 and TensorRT-LLM keep the checkpoint rule (bf16 here).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from tests.serving.test_one_answer_deepseek_preset_hL65 import preset_and_file_answers

from infraplan.catalog import load_model
from infraplan.catalog.loader import load_accelerator
from infraplan.serving.kv_default import default_kv_dtype
from infraplan.serving.routed_experts import fp8_block_depth
from infraplan.serving.serving_api import estimate_serving
from infraplan.validation.serving_hopper_moe import MODELS as HOPPER_MOE

MODELS = resources.files("infraplan.catalog") / "models"
# quantization_config of Kimi-K2-Instruct's and DeepSeek-V3.2's config.json (aiconfigurator-core 0.12.0 copies)
KIMI_FP8 = {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}
V32_FP8 = {**KIMI_FP8, "scale_fmt": "ue8m0"}
SERVE: dict[str, Any] = {"tp": 8, "dtype": "fp8", "input_len": 256, "output_len": 16, "concurrency": 2,
                         "requests": 4}


def _preset(name: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((MODELS / f"{name}.json").read_text())
    return config


def test_kimi_k2_is_the_instruct_file_block_fp8_included() -> None:
    config = _preset("kimi-k2")
    assert config["quantization_config"] == KIMI_FP8 and config["model_type"] == "kimi_k2"
    assert "moonshotai--Kimi-K2-Instruct_config.json" in config["source"]
    shape = load_model("kimi-k2")
    assert (shape.checkpoint_weight_dtype, shape.checkpoint_weight_scope) == ("fp8", "all")


def test_kimi_k2_fp8_kv_auto_is_the_files_bf16() -> None:
    kv, why = default_kv_dtype(load_model("kimi-k2"), "fp8")
    assert kv == "bf16" and "names no fp8 KV cache" in why  # fp8 before (rule 2, the INT4 config)


def test_kimi_k2_block_fp8_experts_are_priced_as_the_release_stores_them() -> None:
    """model_type kimi_k2 (the file's) keeps the 128 x 128 block-fp8 expert cost deepseek_v3 had."""
    assert fp8_block_depth(load_accelerator("h200"), "trtllm-0.x", "fp8", load_model("kimi-k2").model_type) > 0


def test_kimi_k2_5_is_the_int4_release() -> None:
    config = _preset("kimi-k2.5")
    assert config["quantization_config"]["quant_method"] == "compressed-tensors"
    assert "moonshotai--Kimi-K2.5_config.json" in config["source"]
    shape = load_model("kimi-k2.5")
    assert (shape.checkpoint_weight_dtype, shape.checkpoint_weight_scope) == ("int4", "experts")
    assert shape.max_seq_len == 262144  # K2.5's own context
    assert HOPPER_MOE["moonshotai/Kimi-K2.5"] == "kimi-k2.5"


def test_kimi_k2_preset_and_its_hf_file_give_one_answer(tmp_path: Path) -> None:
    config = _preset("kimi-k2")
    config.pop("source")
    config.update(transformers_version="4.48.3",
                  auto_map={"AutoConfig": "configuration_deepseek.DeepseekV3Config"})
    answers = preset_and_file_answers("kimi-k2", config, tmp_path / "Kimi-K2-Instruct.json", SERVE)
    assert answers[0]["deployment"]["kv_dtype"] == "bf16"
    assert answers[0] == answers[1]


def test_deepseek_v3_2_carries_its_files_quantization_config() -> None:
    config = _preset("deepseek-v3.2")
    assert config["quantization_config"] == V32_FP8
    assert "deepseek-ai--DeepSeek-V3.2_config.json" in config["source"]
    assert load_model("deepseek-v3.2").checkpoint_weight_dtype == "fp8"


@pytest.mark.parametrize(("engine", "part", "kv"), [
    ("sglang", "b200", "fp8"), ("sglang", "gb200", "fp8"), ("sglang", "b300", "fp8"), ("sglang", "gb300", "fp8"),
    ("sglang", "h200", "bf16"), ("sglang", "h100-sxm", "bf16"), ("sglang", "mi300x", "bf16"),
    ("vllm", "b200", "bf16"), ("vllm", "h200", "bf16"), ("trtllm", "gb200", "bf16"), ("trtllm", "h200", "bf16"),
])
def test_dsa_kv_auto_follows_the_engine_and_the_part(engine: str, part: str, kv: str) -> None:
    for dtype in ("fp8", "bf16", "nvfp4"):  # SGLang's override reads the GPU, not the checkpoint
        got, why = default_kv_dtype(load_model("deepseek-v3.2"), dtype, engine, part)
        if engine == "sglang":
            assert got == kv and "overrides.py:533-535" in why
    assert default_kv_dtype(load_model("deepseek-v3.2"), "fp8", engine, part)[0] == kv


def test_a_dense_attention_model_keeps_its_rule_on_sglang_blackwell() -> None:
    assert default_kv_dtype(load_model("deepseek-v3"), "fp8", "sglang", "b200")[0] == "bf16"  # hL65's rule 1


@pytest.mark.parametrize(("system", "kv"), [("dgx-b200", "fp8"), ("hgx-h200", "bf16")])
def test_serve_deepseek_v3_2_on_sglang_takes_the_parts_cache(system: str, kv: str) -> None:
    out = estimate_serving("deepseek-v3.2", system, 8, stack="sglang-0.x", **SERVE)
    assert out.deployment.kv_dtype == kv and "SGLang" in (out.deployment.kv_dtype_source or "")
    trt = estimate_serving("deepseek-v3.2", system, 8, stack="trtllm-0.x", **SERVE)
    assert trt.deployment.kv_dtype == "bf16"
