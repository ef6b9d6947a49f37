"""Round-4 shortcuts of a single estimate (issue 18) give what the general code gives: the balanced split's float
bisection, the one-plan stage split, a plan whose arrays are made on first read, and the rule messages kept per
model."""

from __future__ import annotations

import copy
import pickle
import random
from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.errors import InputError
from infraplan.training import stage_split
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PLAN_FIELDS, PlanArrays
from infraplan.training.plan_rules import check_single_plan, forget_checked_plans, plan_violations
from infraplan.training.stage_split import balanced_heaviest_stage, heaviest_stage


def test_balanced_float_split_is_the_array_bisection() -> None:
    rng = random.Random(7)
    for _ in range(400):
        layers, pp = rng.randint(1, 160), float(rng.choice([1, 2, 3, 4, 8, 16, 32]))
        t, e, h = rng.uniform(1e-4, 0.1), rng.choice([0.0, rng.uniform(0.0, 0.3)]), rng.uniform(0.0, 0.5)
        one = heaviest_stage(layers, pp, t, e, h, "balanced")
        two = balanced_heaviest_stage(layers, np.full(2, pp), np.full(2, t), np.full(2, e), np.full(2, h))
        assert one == (float(two[0][0]), float(two[1][0]), bool(two[2][0]), bool(two[3][0]))


@pytest.mark.parametrize("stack", ["megatron-core-0.8", "deepspeed"])  # an even and a balanced split
def test_one_plan_stage_split_is_the_array_split(stack: str) -> None:
    shape, profile, rng = load_model("llama3-405b"), resolve_stack(stack, "training"), random.Random(3)
    keys = [f"{part}_{ph}" for part in ("compute", "tp", "cp", "ep", "other", "host", "head_gpu", "head_host",
                                        "embed_gpu", "embed_host") for ph in ("fwd", "bwd")]
    for _ in range(100):
        times = {k: rng.choice([0.0, rng.uniform(0.0, 0.02)]) for k in keys}
        pp = float(rng.choice([1, 2, 4, 16]))
        one = stage_split.with_stage_split(shape, profile, times, pp)
        grid = stage_split.with_stage_split(shape, profile, {k: np.array([v, v]) for k, v in times.items()},
                                           np.array([pp, pp]))
        assert one.keys() == grid.keys()
        for k, v in one.items():
            assert type(v) is float and v == float(grid[k][0]), k


def _fields() -> dict[str, object]:
    return dict(tp=8, pp=16, dp=128, cp=1, ep=1, etp=None, vpp=7, micro_batch=1, global_batch=2048, seq_len=8192,
                recompute=Recompute.NONE, zero=3, dtype=Dtype.BF16, attention=Attention.FLASH,
                order=RankOrder.TP_CP_PP_DP, sequence_parallel=1, schedule=None)


def test_one_plan_arrays_are_made_on_first_read_and_behave_as_built() -> None:
    plan, built = PlanArrays.one_plan(**_fields()), PlanArrays.build(**_fields())  # type: ignore[arg-type]
    assert not set(PLAN_FIELDS) & plan.__dict__.keys()  # nothing made yet: a single estimate reads `one_row`
    assert plan.one_row.tp == 8 and plan.row(0) == built.row(0)
    assert not set(PLAN_FIELDS) & plan.__dict__.keys()
    assert plan.pp.shape == (1,) and plan.pp.dtype == np.int64 and int(plan.pp[0]) == 16
    assert set(PLAN_FIELDS) <= plan.__dict__.keys()  # every field made at once, then plain attributes
    for other in (PlanArrays.one_plan(**_fields()), copy.deepcopy(PlanArrays.one_plan(**_fields())),  # type: ignore[arg-type]
                  pickle.loads(pickle.dumps(PlanArrays.one_plan(**_fields())))):  # type: ignore[arg-type]
        assert all(int(getattr(other, n)[0]) == int(getattr(built, n)[0]) for n in PLAN_FIELDS)
    changed = replace(PlanArrays.one_plan(**_fields()), zero=np.array([1]))  # type: ignore[arg-type]
    assert int(changed.zero[0]) == 1 and int(changed.tp[0]) == 8 and changed.row(0)["zero"] == 1
    assert PlanArrays.one_plan(**_fields()).take([0, 0]).tp.tolist() == [8, 8]  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        _ = PlanArrays.one_plan(**_fields()).no_such_field  # type: ignore[arg-type, attr-defined]


def test_rule_messages_are_each_models_own() -> None:
    forget_checked_plans()
    llama, mixtral = load_model("llama3-405b"), load_model("mixtral-8x7b")
    for shape, extra in ((llama, 0), (mixtral, 0), (llama, 2), (llama, 0)):
        plan = PlanArrays.one_plan(**{**_fields(), "tp": 7, "dp": 1, "pp": 1, "vpp": 1,  # type: ignore[arg-type]
                                      "global_batch": 1})
        reasons = [why for bad, why in plan_violations(shape, plan.one_row, extra) if bad]
        assert reasons[0] == f"attention heads ({shape.num_heads}) not divisible by TP"
        with pytest.raises(InputError, match=rf"attention heads \({shape.num_heads}\)"):
            check_single_plan(shape, plan, 7, extra)
        deep = PlanArrays.one_plan(**{**_fields(), "pp": 200, "dp": 1, "vpp": 1,  # type: ignore[arg-type]
                                      "global_batch": 1})
        why = next(why for bad, why in plan_violations(shape, deep.one_row, extra) if bad)
        counted = (f" (with the embedding and loss the stack counts as pipeline layers: {shape.num_layers + extra})"
                   if extra else "")
        assert why == f"pipeline stages x virtual stages exceeds the model's {shape.num_layers} layers{counted}"
