"""The best published MFU per accelerator family, software-stack class and precision: the search guard's ceiling.

`catalog/published_mfu.yaml` lists the best MFU each family has been shown to sustain, with its source and the
validation cases whose own measurement it is; `training.search` flags (and ranks lower) plans predicted beyond it
(issue 12 item 7). Families and stack classes as the error bands name them (`catalog.error_bands`). Each entry
states its FLOP convention (`flop_convention`), so the guard compares like with like (`training.results`).
A family with no figure in the asked precision but one in another (Blackwell: fp8, mxfp8, nvfp4, no bf16) is held to
its own share in the nearest one (`precision_bits`), not to another family's (hG52, session 47: Blackwell bf16 took
A100's 0.563, above Hopper's own 0.43, and GB200 over H100 in bf16 read 3.17x where the model says 2.45x).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from math import log2
from typing import Any, Literal

from pydantic import Field

from infraplan.catalog.error_bands import accelerator_family, stack_class
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.results import Result

Lookup = Literal["own", "own_other_stack", "own_other_precision", "any_family"]


class PublishedMfu(Result):
    """The best published MFU of one accelerator family, stack class and precision (catalog/published_mfu.yaml)."""

    family: str = Field(description="accelerator family")
    stack: str = Field(description="software-stack class")
    dtype: str = Field(description="GEMM precision the MFU is relative to")
    mfu: float = Field(description="best published MFU (fraction of that precision's dense peak)")
    flop_convention: Literal["full_scores", "causal_scores"] = Field(
        "full_scores", description="the model-FLOP count the figure divides: full_scores, the full s x s "
        "attention scores (Megatron SC'21 / PaLM, infraplan's `mfu`); causal_scores, their causal half "
        "(Megatron-Bridge)")
    source: str = Field(description="where the figure is published")
    cases: tuple[str, ...] = Field(default=(), description="validation case ids whose measurement this figure is")
    basis: str = Field(default="its own family", description="which entries the ceiling was taken from")
    lookup: Lookup = Field(default="own", description="how the ceiling was found: own (the family's figure for the "
                           "stack class and precision), own_other_stack (the family's, another stack class), "
                           "own_other_precision (the family's share in the nearest precision it has a figure in), "
                           "any_family (no figure of the family at all: the best of any family in the precision)")


@lru_cache(maxsize=1)
def _parsed() -> dict[str, Any]:
    """published_mfu.yaml, read once."""
    return dict(safe_load_yaml((resources.files("infraplan.catalog") / "published_mfu.yaml").read_text()))


@lru_cache(maxsize=1)
def load_published_mfu() -> tuple[PublishedMfu, ...]:
    return tuple(PublishedMfu(**e) for e in _parsed()["entries"])


@lru_cache(maxsize=1)
def precision_bits() -> dict[str, int]:
    """Bits per GEMM operand element of each precision (published_mfu.yaml `precision_bits`): the distance by which
    a family's figure in another precision is chosen (`published_mfu_ceiling`)."""
    return {str(k): int(v) for k, v in _parsed()["precision_bits"].items()}


def published_mfu_ceiling(accelerator: str, stack: str | None, dtype: str,
                          leave_out: Sequence[str] = ()) -> PublishedMfu | None:
    """The best published MFU for the accelerator's family and the stack's class in `dtype`; any stack class of
    the family when that class has none; when the family has no figure in `dtype` but has one in another precision
    (Blackwell bf16), its own best share in the nearest precision by operand width (`precision_bits`: fp8 for bf16;
    the stack's class first), as a share of `dtype`'s peak; when nothing is published for the family in any
    precision (MI300, TPU, MTIA ...), the best published MFU of any family in `dtype`, so that a plan on an
    unpublished family is still flagged beyond what any accelerator has been shown to sustain (issue 12 item 7);
    None only then when no family has a figure in `dtype`. `basis` and `lookup` say which rule answered.

    Why the family's other precision before another family's same precision: the share of the dense peak a stack
    sustains is set by what the GEMMs do not hide (attention, element-wise work, communication, bubbles), which is
    the part's balance (FLOP/s per byte of HBM, scale-up and scale-out bandwidth) and the stack, both the family's
    own; another family's share carries its own balance (A100's 0.563 on a part with half Hopper's FLOP/s per
    HBM byte). In a narrower format the GEMMs run at twice the rate and the rest does not, so the family's share in a
    narrower precision is a floor on its share in a wider one (a tight ceiling: the guard errs towards ranking a
    plan after) and the share in a wider precision a bound on a narrower one's.
    `leave_out`: validation case ids whose own measurement may not serve as their ceiling (an entry listing one
    in `cases` is skipped: leave-one-out, no circularity)."""
    family, cls = accelerator_family(accelerator), stack_class(stack)
    kept = [e for e in load_published_mfu() if not set(e.cases) & set(leave_out)]
    usable = [e for e in kept if e.dtype == dtype]
    same = [e for e in usable if e.family == family]
    exact = [e for e in same if e.stack == cls]
    if exact:
        return max(exact, key=lambda e: e.mfu)
    if same:  # said: "under stack class megatron, its own family" read as the asked torchtitan plan's class (hU47)
        return max(same, key=lambda e: e.mfu).model_copy(update={
            "basis": f"its own family; no {cls} figure in {dtype}: the best of any stack class",
            "lookup": "own_other_stack"})
    bits = precision_bits()
    other = [e for e in kept if e.family == family and e.dtype in bits] if dtype in bits else []
    if other:  # the nearest precision by operand width, the stack's class first, then the best share
        near = min(other, key=lambda e: (abs(log2(bits[e.dtype] / bits[dtype])), e.stack != cls, -e.mfu))
        side = "a floor on" if bits[near.dtype] < bits[dtype] else "a bound on"
        return near.model_copy(update={
            "basis": f"no {family} {dtype} figure: its own share in {near.dtype}, the nearest precision it has a "
                     f"figure in, as a share of the {dtype} peak ({side} its {dtype} share: the GEMMs take "
                     f"{bits[dtype] / bits[near.dtype]:g}x their {near.dtype} time, the rest the same)"
                     f"{_other_class(near.stack, cls)}",
            "lookup": "own_other_precision"})
    if not usable:
        return None
    best = max(usable, key=lambda e: e.mfu)
    why = f"no {family} {dtype} figure" + (f" outside {', '.join(leave_out)} (left out)" if leave_out else "")
    return best.model_copy(update={"basis": f"{why}: the best of any family{_other_class(best.stack, cls)}",
                                   "lookup": "any_family"})


def _other_class(figure: str, asked: str) -> str:
    """Where a fallback's figure is another stack class's than the plan's: said, as the family's own other-class
    figure says it (hU47); a torchtitan search on MI300X read "stack class megatron ... no cdna3 bf16 figure: the best
    of any family", as if megatron were the plan's class (hF58)."""
    return "" if figure == asked else f", a {figure} stack's (any stack class; the plan's is {asked})"
