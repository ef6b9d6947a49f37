"""Family rules of the config.json reader that a Gemma 3 / Cohere2 / Falcon / DeepSeek file relies on (hL55).

Gemma 3's MLP is gated (transformers 4.57.1 modeling_gemma3.py:110-123: down(act(gate(x)) * up(x)) with
gelu_pytorch_tanh), and Gemma 3, Cohere2 and Falcon tie the LM head unless the file says otherwise
(configuration_gemma3.py:186, configuration_cohere2.py:173: tie_word_embeddings=True; Falcon takes
PretrainedConfig's default True, configuration_utils.py:220). Before hL55 a gemma3_text config was priced with a
2-matrix MLP and an untied head: Gemma 3 27B came out at 21.2 B parameters instead of its 27 B. Falcon's
multi_query defaults to true and yields to num_kv_heads under new_decoder_architecture (modeling_falcon.py:227);
DeepSeek's hidden_act defaults to silu (gated)."""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config

# google/gemma-3-27b-it's text_config (recalled: the published 27 B count is the check)
GEMMA3_27B = {"model_type": "gemma3_text", "hidden_size": 5376, "intermediate_size": 21504, "num_hidden_layers": 62,
              "num_attention_heads": 32, "num_key_value_heads": 16, "head_dim": 128, "vocab_size": 262208,
              "sliding_window": 1024, "sliding_window_pattern": 6, "max_position_embeddings": 131072,
              "hidden_activation": "gelu_pytorch_tanh", "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0}


def test_gemma3_is_gated_and_tied_and_counts_27b() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)  # rope_local_base_freq is a RoPE base: no warning
        shape = shape_from_hf_config(GEMMA3_27B, "gemma3-27b")
    assert shape.gated_mlp and shape.tied_embeddings
    assert shape.total_params() == pytest.approx(27.0e9, rel=0.01)


def test_a_nested_gemma3_is_gated_too() -> None:
    shape = shape_from_hf_config({"model_type": "gemma3", "text_config": GEMMA3_27B}, "gemma3-27b-mm")
    assert shape.gated_mlp and shape.tied_embeddings


@pytest.mark.parametrize("family", ["cohere2", "falcon", "gemma", "gemma2", "gemma3_text"])
def test_families_that_tie_by_default(family: str) -> None:
    config = {"model_type": family, "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
              "intermediate_size": 4096, "vocab_size": 32000}
    assert shape_from_hf_config(config, f"{family}-like").tied_embeddings
    assert not shape_from_hf_config({**config, "tie_word_embeddings": False}, f"{family}-untied").tied_embeddings


@pytest.mark.parametrize("family", ["llama", "mistral", "qwen2", "qwen3", "gpt_neox"])
def test_families_that_do_not_tie_by_default(family: str) -> None:
    config = {"model_type": family, "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
              "intermediate_size": 4096, "vocab_size": 32000}
    assert not shape_from_hf_config(config, f"{family}-like").tied_embeddings


# tiiuae/falcon-40b's config.json (recalled; `multi_query` stated as Falcon-180B's file states it) and Falcon-7B's
FALCON_40B = {"model_type": "falcon", "hidden_size": 8192, "num_attention_heads": 128, "num_kv_heads": 8,
              "num_hidden_layers": 60, "vocab_size": 65024, "new_decoder_architecture": True, "multi_query": True,
              "parallel_attn": True, "bias": False, "alibi": False}
FALCON_7B = {"model_type": "falcon", "hidden_size": 4544, "num_attention_heads": 71, "num_hidden_layers": 32,
             "vocab_size": 65024, "parallel_attn": True, "bias": False, "alibi": False}


def test_falcon_new_decoder_architecture_runs_its_kv_heads() -> None:
    """modeling_falcon.py:227: num_kv_heads under new_decoder_architecture, whatever multi_query says (was 1)."""
    assert shape_from_hf_config(FALCON_40B, "falcon-40b").num_kv_heads == 8


def test_falcon_multi_query_defaults_to_one_kv_head() -> None:
    """configuration_falcon.py:159: multi_query defaults to true; Falcon-7B counts 6.9 B parameters (was 8.2 B)."""
    shape = shape_from_hf_config(FALCON_7B, "falcon-7b")
    assert shape.num_kv_heads == 1
    assert shape.total_params() == pytest.approx(6.92e9, rel=0.01)
    assert shape_from_hf_config({**FALCON_7B, "multi_query": False}, "falcon-7b-mha").num_kv_heads == 71


# deepseek-ai/DeepSeek-V2-Lite's config.json without its hidden_act (transformers' default: silu, gated)
DSV2_LITE = {"model_type": "deepseek_v2", "hidden_size": 2048, "num_hidden_layers": 27, "num_attention_heads": 16,
             "num_key_value_heads": 16, "intermediate_size": 10944, "moe_intermediate_size": 1408,
             "n_shared_experts": 2, "n_routed_experts": 64, "num_experts_per_tok": 6, "first_k_dense_replace": 1,
             "moe_layer_freq": 1, "kv_lora_rank": 512, "q_lora_rank": None, "qk_nope_head_dim": 128,
             "qk_rope_head_dim": 64, "v_head_dim": 128, "vocab_size": 102400, "max_position_embeddings": 163840}


def test_deepseek_without_hidden_act_is_gated() -> None:
    """DeepseekV2Config's hidden_act defaults to silu (configuration_deepseek_v2.py:153): DeepSeek-V2-Lite is 15.7 B
    parameters (DeepSeek-V2 paper, arXiv:2405.04434, appendix B, recalled); priced non-gated it was 10.7 B."""
    shape = shape_from_hf_config(DSV2_LITE, "deepseek-v2-lite")
    assert shape.gated_mlp
    assert shape.total_params() == pytest.approx(15.7e9, rel=0.01)


# openai-community/gpt2's config.json (recalled): its n_ctx is n_positions' twin (configuration_gpt2.py)
GPT2 = {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
        "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12,
        "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": None, "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True, "vocab_size": 50257}


def test_position_twins_are_not_reported_as_unknown() -> None:
    """GPT-2's n_ctx and a top-level original_max_position_embeddings (Phi-3) change no FLOPs: no warning line."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        shape = shape_from_hf_config(GPT2, "gpt2")
        shape_from_hf_config({**DSV2_LITE, "hidden_act": "silu", "original_max_position_embeddings": 4096}, "x")
    assert shape.total_params() == pytest.approx(124e6, rel=0.01)  # GPT-2 small: 124 M


def test_a_missing_kv_head_count_is_named_where_the_family_defaults_otherwise() -> None:
    """MistralConfig defaults num_key_value_heads to 8 (configuration_mistral.py:123): a mistral file without it is
    priced with 32 KV heads (one per query head), and one warning line says so; LlamaConfig's default is the head
    count (no line)."""
    base = {"hidden_size": 4096, "num_hidden_layers": 4, "num_attention_heads": 32, "intermediate_size": 14336,
            "vocab_size": 32000}
    with pytest.warns(ModelConfigWarning, match=r"no num_key_value_heads: priced with one KV head per query head "
                      r"\(32\), where transformers' mistral config defaults to 8"):
        assert shape_from_hf_config({**base, "model_type": "mistral"}, "mistral-like").num_kv_heads == 32
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        shape_from_hf_config({**base, "model_type": "llama"}, "llama-like")
        shape_from_hf_config({**base, "model_type": "mistral", "num_key_value_heads": 8}, "mistral-8")
