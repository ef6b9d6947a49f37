"""A hardware architect's what-ifs on training (hypothesis): better hardware never makes a plan slower.

Each property changes one accelerator or system figure, as a what-if file does (`extends: h100-sxm` plus the changed
field, `catalog.loader.load_accelerator`), keeps the name so that the measured tables still apply, and prices the
same random valid plan on both. Plans are drawn for a dense, a GQA and an MoE model on the H100 SuperPOD.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.training import PlanArrays, evaluate_plans
from infraplan.training.plan import RECOMPUTE_MODES
from infraplan.training.plan_rules import valid_mask

MODELS = ("llama3-8b", "gpt3-175b", "mixtral-8x7b")
SYSTEM = "dgx-h100-superpod"
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TOLERANCE = 1e-9  # relative: the same formulas, so only float rounding may differ


def _divisors(n: int, upto: int) -> list[int]:
    return [d for d in range(1, upto + 1) if n % d == 0]


@st.composite
def plans(draw):
    """(model, plan columns) of one valid plan on up to 64 GPUs."""
    model = draw(st.sampled_from(MODELS))
    shape = load_model(model)
    # TP divides the drawn sequences (2,048, 4,096) under sequence parallelism (Megatron-Core's scatter)
    tp = draw(st.sampled_from([t for t in _divisors(shape.num_heads, 8) if 2048 % t == 0]))
    pp = draw(st.sampled_from([1, 2, 4]))
    dp = draw(st.sampled_from([1, 2, 4]))
    ep = draw(st.sampled_from([e for e in _divisors(dp, 4) if shape.num_experts % e == 0])) if shape.is_moe else 1
    micro_batch = draw(st.sampled_from([1, 2]))
    cols = dict(tp=tp, pp=pp, dp=dp, cp=1, ep=ep, vpp=1, micro_batch=micro_batch,
                global_batch=dp * micro_batch * draw(st.integers(1, 16)), seq_len=draw(st.sampled_from([2048, 4096])),
                recompute=draw(st.integers(0, len(RECOMPUTE_MODES) - 1)), zero=draw(st.integers(0, 3)),
                dtype=draw(st.sampled_from([0, 1])), attention=0)
    return model, cols


def _accelerator_what_if(cluster: Cluster, **update: object) -> Cluster:
    return Cluster(cluster.system, cluster.accelerator.model_copy(update=update), cluster.generic)


def _step(model: str, cluster: Cluster, cols: dict) -> dict[str, np.ndarray]:
    shape = load_model(model)
    plan = PlanArrays.build(**cols)
    assert valid_mask(shape, plan).all()
    return evaluate_plans(shape, cluster, plan)


@SETTINGS
@given(plans(), st.floats(1.1, 4.0))
def test_more_hbm_bandwidth_never_increases_step_time(drawn, factor) -> None:
    model, cols = drawn
    base = Cluster.resolve(SYSTEM)
    faster = _accelerator_what_if(
        base, memory_bandwidth_bytes_per_s=base.accelerator.memory_bandwidth_bytes_per_s * factor)
    before, after = _step(model, base, cols), _step(model, faster, cols)
    assert after["step_time_s"][0] <= before["step_time_s"][0] * (1 + TOLERANCE)
    assert after["memory_per_gpu_bytes"][0] == before["memory_per_gpu_bytes"][0]  # bandwidth moves no bytes


@SETTINGS
@given(plans(), st.floats(1.1, 4.0))
def test_higher_peak_flops_never_increase_step_time(drawn, factor) -> None:
    model, cols = drawn
    base = Cluster.resolve(SYSTEM)
    peaks = {dtype: peak * factor for dtype, peak in base.accelerator.peak_flops_per_s.items()}
    faster = _accelerator_what_if(base, peak_flops_per_s=peaks)
    before, after = _step(model, base, cols), _step(model, faster, cols)
    assert after["step_time_s"][0] <= before["step_time_s"][0] * (1 + TOLERANCE)
    # the step cannot fall by more than the peak grew: the compute is at best factor times faster
    assert after["step_time_s"][0] >= before["step_time_s"][0] / factor * (1 - TOLERANCE)


@SETTINGS
@given(plans(), st.floats(1.1, 4.0))
def test_more_hbm_capacity_changes_no_time_and_never_unfits_a_plan(drawn, factor) -> None:
    model, cols = drawn
    base = Cluster.resolve(SYSTEM)
    larger = _accelerator_what_if(base, memory_bytes=base.accelerator.memory_bytes * factor)
    before, after = _step(model, base, cols), _step(model, larger, cols)
    assert after["step_time_s"][0] == before["step_time_s"][0]
    assert after["memory_per_gpu_bytes"][0] == before["memory_per_gpu_bytes"][0]
    assert bool(after["fits"][0]) >= bool(before["fits"][0])


@SETTINGS
@given(plans())
def test_a_larger_scale_up_domain_never_increases_step_time(drawn) -> None:
    """Two 8-GPU boards in one 16-GPU NVLink domain (as NVL72 joins 18 trays): groups that crossed the NIC now stay
    on NVLink; nothing else changes."""
    model, cols = drawn
    base = Cluster.resolve(SYSTEM)
    node = base.system.node.model_copy(update={"scale_up_domain": 16})
    wider = Cluster(base.system.model_copy(update={"node": node}), base.accelerator, base.generic)
    before, after = _step(model, base, cols), _step(model, wider, cols)
    assert after["step_time_s"][0] <= before["step_time_s"][0] * (1 + 1e-3)  # per-phase DP window (test_properties)
