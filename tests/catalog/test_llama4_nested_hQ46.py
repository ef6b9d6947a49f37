"""Llama 4 (Scout, Maverick) and multimodal configs nesting the language model under `text_config` (hQ46).

Published figures: Meta's Llama 4 model card (2025-04-05): Scout 17B active / 109B total (16 experts), Maverick
17B active / 400B total (128 experts), both totals with the vision tower. Hand counts from the configs' shapes
and transformers 5.25.0 modeling_llama4.py (`catalog.model_config_llama4`, `catalog.model_config_nested`).
"""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.catalog.model_config_nested import vision_tower_params
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.ops import params as ops_params
from infraplan.ops.layer import attention_keys
from infraplan.ops.qk_norm import qk_norm_passes
from infraplan.training.flops import forward_flops_per_token_layer
from infraplan.training.pipeline_partition import deepspeed_layer_weights

# Hugging Face meta-llama/Llama-4-Scout-17B-16E vision_config (the same in Maverick's)
VISION: dict[str, Any] = {
    "hidden_act": "gelu", "hidden_size": 1408, "image_size": 336, "intermediate_size": 5632,
    "model_type": "llama4_vision_model", "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 34,
    "patch_size": 14, "pixel_shuffle_ratio": 0.5, "projector_input_dim": 4096, "projector_output_dim": 4096,
    "vision_output_dim": 4096, "norm_eps": 1e-5, "rope_theta": 10000,
}
PUBLISHED = {"llama4-scout": 109e9, "llama4-maverick": 400e9}  # total with the vision tower
H, F, HEADS, KV, D, V, L = 5120, 8192, 40, 8, 128, 202048, 48


def _text(name: str) -> dict[str, Any]:
    return dict(json.loads(resources.files("infraplan.catalog").joinpath("models", f"{name}.json").read_text()))


def _nested(name: str) -> dict[str, Any]:
    """The multimodal config.json of the model: the preset as its text_config, the vision tower beside it."""
    text = {k: v for k, v in _text(name).items() if k not in ("source", "architectures")}
    return {"architectures": ["Llama4ForConditionalGeneration"], "model_type": "llama4", "text_config": text,
            "vision_config": VISION, "boi_token_index": 200080, "eoi_token_index": 200081,
            "image_token_index": 200092, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
            "transformers_version": "4.51.0.dev0"}


