"""Which weights a checkpoint stores quantised: its `quantization_config` read into a format and a scope.

A Hugging Face config's `quantization_config` names the stored weight format and the modules it leaves unquantised;
serving prices that scope where the command's `--dtype` is the stored format (`ops.precision.weight_scope`). The
scope is stated per GEMM kind (`ops.precision.SCOPE_KINDS`): the attention projections (QKV, or MLA's q_a / q_b /
kv_a / kv_b and the absorbed BMMs made of kv_b), the attention output projection, the dense MLP (a dense model's
FFN, an MoE model's dense-FFN layers), the shared experts and the routed experts. `all`: every kind (and the router);
`experts`: the routed experts only; any other split: its quantised kinds joined by `+`
(e.g. `attention_output+dense_mlp+shared_experts+routed_experts`). The router stays in the activation dtype (bf16)
under any scope but `all` (hW41's `experts` rule); the embedding and the LM head under every scope, as today's
engines run them: vLLM 0.18.0 quantises a linear layer (`LinearBase`) only, not the LM head (`ParallelLMHead`;
compressed_tensors/compressed_tensors.py:155-160, modelopt.py:2207): a compressed-tensors or ModelOpt config naming
the LM head as a target is priced so (bf16) and said. A GPTQ or AWQ config's `lm_head: true` is the exception
(`lm_head_quantised`): vLLM 0.18.0 reads the key (gptq.py:150, gptq_marlin.py:199, awq_marlin.py:135) and gives the
LM head the method of the other linears (utils/gptq_utils.py:135-153, awq_marlin.py:176-197; on CUDA the Marlin
W4A16 kernel, gptq / awq being converted to gptq_marlin / awq_marlin, gptq_marlin.py:215-238, awq_marlin.py:149-172)
unless its module list skips `lm_head`: the head's weights are then stored at the config's bits and its GEMM runs as
the other weight-only GEMMs (`ops.precision.head_dtype`). A tied head (the embedding's bf16 table, vocab_parallel_
embedding.py:553-560) is not: said, priced bf16. ASSUMPTION: SGLang and TensorRT-LLM run it as vLLM does (not read).

* GPT-OSS (openai/gpt-oss-120b, gpt-oss-20b config.json: quant_method mxfp4, `modules_to_not_convert`
  model.layers.*.self_attn, model.layers.*.mlp.router, model.embed_tokens, lm_head) and Kimi K2.5 / K2-Thinking
  (moonshotai/Kimi-K2.5 config.json text_config.quantization_config: compressed-tensors, int4 weights in groups of
  32 on `Linear` targets, `ignore` lm_head, re:.*self_attn.*, re:.*shared_experts.*, re:.*mlp\\.(gate|up|gate_up|
  down)_proj.* - the dense MLP): `experts`; both read in aiconfigurator-core 0.12.0 model_configs/. vLLM 0.18.0 runs
  every non-expert linear of an MXFP4 checkpoint unquantised (model_executor/layers/quantization/mxfp4.py:215-230);
  compressed-tensors honours `ignore` (an ignored module gets the unquantised linear method).
* ModelOpt NVFP4 checkpoints that keep attention in bf16 (aiconfigurator-core 0.12.0 model_configs/: nvidia/
  DeepSeek-V3.1-NVFP4 `exclude_modules` every layer's q_a / q_b / kv_a_with_mqa / kv_b projections, o_proj quantised:
  `attention_output+dense_mlp+shared_experts+routed_experts`; nvidia/Kimi-K2.6-NVFP4 `self_attn*`, the shared experts
  and the dense layer 0: `experts`). No preset ships such a block: none is in a readable package for the checkpoints
  the presets' rows run (nvidia/DeepSeek-R1-0528-FP4; hQ42, validation/notes/serving_hopper_moe_tried.md).

Module lists (`modules_to_not_convert`, `ignore`, `ignored_layers`, ModelOpt `exclude_modules`, all of those given;
compressed-tensors `targets`) are matched as the engines match them: a `re:` entry is a regular expression matched
at the start of the module's full name in the engine (compressed-tensors; vLLM 0.18.0 compressed_tensors/utils.py:
153-166 `re.match` on the layer's prefix), any other a glob or a dotted-name part of it (vLLM `is_layer_skipped`
substring match, transformers' and ModelOpt's glob patterns). Names under a multimodal wrapper
(`language_model.model.layers.N...`, `model.language_model.layers.N...`, `language_model.lm_head`) are the text
model's: vLLM 0.18.0 keeps Kimi K2.5's text model under `language_model.` (models/kimi_k25.py:332-338) and matches
ModelOpt exclusions with that prefix removed too (quantization/modelopt.py:165-174); such a read is said in one line.
A `re:` entry is not rewritten (compressed_tensors.py:122-140 `apply_vllm_mapper` maps dotted layer paths only, "re:
... preserved"): where the config names its modules under a wrapper, the engine's names are `language_model.model.
layers.N...` and `language_model.lm_head` (every wrapper's mapper lands there: kimi_k25.py:332-338, qwen2_5_vl.py:
1016-1023, qwen3_vl.py:1375-1379, mistral3.py:426-432), and a `re:` entry is matched against those (`_ENGINE_WRAPPER`):
`re:.*self_attn.*` names the wrapped attention, an entry anchored at `model.layers.` names nothing there (said in one
line where it would name a module of the bare text model).
Each kind is tried on HF's module names for it on every layer that has it (`kind_modules`: the first
`num_dense_layers` layers are the dense ones), one naming family per model (llama / qwen / deepseek MLA / gpt-oss /
mixtral). A list, target or group that is not of the right type, or a `re:` entry that is not a regular expression,
is bad input (one line, `InputError`). A config this reader does not resolve (a kind quantised on some layers or some
of its matrices only, two formats in its `config_groups`, an unknown method or width, a module list none of whose
entries names a module of this model) is priced at the command's `--dtype` over every layer and named in one warning
line (`with_checkpoint_scope`), the layers of a kind split so counted in it.

Why a kind quantised on some layers is not priced as layer groups: its GEMMs would split exactly, but the serving
iteration takes one format per kind beyond its GEMMs (activation casts, `serving.engine_kernels`; the MLA BMMs,
`serving.mla_absorb`; the MoE kernel terms, `serving.routed_experts` / `deepgemm_moe`), chosen once per run
(`ops.precision.kind_dtype`): pricing the split needs the iteration per layer-group share, so it stays a warning.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from infraplan.catalog.integer_group_scales import check_group_alignment, stored_bytes
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.errors import InputError

# the stored format of each quant_method (compressed-tensors / AWQ / GPTQ by their bits: `_bits_format`)
_METHOD_FORMATS = {"mxfp4": "mxfp4", "fp8": "fp8", "fbgemm_fp8": "fp8"}
_MODELOPT_ALGOS = {"FP8": "fp8", "NVFP4": "nvfp4", "W4A16_AWQ": "int4", "W8A8_SQ_PER_CHANNEL": "int8"}
_LIST_KEYS = ("modules_to_not_convert", "ignore", "ignored_layers")  # the module lists a config leaves unquantised
# the GEMM kinds a scope states, in the order a scope names them (`ops.precision.SCOPE_KINDS`)
KINDS = ("attention", "attention_output", "dense_mlp", "shared_experts", "routed_experts")
# HF module names (under `model.layers.N.`) of each kind, by naming family
_GQA = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")
_MLA = ("self_attn.q_a_proj", "self_attn.q_b_proj", "self_attn.kv_a_proj_with_mqa", "self_attn.kv_b_proj")
_MLA_NO_Q_LORA = ("self_attn.q_proj", "self_attn.kv_a_proj_with_mqa", "self_attn.kv_b_proj")
_DENSE = ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
_ROUTED = {"gpt_oss": ("mlp.experts.gate_up_proj", "mlp.experts.down_proj"),
           "mixtral": ("block_sparse_moe.experts.0.w1", "block_sparse_moe.experts.0.w3",
                       "block_sparse_moe.experts.0.w2")}
_ROUTED_DEFAULT = ("mlp.experts.0.gate_proj", "mlp.experts.0.up_proj", "mlp.experts.0.down_proj")
_SHARED_SINGULAR = ("qwen",)  # model_type prefixes naming one `mlp.shared_expert` (Qwen2-MoE), else shared_experts
_OTHER_MODULES = ("model.layers.{i}.mlp.gate", "model.layers.{i}.mlp.router", "model.embed_tokens", "lm_head")
_FEW_LITERALS = 16  # literal entries beyond this are looked up as a set (`_Matcher`)
# a module name under a wrapper: `<wrapper>.layers.N...` or `<wrapper>.lm_head`
_WRAPPED = re.compile(r"(?P<wrap>[\w.]+?)\.(?P<rest>(?:layers\.|lm_head\b).*)")
_ENGINE_WRAPPER = "language_model."  # vLLM 0.18.0's name of a wrapped text model, where `re:` entries match (docstring)
_HEAD_METHODS = ("gptq", "awq")  # the quant_methods whose `lm_head: true` vLLM 0.18.0 runs quantised (docstring)

KindModules = Mapping[str, tuple[Sequence[int], tuple[str, ...]]]


def kind_modules(shape: TransformerShape) -> dict[str, tuple[Sequence[int], tuple[str, ...]]]:
    """The linear-layer kinds `shape` has, each with the layers that have it and its HF module names there
    (module docstring): attention and its output always; a dense MLP where it is dense or has dense-FFN layers (the
    first `num_dense_layers`); shared and routed experts on the other layers where it has them."""
    every, dense = range(shape.num_layers), range(shape.num_dense_layers if shape.is_moe else shape.num_layers)
    routed_layers = range(shape.num_dense_layers, shape.num_layers)
    attention = (_MLA if shape.q_lora_rank else _MLA_NO_Q_LORA) if shape.is_mla else _GQA
    kinds: dict[str, tuple[Sequence[int], tuple[str, ...]]] = {
        "attention": (every, attention), "attention_output": (every, ("self_attn.o_proj",))}
    if dense:
        kinds["dense_mlp"] = (dense, _DENSE)
    if shape.shared_ffn_hidden_size:
        spelled = "shared_expert" if shape.model_type.startswith(_SHARED_SINGULAR) else "shared_experts"
        kinds["shared_experts"] = (routed_layers, tuple(f"mlp.{spelled}.{m}" for m in ("gate_proj", "up_proj",
                                                                                          "down_proj")))
    if shape.is_moe:
        kinds["routed_experts"] = (routed_layers, _ROUTED.get(shape.model_type, _ROUTED_DEFAULT))
    return kinds


def linear_kinds(shape: TransformerShape) -> tuple[str, ...]:
    """The linear-layer kinds `shape` has (`kind_modules`' keys)."""
    return tuple(kind_modules(shape))


def _default_modules(kinds: Sequence[str]) -> dict[str, tuple[Sequence[int], tuple[str, ...]]]:
    """`kinds` on one layer each (layer 0; the expert kinds layer 1), llama / deepseek names (a caller without a
    shape)."""
    names = {"attention": _GQA, "attention_output": ("self_attn.o_proj",), "dense_mlp": _DENSE,
             "shared_experts": ("mlp.shared_experts.gate_proj", "mlp.shared_experts.down_proj"),
             "routed_experts": _ROUTED_DEFAULT}
    return {k: ((1,) if k.endswith("experts") else (0,), names[k]) for k in kinds}


def _names(quant: dict[str, Any], key: str, name: str) -> list[str]:
    """A module list as names: one name or a list of names; None / absent is none; anything else is bad input."""
    value = quant.get(key)
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputError(f"model config {name!r}: quantization_config {key} must be a module name or a list of "
                         f"them, got {str(value)[:40]!r}")
    return values


def _bits_format(bits: Any, kind: Any) -> str:
    """The serving format of `bits`-wide weights of number `kind` (int / float), '' for one not priced."""
    if not isinstance(bits, int):
        return ""
    return {(4, "int"): "int4", (8, "int"): "int8", (8, "float"): "fp8", (4, "float"): "nvfp4"}.get(
        (bits, str(kind)), "")


def _groups(quant: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The compressed-tensors `config_groups` by name (none where absent; bad input where not objects)."""
    groups = quant.get("config_groups")
    if groups is None:
        return {}
    if not isinstance(groups, dict) or not all(isinstance(g, dict) for g in groups.values()):
        raise InputError(f"model config {name!r}: quantization_config config_groups must be an object of groups, "
                         f"got {str(groups)[:40]!r}")
    return {str(k): g for k, g in groups.items()}


def _group_formats(quant: dict[str, Any], name: str) -> tuple[str, list[str] | None, str]:
    """(the one format of the config's groups or '', their targets merged or None: every linear, why not read)."""
    groups = _groups(quant, name)
    formats = {key: _bits_format(w.get("num_bits"), w.get("type")) if isinstance(w := g.get("weights"), dict)
               else "" for key, g in groups.items()}
    if len(set(formats.values())) > 1:  # two formats in one checkpoint: named, not priced
        said = ", ".join(f"{key} ({fmt or 'not modelled'})" for key, fmt in formats.items())
        return "", None, f"config_groups {said[:120]}: two formats, not modelled"
    targets = [t for key in groups for t in _names(groups[key], "targets", name)]
    every = not targets or "Linear" in targets
    return next(iter(formats.values()), ""), None if every else targets, ""


def _format_and_lists(quant: dict[str, Any], name: str) -> tuple[str, list[str], list[str] | None, str]:
    """(stored format or '', the modules left unquantised, the modules targeted or None: every linear, why the
    format is not read or '')."""
    method = str(quant.get("quant_method", "")).lower()
    skipped = [n for key in _LIST_KEYS for n in _names(quant, key, name)]
    if method == "compressed-tensors":
        fmt, targets, why = _group_formats(quant, name)
        return fmt, skipped, targets, why
    if method.startswith("modelopt"):
        nested = quant.get("quantization")  # the hf_quant_config.json form
        inner: dict[str, Any] = nested if isinstance(nested, dict) else quant
        skipped += _names(inner, "exclude_modules", name)
        algo = str(inner.get("quant_algo") or quant.get("quant_algo") or "").upper()
        if algo not in _MODELOPT_ALGOS and _groups(quant, name):  # a mixed-precision config: read its groups
            fmt, targets, why = _group_formats(quant, name)
            return fmt, skipped, targets, why
        return _MODELOPT_ALGOS.get(algo, ""), skipped, None, ""
    if method in ("awq", "gptq"):
        return _bits_format(quant.get("bits") or quant.get("w_bit"), "int"), skipped, None, ""
    return _METHOD_FORMATS.get(method, ""), skipped, None, ""


def _regex(entry: str, name: str) -> str:
    """A `re:` entry's regular expression; one that is not a regular expression is bad input."""
    try:
        re.compile(entry[3:])
    except re.error as exc:
        raise InputError(f"model config {name!r}: quantization_config entry {entry[:40]!r} is not a regular "
                         f"expression ({exc})") from None
    return entry[3:]


def _glob(entry: str) -> str:
    """A glob entry as the body of a regular expression (`*` any characters, `?` one; `[` a character)."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in entry)


def _unwrapped(entry: str) -> tuple[str, str]:
    """(the entry as the text model's name, the wrapper removed or ''): `language_model.model.layers.0*` ->
    `model.layers.0*` (module docstring)."""
    found = _WRAPPED.fullmatch(entry)
    if entry.startswith("re:") or found is None or found["wrap"] == "model":
        return entry, ""
    rest = found["rest"]
    return (f"model.{rest}" if rest.startswith("layers.") else rest), found["wrap"].removesuffix(".model")


class _Matcher:
    """Whether a module list names a module (module docstring): its glob entries (a literal one too, where there are
    few) as one regular expression over the name or a dotted part of it, its `re:` entries as another matched at the
    name's start, and many literal entries as a set of the dotted parts of the name (a per-layer list)."""

    def __init__(self, entries: list[str], name: str, engine_prefix: str = "") -> None:
        self._prefix = engine_prefix  # the `re:` entries see the engine's full name (module docstring)
        literal = {e for e in entries if not e.startswith("re:") and not set(e) & set("*?[")}
        self._literal = frozenset(literal if len(literal) > _FEW_LITERALS else ())
        globs = "|".join(_glob(e) for e in entries if not e.startswith("re:") and e not in self._literal)
        regexes = [_regex(e, name) for e in entries if e.startswith("re:")]
        self._globs = re.compile(rf"(?s:(?:.*\.)?(?:{globs})(?:\..*)?)\Z") if globs else None
        try:
            self._regexes = [re.compile("|".join(f"(?:{r})" for r in regexes))] if regexes else []
        except re.error:  # a global flag inside one: each alone
            self._regexes = [re.compile(r) for r in regexes]

    def __call__(self, module: str) -> bool:
        if self._globs is not None and self._globs.match(module) is not None:
            return True
        if any(r.match(self._prefix + module) for r in self._regexes):
            return True
        if not self._literal:
            return False
        parts = module.split(".")
        return any(".".join(parts[i:j]) in self._literal for i in range(len(parts)) for j in range(i + 1,
                                                                                                   len(parts) + 1))


def _kind_state(layers: Sequence[int], names: tuple[str, ...], quantised: Callable[[str], bool]) -> str:
    """'all' where every named matrix of every layer is quantised, 'none' where none is, else how it is split:
    'N of M layers' (whole layers quantised) or 'some of its matrices'."""
    per_layer = [{quantised(f"model.layers.{i}.{n}") for n in names} for i in layers]
    seen = set().union(*per_layer)
    if len(seen) < 2:
        return "all" if seen == {True} else "none"
    if any(len(states) > 1 for states in per_layer):
        return "some of its matrices"
    return f"{sum(states == {True} for states in per_layer)} of {len(per_layer)} layers"


def _names_any(skip: _Matcher, modules: KindModules) -> bool:
    """Whether a module list names any module of the model: a kind's on one of its layers, a router, the embedding
    or the LM head."""
    return (any(skip(m.format(i=i)) for m in _OTHER_MODULES for i in (0, 1))
            or any(skip(f"model.layers.{i}.{n}") for layers, names in modules.values() for i in layers for n in names))


def _scope(done: dict[str, str]) -> str:
    """The scope string of the kinds' states (`ops.precision.weight_scope`)."""
    kept = [kind for kind in KINDS if done.get(kind) == "all"]
    if len(kept) == len(done):
        return "all"
    return "experts" if kept == ["routed_experts"] else "+".join(kept)


def _anchored_note(entries: list[str], modules: KindModules, prefix: str) -> str:
    """The first `re:` entry that names a module of the bare text model but none by the engine's wrapped name
    (module docstring), said; '' where none does or the model is not wrapped."""
    names = [f"model.layers.{i}.{n}" for layers, kind_names in modules.values() for i in layers
             for n in kind_names] + ["lm_head"]
    for entry in (e for e in entries if e.startswith("re:")) if prefix else ():
        regex = re.compile(entry[3:])
        if any(regex.match(n) for n in names) and not any(regex.match(prefix + n) for n in names):
            return (f"{entry[:60]!r} is matched against the engine's full names ({prefix}model.layers.N...; vLLM "
                    "0.18.0 matches `re:` entries as written) and names none of them")
    return ""


def _targets_head(quant: dict[str, Any], name: str, prefix: str) -> bool:
    """Whether a target of the config's groups names the LM head (beside `Linear`, which does not)."""
    targets = [_unwrapped(t)[0] for g in _groups(quant, name).values() for t in _names(g, "targets", name)]
    return _Matcher([t for t in targets if t != "Linear"], name, prefix)("lm_head")


def _read_quantization(config: dict[str, Any], kinds: KindModules | Sequence[str],
                       name: str) -> tuple[str, str, str, bool]:
    """`checkpoint_quantization` and whether the LM head is stored and run quantised (`lm_head_quantised`)."""
    quant = config.get("quantization_config")
    if not isinstance(quant, dict) or not quant:
        return "", "", "", False
    modules = kinds if isinstance(kinds, Mapping) else _default_modules(kinds)
    method = str(quant.get("quant_method") or quant.get("quant_algo") or "unnamed method")[:40]
    fmt, skipped, targets, why = _format_and_lists(quant, name)
    if why or not fmt:
        return "", "", f"quantization_config ({method}): {why or 'a format not modelled'}", False
    read = [_unwrapped(e) for e in skipped]
    wrappers = sorted({w for _, w in read if w} | {w for t in targets or [] if (w := _unwrapped(t)[1])})
    prefix = _ENGINE_WRAPPER if wrappers else ""  # the engine's names of a wrapped model (module docstring)
    skip = _Matcher([e for e, _ in read], name, prefix)
    target = (_Matcher([_unwrapped(t)[0] for t in targets if t != "Linear"], name, prefix) if targets is not None
              else None)

    def quantised(module: str) -> bool:
        return not skip(module) and (target is None or target(module))

    done = {kind: _kind_state(layers, names, quantised) for kind, (layers, names) in modules.items()}
    if part := {kind: state for kind, state in done.items() if state not in ("all", "none")}:
        split = ", ".join(f"{kind}: {state}" for kind, state in part.items())
        return "", "", (f"quantization_config ({method}): {', '.join(part)} quantised on some layers or matrices "
                        f"only, a split not modelled ({split})"), False
    if not any(state == "all" for state in done.values()):
        return "", "", f"quantization_config ({method}): every linear kind left unquantised", False
    notes = [f"names under {', '.join(w + '.' for w in wrappers)} read as the text model's"] if wrappers else []
    if anchored := _anchored_note([*skipped, *(targets or [])], modules, prefix):
        notes.append(anchored)
    if skipped and not _names_any(skip, modules):
        notes.append(f"none of its {len(skipped)} unquantised-module entries names a module of this model (first: "
                     f"{skipped[0][:60]!r}): read as excluding nothing")
    head, reads_head = quant.get("lm_head") is True and not skip("lm_head"), method.lower() in _HEAD_METHODS
    if head and not reads_head:
        notes.append("its `lm_head: true` is read by GPTQ / AWQ only: the LM head priced in bf16")
    elif _targets_head(quant, name, prefix) and not skip("lm_head"):
        notes.append("its LM head is quantised: priced in bf16, as vLLM 0.18.0 runs a targeted LM head (linear "
                     "layers only)")
    said = f"quantization_config ({method}): {'; '.join(notes)}" if notes else ""
    return fmt, _scope(done), said, head and reads_head


def checkpoint_quantization(config: dict[str, Any], kinds: KindModules | Sequence[str],
                            name: str = "model") -> tuple[str, str, str]:
    """(stored format, scope, a note or what is not modelled) of a config's `quantization_config` (module docstring);
    `kinds`: `kind_modules` of the model (or bare kind names, one layer each). ('', '', '') without one; ('', '',
    why) where the format or the scope is not resolved (priced at --dtype over every layer); (format, scope, note)
    where the config is modelled and a note says how it was read."""
    return _read_quantization(config, kinds, name)[:3]


def lm_head_quantised(config: dict[str, Any], kinds: KindModules | Sequence[str], name: str = "model") -> bool:
    """Whether the config stores the LM head in its format and vLLM 0.18.0 runs it so: a GPTQ / AWQ `lm_head: true`
    whose module list does not skip `lm_head`, in a config otherwise modelled (module docstring)."""
    return _read_quantization(config, kinds, name)[3]


def with_checkpoint_scope(shape: TransformerShape, config: dict[str, Any], name: str) -> TransformerShape:
    """`shape` with its checkpoint's stored format and scope (`checkpoint_quantization`); what the reader does not
    resolve is one warning line, and that config is priced at the command's --dtype on every layer; how a modelled
    config was read, where it needs saying, is one line too. Its bytes per weight with the group scales, and the
    refusal of a GPTQ / AWQ group not dividing a quantised layer's input width: `catalog.integer_group_scales`."""
    fmt, scope, said, head = _read_quantization(config, kind_modules(shape), name)
    if head and shape.tied_embeddings:  # the head is the embedding's table (module docstring)
        method = config["quantization_config"].get("quant_method")
        said = (f"{said}; " if said else f"quantization_config ({method}): ") + ("its `lm_head: true` on tied "
                                                                              "embeddings: the LM head priced in bf16")
        head = False
    if fmt:  # refused before any note is said: one line
        quantised = linear_kinds(shape) if scope == "all" else ("routed_experts",) if scope == "experts" else tuple(
            scope.split("+"))
        check_group_alignment(shape, config["quantization_config"], quantised, head, name)
    if said:
        tail = "" if fmt else "; the weights priced are the command's --dtype on every layer"
        warnings.warn(f"model config {name!r}: {said}{tail}", ModelConfigWarning, stacklevel=4)
    if not fmt:
        return shape
    return shape.model_copy(update={"checkpoint_weight_dtype": fmt, "checkpoint_weight_scope": scope,
                                    "checkpoint_weight_bytes": stored_bytes(config["quantization_config"]),
                                    "checkpoint_lm_head_quantised": head})
