"""Every config key is modelled, known harmless, or named in a one-line ModelConfigWarning."""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any

import pytest

from infraplan.catalog import list_presets, load_model
from infraplan.catalog.model_config import (
    HARMLESS_KEYS,
    UNMODELLED_KEYS,
    ModelConfigWarning,
    shape_from_hf_config,
)

DEEPSEEK_V3: dict[str, Any] = {
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "hidden_size": 7168,
    "intermediate_size": 18432, "moe_intermediate_size": 2048, "num_hidden_layers": 61,
    "num_attention_heads": 128, "num_key_value_heads": 128, "n_routed_experts": 256, "num_experts_per_tok": 8,
    "n_shared_experts": 1, "first_k_dense_replace": 3, "moe_layer_freq": 1, "kv_lora_rank": 512,
    "q_lora_rank": 1536, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128,
    "num_nextn_predict_layers": 1, "vocab_size": 129280, "max_position_embeddings": 163840, "hidden_act": "silu",
    "rope_theta": 10000, "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "n_group": 8, "topk_group": 4, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "norm_topk_prob": True,
    "rope_scaling": {"type": "yarn", "factor": 40}, "bos_token_id": 0, "eos_token_id": 1,
}


def _preset_config(name: str) -> dict[str, Any]:
    text = resources.files("infraplan.catalog").joinpath("models", f"{name}.json").read_text()
    return dict(json.loads(text))


def _no_warnings(config: dict[str, Any], name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        shape_from_hf_config(config, name)


def test_deepseek_v3_loads_exactly_without_warning() -> None:
    _no_warnings(DEEPSEEK_V3, "deepseek-v3")
    shape = shape_from_hf_config(DEEPSEEK_V3, "deepseek-v3")
    assert shape.num_experts == 256 and shape.experts_per_token == 8
    assert (shape.kv_lora_rank, shape.q_lora_rank, shape.head_dim, shape.v_head_dim) == (512, 1536, 192, 128)
    assert (shape.num_dense_layers, shape.num_routed_layers, shape.num_mtp_layers) == (3, 58, 1)


def test_chunked_attention_names_its_unmodelled_key_in_one_line() -> None:
    with pytest.warns(ModelConfigWarning) as record:
        shape_from_hf_config({**_preset_config("llama3-8b"), "attention_chunk_size": 8192}, "llama4-like")
    assert len(record) == 1
    message = str(record[0].message)
    assert "\n" not in message and "not modelled" in message and "attention_chunk_size" in message


def test_unknown_keys_warn_as_not_understood() -> None:
    config = {**_preset_config("llama3-8b"), "frobnicate": 3}
    with pytest.warns(ModelConfigWarning, match=r"not understood \(ignored\): frobnicate$"):
        shape_from_hf_config(config, "llama-plus")


def test_llama_config_does_not_warn() -> None:
    _no_warnings(_preset_config("llama3-70b"), "llama3-70b")


@pytest.mark.parametrize("name", list_presets("models"))
def test_every_shipped_preset_loads_without_warnings(name: str) -> None:
    _no_warnings(_preset_config(name), name)
    load_model(name)


def test_values_that_switch_a_feature_off_are_not_reported() -> None:
    base = _preset_config("llama3-8b")
    # Qwen2 style: a window is named but not used; Mixtral style: no window; no shared experts
    _no_warnings({**base, "sliding_window": 4096, "use_sliding_window": False}, "qwen-like")
    _no_warnings({**base, "sliding_window": None, "n_shared_experts": 0, "first_k_dense_replace": 0}, "off")
    _no_warnings({**base, "layer_types": ["full_attention"] * 32}, "full-layers")
    mistral = {**base, "model_type": "mistral", "sliding_window": 4096}
    assert shape_from_hf_config(mistral, "mistral-like").num_sliding_layers == 32
    gemma3 = {**base, "model_type": "gemma3_text", "sliding_window": 1024,
              "layer_types": ["sliding_attention", "full_attention"] * 16}
    assert shape_from_hf_config(gemma3, "gemma3-like").num_sliding_layers == 16


def test_opt_narrow_embedding_is_reported_only_when_narrower() -> None:
    opt = _preset_config("opt-175b")
    _no_warnings(opt, "opt-175b")
    with pytest.warns(ModelConfigWarning, match="word_embed_proj_dim"):
        shape_from_hf_config({**opt, "word_embed_proj_dim": 512}, "opt-350m-like")


def test_key_tables_are_disjoint() -> None:
    assert not HARMLESS_KEYS & set(UNMODELLED_KEYS)


def test_cli_prints_the_warning_as_one_stderr_line(tmp_path, capsys) -> None:
    from infraplan.cli.main import main

    path = tmp_path / "mymodel.json"
    path.write_text(json.dumps({**_preset_config("llama3-8b"), "attention_chunk_size": 8192}))
    code = main(["train", str(path), "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--pp", "1",
                 "--seq-len", "2048", "--global-batch", "8", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 0
    assert err == [f"infraplan: warning: model config {'mymodel'!r}: not modelled (the standard block is assumed): "
                   "attention_chunk_size"]
