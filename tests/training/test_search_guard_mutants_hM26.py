"""Mutation wave hM26 on `training.search_guard` (session 47, hG52): 14 of 16 hand mutants were killed by the hG52
and earlier guard tests; these two kill the survivors.

* A plan AT its precision's ceiling is within it: the search's array test (`SearchGuard.over_mfu`) and the flag a
  listed row carries (`results.published_mfu_flag`: `not ours > ceiling`) are one rule, so a plan the search ranks
  as within is never listed as beyond (was `>` -> `>=` undetected).
* A guard that does not rank (--no-mfu-guard) says so in each flagged row's reason, not "ranked after plans within it".
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from infraplan.catalog.published_mfu import published_mfu_ceiling
from infraplan.training.enums import Dtype
from infraplan.training.results import published_mfu_flag
from infraplan.training.search import search_plans
from infraplan.training.search_guard import SearchGuard

SMALL = ("llama3-8b", "dgx-h100-superpod", 64, 8192, 512)  # as tests/training/test_search_guard_effect_hG52.py


def test_a_plan_at_its_ceiling_is_within_it_as_its_row_flag_says() -> None:
    # Hopper bf16's ceiling (Megatron-LM README's 47 % since hE56, full scores; Llama 3 405B's causal 43 % before);
    # the guard here is given causal ratios of 1, so the bars compare as they are, whatever the convention
    ceiling = published_mfu_ceiling("h100-sxm", None, "bf16")
    assert ceiling is not None and ceiling.mfu == 0.47
    bars = np.full(len(Dtype), np.inf)
    bars[int(Dtype.BF16)] = ceiling.mfu
    guard = SearchGuard({d: None for d in Dtype}, True, 1.0, 0.0, bars, np.ones(len(Dtype)))
    plans = SimpleNamespace(dtype=np.full(3, int(Dtype.BF16)))
    mfu = np.array([np.nextafter(ceiling.mfu, 0.0), ceiling.mfu, np.nextafter(ceiling.mfu, 1.0)])
    over = guard.over_mfu(plans, mfu)  # type: ignore[arg-type]
    flagged = [bool(published_mfu_flag(float(m), ceiling)) for m in mfu]
    assert over.tolist() == flagged == [False, False, True]


def test_an_unranked_guard_says_its_rows_are_ranked_by_time() -> None:
    free = search_plans(*SMALL, dtype="fp8", top=3, memory_margin=0.0, mfu_guard=False)
    flagged = [row for row in free.top if row.beyond_published_mfu]
    assert flagged  # the hG52 case: the fastest plans are beyond the fp8 ceiling
    for row in flagged:
        assert (row.beyond_published_mfu_reason or "").endswith("; ranked by predicted time (no MFU guard)")
