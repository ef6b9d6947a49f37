"""A quantised LM head, a kind split over layers, and `re:` entries under a multimodal wrapper (hQ44).

vLLM 0.18.0 (the wheel, read): a GPTQ / AWQ config's `lm_head: true` gives `ParallelLMHead` the method of the other
linears (quantization/utils/gptq_utils.py:135-153, awq_marlin.py:176-197); compressed-tensors and ModelOpt quantise
`LinearBase` only (compressed_tensors/compressed_tensors.py:155-160, modelopt.py:2207), so a targeted LM head runs
unquantised. A `re:` entry is `re.match`ed against the layer's full name (compressed_tensors/utils.py:153-166) and is
not rewritten by the model's name mapper (compressed_tensors.py:122-140); every multimodal wrapper's text model is
named `language_model.model.layers.N...` there (kimi_k25.py:332-338, qwen2_5_vl.py:1016-1023).
"""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.catalog.model_config_quantization import checkpoint_quantization, kind_modules, lm_head_quantised

LLAMA = kind_modules(load_model("llama3-8b"))  # 32 layers, GQA, dense
KIMI = kind_modules(load_model("kimi-k2"))  # 61 layers, the first dense, MLA
GPTQ = {"quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": False, "sym": True}


def _q(quant: dict, kinds=LLAMA) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    return checkpoint_quantization({"quantization_config": quant}, kinds, "test")


def _head(quant: dict, kinds=LLAMA) -> bool:  # type: ignore[no-untyped-def]
    return lm_head_quantised({"quantization_config": quant}, kinds, "test")


def _ct(targets: list[str], ignore: list[str]) -> dict:
    group = {"targets": targets, "weights": {"num_bits": 4, "type": "int"}}
    return {"quant_method": "compressed-tensors", "ignore": ignore, "config_groups": {"group_0": group}}


def test_a_gptq_or_awq_lm_head_is_read_as_quantised_and_needs_no_note() -> None:
    assert _q({**GPTQ, "lm_head": True}) == ("int4", "all", "") and _head({**GPTQ, "lm_head": True})
    assert not _head({**GPTQ, "lm_head": False}) and not _head(GPTQ)
    assert _head({"quant_method": "awq", "bits": 4, "lm_head": True})
    # AWQ's module list skipping the head: vLLM's awq_marlin is_layer_skipped gives it the unquantised method
    assert not _head({"quant_method": "awq", "bits": 4, "lm_head": True, "modules_to_not_convert": ["lm_head"]})


def test_an_lm_head_key_or_target_the_engine_does_not_run_quantised_is_said_bf16() -> None:
    fmt, scope, note = _q({"quant_method": "fp8", "lm_head": True})
    assert (fmt, scope) == ("fp8", "all") and "read by GPTQ / AWQ only" in note
    assert not _head({"quant_method": "fp8", "lm_head": True})
    fmt, scope, note = _q(_ct(["Linear", "lm_head"], []))
    assert (fmt, scope) == ("int4", "all") and "vLLM 0.18.0 runs a targeted LM head" in note
    assert not _head(_ct(["Linear", "lm_head"], []))


def test_the_shape_carries_the_quantised_head_and_a_tied_head_stays_bf16() -> None:
    config, _ = read_entry("models", "llama3-8b")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)  # a modelled head: nothing to say
        shape = shape_from_hf_config({**config, "quantization_config": {**GPTQ, "lm_head": True}}, "gptq")
    assert shape.checkpoint_lm_head_quantised and shape.checkpoint_weight_dtype == "int4"
    with pytest.warns(ModelConfigWarning, match="on tied embeddings: the LM head priced in bf16") as caught:
        tied = shape_from_hf_config({**config, "tie_word_embeddings": True,
                                     "quantization_config": {**GPTQ, "lm_head": True}}, "gptq-tied")
    assert len(caught) == 1 and not tied.checkpoint_lm_head_quantised and tied.checkpoint_weight_dtype == "int4"


def test_a_kind_split_over_layers_is_counted_in_its_warning() -> None:
    """`model.layers.0.mlp` left out of a dense model: the dense MLP on 31 of 32 layers (not priced per layer:
    module docstring); q_proj left out alone: some of attention's matrices."""
    fmt, scope, why = _q({**GPTQ, "modules_to_not_convert": ["model.layers.0.mlp"]})
    assert (fmt, scope) == ("", "") and "(dense_mlp: 31 of 32 layers)" in why
    fmt, scope, why = _q({"quant_method": "fp8", "modules_to_not_convert": ["q_proj"]})
    assert (fmt, scope) == ("", "") and "(attention: some of its matrices)" in why


WRAPPED = "language_model.lm_head"  # a literal entry naming the wrapper: the engine's names are wrapped


def test_an_unanchored_regex_names_the_wrapped_modules_as_vllm_matches_them() -> None:
    """Kimi K2.5's `re:.*self_attn.*` under the wrapper: vLLM matches it on `language_model.model.layers.N.self_attn
    ...`, so attention stays bf16, wrapped or not."""
    for ignore in ([WRAPPED, "re:.*self_attn.*"], ["lm_head", "re:.*self_attn.*"]):
        fmt, scope, _ = _q(_ct(["Linear"], ignore), KIMI)
        assert (fmt, scope) == ("int4", "dense_mlp+shared_experts+routed_experts")


def test_a_regex_anchored_at_the_bare_name_names_nothing_under_a_wrapper_and_that_is_said() -> None:
    """`re:model\\.layers\\.\\d+\\.self_attn.*`: on a text-only model it leaves attention in bf16; under the wrapper
    vLLM's `re.match` on `language_model.model.layers.N...` fails at position 0, so attention is quantised."""
    anchored = "re:model\\.layers\\.\\d+\\.self_attn.*"
    bare = _q(_ct(["Linear"], ["lm_head", anchored]), KIMI)
    assert bare[:2] == ("int4", "dense_mlp+shared_experts+routed_experts") and "full names" not in bare[2]
    fmt, scope, note = _q(_ct(["Linear"], [WRAPPED, anchored]), KIMI)
    assert (fmt, scope) == ("int4", "all")
    assert "matched against the engine's full names (language_model.model.layers.N" in note and repr(anchored) in note


def test_a_regex_anchored_at_the_wrapped_name_names_the_wrapped_model_only() -> None:
    wrapped = "re:language_model\\.model\\.layers\\.\\d+\\.self_attn.*"
    assert _q(_ct(["Linear"], [WRAPPED, wrapped]), KIMI)[:2] == ("int4", "dense_mlp+shared_experts+routed_experts")
    fmt, scope, note = _q(_ct(["Linear"], ["lm_head", wrapped]), KIMI)  # a text-only model: it names nothing
    assert (fmt, scope) == ("int4", "all")
    # targets are matched the same way: experts only, written for the wrapped names
    targets = ["re:language_model\\.model\\.layers\\.\\d+\\.mlp\\.experts.*"]
    assert _q(_ct(targets, [WRAPPED]), KIMI)[:2] == ("int4", "experts")
    assert _q(_ct(targets, ["lm_head"]), KIMI)[1:] == ("", "quantization_config (compressed-tensors): every linear "
                                                          "kind left unquantised")
