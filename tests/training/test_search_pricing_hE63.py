"""The plan search's pricing kind (hE, session 63): full training, a LoRA frozen base and DSA's dense warm-up are one
`search_rows.Pricing` chosen up front (`pricing_of`), which `search_plans` reads for every kind-specific step (the
grid's memory and step time, the bounds, the guard, the best rows, the notes, the rows' `train_command`), so a new
kind is one subclass. Checked failing before the change: `search_rows` had no `Pricing`, and `search_plans` threaded
`lora` and `warmup` side by side."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.errors import InputError
from infraplan.training import search
from infraplan.training.frozen_base import FLOP_CONVENTION
from infraplan.training.search import search_plans
from infraplan.training.search_guard import frozen_guard
from infraplan.training.search_rows import FULL, DsaWarmup, FrozenBase, Pricing, pricing_of


def test_the_flags_choose_one_kind_up_front() -> None:
    """--lora-rank / --dsa-stage pick the kind, with what each carries; a warm-up with LoRA is one line."""
    llama, dsa = load_model("llama2-70b"), load_model("deepseek-v3.2")
    assert pricing_of(llama, None, None) is FULL
    assert FULL.bounded and FULL.guarded and FULL.lora is None and FULL.recompute == ()
    lora = pricing_of(llama, 16, None)
    assert isinstance(lora, FrozenBase) and lora.lora is not None and lora.lora.targets == "attention"
    assert not lora.bounded and not lora.guarded and lora.dsa_stage == "sparse"
    warm = pricing_of(dsa, None, None, "warmup")
    assert isinstance(warm, DsaWarmup) and warm.dsa_stage == "warmup" and warm.recompute == (0,)
    assert not warm.bounded and not warm.guarded and warm.lora is None
    assert pricing_of(dsa, None, None, "sparse") is FULL
    with pytest.raises(InputError, match="does not take --lora-rank"):
        pricing_of(dsa, 16, None, "warmup")
    with pytest.raises(InputError, match="--lora-targets needs --lora-rank"):
        pricing_of(llama, None, "all")
    assert frozen_guard(0.05, lora).pricing is lora  # the guard's memory margin on the kind's memory


def test_a_lora_search_prices_through_its_kind() -> None:
    """The LoRA kind's rows: its MFU count, its notes, its flags in `train_command`, no published-MFU guard."""
    result = search_plans("llama2-70b", "dgx-h100-superpod", 8, 4096, 8, dtype="bf16", top=2, lora_rank=16)
    assert result.best is not None and not result.mfu_guard and result.lora_targets == "attention"
    assert all(row.mfu_flop_convention == FLOP_CONVENTION for row in result.top)
    assert shlex.split(result.best.train_command or "")[-4:] == ["--lora-rank", "16", "--lora-targets", "attention"]


@dataclass(frozen=True)
class _Tagged(Pricing):
    """A kind of the test's own: full training's pricing, unbounded and unguarded, its notes and its grid counted."""

    bounded: ClassVar[bool] = False
    guarded: ClassVar[bool] = False
    calls: list[int] = field(default_factory=list)

    def step_time(self, *args: object) -> np.ndarray:  # type: ignore[override]
        t = super().step_time(*args)  # type: ignore[arg-type]
        self.calls.append(int(t.size))
        return t

    def notes(self, *args: object) -> list[str]:  # type: ignore[override]
        return ["priced as the test's own kind"]


def test_a_new_kind_is_one_subclass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subclass handed to the search (as `pricing_of` would) prices its grid, its guard and its notes, and
    leaves full training's answer unchanged where it prices the same step (the bounds off: every row priced)."""
    ask = ("llama3-8b", "dgx-h100-superpod", 16, 8192, 64)
    plain = search_plans(*ask, dtype="bf16", top=3)
    tagged = _Tagged()
    monkeypatch.setattr(search, "pricing_of", lambda *args: tagged)
    mine = search_plans(*ask, dtype="bf16", top=3)
    assert sum(tagged.calls) > 0  # the grid's step times are the kind's
    assert "priced as the test's own kind" in mine.notes and "priced as the test's own kind" not in plain.notes
    assert not mine.mfu_guard and plain.mfu_guard  # unguarded: no published-MFU ceiling ranks its plans
    assert mine.mfu_ceilings == []
    # the same step, every row priced and no ceiling: the fastest plan is the same as the unguarded full search's
    free = search_plans(*ask, dtype="bf16", top=3, mfu_guard=False)
    assert [r.step_time_s for r in mine.top] == [r.step_time_s for r in free.top]
