"""Mutation wave on hW42's per-kind checkpoint scopes (hM16, session 42): tests that kill the survivors of hand
mutations of `ops.precision` (`ROLE_KINDS`, `quantised_roles`; `checkpoint_mismatch`, in `serving.serve_inputs` since
hE62) and `catalog.model_config_quantization.kind_modules`.

Expectations from outside the code: the GEMM roles of each kind listed by hand from the module names (MLA's absorbed
BMMs are made of the kv_b projection, an attention projection: DeepSeek-V2 paper sec. 2.1.1, vLLM's MLA
`W_UK` / `W_UV` split of kv_b_proj), the dense and MoE layers from DeepSeek-V3's config.json
(num_hidden_layers 61, first_k_dense_replace 3: layers 0-2 dense, 3-60 MoE).
"""

from __future__ import annotations

import warnings

from infraplan.catalog import load_model
from infraplan.catalog.model_config import ModelConfigWarning
from infraplan.catalog.model_config_quantization import checkpoint_quantization, kind_modules
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.ops.precision import quantised_roles, weight_scope
from infraplan.serving.serve_inputs import checkpoint_mismatch

ATTENTION_PROJECTIONS = {"qkv", "qkv_down", "kv_down", "q_up", "kv_up", "q_absorb", "v_absorb"}  # (and kv_b's BMMs)
ATTENTION_OUTPUT = {"attention_out"}
DENSE_MLP = {"ffn_up", "ffn_down"}
SHARED = {"shared_up", "shared_down"}
ROUTED = {"expert_up", "expert_down"}


def _stored(model: str, dtype: str, scope: str) -> TransformerShape:
    return load_model(model).model_copy(update={"checkpoint_weight_dtype": dtype, "checkpoint_weight_scope": scope})


def test_a_v31_nvfp4_scope_quantises_the_output_projection_but_not_kv_bs_bmms() -> None:
    """nvidia/DeepSeek-V3.1-NVFP4 keeps q_a / q_b / kv_a / kv_b in bf16 and quantises o_proj, the MLPs and experts:
    the absorbed BMMs (q_absorb, v_absorb: kv_b's) stay bf16, the output projection does not."""
    shape = _stored("deepseek-v3", "nvfp4", "attention_output+dense_mlp+shared_experts+routed_experts")
    assert quantised_roles(shape, "nvfp4") == ATTENTION_OUTPUT | DENSE_MLP | SHARED | ROUTED


def test_an_experts_scope_quantises_the_routed_experts_alone() -> None:
    """GPT-OSS / Kimi K2.5 (`experts`): the routed experts' two GEMMs; the shared experts' stay bf16 (Kimi K2.5
    `ignore` re:.*shared_experts.*)."""
    assert quantised_roles(_stored("deepseek-v3", "int4", "experts"), "int4") == ROUTED
    assert quantised_roles(_stored("deepseek-v3", "nvfp4", "shared_experts+routed_experts"), "nvfp4") == \
        SHARED | ROUTED


def test_scope_all_quantises_every_gemm_the_router_too() -> None:
    """A format run on every layer (scope `all`): no role set (every GEMM, the router among them, at the format),
    not the roles of the five kinds (which leave the router out, as the split scopes do)."""
    shape = load_model("deepseek-v3")
    assert weight_scope(shape, "fp8") == "all"
    assert quantised_roles(shape, "fp8") is None


def test_a_mismatch_on_a_scope_all_checkpoint_says_all_linear_layers() -> None:
    """An fp8 checkpoint of every linear layer run at --dtype nvfp4: the line names what the config stores as "all
    linear layers"; an experts-only one names the routed experts."""
    line = checkpoint_mismatch(_stored("deepseek-v3", "fp8", "all"), "nvfp4")
    assert line is not None and "stores fp8 weights (all linear layers)" in line
    line = checkpoint_mismatch(_stored("deepseek-v3", "int4", "experts"), "bf16")
    assert line is not None and "stores int4 weights (the routed experts)" in line


