"""hL55's gated families where the file names no activation or a non-gated one (hI55 hand mutants: dropping cohere2
/ deepseek_v3 / gpt_oss from `_GATED_FAMILIES` survived hL55's tests, which state hidden_act silu, gated by name
anyway). transformers 4.57.1: Cohere2MLP is down(act(gate(x)) * up(x)) whatever the activation
(modeling_cohere2.py:245-257); DeepseekV3Config / GptOssConfig default hidden_act to silu
(configuration_deepseek_v3.py:177, configuration_gpt_oss.py:61), their MLPs gated."""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog.model_config import shape_from_hf_config

BASE = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 4, "num_attention_heads": 8,
        "num_key_value_heads": 8, "vocab_size": 32000}
MOE = {"n_routed_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 512, "num_local_experts": 8}


@pytest.mark.parametrize(("family", "extra"), [("cohere2", {}), ("cohere2", {"hidden_act": "gelu"}),
                                               ("deepseek_v3", MOE), ("gpt_oss", MOE), ("gemma3_text", {})])
def test_gated_whatever_the_activation_says(family: str, extra: dict) -> None:  # type: ignore[type-arg]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shape = shape_from_hf_config({"model_type": family, **BASE, **extra}, f"{family}-like")
    assert shape.gated_mlp


def test_a_family_outside_them_follows_its_activation() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not shape_from_hf_config({"model_type": "gpt_neox", **BASE, "hidden_act": "gelu"}, "x").gated_mlp
        assert shape_from_hf_config({"model_type": "gpt_neox", **BASE, "hidden_act": "silu"}, "x").gated_mlp


@pytest.mark.parametrize("family", ["gpt_oss", "llama4_text"])
def test_a_missing_kv_head_count_is_named_for_gpt_oss_and_llama4(family: str) -> None:
    """GptOssConfig and Llama4TextConfig default num_key_value_heads to 8 (configuration_gpt_oss.py:57,
    configuration_llama4.py:300): a file without it is priced with one KV head per query head and, as hL55 does
    for mistral / qwen / gemma, one warning line names it (before: silent)."""
    from infraplan.catalog.model_config import ModelConfigWarning

    config = {"model_type": family, **{k: v for k, v in BASE.items() if k != "num_key_value_heads"}, **MOE,
              "num_attention_heads": 16}
    with pytest.warns(ModelConfigWarning, match=rf"no num_key_value_heads: priced with one KV head per query head "
                      rf"\(16\), where transformers' {family} config defaults to 8"):
        assert shape_from_hf_config(config, f"{family}-like").num_kv_heads == 16
