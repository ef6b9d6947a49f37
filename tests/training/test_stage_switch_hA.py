"""The bubble's other stages where the heaviest pipeline stage switches ends (hA, session 38).

The end stage that is not the heaviest (the first with the embedding, the last with the LM head + loss) is priced as
the heaviest is (`step_assembly.stage_seconds`: its own GPU work and the host issue time no queued GPU work covers),
not at a middle stage's pace plus its embedding's / LM head's GPU time. hX1 found the step jumping +0.34 % where a
faster GPU moved the heaviest stage from the last to the first (qwen3-32b TP2 PP2 CP2, MXFP8, torchtitan, GB200,
2.39998x the FLOPs): the bubble left out the first stage's host time while the heaviest stage's total had it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_metamorphic_hX1_hardware import train, what_if
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.training.enums import Schedule
from infraplan.training.estimate import evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import grid_plan
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

# qwen3-32b on GB200 under torchtitan (eager host, even split): at 2.54545x the peak FLOPs the embedding's pace
# overtakes the LM head's and the first stage becomes the heaviest (2.39998x before hK60: NCCL's LL latency line
# prices the TP 2 / CP 2 collectives inside the NVL72 domain at 8.7 us, not 3 us, `network.nvlink_latency`)
SWITCH = (2.54544, 2.54545)  # the last stage the heaviest at the first, the first stage at the second
# with Megatron's unfused loss (52 B / 13 kernels a logit), as hX1 found the switch: torchtitan's own loss (hI58,
# DTensor's loss_parallel at TP 2: 76 B / 47 kernels, `training.head_time.TORCH_CROSS_ENTROPY_PASSES`) keeps the
# host-bound last stage the heaviest at every factor (0.5-20x: no switch left to test on this plan)
SWITCH_STACK = TORCHTITAN_EVEN.model_copy(update={"cross_entropy_impl": "te"})


def _plan(dp: int) -> dict[str, Any]:
    return dict(gpus=8 * dp, tp=2, pp=2, dp=dp, cp=2, vpp=1, micro_batch=1, global_batch=32 * dp, seq_len=1024,
                recompute="none", zero=3 if dp > 1 else 0, dtype="mxfp8", stack=SWITCH_STACK)


def _steps(dp: int, factors: list[float]) -> list[Any]:
    kw = _plan(dp)
    return [train("qwen3-32b", what_if("gb200-nvl72-superpod", kw["gpus"], "flops", f), **kw) for f in factors]


def test_step_is_continuous_where_the_heaviest_stage_switches_ends() -> None:
    """DP 1 (no DP exposure): the step never grows with the FLOPs and has no jump at the switch (it was +0.33 %)."""
    factors = sorted({*np.linspace(2.4, 2.6, 6).tolist(), *SWITCH})
    results = _steps(1, factors)
    steps = [r.step_time_s for r in results]
    i = factors.index(SWITCH[1])
    # the switch is in the sweep: the LM head's GEMMs leave the priced stage's compute there
    assert results[i].breakdown_s.compute < 0.95 * results[i - 1].breakdown_s.compute
    assert all(b <= a * (1 + 1e-12) for a, b in zip(steps, steps[1:], strict=False)), steps
    assert abs(steps[i] - steps[i - 1]) <= 1e-6 * steps[i - 1]


def test_the_bubble_and_the_stages_are_continuous_on_hx1s_plan() -> None:
    """hX1's plan (DP 2, ZeRO-3): the stages' time and the bubble add up to the same step on both sides of the switch
    (the bubble alone moves by the LM head's share the heaviest stage no longer holds, 0.0808 -> 0.1036 s before);
    the DP exposure is the most any stage exposes (each end stage on its own windows, hA2), so the step is the same
    too (+0.016 % with the heaviest stage's windows alone, from +0.34 %)."""
    before, after = _steps(2, list(SWITCH))
    pipeline = [r.step_time_s - r.breakdown_s.dp_comm_exposed for r in (before, after)]
    assert abs(pipeline[1] - pipeline[0]) <= 1e-6 * pipeline[0]
    assert abs(after.step_time_s - before.step_time_s) <= 1e-6 * before.step_time_s


def test_a_host_bound_first_stage_prices_its_embeddings_host_time() -> None:
    """1F1B at PP 2 with the last stage the heaviest: the bubble is the first stage's time per micro-batch. With the
    host the bound, the embedding's GPU work hides under the layers' host slack and its host calls are exposed;
    without the host floor (CUDA graphs' case) the stage is its GPU work, the middle pace plus the embedding."""
    kw = _plan(1)
    eager = train("qwen3-32b", what_if("gb200-nvl72-superpod", 8, "flops", 2.3), **kw)
    graphs = train("qwen3-32b", what_if("gb200-nvl72-superpod", 8, "flops", 2.3, host=False), **kw)
    # the eager first stage is host-bound: its bubble is the host time, longer than its GPU work
    assert eager.breakdown_s.pp_bubble > graphs.breakdown_s.pp_bubble
    # and the same as the last stage's bubble once the first is the heaviest (the stages swap roles continuously)
    later = train("qwen3-32b", what_if("gb200-nvl72-superpod", 8, "flops", 2.5), **kw)
    assert later.step_time_s == pytest.approx(eager.step_time_s, rel=1e-9)


def _grid(model: str, gpus: int, stack: str) -> tuple[Any, Any, Any, PlanArrays]:
    shape, cluster = load_model(model), Cluster.resolve("dgx-h100-superpod").for_gpus(gpus).placed(gpus)
    profile = resolve_stack(stack, "training", shape.name)
    rows = enumerate_plans(shape, gpus, 4096, 512, ["bf16"], 8)
    valid = valid_mask(shape, rows) & (np.asarray(rows.pp) > 1)
    index = np.flatnonzero(valid)[:48]
    codes = [int(s) for s in (Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED, Schedule.ZB_H1, Schedule.DUALPIPE)]
    vpp = np.tile(np.array([[1, 2, 1, 1]]), (index.size, 1))
    schedule = np.tile(np.array([codes]), (index.size, 1))
    return shape, cluster, profile, grid_plan(rows, index, vpp, schedule, np.array([0, 3]))


@pytest.mark.parametrize(("model", "gpus", "stack"), [("llama3-8b", 64, "torchtitan"), ("llama3-8b", 64, "deepspeed"),
                                                      ("qwen3-32b", 64, "megatron-core-0.8")])
def test_grid_rows_are_the_single_plans_bits(model: str, gpus: int, stack: str) -> None:
    """The array path (a search grid with 1F1B, interleaved, ZB-H1 and DualPipe columns) and the one-plan float
    path price the end stages alike, bit for bit."""
    assert_grid_rows_are_single_plans(model, gpus, stack, ("pp_bubble", "step_time_s", "dp_comm_exposed", "other"),
                                      seed=38)


def assert_grid_rows_are_single_plans(model: str, gpus: int, stack: str, keys: tuple[str, ...], seed: int) -> None:
    """24 random rows of `_grid`'s search grid priced alone through the one-plan path give the grid's bits for
    `keys` (those the grid returns as arrays)."""
    shape, cluster, profile, plan = _grid(model, gpus, stack)
    out = evaluate_plans(shape, cluster, plan, profile)
    wide = np.broadcast_shapes(*(np.shape(getattr(plan, f)) for f in plan.__dataclass_fields__))
    flat = {k: np.broadcast_to(v, wide) for k, v in out.items() if np.ndim(v)}
    rng = np.random.default_rng(seed)
    for z, k, r in zip(rng.integers(0, wide[0], 24), rng.integers(0, wide[1], 24), rng.integers(0, wide[2], 24),
                       strict=True):
        alone = PlanArrays(**{f: np.broadcast_to(getattr(plan, f), wide)[z, k, r][None]
                              for f in plan.__dataclass_fields__})
        one = evaluate_plans(shape, cluster, alone, profile)
        for key in keys:
            if key in flat:
                assert one[key][0] == flat[key][z, k, r], (key, z, k, r)
