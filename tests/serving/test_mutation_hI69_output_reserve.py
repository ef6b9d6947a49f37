"""hI69's mutation wave on SGLang's output reserve (`serving.output_reserve`, hV68) and the engine loops carrying it.

Each figure is worked by hand from the module docstring's rules, read in SGLang's `PrefillAdder` (schedule_policy.py)
and `retract_decode` (schedule_batch.py): the running requests' remaining output, each clipped at 4096, x the ratio;
a new request's extend tokens + its clipped output below the free tokens; the ratio decays by (0.7 - 0.098) / 600
per decode batch and resets on an idle scheduler and on a retraction. The engine runs check the reserve's books
against the loop's own finish heap at every round of picks (`_Audited`).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_serving_engine_leap import COST

from infraplan.serving import schedulers, wide_ep_lockstep
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.lockstep_loop import lockstep_replica
from infraplan.serving.output_reserve import NEVER, OutputReserve
from infraplan.serving.schedulers import make_scheduler
from infraplan.serving.serving_engine import simulate_engine

D = (0.7 - 0.098) / 600  # the decay per decode batch


def test_draft_tokens_count_in_the_running_outputs() -> None:
    # two decoding requests with 100 and 300 decode steps left, each step appending 2 tokens (a draft accepted):
    # 800 output tokens left, x 0.7
    res = OutputReserve([0, 0, 0], [0, 0, 0], 2.0, 16)
    res.dec_end = 110 + 310
    res.open(10, 2, [110 * 3 + 0, 310 * 3 + 1, NEVER], 3)
    assert res.offset == pytest.approx(0.7 * 800)


def test_a_long_output_counts_4096_and_stays_clipped() -> None:
    # request 0 (6,000 output tokens) and request 1 (100) arrive with their KV and decode at once; from the first
    # long one on, every decoding request counts min(its output left, 4096): 4096 + 100 at iteration 10, not 6,100
    todo, steps = [0, 0, 0], [5999, 99, 0]
    res = OutputReserve(todo, steps, 1.0, 16)
    assert res.admits(0, 1000) and res.clipped
    assert res.admits(1, 1000) and res.clipped  # a short one after it leaves the flag set
    assert res.fresh == 0 and not res.held  # decoding at once: no prefill holds its output
    res.dec_end = 6010 + 110
    res.open(10, 2, [110 * 3 + 1, 6010 * 3 + 0, NEVER], 3)  # NEVER: the heap's sentinel, not a request
    assert res.offset == pytest.approx(0.7 * (4096 + 100))


def test_the_prefilling_outputs_are_held_across_rounds() -> None:
    # request 0 admitted with a 100-token prompt and 100 output tokens: the next round (nothing decoding) keeps its
    # whole output back, and 16 x 16 - 100 = 156 free tokens refuse a 100 + 57 request, admit a 100 + 55 one
    todo, steps = [100, 100, 100], [99, 56, 54]
    res = OutputReserve(todo, steps, 1.0, 16)
    res.open(0, 0, [NEVER], 3)
    assert res.admits(0, 100)
    res.open(0, 0, [NEVER], 3)
    assert res.offset == 100
    assert not res.admits(1, 16) and res.admits(2, 16)


def test_total_tokens_equal_to_the_room_are_refused() -> None:
    # SGLang: `total_tokens >= self.rem_total_tokens` returns NO_TOKEN. 100 prompt + 156 output = 256 = 16 blocks
    res = OutputReserve([100], [155], 1.0, 16)
    res.open(0, 0, [NEVER], 1)
    assert not res.admits(0, 16) and res.admits(0, 17)


def test_a_readmitted_request_keeps_its_first_max_new_tokens() -> None:
    # request 0 admitted with 100 output tokens, preempted after 60 (the loop sets its steps to the 39 left): the
    # retraction ratio reads its max_new_tokens (100), as SGLang's `retract_decode` does, not the 40 left
    todo, steps = [50, 0], [99, 0]
    res = OutputReserve(todo, steps, 1.0, 16)
    assert res.admits(0, 100)
    res.dropped(0)
    assert res.fresh == 0 and not res.held
    steps[0], todo[0] = 39, 110
    assert res.admits(0, 100)
    assert res.max_new == {0: 100}
    res.joined([0], [0 + 39])
    # kept: request 0, its last iteration 39 at now 0: decoded 100 - 39 = 61; (61 + 20) / (100 + 1)
    res.retracted(0, [39 * 2 + 0, NEVER], 2)
    assert res.base == pytest.approx(81 / 101)


def test_joined_and_dropped_balance_the_held_outputs() -> None:
    todo, steps = [100, 100, 100], [49, 0, 29]
    res = OutputReserve(todo, steps, 1.0, 16)
    assert res.admits(0, 100) and res.admits(1, 100) and res.admits(2, 100)
    assert res.fresh == 50 + 1 + 30 and res.held == {0: 50, 1: 1, 2: 30}
    res.joined([0, 1], [7 + 49, 7])  # request 1 has no decode step: it joins no decode batch
    assert res.fresh == 30 and res.dec_end == 56
    res.joined([0], [56])  # a second finish of the same prompt holds nothing more
    assert res.fresh == 30
    res.dropped(2)
    assert res.fresh == 0 and not res.held


def test_an_idle_scheduler_resets_the_ratio() -> None:
    res = OutputReserve([0], [0], 1.0, 16)
    res.base, res.decays = 0.5, 300
    res.idle()
    assert res.ratio() == 0.7 and res.ratio(1) == pytest.approx(0.7 - D)


def test_leap_cap_by_hand() -> None:
    # requests 0, 1 decode 100 and 200 more steps (300 tokens left); the head wants 1,000 + 100 tokens; 81 free
    # blocks (1,296 tokens): it waits while 0.7 - m D times (300 - 2 m) >= 196: m = 8 gives 196.52, m = 9 194.85,
    # so the leap stops after 8 iterations (the 9th runs one by one and lets it in)
    todo, steps = [0, 0, 1000], [99, 199, 99]
    res = OutputReserve(todo, steps, 1.0, 16)
    res.dec_end = 300
    heap = [100 * 3 + 0, 200 * 3 + 1, NEVER]
    res.open(0, 2, heap, 3)
    assert not res.admits(2, 81)
    assert res.leap_cap(50, 2, 63, 0, 2, 81, [0] * 16, heap, 3) == 8
    assert res.leap_cap(5, 2, 63, 0, 2, 81, [0] * 16, heap, 3) == 5
    # one block taken at every iteration of residue 3 (m = 3, 19, 35): 80 blocks from m = 3 need < 180 (m = 19,
    # 178.4, but 79 blocks from m = 19 need < 164: m = 28, 163.95): 27 iterations leapt
    grow = [0] * 16
    grow[3] = 1
    assert res.leap_cap(50, 2, 63, 0, 2, 81, grow, heap, 3) == 27


def test_leap_cap_stops_where_the_head_fits_its_prompt_blocks_exactly() -> None:
    # 10 free blocks, the head's 145-token prompt needs all 10 (160 tokens) and 5 output tokens: 150 < 160 - 0.7 x
    # 15 = 149.5 fails; after one iteration 160 - 0.699 x 14 = 150.2 admits it: no iteration leapt
    res = OutputReserve([0, 145], [14, 4], 1.0, 16)
    res.dec_end = 15
    heap = [15 * 2 + 0, NEVER]
    res.open(0, 1, heap, 2)
    assert not res.admits(1, 10)
    assert res.leap_cap(10, 1, 10, 0, 1, 10, [0] * 16, heap, 2) == 0


def _first_admitted(res: OutputReserve, head: int, need: int, now: int, n_dec: int, free: int, grow: list[int],
                    heap: list[int], n: int, k_max: int) -> int:
    """The leap as `leap_cap`'s docstring states it: one fewer than the first m (1 .. k_max + 1) after whose m decode
    batches `open` + `admits` let the head in; k_max where the pool runs short of its prompt first, or none does."""
    for m in range(1, k_max + 2):
        free -= grow[(now + m) % res.bt]
        if need > free:
            return k_max
        probe = copy.deepcopy(res)
        probe.decays += m
        probe.open(now + m, n_dec, heap, n)
        if probe.admits(head, free):
            return min(m - 1, k_max)
    return k_max


@pytest.mark.parametrize("growth", [1.0, 2.0, 2.6])
def test_leap_cap_is_open_and_admits_after_each_iteration(growth: float) -> None:
    rng = np.random.default_rng(69)
    checked = 0
    for _ in range(160):
        n_dec = int(rng.integers(1, 6))
        steps = [int(s) for s in rng.integers(5, 3000 if rng.random() < 0.5 else 300, n_dec + 1)]
        todo = [0] * n_dec + [int(rng.integers(1, 4000))]
        res = OutputReserve(todo, steps, growth, 16)
        for j in range(n_dec):  # decoding since iteration 0 (admitted with their KV)
            res.admits(j, 10**9)
        now = int(rng.integers(0, 4))
        res.decays = int(rng.integers(0, 700))
        heap = sorted(steps[j] * (n_dec + 1) + j for j in range(n_dec)) + [NEVER]
        res.dec_end = sum(steps[:n_dec])
        grow = [int(g) for g in rng.integers(0, 2, 16)]
        need = -(-todo[-1] // 16)
        res.open(now, n_dec, heap, n_dec + 1)
        room = todo[-1] + min((steps[-1] + 1) * growth, 4096) + res.offset  # tokens the head needs free now
        free = max(need, int(room // 16) + 1 - int(rng.integers(0, 12)))
        if res.admits(n_dec, free) or heap[0] // (n_dec + 1) - now - 1 < 1:
            continue
        res.max_new.pop(n_dec, None)
        k_max = heap[0] // (n_dec + 1) - now - 1
        want = _first_admitted(res, n_dec, need, now, n_dec, free, grow, heap, n_dec + 1, k_max)
        assert res.leap_cap(k_max, n_dec, need, now, n_dec, free, grow, heap, n_dec + 1) == want
        checked += want < k_max
    assert checked > 10  # cases that stop inside the stretch


class _Audited(OutputReserve):
    """The reserve with its books checked at every round of picks against the loop's heap (its decoding requests'
    last iterations): `dec_end` is their sum, `fresh` the held outputs'; under prefill-first (`decays_checked`) the
    decays are the decode batches since the last reset, as every decode iteration is one (a retraction's own batch
    decays nothing: `update_running_batch` sets the ratio instead)."""

    runs: list[_Audited] = []
    decays_checked = True

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.mark, self.pending, self.faults, self.opens, self.resets, self.idles = 0, False, [], 0, 0, 0
        _Audited.runs.append(self)

    def open(self, now: int, n_dec: int, heap: list[int], n: int) -> None:
        live = [k for k in heap if k < NEVER]
        if self.pending:
            self.mark, self.pending = now, False
        if len(live) != n_dec or self.dec_end - n_dec * now != sum(k // n - now for k in live):
            self.faults.append(("dec_end", now))
        if abs(self.fresh - sum(self.held.values())) > 1e-6:
            self.faults.append(("fresh", now))
        if self.decays_checked and self.decays != now - self.mark:
            self.faults.append(("decays", now, self.decays, now - self.mark))
        self.opens += 1
        super().open(now, n_dec, heap, n)

    def idle(self) -> None:
        super().idle()
        self.pending, self.idles = True, self.idles + 1

    def retracted(self, now: int, heap: list[int], n: int) -> None:
        super().retracted(now, heap, n)
        self.mark, self.resets = now + 1, self.resets + 1


def _requests(seed: int, n: int, rate: float, one_token: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson arrivals, prompts of 100-900 tokens, 10 % of outputs past 4,096 tokens, a share `one_token` of
    requests whose one output token ends them at their prompt (no decode step)."""
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1.0 / rate, n))
    steps = rng.integers(50, 600, n) + 4500 * (rng.random(n) < 0.1)
    return arrival, rng.integers(100, 900, n), np.where(rng.random(n) < one_token, 0, steps)


