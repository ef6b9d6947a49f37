"""hF58's margin line: the gap is the time the fastest plan saves over the best's step time, in % of the best's
(hN58 review: hF58's case, 2.4231 s against 2.4208 s, reads 0.097 % either way at two digits, so a mutant dividing
by the fastest's time survived; here the two readings differ, 50 % against 100 %)."""

from __future__ import annotations

from types import SimpleNamespace

from infraplan.cli.commands._search_table import margin_line


def test_the_gap_is_a_share_of_the_best_step() -> None:
    best = SimpleNamespace(step_time_s=2.0, memory_margin_bytes=8e9, memory_capacity_bytes=80e9)
    result = SimpleNamespace(margin_ranked_after_count=3, best=best, margin_fastest_ranked_after_step_time_s=1.0)
    line = margin_line(result)  # type: ignore[arg-type]
    assert line.startswith("the memory margin alone ranked 3 plans the objective puts ahead after the best: ")
    assert line.endswith("the fastest 1 s a step against the best's 2 s (50 % faster)"), line
