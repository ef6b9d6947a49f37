"""Megatron-Core's `delay_wgrad_compute` empties TE's async dgrad window (hM, session 65; `MoeRouting.
delay_wgrad_compute`, `training.tp_overlap.wgrad_deferred`).

Megatron-Core 0.16.1 builds every TE linear with `delay_wgrad_compute` (extensions/transformer_engine.py:525-529,
:766-770); TE 2.14 then stores the wgrad GEMM (module/linear.py:888-899, layernorm_linear.py:899-910) and still waits
for the column-parallel dgrad reduction at the end of the same backward (linear.py:941-943, layernorm_linear.py:
954-956), so no wgrad runs under it; the stored wgrads run in the combined 1F1B's layer step
(models/common/model_chunk_schedule_plan.py:231, :252), which Megatron-Core requires for the setting
(transformer_config.py:1908-1912). Each behaviour test fails on 9d307f9f (no such field there) and with
`DEFERRED_WGRAD_EMPTIES_WINDOW` off.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from infraplan.catalog import load_model
from infraplan.catalog.moe_routing import MoeRouting
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training import tp_overlap
from infraplan.training.layer_kernels import gemm_fwd_bwd
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.plan_grid import one_plans
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.step_time import layer_times

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch the toggle)
NEMO = load_stack("nemo-26.04")


def _stack(delay: bool) -> Stack:
    """nemo-26.04 as H026's configuration runs it: TP overlap off, combined 1F1B, with or without the deferral."""
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": delay})
    return NEMO.model_copy(update={"moe": moe, "tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0,
                                   "expert_parallel_layout": "ep-inside-dp", "pipeline_split_divisible": False})


def _setup() -> tuple[object, Cluster, object]:
    shape = load_model("qwen3-30b-a3b")
    cluster = Cluster.resolve("dgx-h100-superpod", purpose="LLM training").for_gpus(64).placed(64)
    return shape, cluster, cluster_pricing(cluster, _stack(True))


def _plans(shape: object) -> object:
    plans = enumerate_plans(shape, 64, 4096, 512, ["bf16"], 8)  # type: ignore[arg-type]
    return plans.take(np.flatnonzero(valid_mask(shape, plans) & (plans.tp == 2) & (plans.ep > 1)  # type: ignore[arg-type]
                                     & (plans.cp == 1) & (plans.micro_batch == 1)))


def _terms(stack: Stack, plan: object) -> dict[str, object]:
    shape, cluster, pricing = _setup()
    return layer_times(shape, pricing.rates, cluster.fabric, plan, pricing.precision_of(plan), 0.0, stack)  # type: ignore[arg-type]


def _one(plans: object, **where: int) -> object:
    mask = np.ones(len(plans), dtype=bool)  # type: ignore[arg-type]
    for name, value in where.items():
        mask &= getattr(plans, name) == value
    return plans.take([int(np.flatnonzero(mask)[0])]).one_row  # type: ignore[attr-defined]


def test_one_layer_by_hand() -> None:
    """Qwen3-30B-A3B TP2 SP PP1 EP>1 bf16 mb1 seq 4096 (combined 1F1B runs: PP 1, no full recompute): without the
    deferral QKV's T x h reduce-scatter hides under QKV's wgrad, min(reduce-scatter, half QKV's backward), computed
    from the collective and GEMM formulas alone (the routed experts run no TE TP reduction); with it nothing hides
    and those seconds stay on the backward's TP time."""
    shape, cluster, pricing = _setup()
    plan = _one(_plans(shape), pp=1, recompute=0)
    kept, deferred = _terms(_stack(False), plan), _terms(_stack(True), plan)
    tokens, h = 4096.0, 2048.0
    reduction = collective_seconds(cluster.fabric, "reduce_scatter", tokens * h * 2.0, 2.0, 1.0)  # type: ignore[attr-defined]
    precision = pricing.precision_of(plan)  # type: ignore[attr-defined]
    qkv = gemm_fwd_bwd(pricing.rates, precision, tokens, (4096 + 2 * 512) / 2, h, one=True,  # type: ignore[attr-defined]
                       grad_bytes=main_grad_wgrad_bytes(NEMO))[1]
    by_hand = min(reduction, 0.5 * qkv)
    assert by_hand > 0.0
    assert kept[tp_overlap.ASYNC_HIDDEN] == pytest.approx(by_hand, rel=1e-12)
    assert deferred[tp_overlap.ASYNC_HIDDEN] == 0.0
    assert deferred["tp_bwd"] == pytest.approx(kept["tp_bwd"] + by_hand, rel=1e-12)  # type: ignore[operator]
    for name in ("compute_fwd", "compute_bwd", "other_bwd", "tp_fwd"):  # (the wgrad GEMMs are priced as before)
        assert deferred[name] == kept[name]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "DEFERRED_WGRAD_EMPTIES_WINDOW", False)
        assert _terms(_stack(True), plan)[tp_overlap.ASYNC_HIDDEN] == pytest.approx(by_hand, rel=1e-12)


