"""Mutation wave 14 (session 41): reading a checkpoint's quantization_config (hW41,
`catalog.model_config_quantization`).

The linear-layer kinds a model has come from its published config: DeepSeek-V3 keeps its first 3 layers dense
(`first_k_dense_replace: 3`) and has one shared expert (`n_shared_experts: 1`); Mixtral 8x7B has every FFN routed
over 8 experts and no shared expert; Llama 3 8B is dense. A GPTQ / AWQ checkpoint states its integer width in
`bits` (GPTQ) or `w_bit` (AWQ): 8 bits is int8, 4 bits int4.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config_quantization import checkpoint_quantization, kind_modules, linear_kinds


@pytest.mark.parametrize(("model", "kinds"), [
    ("deepseek-v3", ("attention", "attention_output", "dense_mlp", "shared_experts", "routed_experts")),
    ("mixtral-8x7b", ("attention", "attention_output", "routed_experts")),
    ("llama3-8b", ("attention", "attention_output", "dense_mlp")),
])
def test_the_linear_kinds_are_the_published_configs(model: str, kinds: tuple[str, ...]) -> None:
    assert linear_kinds(load_model(model)) == kinds


def test_a_quantised_dense_mlp_beside_the_experts_is_not_the_experts_scope() -> None:
    """DeepSeek-V3 with attention and the shared expert skipped but its dense layers quantised: not "experts only"
    (the 3 dense layers would be priced at bf16) but the per-kind scope of the dense MLP and the routed experts
    (hW42; it had been a split not modelled)."""
    quant = {"quant_method": "gptq", "bits": 4, "modules_to_not_convert": ["self_attn", "shared_experts"]}
    fmt, scope, why = checkpoint_quantization({"quantization_config": quant}, kind_modules(load_model("deepseek-v3")))
    assert (fmt, scope, why) == ("int4", "dense_mlp+routed_experts", "")


@pytest.mark.parametrize(("quant", "stored"), [
    ({"quant_method": "gptq", "bits": 8}, "int8"),
    ({"quant_method": "gptq", "bits": 4}, "int4"),
    ({"quant_method": "awq", "w_bit": 8}, "int8"),
])
def test_an_integer_checkpoints_width_is_its_bits(quant: dict, stored: str) -> None:
    assert checkpoint_quantization({"quantization_config": quant}, ("attention", "dense_mlp")) == (stored, "all", "")
