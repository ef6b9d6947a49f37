"""Mutation wave 2 (hO44's DualPipe / ZB-V ranks on the balanced split; hM18, session 43).

Hand cases on Llama 3 8B (32 layers, TP1: a layer's parameters P, a table T = V h = 128,256 x 4,096 > 2 P) and
Llama 3 405B (126 layers, TP8) under the balanced stacks (deepspeed, meta-llama3): the rules of
`stage_params.mirrored_rank_layers` (bins of two stages / chunks; the end bin what the middle bins leave, never
below 0) and the relations between runs: a schedule's ranks read only their own schedule's split, an even split
reads none."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import META_LLAMA3_TIME, dp_stage_grid, overhead_bytes

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.ops.params import local_layer_params
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import step_time as step_time_module
from infraplan.training.enums import Schedule
from infraplan.training.estimate import evaluate_plans
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.mirrored_stages import with_mirrored_pairs
from infraplan.training.optimizer_step import mirrored_rank_params
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import mirrored_rank_layers
from infraplan.training.step_time import balanced_split
from infraplan.training.step_traffic import EndStageTraffic

DUALPIPE, ZB_V, ONE_F_ONE_B = int(Schedule.DUALPIPE), int(Schedule.ZB_V), int(Schedule.ONE_F_ONE_B)


def _plan(pp: int, dp: int, schedule: int, tp: int, zero: int = 1, global_batch: int = 256,
          seq_len: int = 4096) -> PlanArrays:
    return PlanArrays.one_plan(tp=tp, pp=pp, dp=dp, cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                               global_batch=global_batch, seq_len=seq_len, recompute=0, zero=zero, dtype=0,
                               attention=0, order=0, sequence_parallel=1, schedule=schedule)


def _8b_pp2() -> tuple[TransformerShape, Cluster, Stack]:
    return load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod").for_gpus(64).placed(64), \
        load_stack("deepspeed")


def _split(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, stack: Stack) -> tuple[Any, ...]:
    split = balanced_split(shape, cluster, plan, stack)
    assert split is not None
    return tuple(split)


def test_the_end_bin_never_holds_fewer_than_no_layers() -> None:
    """ZB-V, 32 layers on PP8 with a middle bin of 5 the heaviest (Llama 3 8B under deepspeed, which counts the
    embedding and the loss as layers): 7 middle bins of 5 would hold 35 > 32, so the end bin holds what fits beside
    its tables at the pace (hO46: floor(5 - 2.5) = 2 with tables of 2.5 layers' time; 0 with tables of 5.5, never
    -3), the middle bins the rest."""
    end, middle = mirrored_rank_layers(32, 8.0, 5.0, 0.0, True, 2.5)
    assert (float(end), float(middle)) == (2.0, 5.0)
    end, middle = mirrored_rank_layers(32, 8.0, 5.0, 0.0, True, 5.5)
    assert (float(end), float(middle)) == (0.0, 5.0)


def test_zb_v_pp2_paces_on_the_rank_without_the_tables() -> None:
    """ZB-V on PP2: rank 0 holds chunks 0 and 3 (the embedding and the LM head, Qi et al. arXiv:2401.10241 sec. 6),
    rank 1 chunks 1 and 2: balancing puts more than half of the 32 layers on rank 1, the pace-setter (not an end
    rank). DualPipe on PP2 holds both stages on every rank (its own split, the end flag set)."""
    shape, cluster, deepspeed = _8b_pp2()
    split = _split(shape, cluster, _plan(2, 32, ZB_V, 1), deepspeed)
    assert float(split[6]) == 0.0 and float(split[5]) > 16.0
    assert float(split[4]) > 0.0  # DualPipe's pace-setting rank holds an end


@pytest.mark.parametrize(("schedule", "other"), [(ZB_V, (3, 4)), (DUALPIPE, (5, 6))])
def test_a_schedules_ranks_read_only_its_own_split(schedule: int, other: tuple[int, int]) -> None:
    """The memory of a ZB-V plan reads ZB-V's terms of the split (after the heaviest stage's three: DualPipe's at
    3, 4, ZB-V's at 5, 6), not DualPipe's, and the other way round: the other schedule's terms replaced by any
    numbers leave it bit for bit; ZB-V's own replaced move it. (Llama 3 8B PP2, where the two splits differ.)"""
    shape, cluster, deepspeed = _8b_pp2()
    plan = _plan(2, 32, schedule, 1)
    split = _split(shape, cluster, plan, deepspeed)
    assert tuple(map(float, split[3:5])) != tuple(map(float, split[5:7]))
    mine = tuple(i for i in (3, 4, 5, 6) if i not in other)

    def with_terms(indices: tuple[int, ...], values: tuple[float, float]) -> tuple[Any, ...]:
        out = list(split)
        for i, v in zip(indices, values, strict=True):
            out[i] = v
        return tuple(out)

    def total(s: tuple[Any, ...]) -> float:
        return sum(float(v[0]) for v in memory_breakdown(shape, plan, deepspeed, s).values())

    base = total(split)
    assert total(with_terms(other, (30.0, 1.0))) == base
    assert total(with_terms(other, (2.0, 0.0))) == base
    if schedule == ZB_V:  # (DualPipe on PP2 is one bin: every rank holds all 32 layers, whatever its terms say)
        assert total(with_terms(mine, (30.0, 0.0))) != base


