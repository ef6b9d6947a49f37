"""Mutation wave hM24 (session 46) on serve-plan's grown retries and next-best list (`serving.replica_search`:
`grown`, `chosen_run`, `next_best`, `whole_runs`'s guard): the behaviours their docstrings state, on hand-built
options (no search run), each at the edge a flipped comparison or a dropped filter would cross."""

from __future__ import annotations

from typing import Any

from infraplan.serving.replica_search import ALTERNATIVES, RETRY_NEAR, chosen_run, grown, next_best, whole_runs


def _opt(gpus: int, replicas: int, tp: int = 2, max_batch: int = 64, prefill: int = 0) -> dict[str, Any]:
    return {"gpus": gpus, "replicas": replicas, "prefill_replicas": prefill, "disaggregated": prefill > 0,
            "attention_dp": 1, "tp": tp, "pp": 1, "max_batch": max_batch}


def test_a_percentile_at_its_slo_meets_on_either_metric() -> None:
    """Ratio = percentile / SLO; the SLO is met at equality (`p99 <= slo`), so 1.0 on TPOT alone is no miss and
    nothing is grown, as 1.0 on TTFT alone is not."""
    assert grown(_opt(8, 4), 0.5, 1.0, 64) is None
    assert grown(_opt(8, 4), 1.0, 0.5, 64) is None
    assert grown(_opt(8, 4), 0.5, 1.0 + 1e-9, 64) is not None


def test_a_far_miss_on_tpot_alone_is_not_retried() -> None:
    """Only a near miss is retried: every missed percentile at most RETRY_NEAR x its SLO; a TPOT a queue's worth over
    (2x) is dropped even with TTFT met, and one just within RETRY_NEAR is grown."""
    assert grown(_opt(8, 4), 0.5, 2.0, 64) is None
    assert grown(_opt(12, 6, prefill=4), 0.5, 2.0, 64) is None
    assert grown(_opt(8, 4), 0.5, RETRY_NEAR, 64) == _opt(10, 5)


def test_grown_may_reach_the_limit_exactly() -> None:
    """`limit` is the most accelerators allowed (None only *beyond* it): 4 replicas of 2 GPUs grow to 10 within 10,
    and a 6P + 2D pool of 2-GPU replicas missing TTFT grows both pools to 12 within 12."""
    assert grown(_opt(8, 4), 1.1, 0.5, 10) == _opt(10, 5)
    assert grown(_opt(8, 4), 1.1, 0.5, 9) is None
    assert grown(_opt(16, 8, prefill=6), 1.1, 0.5, 20) == _opt(20, 10, prefill=7)
    assert grown(_opt(16, 8, prefill=6), 1.1, 0.5, 19) is None


def test_chosen_run_is_the_first_run_when_none_meets() -> None:
    """`whole_runs`: none meeting at any level, the first level's first option is the answer (`meets` false), so
    `chosen_run` returns the first run, not the last (a later, deeper level's)."""
    a, b, c = _opt(8, 4), _opt(12, 3, tp=4), _opt(16, 8)
    runs = [(a, "ra", False), (b, "rb", False), (c, "rc", False)]
    assert chosen_run(runs) == (a, "ra", False)
    assert chosen_run([*runs[:2], (c, "rc", True)]) == (c, "rc", True)


def test_an_option_that_missed_at_the_answers_size_is_not_next_best() -> None:
    """Two 8-GPU layouts (same accelerators, TP2 ranked before TP4): TP2's whole run missed, TP4's met and is the
    answer. TP2 has as many accelerators as the answer, so only the missed-run filter keeps it off the list (its own
    "misses the SLO" line in `rejected` would contradict it)."""
    missed, answer, after = _opt(8, 4), _opt(8, 2, tp=4), _opt(12, 3, tp=4)
    runs = [(missed, None, False), (answer, None, True)]
    assert next_best([missed, answer, after], runs, answer) == [after]


def test_next_best_takes_the_levels_first_alternatives_plus_one_and_no_more() -> None:
    """`run_level`'s ranking is exact for its first ALTERNATIVES + 1 options only (the plain search's), so the list
    never reaches past them: with the first two (a missed run and the answer, equal GPUs) taken out, the next
    ALTERNATIVES - 1 are listed and the (ALTERNATIVES + 2)-th is not; then the beaten shallower level's answer."""
    options = [_opt(8, 4), _opt(8, 2, tp=4)] + [_opt(10 + 2 * i, 5 + i) for i in range(ALTERNATIVES + 2)]
    missed, answer = options[0], options[1]
    shallower = _opt(64, 32)
    runs = [(shallower, None, True), (missed, None, False), (answer, None, True)]
    listed = next_best(options, runs, answer)
    assert listed == [*options[2:ALTERNATIVES + 1], shallower]
    assert options[ALTERNATIVES + 1] not in listed


def test_next_best_is_capped_at_alternatives_when_the_ranking_is_long() -> None:
    """The winner and ALTERNATIVES next-best deployments (serve-plan's table): a level of ALTERNATIVES + 1 options
    and a beaten level give ALTERNATIVES, the level's own (the beaten answer is the first cut)."""
    options = [_opt(8 + 2 * i, 4 + i) for i in range(ALTERNATIVES + 1)]
    beaten = _opt(64, 32)
    listed = next_best(options, [(beaten, None, True), (options[0], None, True)], options[0])
    assert len(listed) == ALTERNATIVES and listed == options[1:]


def test_the_beaten_levels_answers_follow_fewest_accelerators_first() -> None:
    """Each whole run that meets after the first has fewer accelerators (each level is searched below the best met so
    far), so the shallower levels' answers, listed most recent first, are in ascending accelerators: 24 before 32."""
    pp1, pp2, answer = _opt(32, 16), _opt(24, 6, tp=4), _opt(16, 2, tp=8)
    runs = [(pp1, None, True), (pp2, None, True), (answer, None, True)]
    listed = next_best([answer], runs, answer)
    assert listed == [pp2, pp1]
    assert [o["gpus"] for o in listed] == sorted(o["gpus"] for o in listed)


def test_a_deeper_level_at_the_best_met_so_far_is_not_run() -> None:
    """Ties go to the shallower pipeline: a deeper level is kept only where it takes strictly fewer accelerators. A
    `next_level` that ignores its bound and offers a deeper option at exactly the best met so far costs no run."""
    first, tie = _opt(16, 8), {**_opt(16, 4, tp=4), "pp": 2}
    levels = iter([[first], [tie]])
    options, runs = whole_runs(lambda below: next(levels, None), lambda o: (o, True))
    assert [r[0] for r in runs] == [first]
    assert options == [first]
