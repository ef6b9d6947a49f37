"""A PP level whose whole runs all miss the SLO sends serve-plan's search on to the next one
(`replica_search.whole_runs`, hN44): before, PP was searched only when no PP 1 option passed its probes, so
Llama 3 70B on 8 H200 at 10 requests/s (2,048 / 512 tokens, TTFT 1 s, TPOT 30 ms) answered TP2 3 prefill + 1
decode whose whole run misses (TPOT p99 30.5 ms), while 2 x TP2 PP2 on the same 8 H200 meet it (hU47's finding,
session 43)."""

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
    """Fake PP levels (each a list of options; None past the last) and whole runs that meet for the options given."""

    def __init__(self, levels: list[list[dict[str, Any]]], meeting: list[dict[str, Any]]) -> None:
        self.levels, self.meeting, self.searched = levels, {id(o) for o in meeting}, 0

    def next_level(self) -> list[dict[str, Any]] | None:
        self.searched += 1
        return list(self.levels[self.searched - 1]) if self.searched <= len(self.levels) else None

    def full_run(self, option: dict[str, Any]) -> tuple[str, bool]:
        return f"run of {option['gpus']}", id(option) in self.meeting


def _search(levels: list[list[dict[str, Any]]], meeting: list[dict[str, Any]]) -> tuple[_Levels, Any, Any]:
    fake = _Levels(levels, meeting)
    options, runs = whole_runs(fake.next_level, fake.full_run)
    return fake, options, runs


def test_a_first_option_that_meets_searches_no_other_level() -> None:
    pp1 = [_option(16), _option(8)]
    fake, options, runs = _search([pp1, [_option(4, pp=2)]], [pp1[1]])
    assert [r[0] for r in runs] == [pp1[1]] and runs[0][2]  # the cheapest (ranked first), run once
    assert fake.searched == 1 and options == [pp1[1], pp1[0]]  # the common case costs what it did


def test_a_miss_passes_to_the_levels_next_option_before_any_pipeline() -> None:
    pp1, pp2 = [_option(8, disaggregated=True), _option(12)], [_option(4, pp=2)]
    fake, options, runs = _search([pp1, pp2], [pp1[1], pp2[0]])
    assert [r[0] for r in runs] == pp1 and runs[-1][2] and fake.searched == 1  # PP only where none without meets
    assert options == pp1


def test_a_level_whose_whole_runs_all_miss_sends_the_search_to_the_next_pp() -> None:
    pp1, pp2 = [_option(8, disaggregated=True)], [_option(10, pp=2), _option(8, pp=2)]
    fake, options, runs = _search([pp1, pp2], [pp2[0], pp2[1]])
    assert [r[0] for r in runs] == [pp1[0], pp2[1]] and [r[2] for r in runs] == [False, True]
    assert fake.searched == 2 and options == [pp2[1], pp2[0]]  # the answer's level: its alternatives


def test_an_empty_level_is_passed_over() -> None:
    pp1, pp4 = [_option(8)], [_option(16, pp=4, tp=1)]
    fake, options, runs = _search([pp1, [], pp4], [pp4[0]])
    assert [r[0] for r in runs] == [pp1[0], pp4[0]] and runs[-1][2] and options == pp4 and fake.searched == 3


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


def test_hu47_case_answers_a_layout_whose_whole_run_meets_on_8_h200() -> None:
    plan = search_capacity("llama3-70b", "h200", 10.0, **KW)
    d = plan.deployment
    assert plan.feasible and plan.meets_slo_full_run and d is not None and plan.gpus == 8
    assert d.pp > 1  # no PP 1 layout of 8 meets whole: the one that passed its probes is in `rejected`
    assert plan.serve is not None and (plan.serve.tpot_s.p99 or 1.0) <= 0.03 and (plan.serve.ttft_s.p99 or 9.0) <= 1.0
    first = (plan.rejected or [""])[0]  # what was tried whole and why it was not chosen
    assert "PP1" in first and "on 8 accelerators" in first and "its full run of" in first
    missed_tpot = float(re.search(r"TPOT p99 ([0-9.]+) s", first).group(1))  # type: ignore[union-attr]
    assert missed_tpot > 0.03  # it missed on TPOT, the answer meets it
    assert all(o.gpus >= plan.gpus for o in plan.alternatives or [])


def _old_whole_runs(next_level: Any, full_run: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """The search before hN44: the first level with options ended it, its first FULL_RUN_TRIES run whole."""
    while (options := next_level()) is not None and not options:
        pass
    options = sorted(options or [], key=option_rank)
    runs = []
    for option in options[:FULL_RUN_TRIES]:
        runs.append((option, *full_run(option)))
        if runs[-1][2]:
            break
    return options, runs


@pytest.mark.parametrize("args, kw, misses", [
    (("llama3-8b", "h100-sxm", 5.0), {"workload": "chat"}, 0),
    (("llama3-70b", "dgx-h100-superpod", 100.0), {"workload": "chat"}, 0),  # README's serve-plan example
    (("llama3-8b", "dgx-h100-superpod", 150.0), {"workload": "chat"}, 1),  # PP 1's second whole run meets
])
def test_where_a_pp1_whole_run_meets_the_answer_and_its_work_are_unchanged(
        monkeypatch: pytest.MonkeyPatch, args: tuple[Any, ...], kw: dict[str, Any], misses: int) -> None:
    probes = count_probes(monkeypatch)
    capacity.clear_caches()
    new = search_capacity(*args, **kw)
    new_probes, probes[0] = probes[0], 0
    with monkeypatch.context() as old:
        old.setattr(capacity, "whole_runs", _old_whole_runs)
        capacity.clear_caches()
        before = search_capacity(*args, **kw)
    capacity.clear_caches()
    assert new.meets_slo_full_run and sum("its full run" in line for line in new.rejected or []) == misses
    assert new.to_json() == before.to_json() and new_probes == probes[0] > 0
