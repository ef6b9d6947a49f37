"""The 1F1B / interleaved balanced split's end stages where its middle stages cannot all hold the pace X (hO47).

`stage_params.stage_layer_counts` gave the ends what every middle stage at X leaves, L - (p - 2) X, clamped to 0:
llama3-8b on deepspeed PP16 paces on a middle stage of X = 3, 14 x 3 = 42 > 32, so both ends held 0 layers and the
middle stages 32 (the split summed to 42). The step time's bisection (`stage_split.balanced_stage_floats`) needs only
that every stage keeps the pace and that the stages hold all L: each end at most floor(X - e) beside its table (e its
time in layers, `mirrored_stages.end_stage_capacities`), the middle stages the rest at most X each (the same clamp
hO46 fixed for the mirrored schedules' end bin).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import META_LLAMA3_TIME, optimizer_params_seen

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.ops.params import local_layer_params
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training import step_assembly
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_terms import balanced_split, per_layer_terms
from infraplan.training.memory import kind_layers
from infraplan.training.mirrored_stages import end_extra_layers, end_stage_capacities
from infraplan.training.one_plan_memo import clear_one_plan_memo, cluster_pricing
from infraplan.training.pipeline_layout import paces
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import balanced_stage_layers, stage_layer_counts
from infraplan.training.stage_split import balanced_stage_floats

# pipeline_split: balanced, cut by time (the bisection these tests hold; deepspeed.yaml's own cut is by parameters since
# hS46, `training.pipeline_partition`)
DEEPSPEED = load_stack("deepspeed").model_copy(update={"pipeline_partition": "time"})


def _fits(x: float, extra: float) -> float:
    """Whole layers a stage fits beside `extra` (in layers) at the pace of X layers: the bisection's capacity test."""
    return float(math.floor(max(x - extra, 0.0) + 1e-9))


