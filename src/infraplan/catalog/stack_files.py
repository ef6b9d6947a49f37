"""A user's stack file saved under a shipped stack's name: what it is taken as.

A stack file named like a shipped stack (`name: nemo-26.04`, or saved as ./nemo-26.04.yaml) whose settings differ
from the shipped one took the preset's label and error band with other figures (a file with TP overlap off: Llama
3 70B on 64 H100 6.88 -> 7.69 s under the label `nemo-26.04`; session 40). It is taken as `<name>-what-if` with a
warning naming the settings that differ, banded by its class; a copy with the preset's settings is the preset, as
an accelerator file is (`catalog.loader._named_like_preset`). `catalog.stacks.load_stack` calls it on every file,
and `refuse_other_kind` on a file that is not a stack's (an accelerator's or a system's); `own_sources` on a file that
`extends` a stack and changes a sourced setting without giving that setting's `<field>_source`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from pydantic import BaseModel

from infraplan.catalog.loader import beside, is_accelerator_file
from infraplan.catalog.output_files import shown_path
from infraplan.errors import InputError

Stack = TypeVar("Stack", bound=BaseModel)  # `catalog.stacks.Stack` (not imported: it imports this module)

# What a copy may change and stay the preset: its names and every `source` text (each `<setting>_source` says where
# a setting comes from and moves nothing: a copy of nemo-26.04.yaml with a word added to `rank_order_source` became
# nemo-26.04-what-if and Llama 3 70B's error band -23.4 % .. +24.4 % turned -8.8 % ..: hU41, session 41). Every
# `Stack` field named `*_source` is listed (tests/cli/test_user_review_hU41.py holds the list to the class).
LABELS = frozenset({"name", "display_name", "source", "pipeline_schedules_source", "zero_stages_source",
                    "pipeline_zero_stages_source", "model_parallel_zero_stages_source",
                    "default_zero_source", "pipeline_default_zero_source",
                    "pipeline_default_schedule_source", "pipeline_micro_batch_rules_source", "context_parallel_source",
                    "expert_tensor_parallel_source", "expert_parallel_layout_source", "rank_order_source",
                    "dtypes_source", "zero_shard_stages_source", "pipeline_split_divisible_source",
                    "pipeline_partition_source", "unfused_elementwise_source", "recompute_modules_source",
                    "grad_accumulation_source", "pipeline_dp_overlap_source",
                    "zero3_collectives_source", "fsdp2_copy_source", "adamw_bytes_source",
                    "p2p_transfers_source", "partition_checkpointed_source",
                    "pipeline_grad_reduce_source", "grad_reduce_all_reduce_source", "attention_kernel_source",
                    "optimizers_source", "sparse_attention_source"})
# the settings a `*_source` label cites beside those its name starts with (`cited_settings`; the fields' descriptions:
# "its source in `zero3_collectives_source`")
CITES_ALSO = {"zero3_collectives_source": ("zero3_pipeline_collectives_per_micro_batch", "zero3_edge_tables",
                                            "zero3_pipeline_regathers", "zero3_gathers_lone_shards")}


def settings_of(stack: Any) -> dict[str, Any]:
    """A stack's settings: everything but its labels (`LABELS`), what two stacks are compared by."""
    return dict(stack.model_dump(exclude=set(LABELS)))


def same_settings(stack: Any, other: Any) -> bool:
    """Whether two stacks have the same settings, labels aside (`settings_of`)."""
    return stack is other or settings_of(stack) == settings_of(other)


class StackFileWarning(UserWarning):
    """A stack file named like a shipped stack with other settings, taken as `<name>-what-if`."""


def named_like_preset(stack: Stack, ref: str, shipped: Collection[str], load: Callable[[str], Stack]) -> Stack:
    """`stack`, loaded from the file `ref`, as what it is taken as (module docstring); `shipped` the shipped stacks'
    names, `load` their loader."""
    label: Any = stack  # its name, display_name and stack_class
    if label.name not in shipped:
        return stack
    preset: Any = load(label.name)
    mine, theirs = settings_of(stack), settings_of(preset)
    differ = [key for key in mine if mine[key] != theirs[key]]
    if not differ:
        return stack
    name = f"{preset.name}-what-if"
    warnings.warn(f"stack file {ref} is named like the shipped stack {preset.name} but its settings differ "
                  f"({', '.join(differ)}): taken as {name}, banded by its class {label.stack_class} (not as "
                  f"{preset.name}); to say so yourself, name it otherwise and write `extends: {preset.name}`",
                  StackFileWarning, stacklevel=3)
    return stack.model_copy(update={"name": name, "display_name": f"{name} (what-if over {preset.display_name})"})


