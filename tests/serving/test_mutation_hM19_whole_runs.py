"""Mutation wave 3 (hM19, session 43) on serve-plan's whole runs (hN44: `replica_search.whole_runs`, `capacity`'s
alternatives): an option whose whole run missed is never listed as next-best."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.serving import capacity
from infraplan.serving.capacity import search_capacity


def test_a_missed_whole_run_is_not_an_alternative() -> None:
    """Llama 3 8B chat at 140 requests/s on a DGX H100 SuperPOD: the best-ranked PP 1 option (5 accelerators) passes
    its probes but its whole run misses, so the answer is the level's next option. Options are ranked fewest
    accelerators first, so any option of fewer accelerators than the answer ranked above it and was run whole and
    missed: none of them may be offered as next-best (it contradicts its own "misses the SLO" line)."""
    capacity.clear_caches()
    plan = search_capacity("llama3-8b", "dgx-h100-superpod", 140.0, workload="chat")  # 150 before hB47
    assert plan.feasible and plan.meets_slo_full_run and plan.gpus is not None
    missed = [line for line in plan.rejected or [] if "its full run of" in line]
    assert missed and all(f"on {n} accelerators" not in missed[0] for n in range(plan.gpus, plan.gpus + 20))
    assert plan.alternatives
    assert all(a.gpus >= plan.gpus for a in plan.alternatives)


def test_every_pp_level_is_searched_where_none_has_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """serve-plan's levels are PP 1, 2, 4 and 8 (module docstring: each deeper level searched below the best whole
    run met so far): where no level yields an option, all four are searched, each once, in that order, and the answer is
    infeasible. (The levels' searches return nothing here; each level's jobs carry its PP.)"""
    seen: list[set[int]] = []

    def no_options(jobs: list[Any], run: Any, limit: int) -> list[dict[str, Any]]:
        seen.append({job.option["pp"] for job in jobs})
        return []

    monkeypatch.setattr(capacity, "run_level", no_options)
    capacity.clear_caches()
    plan = search_capacity("llama3-8b", "dgx-h100-superpod", 5.0, workload="chat")
    capacity.clear_caches()
    assert not plan.feasible
    assert len(seen) == 4 and [min(s, default=0) for s in seen] == [1, 2, 4, 8]
