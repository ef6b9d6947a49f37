"""Granite's four scalar multipliers (transformers GraniteConfig: embedding_multiplier, logits_scaling,
residual_multiplier, attention_multiplier) get one classification (hW73's walk): the first two were harmless, the
last two were warned "not understood (ignored)", though all four scale a tensor the model computes anyway (the
softmax scale; the residual branch) and change no GEMM, byte or memory term. The unknown family is still said."""

from __future__ import annotations

import warnings

from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.model_config_keys import ModelConfigWarning

GRANITE = {"architectures": ["GraniteForCausalLM"], "model_type": "granite", "hidden_size": 4096,
           "intermediate_size": 12800, "num_attention_heads": 32, "num_key_value_heads": 8, "num_hidden_layers": 40,
           "vocab_size": 49155, "max_position_embeddings": 131072, "embedding_multiplier": 12.0,
           "logits_scaling": 16.0, "residual_multiplier": 0.22, "attention_multiplier": 0.0078125,
           "hidden_act": "silu", "tie_word_embeddings": True}


def _lines(config: dict[str, object]) -> list[str]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        shape_from_hf_config(config, "granite")
    return [str(w.message) for w in seen if issubclass(w.category, ModelConfigWarning)]


def test_granite_scalars_are_read_as_harmless_and_the_family_still_said() -> None:
    lines = _lines(GRANITE)
    assert not any("not understood" in line for line in lines)
    assert any("not a family this reader knows" in line for line in lines)
    assert any("not understood (ignored): granite_typo" in line for line in _lines({**GRANITE, "granite_typo": 1}))
