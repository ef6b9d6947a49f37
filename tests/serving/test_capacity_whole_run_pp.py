"""serve-plan's PP levels (`replica_search.whole_runs`): a level whose whole runs all miss the SLO sends the search on
to the next one (hN44): before, PP was searched only when no PP 1 option passed its probes, so Llama 3 70B on 8
H200 at 10 requests/s (2,048 / 512 tokens, TTFT 1 s, TPOT 30 ms) answered TP2 3 prefill + 1 decode whose whole run
misses (TPOT p99 30.5 ms), while 2 x TP2 PP2 on the same 8 H200 meet it (hU47's finding, session 43). And every
level is searched below the best whole run met so far, so the answer is the fewest accelerators over all levels,
ties to less PP (hN45): the first level with a met whole run ended the search before."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.serving.conftest import count_probes

from infraplan.serving import capacity
from infraplan.serving.capacity import search_capacity
from infraplan.serving.replica_search import FULL_RUN_TRIES, option_rank, whole_runs


def _option(gpus: int, pp: int = 1, tp: int = 2, disaggregated: bool = False) -> dict[str, Any]:
    return {"gpus": gpus, "pp": pp, "tp": tp, "disaggregated": disaggregated, "attention_dp": 1, "max_batch": 64}


class _Levels:
    """Fake PP levels (each a list of options; None past the last), searched below the bound given, as
    `capacity`'s levels are, and whole runs that meet for the options given."""

    def __init__(self, levels: list[list[dict[str, Any]]], meeting: list[dict[str, Any]]) -> None:
        self.levels, self.meeting, self.searched = levels, {id(o) for o in meeting}, 0
        self.bounds: list[int | None] = []

    def next_level(self, below: int | None) -> list[dict[str, Any]] | None:
        self.searched += 1
        self.bounds.append(below)
        if self.searched > len(self.levels):
            return None
        return [o for o in self.levels[self.searched - 1] if below is None or o["gpus"] < below]

    def full_run(self, option: dict[str, Any]) -> tuple[str, bool]:
        return f"run of {option['gpus']}", id(option) in self.meeting


def _search(levels: list[list[dict[str, Any]]], meeting: list[dict[str, Any]]) -> tuple[_Levels, Any, Any]:
    fake = _Levels(levels, meeting)
    options, runs = whole_runs(fake.next_level, fake.full_run)
    return fake, options, runs


def test_a_deeper_level_is_searched_below_the_best_met_and_wins_only_with_fewer() -> None:
    pp1, pp2, pp4 = [_option(16), _option(8)], [_option(8, pp=2), _option(4, pp=2)], [_option(6, pp=4, tp=1)]
    fake, options, runs = _search([pp1, pp2, pp4], [pp1[1], pp2[0], pp2[1], pp4[0]])
    assert fake.bounds == [None, 8, 4, 4]  # each level below the best met so far (the last: None, no level left)
    assert [r[0] for r in runs] == [pp1[1], pp2[1]] and all(r[2] for r in runs)  # PP 4's 6 is not below 4
    assert options == [pp2[1]]  # the answer's level, below the bound it was searched at: its alternatives


def test_a_tie_goes_to_the_shallower_pipeline() -> None:
    pp1, pp2 = [_option(8)], [_option(8, pp=2, tp=1)]
    fake, options, runs = _search([pp1, pp2], [pp1[0], pp2[0]])
    assert [r[0] for r in runs] == pp1 and options == pp1 and fake.bounds[1] == 8  # 8 at PP 2 is not below 8


def test_a_miss_passes_to_the_levels_next_option_then_deeper_levels_only_below_it() -> None:
    pp1, pp2 = [_option(8, disaggregated=True), _option(12)], [_option(4, pp=2), _option(14, pp=2)]
    fake, options, runs = _search([pp1, pp2], [pp1[1], pp2[0], pp2[1]])
    assert [r[0] for r in runs] == [*pp1, pp2[0]] and [r[2] for r in runs] == [False, True, True]
    assert fake.bounds == [None, 12, 4] and options == [pp2[0]]  # 14 at PP 2 not searched, 4 answers


def test_a_level_whose_whole_runs_all_miss_sends_the_search_to_the_next_pp() -> None:
    pp1, pp2 = [_option(8, disaggregated=True)], [_option(10, pp=2), _option(8, pp=2)]
    fake, options, runs = _search([pp1, pp2], [pp2[0], pp2[1]])
    assert [r[0] for r in runs] == [pp1[0], pp2[1]] and [r[2] for r in runs] == [False, True]
    assert fake.searched == 3 and options == [pp2[1], pp2[0]]  # the answer's level: its alternatives


def test_an_empty_level_is_passed_over() -> None:
    pp1, pp4 = [_option(8)], [_option(16, pp=4, tp=1)]
    fake, options, runs = _search([pp1, [], pp4], [pp4[0]])
    assert [r[0] for r in runs] == [pp1[0], pp4[0]] and runs[-1][2] and options == pp4 and fake.searched == 4