def _audit(monkeypatch: pytest.MonkeyPatch, scheduler: str) -> None:
    monkeypatch.setattr(schedulers, "OutputReserve", _Audited)
    monkeypatch.setattr(_Audited, "runs", [])
    monkeypatch.setattr(_Audited, "decays_checked", scheduler == "prefill-first")


@pytest.mark.parametrize(("scheduler", "jump", "rate", "decode_only"), [
    ("prefill-first", True, 40.0, False), ("prefill-first", False, 40.0, False), ("prefill-first", True, 0.2, False),
    ("sglang-adder", True, 40.0, False), ("prefill-first", True, 40.0, True)])
def test_the_engine_loop_keeps_the_reserve_books(monkeypatch: pytest.MonkeyPatch, scheduler: str, jump: bool,
                                                 rate: float, decode_only: bool) -> None:
    """Retractions at 40 requests/s on 3,000 blocks, an engine idle between arrivals at 0.2/s, SGLang's mixed-chunk
    adder (prompts prefilling while a decode batch is retracted), a decode pool (requests arrive with their KV)."""
    _audit(monkeypatch, scheduler)
    arrival, prompt, steps = _requests(5, 300, rate, 0.1)
    cached = prompt if decode_only else np.zeros(300, np.int64)
    simulate_engine(COST, arrival, prompt * (not decode_only), cached, steps, 64, 2048, 3_000, 16, jump=jump,
                    scheduler=make_scheduler(scheduler), kv_admission="on_demand")
    (res,) = _Audited.runs
    assert res.opens > 100
    assert res.resets > 0 if rate > 10 else res.idles > 10  # retractions, or an engine idle between arrivals
    assert res.faults == []
    assert res.dec_end == 0 and res.fresh == 0 and not res.held  # every request done


