"""Which weights a checkpoint stores quantised: its `quantization_config` read into a format and a scope.

A Hugging Face config's `quantization_config` names the stored weight format and the modules it leaves unquantised;
serving prices that scope where the command's `--dtype` is the stored format (`ops.precision.weight_scope`):

* scope `experts`: only the routed experts' weights are quantised; attention (QKV / MLA projections, output), the
  router, shared experts, dense-FFN layers, the embedding and the LM head stay in the activation dtype (bf16).
  GPT-OSS (openai/gpt-oss-120b, gpt-oss-20b config.json: quant_method mxfp4, `modules_to_not_convert`
  model.layers.*.self_attn, model.layers.*.mlp.router, model.embed_tokens, lm_head) and Kimi K2.5 / K2-Thinking
  (moonshotai/Kimi-K2.5 config.json text_config.quantization_config: compressed-tensors, int4 weights in groups of
  32 on `Linear` targets, `ignore` lm_head, re:.*self_attn.*, re:.*shared_experts.*, re:.*mlp\\.(gate|up|gate_up|
  down)_proj.* - the dense MLP); both read in aiconfigurator-core 0.12.0 model_configs/. vLLM 0.18.0 runs every
  non-expert linear of an MXFP4 checkpoint unquantised (model_executor/layers/quantization/mxfp4.py:215-230);
  compressed-tensors honours `ignore` (an ignored module gets the unquantised linear method).
* scope `all`: every linear layer of the blocks (the embedding and LM head are bf16 in every format here).

Module lists (`modules_to_not_convert`, `ignore`, ModelOpt `exclude_modules`, compressed-tensors `targets`) are
matched as the engines match them: a `re:` entry is a regular expression on the module's full name (compressed-
tensors), any other a glob or a dotted-name part of it (vLLM `is_layer_skipped` substring match, transformers'
glob patterns). Each module kind is tried on HF's names for it (`_KIND_NAMES`). A config whose method, bits or kinds
this reader does not resolve (partly quantised non-expert layers, an unknown method) is priced at the command's
`--dtype` over every layer and named in one warning line (`with_checkpoint_scope`).
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from typing import Any

from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.catalog.transformer_shape import TransformerShape

# the stored format of each quant_method (compressed-tensors / AWQ / GPTQ by their bits: `_bits_format`)
_METHOD_FORMATS = {"mxfp4": "mxfp4", "fp8": "fp8", "fbgemm_fp8": "fp8"}
_MODELOPT_ALGOS = {"FP8": "fp8", "NVFP4": "nvfp4", "W4A16_AWQ": "int4", "W8A8_SQ_PER_CHANNEL": "int8"}
# HF module names of each kind (llama / qwen / deepseek / gpt-oss / mixtral naming), the first layer's
_KIND_NAMES: dict[str, tuple[str, ...]] = {
    "attention": ("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.o_proj",
                  "model.layers.0.self_attn.kv_a_proj_with_mqa"),
    "dense_mlp": ("model.layers.0.mlp.gate_proj", "model.layers.0.mlp.down_proj"),
    "shared_experts": ("model.layers.1.mlp.shared_experts.gate_proj", "model.layers.1.mlp.shared_expert.down_proj"),
    "routed_experts": ("model.layers.1.mlp.experts.0.gate_proj", "model.layers.1.mlp.experts.gate_up_proj",
                       "model.layers.1.block_sparse_moe.experts.0.w1"),
}


def _matches(name: str, pattern: str) -> bool:
    """Whether a module list entry names module `name` (module docstring)."""
    if pattern.startswith("re:"):
        try:
            return re.match(pattern[3:], name) is not None
        except re.error:  # not a regular expression: names nothing
            return False
    return any(fnmatch.fnmatchcase(name, p) for p in (pattern, f"{pattern}.*", f"*.{pattern}", f"*.{pattern}.*"))


def _bits_format(bits: Any, kind: Any) -> str:
    """The serving format of `bits`-wide weights of number `kind` (int / float), '' for one not priced."""
    if not isinstance(bits, int):
        return ""
    return {(4, "int"): "int4", (8, "int"): "int8", (8, "float"): "fp8", (4, "float"): "nvfp4"}.get(
        (bits, str(kind)), "")


def _names(value: Any) -> list[str]:
    """A module list as names: one name, a list of them, or nothing for any other value (a hostile config)."""
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _groups(quant: dict[str, Any]) -> list[dict[str, Any]]:
    """The compressed-tensors `config_groups` that are objects (none for any other value)."""
    groups = quant.get("config_groups")
    return [g for g in groups.values() if isinstance(g, dict)] if isinstance(groups, dict) else []


def _format_and_lists(quant: dict[str, Any]) -> tuple[str, list[str], list[str] | None]:
    """(stored format or '', the modules left unquantised, the modules targeted or None: every linear)."""
    method = str(quant.get("quant_method", "")).lower()
    skipped = _names(quant.get("modules_to_not_convert") or quant.get("ignore") or quant.get("ignored_layers"))
    if method == "compressed-tensors":
        groups = _groups(quant)
        weights = [w if isinstance(w := g.get("weights"), dict) else {} for g in groups]
        formats = {_bits_format(w.get("num_bits"), w.get("type")) for w in weights}
        targets = [t for g in groups for t in _names(g.get("targets"))]
        every = not targets or "Linear" in targets
        return (formats.pop() if len(formats) == 1 else ""), skipped, None if every else targets
    if method.startswith("modelopt"):
        nested = quant.get("quantization")  # the hf_quant_config.json form
        inner: dict[str, Any] = nested if isinstance(nested, dict) else quant
        algo = str(inner.get("quant_algo") or quant.get("quant_algo") or "").upper()
        return _MODELOPT_ALGOS.get(algo, ""), _names(inner.get("exclude_modules")) or skipped, None
    if method in ("awq", "gptq"):
        return _bits_format(quant.get("bits") or quant.get("w_bit"), "int"), skipped, None
    return _METHOD_FORMATS.get(method, ""), skipped, None


def stored_bytes(quant: dict[str, Any]) -> float:
    """Bytes per weight of a compressed-tensors integer checkpoint stored in symmetric groups (Kimi K2.5: 4 bits, groups
    of 32): the bits plus one scale per group in the model dtype (2 B: vLLM 0.18.0 compressed_tensors_moe.py:1735-1753
    and schemes/compressed_tensors_wNa16.py:127-151 allocate `weight_scale` [out, in / group] as `params_dtype`);
    0 for any other (the format's own width, `catalog.schemas.DTYPE_BYTES`)."""
    if str(quant.get("quant_method", "")).lower() != "compressed-tensors":
        return 0.0
    groups = [w if isinstance(w := g.get("weights"), dict) else {} for g in _groups(quant)]
    widths = {w["num_bits"] / 8.0 + 2.0 / w["group_size"] for w in groups
              if w.get("type") == "int" and w.get("strategy") == "group" and w.get("symmetric")
              and isinstance(w.get("num_bits"), int) and isinstance(w.get("group_size"), int) and w["group_size"] > 0}
    return widths.pop() if len(widths) == 1 and len(groups) == 1 else 0.0


def _quantised(names: tuple[str, ...], skipped: list[str], targets: list[str] | None) -> bool:
    """A module kind is quantised where the list skips none of its names (each family's naming) and targets one."""
    return (not any(_matches(n, p) for n in names for p in skipped)
            and (targets is None or any(_matches(n, t) for n in names for t in targets)))


def checkpoint_quantization(config: dict[str, Any], kinds: tuple[str, ...]) -> tuple[str, str, str]:
    """(stored format, scope `all` | `experts`, what is not modelled or '') of a config's `quantization_config`
    (module docstring); `kinds`: the linear-layer kinds the model has (`_KIND_NAMES` keys). ('', '', '') without one;
    ('', '', why) where the format or the scope is not resolved (priced at --dtype over every layer)."""
    quant = config.get("quantization_config")
    if not isinstance(quant, dict) or not quant:
        return "", "", ""
    method = str(quant.get("quant_method") or quant.get("quant_algo") or "unnamed method")[:40]
    fmt, skipped, targets = _format_and_lists(quant)
    if not fmt:
        return "", "", f"quantization_config ({method}): a format not modelled"
    done = {kind: _quantised(_KIND_NAMES[kind], skipped, targets) for kind in kinds}
    others = [kind for kind in kinds if kind != "routed_experts"]
    if all(done.values()):
        return fmt, "all", ""
    if done.get("routed_experts") and not any(done[kind] for kind in others):
        return fmt, "experts", ""
    kept = ", ".join(kind for kind, q in done.items() if not q)
    return "", "", f"quantization_config ({method}): {kept} left unquantised, a split not modelled"


def linear_kinds(shape: TransformerShape) -> tuple[str, ...]:
    """The linear-layer kinds `shape` has (`_KIND_NAMES` keys): attention always; a dense FFN where it is dense or
    has dense-FFN layers; shared and routed experts where it has them."""
    kinds = ["attention"]
    if not shape.is_moe or shape.num_dense_layers:
        kinds.append("dense_mlp")
    if shape.shared_ffn_hidden_size:
        kinds.append("shared_experts")
    return (*kinds, "routed_experts") if shape.is_moe else tuple(kinds)


def with_checkpoint_scope(shape: TransformerShape, config: dict[str, Any], name: str) -> TransformerShape:
    """`shape` with its checkpoint's stored format and scope (`checkpoint_quantization`); what the reader does not
    resolve is one warning line, and that config is priced at the command's --dtype on every layer."""
    fmt, scope, unread = checkpoint_quantization(config, linear_kinds(shape))
    if unread:
        warnings.warn(f"model config {name!r}: {unread}; the weights priced are the command's --dtype on every layer",
                      ModelConfigWarning, stacklevel=4)
    if not fmt:
        return shape
    return shape.model_copy(update={"checkpoint_weight_dtype": fmt, "checkpoint_weight_scope": scope,
                                    "checkpoint_weight_bytes": stored_bytes(config["quantization_config"])})
