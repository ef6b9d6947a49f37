"""serve-plan's whole runs walk each PP level's ranking with the grown retries ranked in it (hB49, after hR48's
review): a grown option (`replica_search.grown`) is accepted only once every option of its level that ranks before it
was run whole. Before, a level ran its first FULL_RUN_TRIES options and the grown ones only, so a grown option could
be answered past a cheaper option that had passed its probes and was never run."""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.serving.replica_search import FULL_RUN_TRIES, LEVEL_RETRIES, grown, option_rank, whole_runs


def _opt(gpus: int, replicas: int, tp: int = 2, max_batch: int = 64, pp: int = 1) -> dict[str, Any]:
    return {"gpus": gpus, "replicas": replicas, "prefill_replicas": 0, "disaggregated": False, "attention_dp": 1,
            "tp": tp, "pp": pp, "max_batch": max_batch}


def _near(o: dict[str, Any], run: Any) -> dict[str, Any] | None:
    return grown(o, 1.1, 0.5, 1_000)  # every miss near its SLO: one more replica


def _search(levels: list[list[dict[str, Any]]], meets: Any) -> list[tuple[dict[str, Any], Any, bool]]:
    it = iter(levels)
    return whole_runs(lambda below: next(it, None), lambda o: (o, meets(o)), _near)[1]


def _eight_gpu_misses() -> list[dict[str, Any]]:
    return [_opt(8, 4, max_batch=b) for b in (256, 128, 64, 32, 16)[:FULL_RUN_TRIES]]


def test_a_cheaper_option_never_run_before_is_answered_before_a_grown_one() -> None:
    """FULL_RUN_TRIES TP2 layouts at 8 GPUs miss near their SLO (they meet at 10, grown); a TP1 layout at 9, the
    level's fifth, meets: it is answered (before hB49 the grown TP2 at 10 was, the 9 never run)."""
    tp1 = _opt(9, 9, tp=1)
    runs = _search([[*_eight_gpu_misses(), tp1, _opt(12, 3, tp=4)]],
                   lambda o: o["gpus"] >= (9 if o["tp"] == 1 else 10))
    assert [(r[0]["gpus"], r[2]) for r in runs] == [(8, False)] * FULL_RUN_TRIES + [(9, True)]
    assert runs[-1][0] is tp1


def test_the_grown_option_is_still_answered_where_it_is_the_cheapest_left() -> None:
    """The same misses, the level's next option at 12 (TP4): the grown TP2 at 10 ranks first and is answered; the 12
    is never run (a level runs past its first FULL_RUN_TRIES only towards a waiting grown option)."""
    tp4 = _opt(12, 3, tp=4)
    runs = _search([[*_eight_gpu_misses(), tp4]], lambda o: o["gpus"] >= 10)
    assert [(r[0]["gpus"], r[0]["tp"], r[2]) for r in runs] == [(8, 2, False)] * FULL_RUN_TRIES + [(10, 2, True)]
    assert all(r[0] is not tp4 for r in runs)


def test_without_a_grown_option_a_level_runs_its_first_full_run_tries_as_before() -> None:
    """Far misses (nothing grown): FULL_RUN_TRIES whole runs, then the next level; the fifth option is not run."""
    levels = iter([[*_eight_gpu_misses(), _opt(9, 9, tp=1)], [_opt(12, 6, pp=2)]])
    options, runs = whole_runs(lambda below: next(levels, None), lambda o: (o, o["pp"] == 2),
                               lambda o, run: None)
    assert [(r[0]["gpus"], r[0]["pp"]) for r in runs] == [(8, 1)] * FULL_RUN_TRIES + [(12, 2)]


def test_when_the_runs_end_before_a_waiting_grown_option_it_is_not_accepted() -> None:
    """Two grown options wait behind more untried 9-GPU options than the level's runs allow: the level runs
    FULL_RUN_TRIES + LEVEL_RETRIES options in rank order and accepts none past one it never ran; the search goes to
    the next level."""
    nines = [_opt(9, 9, tp=1, max_batch=b) for b in (256, 128, 64, 32)]
    deeper = _opt(16, 8, pp=2)
    levels = iter([[*_eight_gpu_misses(), *nines], [deeper]])
    options, runs = whole_runs(lambda below: next(levels, None),
                               lambda o: (o, o["pp"] == 2 or (o["gpus"] >= 10 and o["tp"] == 2)), _near)
    level1 = [r for r in runs if r[0]["pp"] == 1]
    assert len(level1) == FULL_RUN_TRIES + LEVEL_RETRIES
    assert [r[0]["gpus"] for r in level1] == [8] * FULL_RUN_TRIES + [9] * LEVEL_RETRIES
    assert runs[-1][0] is deeper and runs[-1][2]


def test_every_option_ranked_before_the_answer_was_run_whole() -> None:
    """The invariant, over 400 seeded random levels (options of 6-12 GPUs, a need per layout, near or far misses):
    the answer's level ran every option that ranks before the answer, and each level ran at most
    FULL_RUN_TRIES + LEVEL_RETRIES whole runs, at most LEVEL_RETRIES of them grown, at most FULL_RUN_TRIES of its own
    options unless a grown one was waiting behind them."""
    rng = np.random.default_rng(49)
    for _ in range(400):
        level = [_opt(int(g), int(g) // tp, tp=tp, max_batch=int(b))
                 for g, tp, b in zip(rng.integers(6, 13, 9), rng.choice([1, 2], 9), rng.choice([64, 256], 9),
                                     strict=True)]
        need = {(1, 64): int(rng.integers(6, 15)), (1, 256): int(rng.integers(6, 15)),
                (2, 64): int(rng.integers(6, 15)), (2, 256): int(rng.integers(6, 15))}
        near = bool(rng.integers(0, 2))
        it = iter([level])

        def level_of(below: int | None, it: Any = it) -> list[dict[str, Any]] | None:
            return next(it, None)

        def run_of(o: dict[str, Any], need: dict[tuple[int, int], int] = need) -> tuple[Any, bool]:
            return o, o["gpus"] >= need[(o["tp"], o["max_batch"])]

        options, runs = whole_runs(level_of, run_of, _near if near else None)
        ran = [r[0] for r in runs]
        assert len(ran) <= FULL_RUN_TRIES + LEVEL_RETRIES
        own = [o for o in ran if any(o is x for x in level)]
        assert len(ran) - len(own) <= LEVEL_RETRIES
        met = [r[0] for r in runs if r[2]]
        if met:
            answer = met[-1]
            assert all(any(o is x for x in ran) for o in level if option_rank(o) < option_rank(answer))
        if not near:
            assert len(own) <= FULL_RUN_TRIES
