"""Property tests (hypothesis) of the training model over random valid plans.

More bandwidth never slows a step; more TP or PP never raises memory per GPU; MFU <= 1 <= ...;
breakdown terms are non-negative and add up; and the array path equals the one-plan path.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.training.estimate import evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.step_time import COMPONENTS

MODELS = ("llama3-8b", "gpt3-175b", "mixtral-8x7b")
SYSTEMS = ("dgx-h100-superpod", "meta-genai-roce-24k")


@st.composite
def plans(draw):
    model = draw(st.sampled_from(MODELS))
    shape = load_model(model)
    tp = draw(st.sampled_from([t for t in (1, 2, 4, 8) if shape.num_heads % t == 0]))
    pp = draw(st.sampled_from((1, 2, 4, 8)))
    vpp = draw(st.sampled_from((1, 2))) if pp > 1 else 1
    cp = draw(st.sampled_from((1, 2)))
    dp = draw(st.sampled_from((1, 2, 4, 8)))
    ep = draw(st.sampled_from([e for e in (1, 2, 4, 8) if dp % e == 0])) if shape.is_moe else 1
    mbs = draw(st.sampled_from((1, 2)))
    plan = PlanArrays.build(
        tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=vpp, micro_batch=mbs,
        global_batch=dp * mbs * draw(st.sampled_from((1, 4, 16))) * (pp if vpp > 1 else 1),
        seq_len=draw(st.sampled_from((2048, 4096))),
        recompute=draw(st.integers(0, 2)), zero=draw(st.integers(0, 3)), dtype=draw(st.integers(0, 1)),
        attention=draw(st.integers(0, 1)), order=draw(st.integers(0, 1)))
    return model, draw(st.sampled_from(SYSTEMS)), plan


def _evaluate(model, system_name, plan, up=1.0, out=1.0):
    shape = load_model(model)
    assert valid_mask(shape, plan).all()
    return evaluate_plans(shape, Cluster.resolve(system_name).scaled(up, out), plan)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(plans(), st.floats(1.5, 4.0), st.floats(1.5, 4.0))
def test_more_bandwidth_never_increases_step_time(case, up, out):
    model, system, plan = case
    base = _evaluate(model, system, plan)["step_time_s"]
    assert _evaluate(model, system, plan, up=up)["step_time_s"] <= base * (1 + 1e-12)
    assert _evaluate(model, system, plan, out=out)["step_time_s"] <= base * (1 + 1e-12)
    assert _evaluate(model, system, plan, up=up, out=out)["step_time_s"] <= base * (1 + 1e-12)


def _grown(plan: PlanArrays, **changes) -> PlanArrays:
    fields = {name: getattr(plan, name) for name in plan.__dataclass_fields__}
    fields.update(changes)
    return PlanArrays.build(**fields)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(plans())
def test_memory_never_increases_when_tp_or_pp_grows(case):
    model, system, plan = case
    shape = load_model(model)
    base = _evaluate(model, system, plan)["memory_per_gpu_bytes"][0]
    if shape.num_heads % (2 * plan.tp[0]) == 0 and plan.tp[0] < 8:
        bigger_tp = _grown(plan, tp=2 * plan.tp)
        assert _evaluate(model, system, bigger_tp)["memory_per_gpu_bytes"][0] <= base * (1 + 1e-12)
    # PP: interleaving holds (1 + (p-1)/(p v)) micro-batches and uneven splits hold extra layers, both real
    # pipeline behaviour that can raise memory; without them memory never grows with PP
    if plan.vpp[0] == 1 and shape.num_layers % (2 * plan.pp[0]) == 0:
        bigger_pp = _grown(plan, pp=2 * plan.pp)
        assert _evaluate(model, system, bigger_pp)["memory_per_gpu_bytes"][0] <= base * (1 + 1e-12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(plans())
def test_utilisation_bounds_and_breakdown_adds_up(case):
    model, system, plan = case
    res = _evaluate(model, system, plan)
    assert 0 < res["mfu"][0] <= 1
    assert res["hfu"][0] >= res["mfu"][0] * (1 - 1e-12)
    terms = np.array([res[k][0] for k in COMPONENTS])
    assert (terms >= 0).all()
    assert terms.sum() == pytest.approx(res["step_time_s"][0], rel=1e-9)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(st.lists(plans(), min_size=2, max_size=6))
def test_array_path_equals_single_plan_path(cases):
    model, system = cases[0][0], cases[0][1]
    rows = [c[2] for c in cases if c[0] == model]
    batch = PlanArrays.build(**{name: np.concatenate([getattr(p, name) for p in rows])
                                for name in rows[0].__dataclass_fields__})
    together = _evaluate(model, system, batch)
    for i, single_plan in enumerate(rows):
        alone = _evaluate(model, system, single_plan)
        for key in ("step_time_s", "memory_per_gpu_bytes", "mfu", *COMPONENTS):
            assert together[key][i] == alone[key][0]