def test_the_stages_hold_every_layer_within_the_pace_on_a_grid() -> None:
    """On a grid of layers L, stages p and the ends' tables e_first, e_last (in layers; seeded), the bisection gives
    the pace; where a middle stage sets it (X layers): each end keeps the pace beside its table, the middle stages
    hold the rest within it with the pace-setting one at X (X <= rest <= (p - 2) X: the stages hold all L once),
    the Megatron-Core share (ceil(s / 2), floor(s / 2) of s = L - (p - 2) X) where it fits, and where the middle
    stages cannot all hold X the ends as many as keep the pace (at most L - X). The float path gives the same."""
    rng = np.random.default_rng(47)
    checked = overfull = 0
    for num_layers in (3, 7, 16, 32, 61, 80, 126):
        for pp in (3, 4, 8, 16, 32):
            for e_first, e_last in ((0.0, 0.0), *rng.uniform(0.02, 4.0, (5, 2))):
                x_s, x, is_last, is_first = balanced_stage_floats(num_layers, float(pp), 1.0, e_first, e_last)
                if is_last or is_first:  # (an end sets the pace: its other end as many, as before)
                    continue
                caps = _fits(x, e_first), _fits(x, e_last)
                assert (pp - 2) * x + caps[0] + caps[1] >= num_layers  # (the bisection's test at the pace)
                first, last, _ = stage_layer_counts(DEEPSPEED, float(pp), x, num_layers - x, 0.0, 0.0, FLOAT_OPS,
                                                    caps)
                rest = num_layers - first - last
                assert first >= 0.0 and last >= 0.0 and first == math.floor(first) and last == math.floor(last)
                assert first + e_first <= x_s + 1e-9 and last + e_last <= x_s + 1e-9  # (the ends keep the pace)
                assert x <= rest <= (pp - 2) * x  # (the middle stages: one at X, none above it)
                share = num_layers - (pp - 2) * x
                if share >= 0.0:
                    assert first + last == share  # (every middle stage X)
                    if math.ceil(share / 2) <= caps[0] and share // 2 <= caps[1]:
                        assert (first, last) == (math.ceil(share / 2), share // 2)
                else:
                    assert first + last == min(caps[0] + caps[1], num_layers - x)
                    overfull += 1
                arrays = stage_layer_counts(DEEPSPEED, np.array([float(pp)]), np.array([x]),
                                            np.array([num_layers - x]), np.zeros(1), np.zeros(1), NUMPY_OPS,
                                            (np.array([caps[0]]), np.array([caps[1]])))
                assert (float(arrays[0][0]), float(arrays[1][0])) == (first, last)
                checked += 1
    assert checked > 100 and overfull > 10


def _plan(pp: int, zero: int, schedule: int = int(Schedule.ONE_F_ONE_B)) -> PlanArrays:
    return PlanArrays.one_plan(tp=1, pp=pp, dp=64 // pp, cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                               global_batch=512, seq_len=8192, recompute=0, zero=zero, dtype=0, attention=0, order=0,
                               sequence_parallel=1, schedule=schedule)


def test_llama3_8b_deepspeed_pp16_ends_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """llama3-8b (32 layers) on deepspeed PP16 1F1B: the pace a middle stage of X = 3 (at 2: 14 x 2 + 1 + 0 < 32);
    14 x 3 = 42 > 32. The embedding is a fraction of a layer's time (the first holds floor(3 - e) = 2), the LM head
    + loss over 2 layers (the last holds 0); the 14 middle stages the other 30, at most 3 each. The optimizer (ZeRO
    0) steps the first stage's 2 layers and its table, more than a middle stage's 3 layers: before, the ends held 0
    layers and the optimizer stepped 3 layers."""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    plan = _plan(16, 0)
    split = balanced_split(shape, cluster, plan, DEEPSPEED)
    assert split is not None and tuple(map(float, split)) == (3.0, 0.0, 0.0, 2.0, 0.0)
    extra = end_extra_layers(_times(shape, cluster, plan), True)  # (e_first + e_last: the first 2, the last 0)
    assert 2.0 < extra < 3.0
    middle, first, last, _ = (float(np.ravel(v)[0]) for v in kind_layers(shape, plan, DEEPSPEED, split))  # type: ignore[union-attr]
    assert (middle, first, last) == (3.0, 2.0, 0.0)
    assert 3.0 <= 32 - first - last <= 14 * 3.0
    with optimizer_params_seen(monkeypatch) as seen:
        estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=1, pp=16, seq_len=8192, global_batch=512,
                          zero=0, stack=DEEPSPEED, schedule="1f1b")
    clear_one_plan_memo()
    p, t = float(local_layer_params(shape, 1)), float(shape.vocab_size * shape.hidden_size)
    assert seen and seen[-1] == pytest.approx(2 * p + t, rel=1e-12) and 2 * p + t > 3 * p


def _times(shape: Any, cluster: Cluster, plan: PlanArrays) -> dict[str, Any]:
    """The step time's per-layer terms of a one-plan estimate (`layer_terms.per_layer_terms`, with the split's keys)."""
    pricing = cluster_pricing(cluster, DEEPSPEED)
    return per_layer_terms(shape, pricing.rates, cluster.fabric, plan, pricing.precision_of, DEEPSPEED, pricing)


def test_capacities_are_the_bisections_on_real_plans() -> None:
    """On the array path (llama3-8b, deepspeed, PP 4-32): the capacities hold what the bisection says they hold at
    the pace ((p - 2) X + both >= L where a middle stage sets it), and each end's is the largest whole count whose
    time (its layers and its table) keeps the pace: one layer more runs past it. (Where an end sets the pace the
    capacities are not read: `stage_layer_counts`' other branch.)"""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64)
    pps = np.array([4, 8, 16, 32])
    plan = PlanArrays.build(tp=1, pp=pps, dp=64 // pps, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=512,
                            seq_len=8192, recompute=0, zero=0, dtype=0, schedule=int(Schedule.ONE_F_ONE_B))
    times = _times(shape, cluster, plan)
    layer, head, embed = (np.broadcast_to(v, np.shape(times["stage_layers"])) for v in paces(times))
    x = np.asarray(times["stage_layers"])
    first, last = end_stage_capacities(times, x, False)
    middle = (np.asarray(times["first_is_heaviest"]) + np.asarray(times["last_is_heaviest"])) == 0.0
    assert middle.tolist() == [True, True, True, False]  # (PP32: the LM head's stage, 0 layers, sets the pace)
    assert np.all(((pps - 2) * x + first + last >= 32)[middle])
    assert np.all((first * layer + embed <= x * layer * (1 + 1e-9))[middle])
    assert np.all((last * layer + head <= x * layer * (1 + 1e-9))[middle])
    assert np.all((first + 1) * layer + embed > x * layer) and np.all((last + 1) * layer + head > x * layer)
    assert (first[2], last[2]) == (2.0, 0.0)  # (PP16, by hand: test_llama3_8b_deepspeed_pp16_ends_by_hand)


