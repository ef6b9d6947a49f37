"""The DP exposure priced on the stage that sets it (hA2, session 38).

Each pipeline stage's DP ranks reduce their own stage's gradients behind their own backward (and ZeRO-3 gathers its
parameters behind its own forward); the step ends when the last of them is done. The exposed DP time is the most
any stage exposes: the heaviest stage's, and each end stage's that holds the heaviest's layers and a table (the
parameters the DP traffic is priced on), each on its own windows (`dp_exposure.dp_windows`). Priced on the
heaviest stage alone, hX1's plan (qwen3-32b TP2 PP2 CP2 DP2, MXFP8, torchtitan, GB200) jumped +0.016 % where a
faster GPU moved the heaviest stage from the last to the first (`test_stage_switch_hA`): the first stage's backward
window is shorter by its embedding's backward less the LM head's, net of host (0.838 vs 0.600 ms per micro-batch).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_metamorphic_hX1_hardware import train, what_if
from test_stage_switch_hA import SWITCH, _plan, assert_grid_rows_are_single_plans

from infraplan.catalog.stacks import DEFAULT_TRAINING_STACK
from infraplan.training import host_time


@pytest.fixture(autouse=True)
def _no_cp_ring_host_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """hX1's plan (CP2 at seq 1,024, 32 micro-batches of 512 tokens a rank, eager torchtitan) is host-bound once the
    CP ring's host calls are priced (hL, session 56: `other` 3.3 s against 0.27 s of compute), and a host-bound step
    hides every DP window; what this file checks is the stage that sets the DP exposure, so the ring's calls are off."""
    monkeypatch.setattr(host_time, "CP_RING_HOST_CALLS_ON", False)


def _switch(zero: int) -> list[Any]:
    kw = _plan(2)
    kw["zero"] = zero
    return [train("qwen3-32b", what_if("gb200-nvl72-superpod", kw["gpus"], "flops", f), **kw) for f in SWITCH]


@pytest.mark.parametrize("zero", [0, 3])
def test_step_is_continuous_at_the_switch_with_dp(zero: int) -> None:
    """hX1's plan at DP 2: the step and its DP exposure are the same on both sides of the switch (they jumped
    +0.016 % / +0.44 ms with the heaviest stage's windows alone, ZeRO-0 and ZeRO-3)."""
    before, after = _switch(zero)
    assert after.breakdown_s.dp_comm_exposed > 0.0
    assert abs(after.step_time_s - before.step_time_s) <= 1e-6 * before.step_time_s
    assert after.breakdown_s.dp_comm_exposed == pytest.approx(before.breakdown_s.dp_comm_exposed, rel=1e-9)


def test_the_stage_with_the_shorter_window_sets_the_exposure() -> None:
    """Before the switch the last stage is the heaviest, but the first stage (same layers and a table, a shorter
    backward window) exposes more of its gradient reduction: the step's DP exposure is the first stage's, more than
    the heaviest stage's windows alone expose (the time without any DP exposure is unchanged)."""
    kw = _plan(2)
    dp = train("qwen3-32b", what_if("gb200-nvl72-superpod", kw["gpus"], "flops", SWITCH[0]), **kw)
    after = _switch(3)[1]  # the first stage the heaviest: its own windows
    assert dp.breakdown_s.dp_comm_exposed == pytest.approx(after.breakdown_s.dp_comm_exposed, rel=1e-9)
    assert dp.breakdown_s.dp_comm_exposed > 1.02 * 0.015392938  # the heaviest (last) stage's windows alone


@pytest.mark.parametrize(("model", "gpus", "stack"), [("qwen3-32b", 64, "torchtitan"),
                                                      ("mixtral-8x7b", 64, DEFAULT_TRAINING_STACK),
                                                      ("llama3-8b", 64, "megatron-core-0.8")])
def test_grid_rows_are_the_single_plans_bits(model: str, gpus: int, stack: str) -> None:
    """The array path (1F1B, interleaved, ZB-H1 and DualPipe columns, ZeRO 0 and 3) and the one-plan float path
    price the end stages' DP exposure alike, bit for bit."""
    assert_grid_rows_are_single_plans(model, gpus, stack, ("dp_comm_exposed", "step_time_s"), seed=382)
