"""Mutation wave hM25 (session 47) on `serving.replica_search.whole_runs` (hB49): a grown option ranks after its
level's options of equal rank (the docstring: "a grown option after its level's options of equal rank"), so a level
option the probes passed is run before a retry of the same rank and size."""

from __future__ import annotations

from typing import Any

from infraplan.serving.replica_search import FULL_RUN_TRIES, grown, option_rank, whole_runs


def _opt(gpus: int, replicas: int, max_batch: int) -> dict[str, Any]:
    return {"gpus": gpus, "replicas": replicas, "prefill_replicas": 0, "disaggregated": False, "attention_dp": 1,
            "tp": 2, "pp": 1, "max_batch": max_batch}


def test_a_level_option_runs_before_a_grown_one_of_equal_rank() -> None:
    misses = [_opt(8, 4, b) for b in (256, 128, 64, 32, 16)[:FULL_RUN_TRIES]]  # each grows to 10 GPUs, 5 replicas
    level = _opt(10, 5, 256)  # the level's own 10-GPU option, ranked as the first miss grown
    first_grown = grown(misses[0], 1.1, 0.5, 1_000)
    assert first_grown is not None and option_rank(first_grown) == option_rank(level) and first_grown is not level
    levels = iter([[*misses, level]])
    _, runs = whole_runs(lambda below: next(levels, None), lambda o: (o, o["gpus"] >= 10),
                         lambda o, run: grown(o, 1.1, 0.5, 1_000))
    assert [r[0]["gpus"] for r in runs] == [8] * FULL_RUN_TRIES + [10]
    assert runs[-1][0] is level and runs[-1][2]


def _walk(level: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any, bool]]:
    levels = iter([level])
    return whole_runs(lambda below: next(levels, None), lambda o: (o, o["gpus"] >= 9),
                      lambda o, run: grown(o, 1.1, 0.5, 1_000))[1]


def test_grown_options_wait_in_rank_order_whatever_order_they_were_made_in() -> None:
    """The first miss (2 replicas of 4 GPUs) grows to 12 GPUs, the second (8 of 1) to 9: the 9 runs first and is
    answered; the 12 is never run."""
    wide, narrow = {**_opt(8, 2, 256)}, {**_opt(8, 8, 128)}
    runs = _walk([wide, narrow, _opt(8, 8, 64), _opt(8, 8, 32)])
    assert [r[0]["gpus"] for r in runs] == [8] * FULL_RUN_TRIES + [9]
    assert runs[-1][2] and runs[-1][0]["replicas"] == 9


def test_grown_options_of_equal_rank_run_in_the_order_they_were_made() -> None:
    """Two misses of equal rank (fp8 before bf16, as enumerated: the sort is stable) grow to equal rank: the first
    made runs first, as the level's own options of equal rank keep their order."""
    fp8, bf16 = {**_opt(8, 4, 256), "dtype": "fp8"}, {**_opt(8, 4, 256), "dtype": "bf16"}
    runs = _walk([fp8, bf16, _opt(8, 4, 128), _opt(8, 4, 64)])
    assert [r[0]["gpus"] for r in runs] == [8] * FULL_RUN_TRIES + [10]
    assert runs[-1][0]["dtype"] == "fp8" and runs[-1][2]


def test_a_disaggregated_tpot_miss_grows_the_decode_pool_only() -> None:
    """grown's docstring: a TPOT miss grows the decode pool, a TTFT miss both pools (4 prefill + 2 decode of 2 GPUs)."""
    pair = {**_opt(12, 6, 64), "prefill_replicas": 4, "disaggregated": True}
    tpot = grown(pair, 0.9, 1.1, 1_000)
    assert tpot is not None and (tpot["prefill_replicas"], tpot["replicas"], tpot["gpus"]) == (4, 7, 14)
    ttft = grown(pair, 1.1, 0.9, 1_000)
    assert ttft is not None and (ttft["prefill_replicas"], ttft["replicas"], ttft["gpus"]) == (5, 8, 16)
