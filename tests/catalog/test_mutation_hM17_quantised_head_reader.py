"""Mutation wave 17 (hM17, session 43): the quantisation reader's LM head, kind splits and `re:` entries under a
multimodal wrapper (hQ44; catalog/model_config_quantization.py), on cases the landed tests left open.

Each expectation from the engine's rule, read in vLLM 0.18.0 (the module docstring's citations): a `re:` entry is
`re.match`ed against the engine's full name, under a wrapper `language_model.model.layers.N...` and
`language_model.lm_head` (compressed_tensors/utils.py:153-166); the quant_method is read case-blind (the reader's
format lookup lowers it, as vLLM's config check does); a compressed-tensors `ignore` entry wins over a target.
"""

from __future__ import annotations

from infraplan.catalog import load_model
from infraplan.catalog.model_config_quantization import checkpoint_quantization, kind_modules, lm_head_quantised

LLAMA = kind_modules(load_model("llama3-8b"))  # 32 layers, dense
KIMI = kind_modules(load_model("kimi-k2"))  # 61 layers, the first dense, MLA
GPTQ = {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False, "sym": True}
WRAPPED = "language_model.lm_head"  # a literal entry naming the wrapper: the engine's names are wrapped


def _q(quant: dict, kinds=LLAMA) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    return checkpoint_quantization({"quantization_config": quant}, kinds, "test")


def _ct(targets: list[str], ignore: list[str]) -> dict:
    group = {"targets": targets, "weights": {"num_bits": 4, "type": "int"}}
    return {"quant_method": "compressed-tensors", "ignore": ignore, "config_groups": {"group_0": group}}


def test_one_matrix_left_out_on_one_layer_is_a_split_of_matrices_not_of_layers() -> None:
    """Layer 0's q_proj in bf16, its k, v and o quantised, layers 1-31 wholly quantised: the split runs inside a
    layer, so 'some of its matrices', not '31 of 32 layers' (which would say layer 0 is wholly bf16)."""
    fmt, scope, why = _q({**GPTQ, "modules_to_not_convert": ["model.layers.0.self_attn.q_proj"]})
    assert (fmt, scope) == ("", "") and "(attention: some of its matrices)" in why and "of 32 layers" not in why


def test_an_unanchored_regex_under_a_wrapper_names_modules_and_is_not_said() -> None:
    """`re:.*self_attn.*` matches `language_model.model.layers.N.self_attn...` as well as the bare name: nothing
    to say about anchoring (only the wrapper's read)."""
    fmt, scope, note = _q(_ct(["Linear"], [WRAPPED, "re:.*self_attn.*"]), KIMI)
    assert (fmt, scope) == ("int4", "dense_mlp+shared_experts+routed_experts")
    assert "full names" not in note and "language_model." in note


def test_a_regex_naming_the_bare_lm_head_under_a_wrapper_is_said() -> None:
    """`re:lm_head` does not match `language_model.lm_head` at position 0: it names nothing in the engine, said;
    on a text-only model it names the head and there is nothing to say."""
    fmt, scope, note = _q(_ct(["Linear"], [WRAPPED, "re:lm_head"]), KIMI)
    assert (fmt, scope) == ("int4", "all") and "'re:lm_head' is matched against the engine's full names" in note
    assert _q(_ct(["Linear"], ["lm_head", "re:lm_head"]), KIMI) == ("int4", "all", "")


def test_an_anchored_target_under_a_wrapper_is_said_too() -> None:
    """Targets are module lists as well: the experts regex anchored at `model.layers.` names no wrapped module, so
    the experts stay bf16 and only the (unanchored) attention target quantises."""
    experts = "re:model\\.layers\\.\\d+\\.mlp\\.experts.*"
    fmt, scope, note = _q(_ct(["re:.*self_attn.*", experts], [WRAPPED]), KIMI)
    assert (fmt, scope) == ("int4", "attention+attention_output")
    assert f"{experts!r} is matched against the engine's full names" in note


def test_the_method_is_read_case_blind_for_the_lm_head() -> None:
    for method in ("GPTQ", "Gptq", "AWQ"):
        quant = {**GPTQ, "quant_method": method, "lm_head": True}
        assert lm_head_quantised({"quantization_config": quant}, LLAMA, "test")
        assert _q(quant)[:2] == ("int4", "all")


def test_a_targeted_head_that_is_also_ignored_is_not_said_quantised() -> None:
    assert _q(_ct(["Linear", "lm_head"], ["lm_head"])) == ("int4", "all", "")
    assert "runs a targeted LM head" in _q(_ct(["Linear", "lm_head"], []))[2]  # targeted and not ignored: said


def test_a_regex_target_naming_the_wrapped_head_is_said_bf16() -> None:
    """`re:language_model\\.lm_head` as a target under a wrapper names the engine's head (vLLM 0.18.0 runs it
    unquantised: compressed-tensors quantises `LinearBase` only), said; on a text-only model it names nothing."""
    wrapped_gate = "language_model.model.layers.0.mlp.gate"  # an ignore entry that puts the names under the wrapper
    fmt, scope, note = _q(_ct(["Linear", "re:language_model\\.lm_head"], [wrapped_gate]), KIMI)
    assert (fmt, scope) == ("int4", "all") and "its LM head is quantised: priced in bf16" in note
    assert "LM head" not in _q(_ct(["Linear", "re:language_model\\.lm_head"], []), KIMI)[2]