def test_zb_v_optimizer_steps_its_own_middle_rank_by_hand() -> None:
    """ZB-V on Llama 3 405B PP16 at ZeRO 0 with the pace-setting end bin of 6 layers: the middles hold the 120 left
    over 15 bins, 8 each (one copy: ZB-V holds each layer once), 8 P > 6 P + 2 T (DualPipe's rule, two stages a
    bin, would give the middles ceil(114 / 7) / 2 = 8.5 P)."""
    shape = load_model("llama3-405b")
    plan = _plan(16, 16, ZB_V, 8, zero=0, global_batch=2048, seq_len=8192).one_row
    ends = EndStageTraffic(shape, plan, lambda *args: [])
    p, t = float(local_layer_params(shape, 8)), shape.vocab_size * shape.hidden_size / 8
    assert 8 * p > 6 * p + 2 * t
    llama3 = META_LLAMA3_TIME
    assert mirrored_rank_params(ends, plan, llama3, FLOAT_OPS, (6.0, 0.0, 1.0)) == pytest.approx(8 * p, rel=1e-12)


def test_an_even_split_does_not_read_the_heaviest_stage() -> None:
    """A stack splitting evenly (deepseek-v3, DualPipe) steps its mirrored rank on its even split whatever the
    heaviest stage handed over: `heaviest` is the balanced split's pace-setter only."""
    shape = load_model("llama3-405b")
    plan = _plan(16, 16, DUALPIPE, 8, zero=0, global_batch=2048, seq_len=8192).one_row
    ends = EndStageTraffic(shape, plan, lambda *args: [])
    deepseek = load_stack("deepseek-v3")
    assert deepseek.pipeline_split != "balanced"
    alone = mirrored_rank_params(ends, plan, deepseek, FLOAT_OPS)
    for heaviest in ((8.0, 0.0, 0.0), (6.0, 0.0, 1.0), (20.0, 0.0, 2.0)):
        assert mirrored_rank_params(ends, plan, deepseek, FLOAT_OPS, heaviest) == alone


def test_a_stack_running_a_mirrored_schedule_gives_every_row_its_split() -> None:
    """A search row stands for every schedule the stack runs: a 1F1B row under a stack that runs DualPipe gets the
    mirrored terms too (the memory bound reads them); under meta-llama3 (1F1B, interleaved) only the three."""
    shape, cluster, _ = _8b_pp2()
    llama3 = META_LLAMA3_TIME
    with_dualpipe = llama3.model_copy(update={"pipeline_schedules": ("1f1b", "dualpipe")})
    row = _plan(4, 16, ONE_F_ONE_B, 1)
    assert len(_split(shape, cluster, row, llama3)) == 5  # (the heaviest stage's three and the ends' capacities, hO47)
    assert len(_split(shape, cluster, row, with_dualpipe)) >= 7


