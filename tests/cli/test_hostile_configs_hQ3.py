"""Hostile user config.json files (helper hQ3, session 37): each key that changes the math is modelled, named in a
one-line warning, or refused in one line with exit code 2; never dropped or misread silently.

Each test failed before: a string "false" for `tie_word_embeddings` was read as true, `sliding_window: "1024"` or
`1024.5` was read by int(), a `sliding_window` on a Llama config was priced as a window on every layer although
transformers' Llama has none, MoE keys on a dense config and a `quantization_config` / `rope_scaling` that is not an
object were dropped without a word, a `rope_scaling` factor of -2 was skipped and 'big' raised a message naming no
key, a `layer_types` list of the wrong length was read as it came, and a config without `model_type` said nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

TRAIN = ["--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "2048", "--global-batch", "8",
         "--json"]
LLAMA: dict[str, Any] = {
    "model_type": "llama", "hidden_act": "silu", "hidden_size": 4096, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256,
    "max_position_embeddings": 8192, "tie_word_embeddings": False}


def _train(cli, tmp_path, config: dict[str, Any]) -> tuple[int, str, str]:
    path = tmp_path / f"config-{len(list(tmp_path.iterdir()))}.json"  # a file per config: its warnings each once
    path.write_text(json.dumps(config))
    return cli(["train", str(path), *TRAIN])


@pytest.mark.parametrize(("change", "message"), [
    ({"tie_word_embeddings": "false"}, "tie_word_embeddings must be true or false, got 'false'"),
    ({"sliding_window": "1024"}, "sliding_window must be null or a whole number from 0"),
    ({"sliding_window": 1024.5}, "sliding_window must be null or a whole number from 0"),
    ({"model_type": "mistral", "sliding_window": -5}, "sliding_window must be null or a whole number from 0"),
    ({"model_type": "deepseek_v3", "n_routed_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 1024,
      "n_group": "4", "topk_group": 2}, "n_group must be null or a whole number"),
    ({"model_type": "qwen2_moe", "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 1024,
      "mlp_only_layers": "abc"}, "mlp_only_layers must list layer indices"),
    ({"rope_scaling": {"rope_type": "dynamic", "factor": -2}}, "rope_scaling factor must be a positive number"),
    ({"rope_scaling": {"rope_type": "yarn", "factor": "big"}}, "rope_scaling factor must be a positive number"),
    ({"sliding_window": 1024, "layer_types": ["sliding_attention"]}, "layer_types must be a list of one attention "
     "type per layer (32), got 1 entries"),
    ({"model_type": "gpt_oss", "layer_types": "sliding"}, "layer_types must be a list"),
])
def test_a_value_the_reader_cannot_take_is_refused_in_one_line(cli, tmp_path, change, message) -> None:
    code, out, err = _train(cli, tmp_path, {**LLAMA, **change})
    assert (code, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _mflops(out: str) -> float:
    return float(json.loads(out)["model_tflops_per_gpu"])


def test_a_sliding_window_on_a_llama_config_is_named_and_priced_as_transformers_runs_it(cli, tmp_path) -> None:
    """transformers 4.57.1's Llama has no sliding-window attention (modeling_llama.py), Mistral's has (:177)."""
    code, plain, err = _train(cli, tmp_path, LLAMA)
    assert code == 0 and err == ""
    code, windowed, err = _train(cli, tmp_path, {**LLAMA, "sliding_window": 1024})
    assert code == 0 and "not read: sliding_window 1024 (transformers' llama model has no sliding-window" in err
    assert json.loads(windowed)["step_time_s"] == json.loads(plain)["step_time_s"]  # was windowed: faster
    code, mistral, err = _train(cli, tmp_path, {**LLAMA, "model_type": "mistral", "sliding_window": 1024})
    assert code == 0 and err == ""
    assert json.loads(mistral)["step_time_s"] < json.loads(plain)["step_time_s"]  # Mistral's window is read


def test_moe_keys_on_a_dense_config_are_named(cli, tmp_path) -> None:
    code, plain, _ = _train(cli, tmp_path, LLAMA)
    code, out, err = _train(cli, tmp_path, {**LLAMA, "n_shared_experts": 2, "first_k_dense_replace": 3,
                                            "moe_intermediate_size": 2048})
    assert code == 0 and ("not read: moe_intermediate_size, n_shared_experts, first_k_dense_replace (MoE keys on a "
                          "dense config") in err
    code, out, err = _train(cli, tmp_path, {**LLAMA, "num_local_experts": 8, "num_experts_per_tok": 2})
    assert code == 0 and "not read: num_local_experts 8, num_experts_per_tok (transformers' llama model has no " \
                         "experts: priced as a dense model)" in err
    assert json.loads(out)["step_time_s"] == json.loads(plain)["step_time_s"]  # was priced as an 8-expert MoE


@pytest.mark.parametrize(("change", "message"), [
    ({"quantization_config": "awq"}, "not read: quantization_config 'awq' (not an object)"),
    ({"rope_scaling": "yes"}, "not read: rope_scaling 'yes' (not an object)"),
    ({"model_type": "gemma3_text", "sliding_window": 1024,
      "layer_types": ["chunked_attention", "sliding_attention"] * 16},
     "not read: layer_types chunked_attention (priced as full attention)"),
])
def test_an_unread_value_is_named_in_one_warning(cli, tmp_path, change, message) -> None:
    code, out, err = _train(cli, tmp_path, {**LLAMA, **change})
    assert code == 0 and json.loads(out)["step_time_s"] > 0
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_config_without_model_type_says_how_it_is_read(cli, tmp_path) -> None:
    config = {k: v for k, v in LLAMA.items() if k != "model_type"}
    code, _, err = _train(cli, tmp_path, config)
    assert code == 0 and "no model_type: its keys are read as a standard decoder block" in err


def test_a_config_file_edited_between_two_api_calls_is_read_again(tmp_path) -> None:
    """The Python API in one process (a notebook): the loader's cache was keyed by the path alone, so the edited
    file's second estimate returned the first shape's step time."""
    from infraplan.training import estimate_training

    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA))
    kw: dict[str, Any] = dict(tp=8, seq_len=2048, global_batch=8)
    first = estimate_training(str(path), "dgx-h100-superpod", 8, **kw).step_time_s
    path.write_text(json.dumps({**LLAMA, "num_hidden_layers": 64}))
    assert estimate_training(str(path), "dgx-h100-superpod", 8, **kw).step_time_s > 1.8 * first
