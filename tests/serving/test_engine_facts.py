"""Engine facts as stack data (`kv_cache_dtypes`, `cuda_graph_scope`; `serving.engines`) and the default KV-cache
dtype a serving run takes from its checkpoint (`serving.kv_default`)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from infraplan.catalog.model_config import checkpoint_kv_dtype
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.serving.engine_facts import cuda_graph_scope, kv_cache_dtypes, serving_stacks
from infraplan.serving.kv_cache import KV_DTYPES
from infraplan.serving.serving_api import estimate_serving

DATA_STACKS = Path(__file__).parents[2] / "src/infraplan/validation/data/stacks"
KW = {"input_len": 256, "output_len": 16, "offline": True, "requests": 16, "tp": 1}


def test_every_serving_stack_yaml_states_its_engine_facts() -> None:
    """Each shipped and validation serving YAML carries both facts (cited in the shipped profile of its engine):
    SGLang decode-only graphs and no int8 cache, vLLM piecewise (all) graphs and no int8, TensorRT-LLM all three
    cache formats, its graphs over every iteration except on the Dynamo workers' PyTorch backend (context phases
    eager: trtllm-*-dynamo-agg.yaml, sourced there)."""
    expected = {"sglang": ("decode-only", ("bf16", "fp8")), "vllm": ("all", ("bf16", "fp8")),
                "trtllm": ("all", ("bf16", "fp8", "int8"))}
    refs = serving_stacks() + sorted(str(p) for p in DATA_STACKS.glob("*.yaml"))
    assert len(refs) >= 11
    for ref in refs:
        profile = load_stack(ref).serving
        assert profile is not None and profile.cuda_graph_scope is not None and profile.kv_cache_dtypes, ref
        scope, dtypes = expected[profile.engine]
        if ref.endswith("-dynamo-agg.yaml"):
            scope = "decode-only"
        assert (profile.cuda_graph_scope, tuple(profile.kv_cache_dtypes)) == (scope, dtypes), ref
        assert set(profile.kv_cache_dtypes) <= set(KV_DTYPES)


def _user_stack(tmp_path: Path, engine: str, extra: str = "") -> str:
    path = tmp_path / f"my-{engine}{'-own' if extra else ''}.yaml"  # one file per content: stacks load once a path
    path.write_text(f"display_name: mine\nkind: serving\nstack_class: {engine}\nsource: test\ncuda_graphs: true\n"
                    f"serving:\n  engine: {engine}\n  kv_convention: of_total\n  kv_memory_fraction: 0.9\n"
                    f"  offline_max_batch: 64\n{extra}")
    return str(path)


def test_a_user_stack_states_its_kv_formats_or_takes_its_engine_familys(tmp_path: Path) -> None:
    own = _user_stack(tmp_path, "trtllm", "  kv_cache_dtypes: [bf16]\n")
    with pytest.raises(InputError, match=r"--kv-dtype fp8: trtllm has no fp8 KV cache \(it offers bf16\)"):
        estimate_serving("llama3-8b", "dgx-h100-superpod", 1, stack=own, kv_dtype="fp8", **KW)
    inherited = load_stack(_user_stack(tmp_path, "sglang")).serving  # unset: the shipped sglang-0.x's
    assert inherited is not None and inherited.kv_cache_dtypes is None
    assert kv_cache_dtypes(inherited) == ("bf16", "fp8") and cuda_graph_scope(inherited) == "decode-only"
    with pytest.raises(InputError, match="sglang has no int8 KV cache"):
        estimate_serving("llama3-8b", "dgx-h100-superpod", 1, stack=_user_stack(tmp_path, "sglang"), kv_dtype="int8",
                         **KW)
    r = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, stack=_user_stack(tmp_path, "trtllm"), kv_dtype="int8",
                         **KW)
    assert r.deployment.kv_dtype == "int8" and r.deployment.kv_dtype_source == "--kv-dtype"


@pytest.mark.parametrize(("quant", "expected"), [
    (None, ""),
    ({"quant_method": "modelopt", "quant_algo": "NVFP4",  # nvidia/*-NVFP4 config.json (AIConfigurator 0.12.0 copies)
      "kv_cache_scheme": {"dynamic": False, "num_bits": 8, "type": "float"}}, "fp8"),
    ({"quant_method": "modelopt", "quant_algo": "FP8", "kv_cache_quant_algo": "FP8"}, "fp8"),
    ({"quant_method": "modelopt", "quantization": {"quant_algo": "NVFP4", "kv_cache_quant_algo": "FP8"}}, "fp8"),
    ({"quant_method": "modelopt", "quant_algo": "MIXED_PRECISION", "kv_cache_quant_algo": None}, "bf16"),
    ({"quant_method": "fp8", "weight_block_size": [128, 128]}, "bf16"),  # Qwen3-32B-FP8, DeepSeek-V3: no KV format
    ({"quant_method": "mxfp4"}, "bf16"),  # GPT-OSS
])
def test_the_checkpoints_kv_format_is_read_from_its_quantization_config(quant, expected) -> None:
    assert checkpoint_kv_dtype({} if quant is None else {"quantization_config": quant}) == expected


def test_serve_defaults_the_kv_cache_to_the_checkpoints_and_says_why(tmp_path: Path) -> None:
    """nvfp4 weights without a quantization_config: an NVIDIA ModelOpt checkpoint's FP8 KV cache (was bf16); a config
    whose quantization_config names no KV format keeps bf16 even with fp8 weights; --kv-dtype wins."""
    nvfp4 = estimate_serving("llama3-8b", "dgx-b200", 1, dtype="nvfp4", **KW)
    assert nvfp4.deployment.kv_dtype == "fp8" and "ModelOpt nvfp4" in (nvfp4.deployment.kv_dtype_source or "")
    bf16 = estimate_serving("llama3-8b", "dgx-b200", 1, dtype="nvfp4", kv_dtype="bf16", **KW)
    assert bf16.deployment.kv_cache_tokens_per_replica < nvfp4.deployment.kv_cache_tokens_per_replica
    plain = estimate_serving("llama3-8b", "dgx-b200", 1, **KW)
    assert plain.deployment.kv_dtype == "bf16" and "activation dtype" in (plain.deployment.kv_dtype_source or "")
    from infraplan.catalog.loader import read_entry  # the preset's config.json, given a block-fp8 quantization_config

    config, _ = read_entry("models", "llama3-8b")
    path = tmp_path / "llama-block-fp8.json"
    path.write_text(json.dumps({**config, "quantization_config": {"quant_method": "fp8",
                                                                  "weight_block_size": [128, 128]}}))
    with warnings.catch_warnings():  # fp8 weights, every linear layer: the config's format, modelled (hW41)
        warnings.simplefilter("error", UserWarning)
        block = estimate_serving(str(path), "dgx-b200", 1, dtype="fp8", **KW)
    assert block.deployment.kv_dtype == "bf16" and "quantization_config" in (block.deployment.kv_dtype_source or "")
