"""GPT-OSS: every shipped config key is modelled, harmless or warned; sink attention as the stack runs it."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from infraplan.catalog import list_presets, load_model
from infraplan.catalog.model_config_keys import _MODELLED_KEYS, HARMLESS_KEYS, KEY_ALIASES, UNMODELLED_KEYS
from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training

KNOWN = {k for keys in KEY_ALIASES.values() for k in keys} | _MODELLED_KEYS | HARMLESS_KEYS | set(UNMODELLED_KEYS)


@pytest.mark.parametrize("name", sorted(list_presets("models")))
def test_every_key_of_every_shipped_model_config_is_known(name: str) -> None:
    config = json.loads(resources.files("infraplan.catalog").joinpath("models", f"{name}.json").read_text())
    unknown = sorted(k for k in config if k not in KNOWN and not k.startswith("_"))
    assert not unknown, f"{name}: keys neither modelled, harmless nor warned: {unknown}"


def test_math_changing_gpt_oss_keys_are_modelled_not_harmless() -> None:
    for key in ("swiglu_limit", "attention_bias", "sliding_window", "layer_types"):
        assert key in _MODELLED_KEYS and key not in HARMLESS_KEYS
    shape = load_model("gpt-oss-120b")
    assert shape.clamped_swiglu and shape.linear_biases and shape.attention_sinks
    assert not load_model("llama3-8b").clamped_swiglu


def _tokens_per_s(model: str, sink_attention: str) -> float:
    stack = load_stack("nemo-26.04").model_copy(update={"sink_attention": sink_attention})
    return estimate_training(model, "dgx-b200", 64, tp=1, pp=1, ep=8 if "oss" in model else 1, seq_len=4096,
                             global_batch=1280, micro_batch=1, recompute="full", dtype="bf16", stack=stack,
                             order="tp-cp-dp-pp").tokens_per_s_per_gpu


def test_unfused_sink_attention_slows_gpt_oss_and_only_models_with_sinks() -> None:
    # NeMo 26.04 runs the cuDNN fused kernel with sinks (TE >= 2.8, cuDNN >= 9.13.1: the stack YAML's comment)
    assert load_stack("nemo-26.04").sink_attention == "fused"
    assert _tokens_per_s("gpt-oss-120b", "unfused") < 0.8 * _tokens_per_s("gpt-oss-120b", "fused")
    assert _tokens_per_s("llama3-8b", "unfused") == pytest.approx(_tokens_per_s("llama3-8b", "fused"))
