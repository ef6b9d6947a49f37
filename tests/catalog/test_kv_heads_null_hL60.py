"""A config giving `"num_key_value_heads": null` (hL60): transformers' MistralConfig reads a null as the query-head
count (`if num_key_value_heads is None: num_key_value_heads = num_attention_heads`, recalled of 4.57.1), which the
reader prices (32 KV heads); the line said the family default is 8, which applies only where the key is absent."""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config

BASE = {"hidden_size": 4096, "num_hidden_layers": 4, "num_attention_heads": 16, "intermediate_size": 14336,
        "vocab_size": 32000}


def _lines(config: dict[str, object]) -> tuple[int, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kv = shape_from_hf_config(config, "x").num_kv_heads
    return kv, [str(w.message) for w in caught if issubclass(w.category, ModelConfigWarning)]


@pytest.mark.parametrize("family", ["mistral", "mixtral", "qwen2", "qwen3"])
def test_a_null_is_priced_as_transformers_reads_it_and_said_so(family: str) -> None:
    kv, lines = _lines({**BASE, "model_type": family, "num_key_value_heads": None})
    assert kv == 16
    line = next(x for x in lines if "num_key_value_heads" in x)
    assert f"num_key_value_heads null: priced with one KV head per query head (16), as transformers' {family} " \
           "config reads a null (None -> num_attention_heads" in line
    assert "no num_key_value_heads" not in line and "may default otherwise" not in line
    kv, lines = _lines({**BASE, "model_type": family})  # the key absent: the class default differs, said so
    assert kv == 16 and not any("null" in x for x in lines)
    assert any("no num_key_value_heads: priced with one KV head per query head (16), where transformers' "
               f"{family} config defaults to" in x for x in lines)


def test_a_null_in_a_family_not_checked_says_the_default_is_for_an_absent_key() -> None:
    kv, lines = _lines({**BASE, "model_type": "gemma2", "num_key_value_heads": None})
    assert kv == 16
    assert any("num_key_value_heads null: priced with one KV head per query head (16); transformers' gemma2 config "
               "defaults to 4 where the key is absent" in x for x in lines)

