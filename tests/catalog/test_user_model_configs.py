"""An ML engineer's own config.json: every key that changes the math is modelled or named, never silently ignored.

Each test failed before: a Qwen3 config with the YaRN `rope_scaling` its model card prescribes for 131,072 tokens
was refused above 40,960; `use_qk_norm` / `qk_layernorm` were "harmless" although Qwen3's QK norm is priced; an
unknown `model_type` was read as a Llama block without a word.
"""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any

import pytest

from infraplan.catalog import list_presets, load_model
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.serving.serving_api import estimate_serving


def _preset(name: str) -> dict[str, Any]:
    return dict(json.loads(resources.files("infraplan.catalog").joinpath("models", f"{name}.json").read_text()))


def _quiet(config: dict[str, Any], name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        return shape_from_hf_config(config, name)


QWEN_YARN = {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}


def test_a_scaled_rope_extends_the_context_as_vllm_derives_it() -> None:
    qwen = _preset("qwen3-30b-a3b")
    assert _quiet(qwen, "qwen3").max_seq_len == 40960
    assert _quiet({**qwen, "rope_scaling": QWEN_YARN}, "qwen3-yarn").max_seq_len == 131072  # 32,768 x 4
    assert _quiet({**qwen, "rope_scaling": {"type": "linear", "factor": 2.0}}, "linear").max_seq_len == 81920
    llama = {**_preset("llama3-8b"), "max_position_embeddings": 131072,  # Llama 3.1: the scaled length is stated
             "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "original_max_position_embeddings": 8192}}
    assert _quiet(llama, "llama3.1").max_seq_len == 131072


@pytest.mark.parametrize("name", list_presets("models"))
def test_the_shipped_configs_keep_their_context(name: str) -> None:
    config = _preset(name)
    stated = config.get("max_position_embeddings") or config.get("n_positions") or 2048
    assert load_model(name).max_seq_len == stated  # DeepSeek-V3 4,096 x 40 = 163,840 = its stated length


def test_a_yarn_qwen3_serves_a_prompt_beyond_its_unscaled_positions(tmp_path) -> None:
    path = tmp_path / "qwen3-30b-a3b-yarn.json"
    path.write_text(json.dumps({**_preset("qwen3-30b-a3b"), "rope_scaling": QWEN_YARN}))
    result = estimate_serving(str(path), "hgx-h200", 8, tp=8, dtype="fp8", concurrency=1, input_len=100_000,
                              output_len=16, requests=2)
    assert result.fits and result.ttft_s.p50 > 0  # was "a request of 100016 tokens exceeds ... context of 40960"


@pytest.mark.parametrize("key", ["use_qk_norm", "qk_layernorm"])
def test_a_qk_norm_key_is_named_as_not_modelled(key: str) -> None:
    with pytest.warns(ModelConfigWarning, match=f"not modelled.*{key}"):
        shape_from_hf_config({**_preset("llama3-8b"), key: True}, "qk-norm-llama")
    _quiet({**_preset("llama3-8b"), key: False}, "no-qk-norm")


def test_an_unknown_model_type_is_named_in_one_line() -> None:
    with pytest.warns(ModelConfigWarning) as record:
        shape = shape_from_hf_config({**_preset("llama3-8b"), "model_type": "my_new_arch"}, "mine")
    assert len(record) == 1 and "\n" not in str(record[0].message)
    assert "model_type 'my_new_arch' is not a family this reader knows" in str(record[0].message)
    assert shape.gated_mlp  # read from hidden_act silu, as said


def test_group_limited_routing_keys_change_deepep_traffic_in_the_right_direction(tmp_path) -> None:
    """DeepSeek-V3's node-limited routing (n_group 8, topk_group 4): fewer groups per token, fewer nodes reached,
    less DeepEP traffic (`ops.expert_routing`); topk_group = n_group lifts the limit."""
    from infraplan.training import estimate_training

    times = {}
    for chosen in (2, 4, 8):
        path = tmp_path / f"dsv3-tg{chosen}.json"
        path.write_text(json.dumps({**_preset("deepseek-v3"), "topk_group": chosen}))
        times[chosen] = estimate_training(str(path), "h800", 2048, tp=1, pp=16, ep=64, schedule="dualpipe",
                                          order="tp-cp-dp-pp", seq_len=4096, global_batch=15360, dtype="fp8",
                                          recompute="selective", zero=1, stack="deepseek-v3").step_time_s
    assert times[2] < times[4] < times[8]