@pytest.mark.parametrize("schedules", [("1f1b", "dualpipe", "zb-v"), ("1f1b", "zb-v")])
def test_memory_bounds_hold_for_the_mirrored_schedules_ranks(schedules: tuple[str, ...]) -> None:
    """`memory_bound_terms` on the rows' split under a stack that runs DualPipe and / or ZB-V (a stack file a user
    could write): low <= every plan's memory <= high, states at one copy below and at the most copies the stack's
    schedules hold above (DualPipe 2, ZB-V and 1F1B 1: `memory_bounds.memory_bounds_bytes`' most_copies), on 40 grid
    rows (PP >= 2) x ZeRO 0, 1, 3. The bounds must hold for the search's pruning to keep its answer
    (test_mirrored_balanced_split_hO44.py); ZB-V alone holds one copy, so its middle ranks (on PP2 more layers than
    any 1F1B stage: rank 1 holds no table) must be inside the one-copy bound."""
    shape, cluster, llama3, plan = dp_stage_grid("llama3-8b", 64, META_LLAMA3_TIME, 2)
    stack = llama3.model_copy(update={"pipeline_schedules": schedules})
    codes = np.array([{"1f1b": ONE_F_ONE_B, "dualpipe": DUALPIPE, "zb-v": ZB_V}[s] for s in schedules])
    n = len(codes)
    plan = replace(plan, vpp=np.ones_like(plan.vpp[..., :n, :]),
                   schedule=np.broadcast_to(codes[None, :, None], plan.schedule[..., :n, :].shape).copy())
    memory = np.asarray(evaluate_plans(shape, cluster, plan, stack)["memory_per_gpu_bytes"])
    rows = replace(plan, vpp=np.ones_like(plan.vpp[..., :1, :]), schedule=np.ones_like(plan.schedule[..., :1, :]))
    split = balanced_split(shape, cluster, rows, stack)
    assert split is not None and len(split) >= 7
    states = memory_bound_terms(shape, rows, stack, "states", split)
    acts = memory_bound_terms(shape, plan, stack, "activations", split)
    low = states["state_low"] + acts["activations_low"] + overhead_bytes(shape, rows)
    copies = 2.0 if "dualpipe" in schedules else 1.0
    high = copies * states["state_high"] + acts["activations_high"] + overhead_bytes(shape, rows)
    finite = np.isfinite(memory)
    assert finite.any()
    assert np.all((np.broadcast_to(low, memory.shape) <= memory * (1 + 1e-12))[finite])
    assert np.all((np.broadcast_to(high, memory.shape) >= memory * (1 - 1e-12))[finite])


@pytest.mark.parametrize("schedule", [DUALPIPE, ZB_V])
def test_the_memorys_mirrored_split_is_the_one_the_step_time_paces(monkeypatch: pytest.MonkeyPatch,
                                                                   schedule: int) -> None:
    """`balanced_split`'s DualPipe / ZB-V terms are the split the step time paces those schedules on (its own
    `with_mirrored_pairs` call, watched here), block recompute's mixed layer included: Llama 3 70B PP4 under
    meta-llama3 with 3 of each stage's layers fully recomputed paces on another split than without (the case
    must show it), and the memory's split follows the step time's in both."""
    paced: list[tuple[float, float]] = []
    watched = with_mirrored_pairs  # (the function the step time module calls)

    def watch(*args: object) -> dict[str, object]:
        out = watched(*args)  # type: ignore[arg-type]
        paced.append((float(out["stage_layers"]), float(out["first_is_heaviest"])))
        return out

    monkeypatch.setattr(step_time_module, "with_mirrored_pairs", watch)
    shape, llama3 = load_model("llama3-70b"), META_LLAMA3_TIME
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(256).placed(256)
    own = {DUALPIPE: slice(3, 5), ZB_V: slice(5, 7)}[schedule]
    splits = []
    for layers in (0, 3):
        plan = PlanArrays.one_plan(tp=8, pp=4, dp=8, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=256,
                                   seq_len=4096, recompute=2, zero=1, dtype=0, attention=0, order=0,
                                   sequence_parallel=1, schedule=schedule, recompute_layers=layers)
        paced.clear()
        step_time_module.step_time(shape, cluster, plan, llama3)
        split = balanced_split(shape, cluster, plan, llama3)
        assert split is not None and paced
        splits.append(tuple(map(float, split[own])))
        assert splits[-1] == paced[-1]
    assert splits[0] != splits[1]
