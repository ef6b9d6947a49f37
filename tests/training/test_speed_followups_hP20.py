"""Search cost on the balanced split and its hot spots, every value bit-identical (hP20, session 42).

- `memory.memory_total`: every stage kind's state terms in one call, no all-zero output-head table where no plan runs
  a mirrored schedule (the first kind's terms kept on the rows' (ZeRO, 1, rows) shape), and the kinds' maxima taken
  only on the rows where no kind dominates (`grid_in_flight.peak_total`).
- `stage_split._narrowed`: the balanced split's bisection starts from a bracket of a few layers around the linear
  estimate where that bracket holds the answer.
- `row_memo.RowMemo.whole_rows`: a search's layer terms (EP all-to-all, stage split) computed once per row, read by
  the memory's split and again by the step time of the rows that fit.
- `nccl_trees.tree_latency_kept`: tree latencies kept by the fabric's identity, not by its hash.
- `activation_memory._where_held`: the loss's logits without a grid np.where where every plan holds them or none does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.training.conftest import META_LLAMA3_TIME, dp_stage_grid

from infraplan.network import collectives, nccl_trees
from infraplan.network.fabric import Fabric
from infraplan.scalar_path import pick
from infraplan.training import activation_memory, grid_in_flight, memory, row_memo, search, stage_split, state_memory
from infraplan.training.activation_memory import FIRST, LAST, MIDDLE
from infraplan.training.estimate import evaluate_plans
from infraplan.training.memory import memory_total
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.step_time import balanced_split

LLAMA405_8K = ("llama3-405b", "meta-genai-roce-24k", 8192, 8192, 2048)


def _grid(stack: str | None = "meta-llama3", model: str = "llama3-8b") -> tuple[Any, Any, Any, Any]:
    """A 40-row grid at the stack's own schedules (1F1B, interleaved) x ZeRO 0, 1, 3."""
    from dataclasses import replace
    shape, cluster, profile, plan = dp_stage_grid(model, 64, stack, 2)
    return shape, cluster, profile, replace(plan, vpp=plan.vpp[..., :2, :], schedule=plan.schedule[..., :2, :])


def test_peak_total_is_the_maxima_bit_for_bit() -> None:
    """The dominant kind's sum on the rows that have one, the maxima elsewhere: equal to np.maximum of every kind's
    sum, including rows where kinds tie, where none dominates, and NaN rows."""
    rng = np.random.default_rng(20)
    rows = 300
    parts = []
    base_state, base_act = rng.random((4, 1, rows)) * 1e9, rng.random((1, 16, rows)) * 1e10
    for k in range(3):  # the first 150 rows: each kind above the one before throughout (the last dominates)
        state = np.where(np.arange(rows) < 150, base_state + k * 1e8, rng.random((4, 1, rows)) * 1e9)
        act = np.where(np.arange(rows) < 150, base_act + k * 1e8, rng.random((1, 16, rows)) * 1e10)
        parts.append((state, act))
    for k in (0, 1):  # ties: rows 0-19 two dominant kinds of one value
        parts[k][0][..., :20], parts[k][1][..., :20] = parts[2][0][..., :20], parts[2][1][..., :20]
    parts[2][1][0, 3, 40:50] = np.nan
    want = grid_in_flight._maxima(parts)
    got = grid_in_flight.peak_total(parts)
    assert got.shape == want.shape == (4, 16, rows)
    assert got.tobytes() == want.tobytes()
    dominant = np.zeros(rows, dtype=bool)  # the case the fast path serves, and the one it leaves: both present
    for i, (s, a) in enumerate(parts):
        dominant |= np.all([(s >= t).all(axis=(0, 1)) & (a >= b).all(axis=(0, 1))
                            for j, (t, b) in enumerate(parts) if j != i], axis=0)
    assert 100 < dominant.sum() < 150