def unknown_class(stack: Stack, ref: str, known: Collection[str]) -> None:
    """Say (a `StackFileWarning`, one line) where the training stack file `ref` declares a `stack_class` no shipped
    stack has (`known`: theirs; a serving answer is banded by its engine, `answer_bands.serving_band_stack`): no
    validation case ran it, so its error band is the validated classes' widened
    (`catalog.band_transfer.stack_widening`), and what the model reads from class megatron does not apply
    (hN, session 53)."""
    cls = getattr(stack, "stack_class", None)
    if cls is None or cls in known or getattr(stack, "kind", None) != "training":  # (a serving one: by its engine)
        return
    warnings.warn(f"stack file {ref} declares stack_class {cls!r}, no shipped stack's ({', '.join(sorted(known))}): "
                  f"no validation case ran it, so its error bands are the validated classes' widened "
                  f"(catalog/band_transfer.py), and the Megatron-Core mechanisms priced for class megatron "
                  f"(the gradient buffer's dtype in memory, the MoE dispatchers' host syncs, fp8 expert padding) "
                  f"are not; write megatron if it runs Megatron-Core", StackFileWarning, stacklevel=3)


def refuse_other_kind(ref: str, data: dict[str, object]) -> None:
    """An accelerator or system file given as a stack is said to be one (hU41: an accelerator file's `kind: gpu`
    read "kind: Input should be 'training' or 'serving'"); any other file goes on to the schema's line."""
    other = ("an accelerator" if is_accelerator_file(ref)
             else "a system" if {"accelerator", "node", "network"} <= data.keys() else "")
    if other:
        raise InputError(f"stack file {shown_path(ref)}: this is {other} file, not a stack file (a stack file says "
                         f"kind: training or serving); give it to --system")


def cited_settings(fields: Collection[str]) -> dict[str, tuple[str, ...]]:
    """Each `*_source` label of `LABELS` with the settings among `fields` (a `Stack`'s) it cites: the field it is named
    after (`optimizers` for `optimizers_source`) and those its name starts (`grad_accumulation_bytes` for
    `grad_accumulation_source`), and `CITES_ALSO`'s."""
    cited = {}
    for label in sorted(label for label in LABELS if label.endswith("_source")):
        stem = label.removesuffix("_source")
        cited[label] = tuple(f for f in fields if f not in LABELS and (f == stem or f.startswith(f"{stem}_"))
                             ) + CITES_ALSO.get(label, ())
    return cited


def _plain(value: Any) -> Any:
    """A setting as compared with a loaded stack's: YAML lists as tuples (a `Stack`'s tuple fields)."""
    return tuple(_plain(v) for v in value) if isinstance(value, (list, tuple)) else value


def own_sources(data: dict[str, Any], own: dict[str, Any], ref: str, load: Callable[[str], Any]) -> dict[str, Any]:
    """`data` (the stack file `ref`'s mapping over the stack it extends, `catalog.loader.extended`; `own` the file's
    own keys) with each `*_source` the file does not give rewritten where the file sets a setting it cites to another
    value than its parent's: the parent's citation described the parent's value, not the file's (hN61: `optimizers:
    [muon]` over deepseek-v3 kept "DeepSeek-V3 report Sec. 4.2: AdamW"). The text says the file set it, and what it
    overrode. A label the parent leaves empty stays empty, so `FrameworkRules` still asks for one."""
    parent = load(beside(own["extends"], ref))
    for label, settings in cited_settings(type(parent).model_fields).items():
        cited = getattr(parent, label, None)
        changed = [f for f in settings if f in own and _plain(own[f]) != _plain(getattr(parent, f))]
        if label in own or not changed or not cited:
            continue
        was = "; ".join(f"{f} {_shown_value(getattr(parent, f))}" for f in changed)
        data[label] = (f"{', '.join(changed)} set by {shown_path(ref)} without its own {label}, overriding "
                       f"{parent.name}'s {was} (whose {label}: {cited})")
    return data


def _shown_value(value: Any) -> str:
    """A setting as a line shows it: a tuple as its items, joined."""
    return ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)