def test_no_level_meeting_answers_the_first_levels_first_option_after_trying_every_level() -> None:
    levels = [[_option(8 + i, pp=1 << k) for i in range(FULL_RUN_TRIES + 2)] for k in range(4)]
    fake, options, runs = _search([[], *levels], [])
    assert fake.searched == 6  # the empty one, the four, then None
    assert len(runs) == 4 * FULL_RUN_TRIES and not any(r[2] for r in runs)  # at most FULL_RUN_TRIES a level
    assert options == levels[0] and runs[0][0] is levels[0][0]  # the answer: the first option, missing
    assert [r[0] for r in runs[:FULL_RUN_TRIES]] == levels[0][:FULL_RUN_TRIES]  # best first


def test_no_option_at_all_runs_nothing() -> None:
    fake, options, runs = _search([[], []], [])
    assert options == [] and runs == [] and fake.searched == 3


KW: dict[str, Any] = {"input_len": 2048, "output_len": 512, "ttft_slo": 1.0, "tpot_slo": 0.03}


def test_hu47_case_answers_a_layout_whose_whole_run_meets_below_8_h200() -> None:
    """hU47's case answered 8 (TP8 PP>1) while its probes fed a replica the whole stream's Poisson burstiness; under
    the round-robin router's share (`serving.replica_share`, hB47) a smaller layout's whole run meets. A whole run that
    missed on the way (hB47: TP2 2P + 1D on 6, TTFT p99 1.115 s; since hB49's TTFT window its probes miss) is said
    first in `rejected`, on fewer accelerators than the answer."""
    plan = search_capacity("llama3-70b", "h200", 10.0, **KW)
    d = plan.deployment
    assert plan.feasible and plan.meets_slo_full_run and d is not None and plan.gpus is not None and plan.gpus < 8
    assert plan.serve is not None and (plan.serve.tpot_s.p99 or 1.0) <= 0.03 and (plan.serve.ttft_s.p99 or 9.0) <= 1.0
    first = (plan.rejected or [""])[0]  # what was tried whole and why it was not chosen
    if "its full run of" not in first:  # no whole run missed
        assert not any("its full run of" in line for line in plan.rejected or [])
        return
    fewer = int(re.search(r"on ([0-9]+) accelerators", first).group(1))  # type: ignore[union-attr]
    assert fewer < plan.gpus  # a smaller option, tried whole first, missed
    missed = [float(x) for x in re.findall(r"(?:TTFT|TPOT) p99 ([0-9.]+) s", first)]
    assert missed[0] > 1.0 or missed[1] > 0.03  # it missed an SLO, the answer meets both
    assert all(o.gpus >= plan.gpus for o in plan.alternatives or [])


def _old_whole_runs(next_level: Any, full_run: Any, grow: Any = None) -> tuple[list[dict[str, Any]], list[Any]]:
    """The search before hN45: levels in turn, unbounded, until one's whole run met (hN44)."""
    first: list[dict[str, Any]] = []
    runs: list[Any] = []
    while (options := next_level(None)) is not None:
        options = sorted(options, key=option_rank)
        first = first or options
        for option in options[:FULL_RUN_TRIES]:
            runs.append((option, *full_run(option)))
            if runs[-1][2]:
                return options, runs
    return first, runs


@pytest.mark.parametrize("args, kw", [
    (("llama3-8b", "h100-sxm", 5.0), {"workload": "chat"}),  # one GPU: no deeper layout is built
    (("llama3-70b", "dgx-h100-superpod", 100.0), {"workload": "chat"}),  # README's serve-plan example
    (("llama3-8b", "dgx-h100-superpod", 150.0), {"workload": "chat"}),  # PP 1's second whole run meets
])
def test_searching_every_level_never_answers_more_accelerators_and_a_pp1_floor_costs_nothing(
        monkeypatch: pytest.MonkeyPatch, args: tuple[Any, ...], kw: dict[str, Any]) -> None:
    """Against the search that stopped at the first level with a met whole run: never more accelerators, fewer
    only through a deeper pipeline (the only options it did not search), and where the answer is one accelerator no
    deeper layout fits below it, so the search probes exactly as before."""
    probes = count_probes(monkeypatch)
    capacity.clear_caches()
    new = search_capacity(*args, **kw)
    new_probes, probes[0] = probes[0], 0
    with monkeypatch.context() as old:
        old.setattr(capacity, "whole_runs", _old_whole_runs)
        capacity.clear_caches()
        before = search_capacity(*args, **kw)
    capacity.clear_caches()
    assert new.meets_slo_full_run and before.meets_slo_full_run and new.gpus and before.gpus
    assert new.gpus <= before.gpus
    assert new.gpus == before.gpus or (new.deployment and before.deployment
                                       and new.deployment.pp > before.deployment.pp)
    if new.gpus == before.gpus:  # the same answer and run (the deeper levels' layouts count as evaluated); not the
        # next-best: where no shallower level's whole run met (hS49: README chat's 38 TP2 PP1 batch 64 misses past its
        # warm-up), the level-stopping search lists the answer's level, this one the shallower level's answer
        same = ("deployment", "serve", "serve_command")
        assert new.model_dump(include=set(same)) == before.model_dump(include=set(same))
    if before.gpus == 1:
        assert new_probes == probes[0] > 0
