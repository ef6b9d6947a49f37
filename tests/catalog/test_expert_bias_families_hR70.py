"""`attention_bias: true` prices expert biases on GPT-OSS only (hR70, session 49). `linear_biases` adds GPT-OSS's
routed-expert bias passes (`ops.gpt_oss_experts`: the fc2 bias loop, the biases' main-grad adds, the host's
per-expert work); it was set from `attention_bias` on any family, while GLM-4.5 (glm4_moe), Phi-3.5-MoE (phimoe) and
Qwen3-MoE bias only their attention projections there, their experts bias-free (transformers 4.57.1
modeling_glm4_moe.py:143-151 / :217-219, modeling_phimoe.py:259-266 / :531-533; GptOssExperts' biases
modeling_gpt_oss.py:75-77). An attention bias is priced as nothing on a dense model, so on a MoE one too: the same
config with and without the key answers the same step (before: Qwen3-30B-A3B on 16 H100, EP 8, 1.399 -> 1.613 s)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.training.estimate import estimate_training


def _config(name: str) -> dict:
    return json.loads(resources.files("infraplan.catalog").joinpath("models", f"{name}.json").read_text())


@pytest.mark.parametrize("family", ["qwen3_moe", "glm4_moe", "phimoe"])
def test_attention_bias_on_another_moe_family_adds_no_expert_biases(family: str) -> None:
    config = _config("qwen3-30b-a3b") | {"model_type": family, "attention_bias": True}
    assert not shape_from_hf_config(config, "m").linear_biases
    assert load_model("gpt-oss-120b").linear_biases and load_model("gpt-oss-20b").linear_biases


def test_an_attention_bias_leaves_a_non_gpt_oss_moe_step_unchanged(tmp_path) -> None:
    steps = []
    for bias in (False, True):
        path = tmp_path / f"qwen-{bias}.json"
        path.write_text(json.dumps(_config("qwen3-30b-a3b") | {"attention_bias": bias}))
        steps.append(estimate_training(str(path), "dgx-h100-superpod", 16, tp=1, pp=1, ep=8, seq_len=4096,
                                       global_batch=64, micro_batch=1).step_time_s)
    assert steps[0] == steps[1]
    gpt_oss = shape_from_hf_config(_config("gpt-oss-20b"), "gpt-oss-20b")
    without = shape_from_hf_config(_config("gpt-oss-20b") | {"attention_bias": False}, "gpt-oss-20b")
    assert gpt_oss.linear_biases and not without.linear_biases  # GPT-OSS's own key still read
