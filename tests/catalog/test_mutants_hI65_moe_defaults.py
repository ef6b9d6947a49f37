"""hI65 mutation wave on `catalog.model_config_keys.MOE_KEY_DEFAULTS` (hH64 / hL64): an MoE config.json without its
expert sizes is priced at its transformers config class's defaults, read in the wheels (not in this repo's table):
transformers 4.57.1 configuration_qwen2_moe.py:191-192 (moe_intermediate_size 1408, shared_expert_intermediate_size
5632), configuration_qwen3_moe.py:191 (768; no shared expert), configuration_deepseek_v2.py:168, :173, :183
(first_k_dense_replace 0, n_shared_experts 2, moe_intermediate_size 1407), configuration_deepseek_v3.py:160, :164,
:175 (2048, 1, 3); deepseek_v32 and kimi_k2 at V3's (transformers 5.25.0 configuration_deepseek_v32.py:86, :90, :121;
sglang 0.5.23 reads kimi_k2 with DeepseekV3Config). A shared expert of DeepSeek is n_shared_experts x the expert width
(modeling_deepseek_v3.py:166-172); the first first_k_dense_replace layers run the dense MLP at intermediate_size."""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog.model_config import shape_from_hf_config

BASE = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 6, "num_attention_heads": 8,
        "num_key_value_heads": 8, "vocab_size": 32000, "num_experts_per_tok": 2}
MLA = {"q_lora_rank": 256, "kv_lora_rank": 128, "qk_rope_head_dim": 32, "qk_nope_head_dim": 64, "v_head_dim": 64}


@pytest.mark.parametrize(("family", "expert", "shared", "shared_width", "dense"), [
    ("qwen2_moe", 1408, 1, 5632, 0), ("qwen3_moe", 768, 0, 0, 0), ("deepseek_v2", 1407, 2, 2 * 1407, 0),
    ("deepseek_v3", 2048, 1, 2048, 3), ("deepseek_v32", 2048, 1, 2048, 3), ("kimi_k2", 2048, 1, 2048, 3),
])
def test_a_config_without_its_expert_sizes_takes_transformers_defaults(family: str, expert: int, shared: int,
                                                                        shared_width: int, dense: int) -> None:
    experts = {"num_experts": 16} if family.startswith("qwen") else {"n_routed_experts": 16}
    config = {"model_type": family, **BASE, **experts, **(MLA if family == "deepseek_v32" else {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shape = shape_from_hf_config(config, family)
    routed = [(kind, n) for kind, n in shape.layer_kinds() if kind.num_experts > 1]
    assert [(k.ffn_hidden_size, k.num_shared_experts, k.shared_ffn_hidden_size, n) for k, n in routed] == [
        (expert, shared, shared_width, 6 - dense)]
    assert sum(n for kind, n in shape.layer_kinds() if kind.num_experts == 1 and kind.ffn_hidden_size == 4096) == dense


@pytest.mark.parametrize(("family", "experts"), [("qwen3_moe", {"num_experts": 1}),
                                                  ("deepseek_v3", {"n_routed_experts": 1})])
def test_a_single_expert_config_priced_dense_says_no_expert_default(family: str, experts: dict[str, int]) -> None:
    """One expert is priced as a dense FFN at intermediate_size (the reader's rule): no layer is priced at the
    expert width, so no "priced at transformers' ... default" for it is said (6 layers of h 1,024, FFN 4,096)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape = shape_from_hf_config({"model_type": family, **BASE, **experts}, family)
    assert shape.ffn_hidden_size == 4096 and all(kind.num_experts == 1 for kind, _ in shape.layer_kinds())
    assert not any("priced at transformers'" in str(w.message) for w in caught), [str(w.message) for w in caught]


def test_kimi_k2s_defaults_are_named_after_the_class_that_gives_them() -> None:
    """transformers has no kimi_k2 configuration class (4.57.1's wheel has no models/kimi* module); sglang 0.5.23
    reads a kimi_k2 config with transformers' DeepseekV3Config: the warning names that class, not a kimi_k2 one."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape_from_hf_config({"model_type": "kimi_k2", **BASE, "n_routed_experts": 16}, "kimi")
    (said,) = [str(w.message) for w in caught if "priced at transformers'" in str(w.message)]
    assert "transformers' deepseek_v3" in said and "transformers' kimi_k2" not in said
