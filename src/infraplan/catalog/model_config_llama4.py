"""Llama 4's text-model keys, read exactly into `TransformerShape` fields (`read_llama4`, called by
`catalog.model_config.shape_from_hf_config` for the `llama4` / `llama4_text` families).

Source: transformers 5.25.0 models/llama4/configuration_llama4.py (`Llama4TextConfig`, :79-193) and
modeling_llama4.py, read from the wheel:
* MoE layers (`Llama4TextDecoderLayer`, modeling :403-407): layer i runs `Llama4TextMoe` when i is in `moe_layers`,
  else a dense `Llama4TextMLP` of width `intermediate_size_mlp`; `moe_layers` defaults to
  range(step - 1, layers, step) of `interleave_moe_layer_step` (configuration :175-185): Scout (step 1) routes
  every layer, Maverick (step 2) every second one, from layer 1.
* Each MoE layer (`Llama4TextMoe`, modeling :159-177): `num_local_experts` routed experts of width
  `intermediate_size` (`Llama4TextExperts`, :55-63: gate_up h x 2f and down f x h each), top-`num_experts_per_tok`
  with a sigmoid of the top logits (`Llama4Router`, :145-156: element-wise on the T x E scores, below the modelled
  resolution), and one shared expert `Llama4TextMLP(config)` of width `intermediate_size` (:167) every token runs.
* Chunked attention (configuration :187-191, modeling :546 `create_chunked_causal_mask`): the RoPE layers
  (`no_rope_layers[i]` 1; default every `no_rope_layer_interval`-th layer, 4, is NoPE: :169-172) attend within
  aligned chunks of `attention_chunk_size` tokens (default 8192) when it is set; the NoPE layers attend the whole
  context. `layer_types` ("chunked_attention" / "full_attention"), where stated, says it per layer instead.
* QK norm (modeling :334-335, :358-360): with `use_qk_norm` (default true) the RoPE layers normalise every head's
  query and key (a weightless RMS norm); Maverick's config turns it off ("the 128E model does not use qk_norm").
* The NoPE layers' attention temperature tuning (`attn_temperature_tuning`, `floor_scale`, `attn_scale`,
  modeling :362-370) scales the queries element-wise: harmless (`catalog.model_config_keys`).
A key read here that the config leaves out takes `Llama4TextConfig`'s default, as transformers would; the
experts' width `intermediate_size` (routed and shared alike) is the general reader's (`catalog.model_config`).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config_keys import LLAMA4_FAMILIES as LLAMA4_FAMILIES  # (the one set: defined there)
from infraplan.catalog.model_config_keys import aliased_value, is_off
from infraplan.errors import InputError

# Llama4TextConfig defaults (configuration_llama4.py:131-163) of the keys read here
DEFAULT_DENSE_WIDTH = 16384  # intermediate_size_mlp
DEFAULT_CHUNK_TOKENS = 8192  # attention_chunk_size
DEFAULT_NOPE_INTERVAL = 4  # no_rope_layer_interval


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _index_list(config: dict[str, Any], key: str, name: str, layers: int, flags: bool = False) -> list[int] | None:
    """The list of `key` (layer indices below `layers`, or 0 / 1 flags), None where the config does not set it;
    any other value is refused naming the key (it was read as no MoE layer or every layer, silently)."""
    value = config.get(key)
    if value is None or value == []:
        return None
    ok = isinstance(value, list) and all(_whole(v) and (v in (0, 1) if flags else 0 <= v < layers) for v in value)
    if not ok or (flags and len(value) < layers):
        what = f"a 0 / 1 flag per layer ({layers:,})" if flags else f"layer indices from 0 to {layers - 1:,}"
        raise InputError(f"model config {name!r}: {key} must be a list of {what}, got {str(value)[:60]}")
    return [int(v) for v in value]


def rope_layers(config: dict[str, Any], layers: int, name: str) -> list[bool]:
    """Per layer, whether it applies RoPE (`no_rope_layers` 1), else the default: every
    `no_rope_layer_interval`-th layer is NoPE (configuration_llama4.py:169-172)."""
    listed = _index_list(config, "no_rope_layers", name, layers, flags=True)
    if listed is not None:
        return [bool(v) for v in listed[:layers]]
    interval = config.get("no_rope_layer_interval", DEFAULT_NOPE_INTERVAL)
    if not (_whole(interval) and interval >= 1):
        raise InputError(f"model config {name!r}: no_rope_layer_interval must be a whole number from 1, "
                         f"got {interval!r}")
    return [(i + 1) % int(interval) != 0 for i in range(layers)]


def moe_layer_indices(config: dict[str, Any], layers: int, name: str) -> frozenset[int]:
    """Layers that run the routed experts: `moe_layers`, else every `interleave_moe_layer_step`-th from
    step - 1 (configuration_llama4.py:175-185)."""
    if config.get("moe_layers") == []:  # transformers reads [] as no MoE layer (`is not None`, :181-185)
        raise InputError(f"model config {name!r}: moe_layers is empty, an MoE config with no MoE layer (set the layers "
                         "that run the experts, or drop the key for every interleave_moe_layer_step-th layer)")
    listed = _index_list(config, "moe_layers", name, layers)
    if listed is not None:
        return frozenset(listed)
    step = config.get("interleave_moe_layer_step", 1)
    if not (_whole(step) and 1 <= step <= layers):
        raise InputError(f"model config {name!r}: interleave_moe_layer_step must be a whole number from 1 to "
                         f"{layers:,}, got {step!r}")
    return frozenset(range(int(step) - 1, layers, int(step)))


def read_llama4(config: dict[str, Any], layers: int, experts: int, name: str) -> dict[str, Any]:
    """TransformerShape fields of a Llama 4 text model: its shared expert, the dense layers between its MoE
    layers, its chunked-attention layers and its QK-normed layers (module docstring)."""
    fields: dict[str, Any] = {}
    if experts > 1:
        # the shared expert is `Llama4TextMLP(config)`, the routed experts' width: priced as they are (unstated: the
        # reader's 4 x hidden, warned by `model_config_defaults.warn_defaults`; was 0, the expert dropped silently,
        # hR46)
        width = aliased_value(config, "ffn_hidden_size") or 4 * int(aliased_value(config, "hidden_size"))
        fields.update(num_shared_experts=1, shared_ffn_hidden_size=int(width))
        moe = moe_layer_indices(config, layers, name)
        if len(moe) < layers:  # the dense layers: first (a suffix of MoE layers, DeepSeek's form) or between them
            fields.update(num_dense_layers=layers - len(moe), dense_layers_interleaved=moe != set(
                range(layers - len(moe), layers)), dense_ffn_hidden_size=int(config.get("intermediate_size_mlp")
                                                                             or DEFAULT_DENSE_WIDTH))
    rope = rope_layers(config, layers, name)
    chunk = config.get("attention_chunk_size", DEFAULT_CHUNK_TOKENS)
    types = config.get("layer_types")
    if isinstance(types, list):
        chunked = sum(t == "chunked_attention" for t in types)
    else:
        chunked = sum(rope) if not is_off(chunk) else 0
    if chunked:
        if not (_whole(chunk) and chunk > 0):
            raise InputError(f"model config {name!r}: attention_chunk_size must be a whole number of tokens for its "
                             f"{chunked} chunked_attention layers, got {chunk!r}")
        fields.update(attention_chunk_size=int(chunk), num_chunked_layers=chunked)
    qk_norm = config.get("use_qk_norm", True)
    if not isinstance(qk_norm, bool):
        raise InputError(f"model config {name!r}: use_qk_norm must be true or false, got {str(qk_norm)[:40]!r}")
    if qk_norm:
        fields["qk_norm_layers"] = sum(rope)
    return fields