def _quiet(config: dict[str, Any], name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        return shape_from_hf_config(config, name)


def test_hand_counts_from_the_config_shapes() -> None:
    attention = H * (HEADS * D + 2 * KV * D) + HEADS * D * H
    expert = 3 * H * F
    embed = 2 * V * H
    scout = L * (attention + 16 * expert + expert + H * 16) + embed  # 16 routed + 1 shared, router
    moe, dense = attention + 128 * expert + expert + H * 128, attention + 3 * H * 16384
    maverick = L // 2 * (moe + dense) + embed
    assert load_model("llama4-scout").total_params() == scout
    assert load_model("llama4-maverick").total_params() == maverick
    active = L * (attention + 2 * expert) + embed  # one routed and the shared expert; Maverick's dense layers alike
    assert load_model("llama4-scout").active_params() == active + L * H * 16
    assert load_model("llama4-maverick").active_params() == active + L // 2 * H * 128


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_totals_with_the_vision_tower_within_1_percent_of_meta(name: str) -> None:
    shape = load_model(name)
    tower, _ = vision_tower_params(VISION, H)
    assert abs((shape.total_params() + tower) / PUBLISHED[name] - 1) < 0.01
    if name == "llama4-scout":  # the text model alone, 107.8 B, is 1.1 % short: the tower is in Meta's total
        assert shape.total_params() < 0.99 * PUBLISHED[name]
    # "17B active": a rounding to whole billions (17.17 B with both embedding tables)
    assert 16.5e9 <= shape.active_params() < 17.5e9


def test_the_llama4_vision_tower_is_counted_matrix_by_matrix() -> None:
    h, f = 1408, 5632
    layer = 4 * (h * h + h) + 2 * h * f + f + h
    expected = 3 * 14 * 14 * h + h + (24 * 24 + 1) * h + 34 * layer + f * 4096 + 4096 * 4096 + 4096 * H
    assert vision_tower_params(VISION, H) == (expected, "the vision tower and projector")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_a_nested_config_prices_as_its_flattened_text_part(name: str) -> None:
    flat = _quiet(_text(name), name)
    with pytest.warns(ModelConfigWarning) as record:
        nested = shape_from_hf_config(_nested(name), name)
    assert len(record) == 1
    message = str(record[0].message)
    assert "\n" not in message and "0.87 B parameters" in message and "not priced" in message
    ignore = {"source", "model_type"}  # the text preset's source; the wrapper's family name vs llama4_text
    assert nested.model_dump(exclude=ignore) == flat.model_dump(exclude=ignore)


def test_a_nested_config_names_wrapper_keys_it_does_not_read() -> None:
    config = {**_nested("llama4-scout"), "frobnicate": 3}
    with pytest.warns(ModelConfigWarning, match=r"not read beside text_config: frobnicate"):
        shape_from_hf_config(config, "scout-plus")
    with pytest.raises(InputError, match="text_config must be an object"):
        shape_from_hf_config({**config, "text_config": [1, 2]}, "bad")


def test_a_nested_gemma3_reads_its_text_config() -> None:
    text = {"model_type": "gemma3_text", "hidden_size": 2560, "intermediate_size": 10240, "num_hidden_layers": 34,
            "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "vocab_size": 262208,
            "hidden_activation": "gelu_pytorch_tanh", "sliding_window": 1024, "max_position_embeddings": 131072}
    vision = {"model_type": "siglip_vision_model", "hidden_size": 1152, "intermediate_size": 4304,
              "num_hidden_layers": 27, "hidden_act": "gelu_pytorch_tanh"}
    with pytest.warns(ModelConfigWarning, match=r"vision encoder blocks .* \(0\.41 B parameters"):
        shape = shape_from_hf_config({"model_type": "gemma3", "text_config": text, "vision_config": vision,
                                      "mm_tokens_per_image": 256}, "gemma3-4b-like")
    assert (shape.hidden_size, shape.num_layers, shape.num_sliding_layers) == (2560, 34, 34 - 34 // 6)
    assert vision_tower_params(vision, 2560)[0] == 27 * (4 * 1152**2 + 2 * 1152 * 4304)


def test_a_flat_multimodal_config_counts_its_tower_and_drops_its_image_keys() -> None:
    """Qwen2.5-VL-7B's config.json as published: the decoder's keys at the top, beside vision_config and the image
    token ids (before: each named "not understood")."""
    vision = {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 3584,
              "hidden_act": "silu", "model_type": "qwen2_5_vl"}
    config = {"model_type": "qwen2_5_vl", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
              "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064, "hidden_act": "silu",
              "max_position_embeddings": 128000, "tie_word_embeddings": False, "vision_start_token_id": 151652,
              "vision_end_token_id": 151653, "vision_token_id": 151654, "image_token_id": 151655,
              "video_token_id": 151656, "vision_config": vision}
    with pytest.warns(ModelConfigWarning) as record:
        shape = shape_from_hf_config(config, "qwen2.5-vl-7b")
    messages = " | ".join(str(r.message) for r in record)
    assert "not understood" not in messages and "(0.63 B parameters" in messages  # gated: 3 matrices of 3420
    assert (shape.hidden_size, shape.num_layers, shape.gated_mlp) == (3584, 28, True)
    assert vision_tower_params(vision, 3584)[0] == 32 * (4 * 1280**2 + 3 * 1280 * 3420)


def test_maverick_interleaves_dense_layers_between_its_moe_layers() -> None:
    maverick = load_model("llama4-maverick")
    assert (maverick.num_dense_layers, maverick.dense_ffn_hidden_size, maverick.dense_layers_interleaved) == (
        24, 16384, True)
    assert (maverick.num_shared_experts, maverick.shared_ffn_hidden_size, maverick.qk_norm_layers) == (1, F, 0)
    by_step = {k: v for k, v in _text("llama4-maverick").items() if k != "moe_layers"}
    assert _quiet(by_step, "by-step") == _quiet(_text("llama4-maverick"), "by-step")  # the step gives the same list
    first = _quiet({**by_step, "moe_layers": list(range(24, 48))}, "dense-first")
    assert first.num_dense_layers == 24 and not first.dense_layers_interleaved
    scout = load_model("llama4-scout")
    assert (scout.num_dense_layers, scout.num_chunked_layers, scout.qk_norm_layers) == (0, 36, 36)


def test_maverick_stages_hold_half_routed_layers() -> None:
    """A stage of 12 consecutive Maverick layers holds 6 MoE layers (odd indices), not 12 (the dense-first rule)."""
    maverick, deepseek = load_model("llama4-maverick"), load_model("deepseek-v3")
    assert float(ops_params.routed_stage_layers(maverick, 4)) == 6.0
    assert float(ops_params.routed_stage_layers(maverick, 1, 7)) == 4.0  # ceil(7 / 2)
    assert float(ops_params.routed_stage_layers(deepseek, 4)) == 16.0  # ceil(61 / 4), first-k dense elsewhere
    weights = deepspeed_layer_weights(maverick, "parameters")[1:-2]
    assert weights[0] < weights[1] and weights[0::2] == [weights[0]] * 24 and weights[1::2] == [weights[1]] * 24


def test_chunked_keys_by_hand() -> None:
    scout = load_model("llama4-scout")
    s = 20000.0  # two whole chunks of 8192 and 3616 tokens
    chunked = (2 * 8192**2 + 3616**2) / s
    assert float(attention_keys(scout, s)) == pytest.approx((12 * s + 36 * chunked) / 48, rel=1e-12)
    assert float(attention_keys(scout, 8192.0)) == 8192.0  # within one chunk: full causal


def test_flops_per_token_are_6_active_plus_attention() -> None:
    for name in PUBLISHED:
        shape = load_model(name)
        weights, scores = forward_flops_per_token_layer(shape, np.array([16384.0]))
        assert 3 * (L * weights + 2 * H * V) == pytest.approx(6 * shape.active_params(input_embedding=False),
                                                              rel=1e-12)
        keys = (12 * 16384 + 36 * 8192) / 48  # NoPE layers full, the others two chunks of 8192 each
        assert float(scores[0]) == pytest.approx(4 * keys * HEADS * D, rel=1e-12)


def test_scout_qk_norm_is_three_quarters_of_qwen3s() -> None:
    scout = load_model("llama4-scout")
    qwen_like = scout.model_copy(update={"model_type": "qwen3", "qk_norm_layers": 0})
    ours, theirs = qk_norm_passes(scout, 1024.0, 5120.0, 1024.0), qk_norm_passes(qwen_like, 1024.0, 5120.0, 1024.0)
    assert ours[0][0] == pytest.approx(0.75 * theirs[0][0]) and ours[1][1] == pytest.approx(0.75 * theirs[1][1])
    assert qk_norm_passes(load_model("llama4-maverick"), 1024.0, 5120.0, 1024.0)[0] == (0.0, 0.0)


@pytest.mark.parametrize(("key", "value", "says"), [
    ("moe_layers", [1, 3, 48], "moe_layers must be a list of layer indices from 0 to 47"),
    ("interleave_moe_layer_step", 0, "interleave_moe_layer_step must be a whole number from 1 to 48"),
    ("no_rope_layers", [1, 0], "no_rope_layers must be a list of a 0 / 1 flag per layer"),
    ("use_qk_norm", "yes", "use_qk_norm must be true or false"),
    ("attention_chunk_size", 8192.5, "attention_chunk_size must be a whole number"),
    ("intermediate_size_mlp", -1, "intermediate_size_mlp must be null or a whole number"),
])
def test_bad_llama4_values_are_refused_in_one_line(key: str, value: Any, says: str) -> None:
    with pytest.raises(InputError, match=says) as error:
        config = {k: v for k, v in _text("llama4-maverick").items() if k != "moe_layers" or key == k}
        shape_from_hf_config({**config, key: value}, "bad")  # moe_layers, where set, wins over the step
    assert "\n" not in str(error.value)


def test_train_maverick_and_serve_scout_run(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    path = tmp_path / "scout-config.json"
    path.write_text(json.dumps(_nested("llama4-scout")))
    for args in (["train", "llama4-maverick", "--system", "dgx-h100-superpod", "--gpus", "256", "--tp", "4", "--pp",
                  "4", "--ep", "16", "--seq-len", "8192", "--global-batch", "256"],
                 ["serve", str(path), "--system", "hgx-h200", "--gpus", "8", "--tp", "8", "--ep", "8",
                  "--input-len", "12000", "--output-len", "200", "--concurrency", "4", "--requests", "8"]):
        capsys.readouterr()
        assert main([*args, "--json"]) == 0
        out, err = capsys.readouterr()
        data = json.loads(out)
        if args[0] == "train":
            assert data["parameters"] == load_model("llama4-maverick").total_params() and data["fits"]
        else:
            assert data["fits"] and "0.87 B parameters" in err
            assert any("8,192-token chunks" in w for w in data["warnings"])
