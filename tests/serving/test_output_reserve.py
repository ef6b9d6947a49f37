"""SGLang's PrefillAdder output reserve (`serving.output_reserve`): the admission test, the ratio's dynamics and the
engine loop carrying it (leaps equal to the one-by-one loop; the reserve holds back admissions a prompt-only test lets
in, so fewer requests are preempted)."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from test_serving_engine_leap import COST

from infraplan.serving import output_reserve as orv
from infraplan.serving.output_reserve import NEVER, OutputReserve
from infraplan.serving.schedulers import FcfsScheduler, PrefillFirstScheduler, make_scheduler
from infraplan.serving.serving_engine import EngineResult, simulate_engine


def test_sglang_constants_as_its_releases_set_them() -> None:
    # SGLANG_INIT_NEW_TOKEN_RATIO 0.7, x SGLANG_MIN_NEW_TOKEN_RATIO_FACTOR 0.14, over 600 decay steps; clip 4096
    assert (0.7, pytest.approx(0.098), 4096, 20) == (orv.INIT_RATIO, orv.MIN_RATIO, orv.CLIP_TOKENS, orv.RETRACT_STEPS)
    assert pytest.approx(0.602 / 600) == orv.DECAY


def test_admission_keeps_room_for_running_outputs_times_the_ratio() -> None:
    # two decoding requests with 100 and 300 output tokens left after 10 iterations; pool 100 blocks of 16 tokens
    todo, steps = [0, 0, 200, 200], [0, 0, 999, 99]
    res = OutputReserve(todo, steps, 1, 16)
    res.dec_end = 110 + 310
    heap = [110 * 4 + 0, 310 * 4 + 1, NEVER]
    res.open(10, 2, heap, 4)
    assert res.offset == pytest.approx(0.7 * 400)
    # request 2 wants 200 + min(1000, 4096) = 1200 tokens: 1200 < 1600 - 280 admits, 1200 >= 1480 - 280 does not
    assert not res.admits(2, 92)
    assert res.admits(2, 100)
    assert res.fresh == 1000 and res.offset == pytest.approx(1280)  # its whole output, not x the ratio
    # the next request in the same round sees the first one's output held back in full
    assert not res.admits(3, 100 - 13)
    res.joined([2], [0, 0, 10 + 999, 0])  # its prompt finished: it decodes, now counted x the ratio
    assert res.fresh == 0 and res.dec_end == 420 + 1009


def test_ratio_decays_to_its_floor_and_a_retraction_resets_it() -> None:
    res = OutputReserve([0, 0], [99, 49], 1, 16)
    res.max_new = {0: 100, 1: 50}  # admitted earlier
    assert res.ratio() == 0.7 and res.ratio(300) == pytest.approx(0.7 - 300 * orv.DECAY)
    assert res.ratio(10_000) == orv.MIN_RATIO
    # after a retraction: (decoded + 20 x kept) / (max_new + 1) over the requests kept (one: 100 max, 40 left)
    res.decays = 500
    res.retracted(60, [100 * 2 + 0, NEVER], 2)
    assert (res.base, res.decays) == (pytest.approx((60 + 20) / 101), 0)


def test_only_sglang_policies_reserve_and_pick_applies_the_gate() -> None:
    assert FcfsScheduler().bind_reserve([1], [1], 1, 16) is None
    adder = make_scheduler("sglang-adder")
    assert adder.bind_reserve([1], [1], 1, 16) is not None
    assert adder.bind_reserve([1], [1], 1, 16, on_demand=False) is None and adder.reserve is None  # reserve_full
    policy = PrefillFirstScheduler()
    res = policy.bind_reserve([100, 100], [5000, 10], 1, 16)
    assert res is not None
    res.open(0, 0, [NEVER], 2)
    waiting = deque([0, 1])
    # request 0 wants 100 + 4096 (clipped) tokens: 262 blocks (4192 tokens) do not hold them, 263 do
    assert policy.pick(waiting, [7, 7], 262) is None and list(waiting) == [0, 1] and not res.clipped
    assert policy.pick(waiting, [7, 7], 263) == 0
    assert res.clipped and res.max_new == {0: 5001}  # a 5001-token output counts as 4096 from now on


def _run(policy: FcfsScheduler, jump: bool, steps: np.ndarray) -> EngineResult:
    rng = np.random.default_rng(7)
    n = len(steps)
    return simulate_engine(COST, np.sort(rng.uniform(0, 20, n)), rng.integers(100, 900, n), np.zeros(n, np.int64),
                           steps, 64, 2048, 3_000, 16, jump=jump, scheduler=policy, kv_admission="on_demand")


@pytest.mark.parametrize("long_outputs", [False, True])
def test_engine_leaps_equal_steps_and_the_reserve_saves_preemptions(long_outputs: bool) -> None:
    rng = np.random.default_rng(3)
    steps = rng.integers(50, 600, 300) + (4500 if long_outputs else 0) * (rng.random(300) < 0.1)
    leap, stepped = (_run(PrefillFirstScheduler(), j, steps) for j in (True, False))
    assert (leap.iterations, leap.preemptions) == (stepped.iterations, stepped.preemptions)
    assert leap.leapt_iterations > 0.3 * leap.iterations
    np.testing.assert_allclose(leap.first_token_s, stepped.first_token_s, rtol=1e-9)
    np.testing.assert_allclose(leap.finish_s, stepped.finish_s, rtol=1e-9)

    class NoReserve(PrefillFirstScheduler):
        reserves_output = False

    plain = _run(NoReserve(), True, steps)
    assert leap.preemptions < plain.preemptions