@pytest.mark.parametrize(("model", "system", "gpus", "tp", "pp", "stack"), [
    ("llama3-405b", "meta-genai-roce-24k", 2048, 8, 16, META_LLAMA3_TIME),
    ("llama3-8b", "dgx-h100-superpod", 64, 1, 8, DEEPSPEED),
    ("llama3-8b", "dgx-h100-superpod", 64, 1, 8, "nemo-24.12"),
], ids=["meta-llama3-time", "deepspeed-time", "nemo-24.12"])
def test_unchanged_where_the_middle_stages_hold_x(model: str, system: str, gpus: int, tp: int, pp: int, stack: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Where (p - 2) X <= L (405B meta-llama3 PP16: 14 x 8 = 112 <= 126, its ends 7 and 7 within their capacities;
    llama3-8b deepspeed PP8: 6 x 5 = 30 <= 32) the estimate is the one without capacities (each end X, the split
    before hO47), bit for bit; an even-split stack never reads them."""
    kw: dict[str, Any] = {"tp": tp, "pp": pp, "seq_len": 8192, "global_batch": 2048 if pp == 16 else 512, "zero": 1,
                          "stack": stack, "schedule": "1f1b"}

    def run() -> dict[str, float]:
        clear_one_plan_memo()
        est = estimate_training(model, system, gpus, **kw)
        return {"step": est.step_time_s, "memory": est.memory_per_gpu_bytes,
                **{k: float(v) for k, v in vars(est.breakdown_s).items() if isinstance(v, float)}}

    now = run()
    with monkeypatch.context() as patched:
        def no_capacities(times: dict[str, Any], heaviest: Any, one: bool) -> tuple[Any, Any]:
            assert stack != "nemo-24.12"  # (an even split: not called)
            return heaviest, heaviest

        patched.setattr(step_assembly, "end_stage_capacities", no_capacities)
        patched.setattr("infraplan.training.layer_terms.end_stage_capacities", no_capacities)
        before = run()
    clear_one_plan_memo()
    assert now == before


def test_balanced_stage_layers_read_the_splits_capacities() -> None:
    """The memory's stage kinds (`balanced_stage_layers`) read the split's last two terms: the same split with the
    capacities (2, 0) and without them (X each)."""
    with_caps = balanced_stage_layers(32, 16.0, (3.0, 0.0, 0.0, 2.0, 0.0), DEEPSPEED)
    without = balanced_stage_layers(32, 16.0, (3.0, 0.0, 0.0), DEEPSPEED)
    assert tuple(map(float, with_caps)) == (3.0, 2.0, 0.0)
    assert tuple(map(float, without)) == (3.0, 3.0, 3.0)  # (the ends as middle stages: 6 of the 29 left)


def test_the_first_stage_holds_the_most_state_at_zero_0() -> None:
    """llama3-8b deepspeed PP16 1F1B at 2,048 tokens, full recompute, ZeRO 0 (the state outweighs the activations):
    the memory's peak is the first stage's 2 layers and its table, 2 B a bf16 weight: 2 (2 P + T) bytes of weights,
    more than a middle stage's 3 P (its weights before, when the first stage held no layer and the middle's peak
    won); gradients twice the weights (fp32)."""
    shape = load_model("llama3-8b")
    est = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=1, pp=16, seq_len=2048, global_batch=512, zero=0,
                            recompute="full", stack=DEEPSPEED, schedule="1f1b")
    p, t = float(local_layer_params(shape, 1)), float(shape.vocab_size * shape.hidden_size)
    weights = est.memory_breakdown_bytes.weights
    assert weights == pytest.approx(2.0 * (2 * p + t), rel=1e-12) and weights > 2.0 * 3 * p
    assert est.memory_breakdown_bytes.gradients == pytest.approx(2.0 * weights, rel=1e-12)