@pytest.mark.parametrize(("scheduler", "rate"), [("prefill-first", 20.0), ("prefill-first", 0.2),
                                                 ("sglang-adder", 20.0)])
def test_the_lockstep_ranks_keep_their_reserve_books(monkeypatch: pytest.MonkeyPatch, scheduler: str,
                                                     rate: float) -> None:
    from test_lockstep_loop import H200, V3, _dep

    from infraplan.serving.serving_sim import pool_memory

    _audit(monkeypatch, scheduler)
    dep = _dep()
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    blocks = pool_memory(V3, H200.accelerator, dep)[0].blocks // 40
    arrival, prompt, steps = _requests(6, 240, rate, 0.1)
    rank_of = np.arange(240) % 2
    lockstep_replica(cost, arrival, prompt, np.zeros(240, np.int64), steps, rank_of, 2, dep.max_batch,
                     dep.token_budget, blocks, dep.block_tokens, scheduler, "on_demand")
    assert len(_Audited.runs) == 2
    for res in _Audited.runs:
        assert res.opens > 50
        assert res.faults == []
        assert res.dec_end == 0 and res.fresh == 0 and not res.held
    if rate > 10:
        assert sum(res.resets for res in _Audited.runs) > 0
    else:
        assert min(res.idles for res in _Audited.runs) > 10


