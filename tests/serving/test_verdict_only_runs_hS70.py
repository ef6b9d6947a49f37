"""hS70: `plan`'s serving searches skip the whole runs nothing reads but their verdict where that verdict is known.

`replica_search.whole_runs`'s `verdict_only` is asked only for a run that is not the first and that no grown option
can follow; the answer (the last run that meets, else the first) is `full_run`'s whatever it returns beyond the
verdict, and `capacity.search_capacity(answer_only=True)` (`plan`, `fleet-mix`) answers as without it.
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.serving import capacity
from infraplan.serving.replica_search import LEVEL_RETRIES, chosen_run, grown, whole_runs


def _opt(gpus: int, replicas: int, tp: int = 2) -> dict[str, Any]:
    return {"gpus": gpus, "replicas": replicas, "prefill_replicas": 0, "disaggregated": False, "attention_dp": 1,
            "tp": tp, "pp": 1, "max_batch": 64}


def test_only_a_run_no_grown_option_can_follow_is_asked_for_its_verdict_alone() -> None:
    """Every run misses near its SLO until TP4 at 16: TP2 at 8 grows to 10, then 12 (LEVEL_RETRIES), after which
    nothing reads a run beyond its verdict; the first run is always read whole (the answer where none meets)."""
    asked: list[tuple[int, int, bool]] = []

    def full_run(option: dict[str, Any], read: bool = True) -> tuple[Any, bool]:
        asked.append((option["gpus"], option["tp"], read))
        return ({"ratios": (1.1, 0.5)} if read else None), option["tp"] == 4 and option["gpus"] >= 16

    def grow(option: dict[str, Any], run: Any) -> dict[str, Any] | None:
        return grown(option, *run["ratios"], 1_000)  # reads the run: None here fails the test

    def level() -> Any:
        return iter([[_opt(8, 4), _opt(13, 13, tp=1), _opt(15, 15, tp=1), _opt(16, 4, tp=4)]])

    levels = level()
    _, plain = whole_runs(lambda below: next(levels, None), full_run, grow)
    read_all = list(asked)
    asked.clear()
    levels = level()
    _, runs = whole_runs(lambda below: next(levels, None), full_run, grow, lambda o: full_run(o, read=False))
    assert [a[:2] for a in asked] == [a[:2] for a in read_all]  # the same runs, in the same order
    assert LEVEL_RETRIES == 2 and [a[2] for a in read_all] == [True] * len(read_all)
    # 8 (first) and 10 (grown from 8) read; then 12 (grown from 10), 13, 15 and 16 for their verdict alone
    assert asked == [(8, 2, True), (10, 2, True), (12, 2, False), (13, 1, False), (15, 1, False), (16, 4, False)]
    assert chosen_run(runs)[0] == chosen_run(plain)[0] == _opt(16, 4, tp=4)


def test_answer_only_search_answers_as_serve_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every whole run taken as an unsettled pool (`capacity.unsettled` patched: all miss, the answer is the first)
    and no grown retry (LEVEL_RETRIES 0): answer-only, the runs after the first are misses unsimulated; the answer
    and its metrics are serve-plan's."""
    monkeypatch.setattr("infraplan.serving.replica_search.LEVEL_RETRIES", 0)
    simulated: list[int] = []
    judged = capacity.judged_run

    def counted(*args: Any, **kwargs: Any) -> Any:
        simulated.append(len(args[1]))
        return judged(*args, **kwargs)

    monkeypatch.setattr(capacity, "unsettled", lambda rate, taus: True)
    monkeypatch.setattr(capacity, "judged_run", counted)
    ask: dict[str, Any] = dict(workload="chat", max_gpus=64, requests=300, seed=0)
    full = capacity.search_capacity("llama3-8b", "h100-sxm", 150.0, **ask)
    n_full = len(simulated)
    simulated.clear()
    capacity.clear_caches()
    answer = capacity.search_capacity("llama3-8b", "h100-sxm", 150.0, answer_only=True, **ask)
    assert answer.model_dump(exclude={"rejected"}) == full.model_dump(exclude={"rejected"})
    assert n_full >= 2 and simulated == [full.full_run_requests]  # the first run alone simulated
    assert [x for x in answer.rejected if "its full run" not in x] == [x for x in full.rejected
                                                                       if "its full run" not in x]
    assert sum("not simulated" in x for x in answer.rejected) == n_full - 1
