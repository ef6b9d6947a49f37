"""The best published MFU per accelerator family, software-stack class and precision: the search guard's ceiling.

`catalog/published_mfu.yaml` lists the best MFU each family has been shown to sustain, with its source and the
validation cases whose own measurement it is; `training.search` flags (and ranks lower) plans predicted beyond it
(issue 12 item 7). Families and stack classes as the error bands name them (`catalog.error_bands`). Each entry
states its FLOP convention (`flop_convention`), so the guard compares like with like (`training.results`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import Field

from infraplan.catalog.error_bands import accelerator_family, stack_class
from infraplan.catalog.loader import safe_load_yaml
from infraplan.results import Result


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


@lru_cache(maxsize=1)
def load_published_mfu() -> tuple[PublishedMfu, ...]:
    text = (resources.files("infraplan.catalog") / "published_mfu.yaml").read_text()
    return tuple(PublishedMfu(**e) for e in safe_load_yaml(text)["entries"])


def published_mfu_ceiling(accelerator: str, stack: str | None, dtype: str,
                          leave_out: Sequence[str] = ()) -> PublishedMfu | None:
    """The best published MFU for the accelerator's family and the stack's class in `dtype`; any stack class of
    the family when that class has none; when nothing is published for the family in `dtype` (MI300, TPU, MTIA,
    Blackwell bf16 ...), the best published MFU of any family in that precision (`basis` says so), so that a plan on an
    unpublished family is still flagged beyond what any accelerator has been shown to sustain (issue 12 item 7);
    None only when no family has a figure in `dtype`. `leave_out`: validation case ids whose own measurement may
    not serve as their ceiling (an entry listing one in `cases` is skipped: leave-one-out, no circularity)."""
    family, cls = accelerator_family(accelerator), stack_class(stack)
    usable = [e for e in load_published_mfu() if e.dtype == dtype and not set(e.cases) & set(leave_out)]
    same = [e for e in usable if e.family == family]
    exact = [e for e in same if e.stack == cls]
    if exact:
        return max(exact, key=lambda e: e.mfu)
    if same:  # said: "under stack class megatron, its own family" read as the asked torchtitan plan's class (hU47)
        return max(same, key=lambda e: e.mfu).model_copy(
            update={"basis": f"its own family; no {cls} figure in {dtype}: the best of any stack class"})
    if not usable:
        return None
    best = max(usable, key=lambda e: e.mfu)
    why = f"no {family} {dtype} figure" + (f" outside {', '.join(leave_out)} (left out)" if leave_out else "")
    return best.model_copy(update={"basis": f"{why}: the best of any family"})