def test_one_lockstep_rank_leaps_as_the_engine_loop_steps() -> None:
    """Online arrivals, 10 % of outputs past 4,096 tokens, 3,000 blocks: the reserve holds the queue's head through
    pure-decode stretches, which the lock-step loop leaps (`leap_cap`, as the engine loop); one rank gives the engine
    loop's one-by-one times."""
    from test_lockstep_loop import H200, V3, _dep

    dep = _dep()
    cost = wide_ep_lockstep.with_others(build_iteration_cost(V3, H200.accelerator, H200.fabric, dep), 0.0)
    arrival, prompt, steps = _requests(7, 200, 4.0)
    zeros = np.zeros(200, np.int64)
    alone = simulate_engine(cost, arrival, prompt, zeros, steps, dep.max_batch, dep.token_budget, 3000,
                            dep.block_tokens, jump=False, scheduler="prefill-first", kv_admission="on_demand")
    ranked = lockstep_replica(cost, arrival, prompt, zeros, steps, np.zeros(200, dtype=int), 1, dep.max_batch,
                              dep.token_budget, 3000, dep.block_tokens, "prefill-first", "on_demand")
    assert ranked.preemptions > 0
    assert (ranked.iterations, ranked.preemptions) == (alone.iterations, alone.preemptions)
    np.testing.assert_allclose(ranked.first_token_s, alone.first_token_s, rtol=1e-9)
    np.testing.assert_allclose(ranked.finish_s, alone.finish_s, rtol=1e-9)
