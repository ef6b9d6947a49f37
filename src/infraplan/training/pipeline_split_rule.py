"""Whether a stack's even pipeline split takes a plan's layer count: the PP x VPP divisibility rule.

Megatron-Core's even split builds num_layers // PP layers per stage and the stage's // VP per model chunk, and
refuses a count that leaves a remainder: megatron-core 0.16.1 megatron/core/transformer/transformer_block.py:155-157
("num_layers should be divisible by pipeline_model_parallel_size", L + 1 per `account_for_embedding_in_pipeline_split`
/ `account_for_loss_in_pipeline_split` flag) and :174-177 (the layers per rank divisible by VP); 0.8.0 / 0.10.0 build
fewer layers than the model has instead (transformer_block.py:48-79 / :82-108). A plan it refuses runs only where
the layers are laid out otherwise: a `pipeline_model_parallel_layout` of its p x v chunks (a stack file's
`Stack.pipeline_layouts`, `training.pipeline_layout`, any PP dividing the chunks) or one a model's recipe sets for its
PP x VP (`Stack.pipeline_layout_plans`, from `catalog.model_recipes`: Megatron-Bridge 0.3.1's DeepSeek-V3 recipe,
recipes/deepseek/deepseek_v3.py:37-49, keys its layouts by (PP, VP) and leaves any other plan to the even split).
Frameworks that spread the remainder take any count (`Stack.pipeline_split_divisible` false: torchtitan, DeepSpeed,
Meta's and DeepSeek's own stacks), as does the balanced split.

`pipeline_split_rule` turns a stack into the rule (None: any count; else the (PP, VPP) pairs laid out; a
`DefaultRule` / `OthersLaidOut` where the refusal has more to say), which
`plan_rules.plan_violations` applies, `searched_vpps` applies while the search enumerates (`training.axes`) and
`dividing_split` words for a refused plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from infraplan.catalog.loader import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.training.pipeline_layout import parse_layout

LaidOut = tuple[tuple[int, int], ...]  # (PP, VPP) pairs that run a pipeline layout, not the even split


class DefaultRule(tuple[tuple[int, int], ...]):
    """The `LaidOut` of a stack that leaves `pipeline_split_divisible` out (None reads as true: Megatron-Core's
    rule), so that a refusal says the rule is that default and how to lift it (`dividing_split`, hF46)."""

    __slots__ = ()


class OthersLaidOut(tuple[tuple[int, int], ...]):
    """The `LaidOut` of a stack whose model recipes lay out other models' pipelines but not this one's (`models`:
    theirs), so that a refusal says why a model of the same layer count runs and how to lay this one out (hD68:
    DeepSeek-V3.2 on nemo-26.04, whose 61 layers DeepSeek-V3's recipe lays out)."""

    models: tuple[str, ...]
    stack: str

    def __new__(cls, pairs: tuple[tuple[int, int], ...], models: tuple[str, ...], stack: str) -> OthersLaidOut:
        rule = super().__new__(cls, pairs)
        rule.models, rule.stack = models, stack
        return rule


class SearchedSpace(Protocol):
    """What `searched_vpps` reads of a search request (`training.axes.SearchSpace`)."""

    @property
    def shape(self) -> TransformerShape: ...
    @property
    def extra_layers(self) -> int: ...
    @property
    def max_vpp(self) -> int: ...
    @property
    def divisible(self) -> LaidOut | None: ...


def pipeline_split_rule(stack: Stack | None) -> LaidOut | None:
    """None where the stack's split takes any layer count (the balanced split, or an even split whose framework
    spreads the remainder: `Stack.pipeline_split_divisible` false); else the (PP, VPP) pairs laid out rather than
    split: every PP > 1 dividing a `pipeline_layouts` entry's chunks (`pipeline_layout.layout_for`) and the
    recipe's `pipeline_layout_plans`."""
    if stack is None or stack.pipeline_split != "even" or stack.pipeline_split_divisible is False:
        return None
    pairs = {(p, n // p) for n in (len(parse_layout(layout)) for layout in stack.pipeline_layouts)
             for p in range(2, n + 1) if n % p == 0}
    laid_out = tuple(sorted(pairs | set(stack.pipeline_layout_plans)))
    if stack.pipeline_split_divisible is None:
        return DefaultRule(laid_out)
    others = tuple(r.model for r in stack.model_recipes if r.pipeline_layout_plans and r.model != stack.recipe_model)
    return OthersLaidOut(laid_out, others, stack.name) if others and not stack.pipeline_layout_plans else laid_out


def split_refused(slots: int, pp: np.ndarray, vpp: np.ndarray, laid_out: LaidOut) -> np.ndarray:
    """Plans whose PP x VPP chunks do not divide `slots` and run no layout (`pipeline_split_rule`'s pairs)."""
    refused = slots % np.maximum(pp * vpp, 1) != 0
    for p, v in laid_out:
        refused = refused & ((pp != p) | (vpp != v))
    return np.asarray(refused)


def split_refuses(slots: int, pp: int, vpp: int, laid_out: LaidOut) -> bool:
    """`split_refused` of one plan's ints."""
    return slots % max(pp * vpp, 1) != 0 and (pp, vpp) not in laid_out


def searched_vpps(s: SearchedSpace, c: Mapping[str, int]) -> Sequence[int]:
    """The virtual stages a search tries at PP c["pp"] (`training.axes`): up to `max_vpp` and the slots per stage and,
    where the stack's split needs it (`SearchSpace.divisible`), only those `plan_violations` keeps (none: the search
    skips the PP)."""
    return _searched_vpps(c["pp"], s.shape.num_layers + s.extra_layers, s.max_vpp, s.divisible)


@lru_cache(maxsize=4096)
def _searched_vpps(pp: int, slots: int, max_vpp: int, divisible: LaidOut | None) -> Sequence[int]:
    """`searched_vpps` of the numbers it reads, kept (a search asks once per PP of each outer combination: GPT-3 175B
    on 4,096 H100 145 times, ~1,150 `split_refuses` calls; hP24); a tuple, never changed."""
    vpps = range(1, min(slots // pp, max_vpp) + 1) if pp > 1 else (1,)
    if divisible is None:
        return tuple(vpps)
    return tuple(v for v in vpps if not split_refuses(slots, pp, v, divisible))


def dividing_split(slots: int, pp: int, vpp: int, laid_out: LaidOut = ()) -> str:
    """'nearest valid PPs: 4, 8': the pipeline sizes either side of `pp` whose p x `vpp` chunks divide `slots`; with
    VPP > 1 the virtual stages either side of `vpp` at this PP, where one divides (else the PPs at VPP 1 where none
    at this VPP does); and the PP x VPP pairs that run a layout, where the stack has any."""
    def nearest(fits: list[int], value: int, what: str, at: str = "") -> str:
        shown = [max(f for f in fits if f < value)] if any(f < value for f in fits) else []
        shown += [min(f for f in fits if f > value)] if any(f > value for f in fits) else []
        return f"nearest valid {what}{'s' if len(shown) > 1 else ''}{at}: {', '.join(map(str, shown))}"

    layouts = (f"; or a pipeline layout of the stack at PP x VPP {', '.join(f'{p} x {v}' for p, v in laid_out)}"
               if laid_out else "")
    if isinstance(laid_out, DefaultRule):  # a stack file without the field: held to Megatron-Core's rule by default
        layouts += ("; the stack sets no pipeline_split_divisible, which defaults to this rule: a framework that "
                    "spreads the remainder sets pipeline_split_divisible: false (with its _source)")
    if isinstance(laid_out, OthersLaidOut):  # recipes lay out other models of as many layers, not this one: say why
        same = [m for m in laid_out.models if load_model(m).num_layers == slots]
        layouts += (f"; stack {laid_out.stack}'s model recipes lay out {', '.join(same)} of {slots} layers too "
                    "(their frameworks' pipeline_model_parallel_layout), none this model: a stack file (extends: "
                    f"{laid_out.stack}) with pipeline_layouts lays it out") if same else ""
    at_pp = [v for v in range(1, slots // pp + 1) if slots % (pp * v) == 0] if pp > 1 else []
    if vpp > 1 and at_pp:
        return nearest(at_pp, vpp, "VPP", f" at PP {pp}") + layouts
    at_vpp = [p for p in range(2 if vpp > 1 else 1, slots // vpp + 1) if slots % (p * vpp) == 0]
    if at_vpp:
        return nearest(at_vpp, pp, "PP", f" at VPP {vpp}" if vpp > 1 else "") + layouts
    return nearest([p for p in range(1, slots + 1) if slots % p == 0], pp, "PP", " at VPP 1") + layouts