@pytest.mark.parametrize("stack", ["meta-llama3", "deepspeed", None])
def test_memory_total_is_the_breakdowns_sum(stack: str | None) -> None:
    """`memory_total` = `evaluate_plans`' memory (the breakdown's terms summed) bit for bit on a grid of a balanced
    stack (three stage kinds each on its own layers) and the default one, with the step time's split."""
    shape, cluster, profile, plan = _grid(stack)
    split = balanced_split(shape, cluster, plan, profile)
    want = np.asarray(evaluate_plans(shape, cluster, plan, profile)["memory_per_gpu_bytes"])
    got = memory_total(shape, plan, profile, split)
    assert np.broadcast_to(got, want.shape).tobytes() == want.tobytes()


def test_state_terms_keep_the_rows_shape_without_a_mirrored_schedule() -> None:
    """Without ZB-V / DualPipe among the plans the output head's table on the first stage is 0 everywhere: the state
    terms `memory_total` reads keep the rows' (ZeRO, 1, rows) shape (not the (ZeRO, pairs, rows) grid) and equal the
    full terms; with a mirrored schedule among the pairs the table is priced as before."""
    shape, cluster, profile, plan = _grid()
    layers = memory.kind_layers(shape, plan, profile, balanced_split(shape, cluster, plan, profile))
    kinds = (FIRST, MIDDLE, LAST)
    full = state_memory.kinds_state_terms(shape, plan, profile, 1.0, kinds, layers)
    rows = state_memory.kinds_state_terms(shape, plan, profile, 1.0, kinds, layers, True)
    for whole, kept in zip(full, rows, strict=True):
        for a, b in zip(whole, kept, strict=True):
            assert np.shape(b) == (3, 1, 40)
            assert np.broadcast_to(b, np.shape(a)).tobytes() == np.asarray(a).tobytes()
    assert np.shape(full[0][0]) == (3, 2, 40)  # (the table reads the schedule)
    shape, cluster, profile, mirrored = dp_stage_grid("llama3-8b", 64, "meta-llama3", 2)  # with ZB-H1, DualPipe
    terms = state_memory.kinds_state_terms(shape, mirrored, profile, 1.0, (FIRST,), None, True)
    assert np.shape(terms[0][0]) == (3, 4, 40)


def test_narrowed_bisection_is_the_full_one() -> None:
    """The balanced split from the narrowed brackets = from [0, L + ceil(max(e, h) / t) + 1], bit for bit, on
    random stages (PP 1-128, layer times over four decades, end work 0 to 1,000 layers, exact multiples, zero layer
    times, NaN and inf end work); most brackets narrowed (all of a search's: Llama 3 405B on 8,192 GPUs)."""
    rng = np.random.default_rng(42)
    narrowed, seen = 0, 0
    direct = stage_split._narrowed

    def count(*args: Any) -> tuple[np.ndarray, np.ndarray]:
        nonlocal narrowed, seen
        lo, hi = direct(*args)
        narrowed += int(np.count_nonzero(hi - lo < args[7] - args[6]))
        seen += lo.size
        return lo, hi

    for trial in range(80):
        n = 400
        layers = int(rng.choice([1, 2, 7, 32, 61, 80, 126, 200]))
        p = rng.choice([1, 2, 3, 4, 8, 16, 64, 128], size=n).astype(float)
        t = rng.lognormal(-5, 2, size=n)
        e = t * rng.choice([0, 0.5, 1, 5, 1e3], size=n) * rng.random(n)
        h = t * rng.choice([0, 0.5, 1, 5, 1e3], size=n) * rng.random(n)
        if trial % 4 == 1:
            e, h = np.round(e / t) * t, np.round(h / t) * t
        if trial % 4 == 2:
            t[rng.random(n) < 0.1] = 0.0
        if trial % 4 == 3:
            e[rng.random(n) < 0.1], h[rng.random(n) < 0.05] = np.nan, np.inf
        with pytest.MonkeyPatch.context() as patch, np.errstate(all="ignore"):
            patch.setattr(stage_split, "_narrowed", lambda *args: (args[6], args[7]))
            want = stage_split.balanced_heaviest_stage(layers, p, t, e, h)
            patch.setattr(stage_split, "_narrowed", count)
            got = stage_split.balanced_heaviest_stage(layers, p, t, e, h)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(want, got, strict=True))
    assert narrowed > 0.5 * seen  # (PP 1, NaN and zero-time rows among them keep the full bracket)


