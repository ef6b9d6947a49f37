"""The specialised serving loop's counts as floats (session 39, hP14; validation/notes/serving_speed_tried.md): a
leap's iterations, the batch size and a prompt's tokens enter its float sums from a table of whole floats
(`loop_stepping.whole_floats`), a leap longer than the table through float(); cached tokens come as whole floats.
Both paths, and float or int cached tokens, give the same bits. Since session 72 the loop is compiled
(`serving.fcfs_core`) and converts every count with float(), the table's float."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.network.collectives import Fabric
from infraplan.serving import fcfs_loop, fcfs_setup, loop_stepping
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

SYSTEM = load_system("dgx-h100-superpod")
ACC = load_accelerator(SYSTEM.accelerator)
DEP = Deployment(replicas=1, max_batch=8, token_budget=256)
COST = build_iteration_cost(load_model("llama3-8b"), ACC, Fabric.from_system(SYSTEM, ACC), DEP)


class _CountedTable(list[float]):
    """A table of whole floats counting the reads past its end (the loop's float() fallback)."""

    misses = 0

    def __getitem__(self, k: Any) -> Any:
        try:
            return super().__getitem__(k)
        except IndexError:
            _CountedTable.misses += 1
            raise


def _run(lists: tuple[list[Any], ...], arrival: np.ndarray, blocks: int = 100_000) -> tuple[Any, ...]:
    arr = arrival.tolist()
    first, finish = [np.nan] * len(arr), [np.nan] * len(arr)
    todo, ctx0, steps, need, end_ctx, pairs = lists
    totals = loop_stepping.run_to_end(fcfs_loop.fcfs_steps(
        COST, arr, arr + [np.inf], todo, ctx0, steps, need, end_ctx, pairs, DEP.max_batch, DEP.token_budget, blocks,
        0, first, finish, None))
    return totals, first, finish


def test_leaps_past_the_table_convert_with_float_to_the_same_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Few long sequences (2,000-3,000 decode steps, 2 requests a minute): leaps of hundreds to thousands of
    iterations, past a table of exactly max(batch, budget) + 1 = 257 entries, give what a long table gives."""
    rng = np.random.default_rng(7)
    n = 40
    arrival = np.sort(rng.uniform(0.0, 1200.0, n))
    prompt, steps = rng.integers(1, 200, n), rng.integers(2_000, 3_000, n)
    lists = loop_stepping.fcfs_request_lists(prompt, np.zeros(n, dtype=np.int64), steps, DEP.block_tokens)
    runs = []
    for table in (_CountedTable(float(k) for k in range(DEP.token_budget + 1)), [float(k) for k in range(10_000)]):
        # (the loop reads its table through `fcfs_setup.fcfs_constants` since hA58's split)
        monkeypatch.setattr(fcfs_setup, "whole_floats", lambda top, table=table: table)
        runs.append(_run(lists, arrival))
    # since session 72 the compiled loop converts every count with float() (a table's entry is the same float), so
    # neither table is read and the two runs are one computation: the leaps past 257 iterations are checked above
    assert _CountedTable.misses == 0
    assert repr(runs[0]) == repr(runs[1]) and runs[0][0][3] > 50_000  # (iterations leapt)


def test_cached_tokens_as_floats_give_the_answers_of_ints() -> None:
    """`fcfs_request_lists` hands the cached tokens as whole floats; a run on the same tokens as ints (the int x
    float path) is the same to the bit, prompts chunked by a small budget (the queue's entries) included."""
    rng = np.random.default_rng(11)
    n = 300
    arrival = np.sort(rng.uniform(0.0, 60.0, n))
    prompt, steps = rng.integers(1, 700, n), rng.integers(0, 300, n)
    cached = np.where(rng.random(n) < 0.5, rng.integers(1, 2_000, n), 0)
    lists = loop_stepping.fcfs_request_lists(prompt, cached, steps, DEP.block_tokens)
    assert all(type(c) is float for c in lists[1]) and lists[1] == cached.tolist()
    as_ints = (lists[0], [int(c) for c in lists[1]], *lists[2:])
    assert repr(_run(lists, arrival)) == repr(_run(as_ints, arrival))


def test_the_table_is_shared_up_to_its_cap_and_built_per_call_beyond() -> None:
    table = loop_stepping.whole_floats(300)
    assert len(table) > 300 and table[:301] == [float(k) for k in range(301)]
    assert loop_stepping.whole_floats(100) is table  # shared
    top = loop_stepping.WHOLES_KEPT + 5
    long = loop_stepping.whole_floats(top)
    assert long[top] == float(top) and all(type(x) is float for x in long[-3:])
    assert loop_stepping.whole_floats(top) is not long  # not kept: ~1 MB is the most kept for the process
    assert loop_stepping.whole_floats(100) is loop_stepping.whole_floats(200)