def test_only_plans_that_run_the_combined_1f1b() -> None:
    """Megatron-Core takes the deferral only with the combined 1F1B (transformer_config.py:1908-1912), which it runs
    at EP > 1 with virtual stages where PP > 1 and no full recompute (:1855-1877): a PP > 1 plan without virtual
    stages, or one under full recompute, keeps the window; a grid gets each plan's own answer, bit for bit."""
    shape, _, _ = _setup()
    plans = _plans(shape)
    grid = _terms(_stack(True), plans)
    kept = _terms(_stack(False), plans)
    runs = (((plans.pp == 1) | (plans.vpp > 1)) & (plans.recompute != 2))  # type: ignore[attr-defined]
    assert runs.any() and (~runs).any()
    hidden, before = np.asarray(grid[tp_overlap.ASYNC_HIDDEN]), np.asarray(kept[tp_overlap.ASYNC_HIDDEN])
    assert np.all(before > 0.0)
    np.testing.assert_array_equal(hidden[runs], 0.0)
    np.testing.assert_array_equal(hidden[~runs], before[~runs])
    np.testing.assert_allclose(np.asarray(grid["tp_bwd"]), np.asarray(kept["tp_bwd"]) + before - hidden, rtol=1e-12)
    for i, one in list(enumerate(one_plans(plans)))[::7]:  # type: ignore[arg-type]
        alone = _terms(_stack(True), one.one_row)
        assert alone[tp_overlap.ASYNC_HIDDEN] == pytest.approx(float(hidden[i]), rel=1e-12, abs=1e-15)


def test_the_field_needs_the_combined_1f1b() -> None:
    with pytest.raises(ValidationError, match="overlap_ep_comm"):
        MoeRouting(delay_wgrad_compute=True)
    assert MoeRouting(overlap_ep_comm=True, delay_wgrad_compute=True).delay_wgrad_compute


def test_h026_runs_its_configurations_deferral() -> None:
    """The frontier row H026 (Qwen3-235B-A22B TP2 PP8 VP4 EP32, 256 H100, fp8; Megatron-Bridge 0.6.0 perf_recipes/
    qwen/h100/qwen3_moe.py:199-203): its `delay_wgrad` column puts the deferral in its stack, and the step pays QKV's
    reduce-scatter: TP 1.3248 -> 1.9041 s a step, 1,753.84 -> 1,741.42 tokens/s/GPU (measured 1,686)."""
    from infraplan.validation.sets import frontier_row_estimate, frontier_row_stack, load_frontier_rows

    row = next(r for r in load_frontier_rows() if r["id"] == "H026")
    stack = frontier_row_stack(row)
    assert stack.moe.delay_wgrad_compute and stack.moe.overlap_ep_comm
    est = frontier_row_estimate(row, stack)
    assert est.breakdown_s.tp_comm == pytest.approx(1.904072, abs=2e-6)
    assert est.tokens_per_s_per_gpu == pytest.approx(1741.42, abs=0.01)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "DEFERRED_WGRAD_EMPTIES_WINDOW", False)
        from infraplan.training.one_plan_memo import clear_one_plan_memo
        clear_one_plan_memo()
        before = frontier_row_estimate(row, stack)
    assert before.breakdown_s.tp_comm == pytest.approx(1.324754, abs=2e-6)
    assert before.tokens_per_s_per_gpu == pytest.approx(1753.84, abs=0.01)