# (its wgrad accumulation fused: meta-llama3's unfused one reads ZeRO in the layer terms, which a search then prices per
# ZeRO stage without `RowMemo.whole_rows`, `main_grad_accumulation.layer_reads_zero`, hZ session 52; this test is about
# the memo)
TIME_CUT_FUSED = META_LLAMA3_TIME.model_copy(update={"gradient_accumulation_fusion": True})


def _search_dump(**kw: Any) -> dict[str, Any]:
    clear_one_plan_memo(pricings=False)
    out = search.search_plans(*LLAMA405_8K, stack=TIME_CUT_FUSED, top=3, **kw).model_dump(mode="json")
    out.pop("wall_time_s"), out.pop("configs_per_s")
    return out  # type: ignore[no-any-return]


def test_search_prices_each_rows_split_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 405B on 8,192 GPUs under meta-llama3 cut by time (`META_LLAMA3_TIME`; the stack itself cuts fixed units
    since hZ47, bisecting nothing): the balanced split is bisected once per row of the search (the memory's split of
    the block's rows, which the step time of the rows that fit reads again), and the answer is the one of pricing
    them again (`RowMemo.whole_rows` off)."""
    bisected: list[int] = []
    direct = stage_split.balanced_heaviest_stage

    def counted(num_layers: int, pp: Any, *rest: Any) -> Any:
        bisected.append(np.size(pp))
        return direct(num_layers, pp, *rest)

    monkeypatch.setattr(stage_split, "balanced_heaviest_stage", counted)
    kept = _search_dump()
    rows = sum(bisected)
    bisected.clear()
    monkeypatch.setattr(row_memo.RowMemo, "whole_rows", lambda *args: None)
    again = _search_dump()
    assert kept == again
    assert rows < sum(bisected)
    assert rows == bisected[0]  # (the first call: the memory's split of the whole block)


def test_tree_latencies_kept_by_the_fabrics_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """`nccl_trees.tree_latency` asks `tree_latency_one` (whose cache hashes the whole Fabric) once per distinct
    shape and fabric; later calls read the kept floats, the same values; `forget_float_values` forgets them."""
    from infraplan.cluster import Cluster
    fabric = Cluster.resolve("meta-genai-roce-24k").for_gpus(8192).fabric
    n, stride = np.array([64.0, 128.0, 64.0, 512.0]), np.array([8.0, 8.0, 8.0, 16.0])
    collectives.forget_float_values()
    first = nccl_trees.tree_latency(fabric, n, stride, 1e-5)
    want = np.array([nccl_trees.tree_latency_one(fabric, a, b, 1e-5) for a, b in zip(n, stride, strict=True)])
    assert first.tobytes() == want.tobytes()

    def hashed(self: Fabric) -> int:
        raise AssertionError("the Fabric was hashed")

    monkeypatch.setattr(Fabric, "__hash__", hashed)
    assert nccl_trees.tree_latency(fabric, n, stride, 1e-5).tobytes() == first.tobytes()
    monkeypatch.undo()
    collectives.forget_float_values()
    monkeypatch.setattr(Fabric, "__hash__", hashed)
    with pytest.raises(AssertionError, match="hashed"):
        nccl_trees.tree_latency(fabric, n, stride, 1e-5)


def test_held_logits_without_the_grid_where() -> None:
    """`_where_held` = pick(held, logits, 0.0) added to a stage's bytes, bit for bit, where every plan holds the
    logits, none does, and some do; the first two without a (pairs, rows) array of their own."""
    rng = np.random.default_rng(3)
    logits = rng.random((1, 1, 50)) * 1e9
    stored = rng.random((1, 16, 50)) * 1e10
    for held in (np.ones((1, 16, 50), dtype=bool), np.zeros((1, 16, 50), dtype=bool), rng.random((1, 16, 50)) < 0.5):
        want = stored + pick(held, logits, 0.0)
        got = stored + activation_memory._where_held(held, logits)
        assert got.tobytes() == want.tobytes()
    assert activation_memory._where_held(np.zeros((1, 16, 50), dtype=bool), logits) == 0.0
    assert activation_memory._where_held(np.ones((1, 16, 50), dtype=bool), logits) is logits
    assert activation_memory._where_held(True, 2.0) == 2.0