def test_deepseek_v3_routed_and_shared_experts_from_layer_3() -> None:
    """DeepSeek-V3: the dense MLP on layers 0-2, the shared and routed experts on layers 3-60; an exclusion naming
    layer 3's routed experts alone leaves the routed experts quantised on some layers only (not modelled)."""
    modules = kind_modules(load_model("deepseek-v3"))
    assert list(modules["dense_mlp"][0]) == [0, 1, 2]
    assert list(modules["routed_experts"][0]) == list(range(3, 61))
    assert list(modules["shared_experts"][0]) == list(range(3, 61))
    quant = {"quant_method": "fp8", "modules_to_not_convert": ["model.layers.3.mlp.experts"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        fmt, scope, said = checkpoint_quantization({"quantization_config": quant}, modules, "deepseek-v3")
    assert (fmt, scope) == ("", "")
    assert "routed_experts quantised on some layers" in said


def test_qwen2_moe_names_one_shared_expert() -> None:
    """Qwen2-MoE's block holds one `shared_expert` (transformers modeling_qwen2_moe.py Qwen2MoeSparseMoeBlock), so an
    exclusion of `shared_expert` leaves the shared experts in bf16 and the routed ones quantised."""
    shape = load_model("deepseek-v3").model_copy(update={"model_type": "qwen2_moe"})
    modules = kind_modules(shape)
    assert modules["shared_experts"][1] == ("mlp.shared_expert.gate_proj", "mlp.shared_expert.up_proj",
                                            "mlp.shared_expert.down_proj")
    quant = {"quant_method": "fp8", "modules_to_not_convert": ["shared_expert"]}
    fmt, scope, _ = checkpoint_quantization({"quantization_config": quant}, modules, "qwen2-moe")
    assert (fmt, scope) == ("fp8", "attention+attention_output+dense_mlp+routed_experts")


def test_an_fp8_configs_ignored_layers_are_read() -> None:
    """vLLM's Fp8Config reads its unquantised modules from `ignored_layers` (quantization/fp8.py): attention there
    (q / k / v and o_proj) leaves the MLP kinds quantised."""
    quant = {"quant_method": "fp8", "ignored_layers": ["model.layers.*.self_attn*"]}
    fmt, scope, _ = checkpoint_quantization({"quantization_config": quant}, kind_modules(load_model("qwen3-32b")),
                                            "qwen3-32b")
    assert (fmt, scope) == ("fp8", "dense_mlp")


def test_mla_without_query_compression_names_q_proj() -> None:
    """DeepSeek-V2-Lite's MLA (q_lora_rank null: modeling_deepseek.py builds `q_proj`, no q_a / q_b): its attention
    projections are q_proj, kv_a_proj_with_mqa and kv_b_proj; q_proj left out alone is a part-quantised kind."""
    shape = load_model("deepseek-v3").model_copy(update={"q_lora_rank": 0})
    modules = kind_modules(shape)
    assert modules["attention"][1] == ("self_attn.q_proj", "self_attn.kv_a_proj_with_mqa", "self_attn.kv_b_proj")
    quant = {"quant_method": "fp8", "modules_to_not_convert": ["q_proj"]}
    fmt, scope, said = checkpoint_quantization({"quantization_config": quant}, modules, "v2-lite")
    assert (fmt, scope) == ("", "") and "attention quantised on some layers" in said


def test_attention_projections_alone_quantised_is_a_scope() -> None:
    """An fp8 config leaving o_proj and the MLP unquantised (Qwen3-32B's names): its attention projections alone are
    fp8, the first kind's scope `attention`, not "every linear kind left unquantised"."""
    quant = {"quant_method": "fp8", "modules_to_not_convert": ["o_proj", "mlp"]}
    fmt, scope, said = checkpoint_quantization({"quantization_config": quant}, kind_modules(load_model("qwen3-32b")),
                                               "qwen3-32b")
    assert (fmt, scope, said) == ("fp8", "attention", "")


def test_a_target_naming_the_lm_head_is_said() -> None:
    """compressed-tensors targets naming `lm_head` beside the blocks' linears: the LM head is stored quantised, which
    serving does not model (priced bf16): said in the note."""
    group = {"targets": ["re:model\\.layers\\..*", "lm_head"], "weights": {"num_bits": 8, "type": "float"}}
    quant = {"quant_method": "compressed-tensors", "config_groups": {"group_0": group}}
    fmt, scope, said = checkpoint_quantization({"quantization_config": quant}, kind_modules(load_model("qwen3-32b")),
                                               "qwen3-32b")
    assert (fmt, scope) == ("fp8", "all")
    assert "its LM head is quantised: priced in bf16" in said
