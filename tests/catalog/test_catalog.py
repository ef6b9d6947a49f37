"""Catalog presets load, cite their sources, and give published sizes; user files load or fail clearly."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from infraplan.catalog import list_presets, load_accelerator, load_model, load_system
from infraplan.errors import InputError

ACCELERATORS = list_presets("accelerators")
SYSTEMS = list_presets("systems")
MODELS = list_presets("models")


# --- every shipped preset loads and cites a source ---------------------------------------------------------


@pytest.mark.parametrize("name", ACCELERATORS)
def test_accelerator_preset_loads_with_sources(name: str) -> None:
    acc = load_accelerator(name)
    assert acc.name == name
    assert acc.source.strip()
    assert acc.efficiency.source.strip()
    assert acc.supports("bf16")
    assert acc.peak("bf16") > 0 and acc.matmul_fraction("bf16") > 0
    assert acc.memory_bytes > 0 and acc.memory_bandwidth_bytes_per_s > 0 and acc.tdp_w > 0
    assert acc.scale_up_bandwidth_bytes_per_s > 0 and acc.scale_out_bandwidth_bytes_per_s > 0


@pytest.mark.parametrize("name", SYSTEMS)
def test_system_preset_loads_with_source(name: str) -> None:
    system = load_system(name)
    assert system.name == name
    assert system.source.strip()
    assert load_accelerator(system.accelerator).name == system.accelerator


@pytest.mark.parametrize("name", MODELS)
def test_model_preset_loads_with_source(name: str) -> None:
    model = load_model(name)
    assert model.name == name
    assert model.source.strip()
    assert model.total_params() >= model.active_params() > 0


def test_presets_exist() -> None:
    assert {"h100-sxm", "h200", "mi300x", "mtia-v2"} <= set(ACCELERATORS)
    assert {"llama3-405b", "mixtral-8x7b", "megatron-1t"} <= set(MODELS)


# --- published parameter counts ----------------------------------------------------------------------------

# name -> published total parameters, billions (model card / paper table).
PUBLISHED_B = {
    # Narayanan et al. SC'21 Table 1. The 1.7B row is 1.652B by the paper's own formula
    # 12lh^2(1 + 13/12h + (V+s)/12lh), printed rounded to one decimal; the formula value is used.
    "megatron-1.7b": 1.652,
    "megatron-3.6b": 3.6,
    "megatron-7.5b": 7.5,
    "megatron-18.4b": 18.4,
    "megatron-39.1b": 39.1,
    "megatron-76.1b": 76.1,
    "megatron-145.6b": 145.6,
    "megatron-310.1b": 310.1,
    "megatron-529.6b": 529.6,
    "megatron-1t": 1008.0,
    "korthikanti-22b": 22.0,
    "korthikanti-175b": 175.0,
    "korthikanti-530b": 530.0,
    "korthikanti-1t": 1000.0,
    "gpt3-175b": 175.0,
    "opt-175b": 175.0,
    "bloom-176b": 176.0,
    "llama1-65b": 65.2,
    "llama2-7b": 6.74,
    "llama2-13b": 13.0,
    "llama2-70b": 69.0,
    "llama3-8b": 8.03,
    "llama3-70b": 70.6,
    "llama3-405b": 405.0,
    "mixtral-8x7b": 46.7,
    "mixtral-8x22b": 141.0,
    "incoder-1.3b": 1.3,
    "incoder-6.7b": 6.7,
}
PUBLISHED_ACTIVE_B = {"mixtral-8x7b": 12.9, "mixtral-8x22b": 39.0}


@pytest.mark.parametrize(("name", "billions"), sorted(PUBLISHED_B.items()))
def test_total_params_match_published(name: str, billions: float) -> None:
    assert load_model(name).total_params() / 1e9 == pytest.approx(billions, rel=0.03)


@pytest.mark.parametrize(("name", "billions"), sorted(PUBLISHED_ACTIVE_B.items()))
def test_moe_active_params_match_published(name: str, billions: float) -> None:
    assert load_model(name).active_params() / 1e9 == pytest.approx(billions, rel=0.03)


# --- a user's Hugging Face config.json, by path, in each family's own key names ---------------------------

USER_CONFIGS = {
    # name: (config.json as the family writes it, expected shape, published total parameters in millions)
    "gpt2": (
        {"model_type": "gpt2", "activation_function": "gelu_new", "n_embd": 768, "n_layer": 12, "n_head": 12,
         "n_inner": None, "n_positions": 1024, "vocab_size": 50257},
        dict(hidden_size=768, num_layers=12, num_heads=12, num_kv_heads=12, ffn_hidden_size=3072,
             max_seq_len=1024, gated_mlp=False, tied_embeddings=True),
        124.4,
    ),
    "opt-125m": (
        {"model_type": "opt", "activation_function": "relu", "hidden_size": 768, "ffn_dim": 3072,
         "num_hidden_layers": 12, "num_attention_heads": 12, "max_position_embeddings": 2048,
         "vocab_size": 50272, "word_embed_proj_dim": 768, "do_layer_norm_before": True},
        dict(hidden_size=768, num_layers=12, num_heads=12, ffn_hidden_size=3072, max_seq_len=2048,
             gated_mlp=False, tied_embeddings=True),
        125.2,
    ),
    "bloom-560m": (
        {"model_type": "bloom", "n_embed": 1024, "n_layer": 24, "num_attention_heads": 16, "n_inner": None,
         "seq_length": 2048, "vocab_size": 250880, "layer_norm_epsilon": 1e-05},
        dict(hidden_size=1024, num_layers=24, num_heads=16, ffn_hidden_size=4096, max_seq_len=2048,
             vocab_size=250880, gated_mlp=False, tied_embeddings=True),
        559.2,
    ),
    "pythia-1.4b": (
        {"model_type": "gpt_neox", "hidden_act": "gelu", "hidden_size": 2048, "intermediate_size": 8192,
         "num_hidden_layers": 24, "num_attention_heads": 16, "max_position_embeddings": 2048,
         "rotary_pct": 0.25, "use_parallel_residual": True, "tie_word_embeddings": False,
         "vocab_size": 50304},
        dict(hidden_size=2048, num_layers=24, num_heads=16, ffn_hidden_size=8192, gated_mlp=False,
             tied_embeddings=False),
        1414.6,
    ),
    "mistral-7b": (
        {"model_type": "mistral", "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336,
         "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
         "max_position_embeddings": 32768, "sliding_window": 4096, "rope_theta": 10000.0,
         "rms_norm_eps": 1e-05, "tie_word_embeddings": False, "vocab_size": 32000},
        dict(hidden_size=4096, num_layers=32, num_heads=32, num_kv_heads=8, head_dim=128,
             ffn_hidden_size=14336, max_seq_len=32768, gated_mlp=True, tied_embeddings=False),
        7241.7,
    ),
    "mixtral-8x7b": (
        {"model_type": "mixtral", "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336,
         "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
         "num_local_experts": 8, "num_experts_per_tok": 2, "max_position_embeddings": 32768,
         "rope_theta": 1000000.0, "tie_word_embeddings": False, "vocab_size": 32000},
        dict(num_kv_heads=8, num_experts=8, experts_per_token=2, gated_mlp=True, tied_embeddings=False),
        46702.8,
    ),
    "xglm-564m": (
        {"model_type": "xglm", "activation_function": "gelu", "d_model": 1024, "num_layers": 24,
         "attention_heads": 16, "ffn_dim": 4096, "max_position_embeddings": 2048, "vocab_size": 256008,
         "scale_embedding": True},
        dict(hidden_size=1024, num_layers=24, num_heads=16, ffn_hidden_size=4096, max_seq_len=2048,
             gated_mlp=False, tied_embeddings=True),
        564.5,
    ),
}


@pytest.mark.parametrize("name", sorted(USER_CONFIGS))
def test_user_hf_config_loads_from_path(tmp_path, name: str) -> None:
    config, expected, published_m = USER_CONFIGS[name]
    path = tmp_path / name / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    model = load_model(str(path))
    assert model.name == name  # a config.json is named after its folder
    assert model.model_type == config["model_type"]
    for field, value in expected.items():
        assert getattr(model, field) == value, field
    assert model.total_params() / 1e6 == pytest.approx(published_m, rel=0.03)


def test_user_config_with_other_file_name(tmp_path) -> None:
    path = tmp_path / "my-model.json"
    path.write_text(json.dumps(USER_CONFIGS["gpt2"][0]))
    assert load_model(str(path)).name == "my-model"


# --- errors the user can fix --------------------------------------------------------------------------------


def test_unknown_model_preset_suggests_close_names() -> None:
    with pytest.raises(InputError, match="did you mean") as err:
        load_model("llama3-8")
    assert "llama3-8b" in str(err.value)


def test_unknown_accelerator_preset_suggests_close_names() -> None:
    with pytest.raises(InputError, match="did you mean") as err:
        load_accelerator("h100")
    assert "h100-sxm" in str(err.value)


def test_missing_file_is_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_model(str(tmp_path / "absent" / "config.json"))


def test_malformed_json_is_input_error(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"model_type": "llama", "hidden_size": 4096,')
    with pytest.raises(InputError, match="malformed"):
        load_model(str(path))


def test_config_without_shape_keys_is_input_error(tmp_path) -> None:
    path = tmp_path / "empty.json"
    path.write_text('{"model_type": "llama"}')
    with pytest.raises(InputError, match="lacks"):
        load_model(str(path))


def test_accelerator_file_with_unknown_field_is_rejected(tmp_path) -> None:
    text = (resources.files("infraplan.catalog") / "accelerators" / "h100-sxm.yaml").read_text()
    path = tmp_path / "h100-typo.yaml"
    path.write_text(text + "memory_bandwith_bytes_per_s: 3.35TB/s\n")
    with pytest.raises(InputError, match="memory_bandwith_bytes_per_s"):
        load_accelerator(str(path))


def test_accelerator_file_from_path_loads(tmp_path) -> None:
    text = (resources.files("infraplan.catalog") / "accelerators" / "h100-sxm.yaml").read_text()
    path = tmp_path / "my-h100.yaml"
    path.write_text(text)
    acc = load_accelerator(str(path))
    assert acc.name == "my-h100"
    assert acc.peak("bf16") == pytest.approx(989e12)
