"""The vectorised search runs the single-estimate code: same best plan, same numbers."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.published_mfu import published_mfu_ceiling
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.training import plan_grid
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.flops import causal_flops_ratio
from infraplan.training.pipeline_split_rule import pipeline_split_rule
from infraplan.training.plan_grid import GUARD_TIE_SHARE
from infraplan.training.plan_rules import valid_mask
from infraplan.training.schedules import stack_schedules
from infraplan.training.search import enumerate_plans, search_plans
from infraplan.training.stack_limits import expert_layout, refused_plans

PLAN_KEYS = ("tp", "pp", "dp", "cp", "ep", "vpp", "seq_len", "global_batch", "micro_batch", "recompute", "zero",
             "dtype", "attention", "order", "sequence_parallel", "schedule")


def test_search_best_equals_a_plain_loop_over_single_estimates():
    # 4 GPUs, batch 4: every axis and the default stack's schedules present (a few seconds of single estimates)
    result = search_plans("llama3-8b", "dgx-h100-superpod", 4, 4096, 4, dtype="bf16", top=3)
    shape = load_model("llama3-8b")
    candidates = enumerate_plans(shape, 4, 4096, 4, ["bf16"], max_tp=8,
                                 schedules=stack_schedules(resolve_stack(None, "training")))
    candidates = candidates.with_expert_layout(expert_layout(resolve_stack(None, "training")))  # its rules (hE3)
    rule = pipeline_split_rule(resolve_stack(None, "training"))  # the even split's PP x VPP (hR44)
    plans = candidates.take(valid_mask(shape, candidates, divisible=rule))
    assert result.evaluated_count == len(plans)
    best_time, best_row = float("inf"), None
    for i in range(len(plans)):
        row = plans.row(i)
        single = estimate_training("llama3-8b", "dgx-h100-superpod", 4, **{k: row[k] for k in PLAN_KEYS})
        # the search guard ranks plans beyond the best published MFU after every plan within it, in the figure's
        # FLOP count (Llama 3 Table 4's 0.43: the causal half of the scores since hF, session 51)
        ceiling = published_mfu_ceiling("h100-sxm", result.stack, "bf16")
        ratio = causal_flops_ratio(shape, 4096) if ceiling.flop_convention == "causal_scores" else 1.0
        within = single.mfu * ratio <= ceiling.mfu
        if single.fits and within and single.step_time_s < best_time:
            best_time, best_row = single.step_time_s, single
    assert best_row is not None
    assert result.best.config == best_row.config
    assert result.best.step_time_s == pytest.approx(best_row.step_time_s, rel=1e-12)
    assert result.best.memory_per_gpu_bytes == pytest.approx(best_row.memory_per_gpu_bytes, rel=1e-12)


def test_search_counts_infeasible_plans_and_orders_top():
    result = search_plans("llama3-70b", "dgx-h100-superpod", 64, 4096, 128, dtype="bf16", top=5)
    assert 0 < result.feasible_count < result.evaluated_count
    times = [row.step_time_s for row in result.top]
    # the MFU ceiling binds here: the plans within 1 % of the first within it come first, simplest layout first
    # (`plan_grid.Found._simplest`, hG85), then the rest by time
    lead = next((i for i, t in enumerate(times) if t > min(times) * (1 + GUARD_TIE_SHARE)), len(times))
    assert times[lead:] == sorted(times[lead:]) and all(t > max(times[:lead]) for t in times[lead:])
    assert result.tie_ranked_after_count >= sum(t < times[0] for t in times[:lead])
    assert all(row.fits for row in result.top)


def test_memory_objective_minimises_memory():
    by_time = search_plans("llama3-8b", "dgx-h100-superpod", 16, 4096, 32, top=1)
    by_memory = search_plans("llama3-8b", "dgx-h100-superpod", 16, 4096, 32, top=1, objective="memory")
    assert by_memory.best.memory_per_gpu_bytes <= by_time.best.memory_per_gpu_bytes
    assert by_memory.best.step_time_s >= by_time.best.step_time_s


def test_every_enumerated_valid_plan_uses_exactly_the_gpus():
    shape = load_model("mixtral-8x7b")
    plans = enumerate_plans(shape, 32, 4096, 128, ["bf16", "fp8"], max_tp=8)  # 381K plans over 4 nodes
    plans = plans.take(valid_mask(shape, plans))
    assert len(plans) > 0
    assert (plans.gpus == 32).all()
    assert (plans.ep > 1).any()
    out = evaluate_plans(shape, Cluster.resolve("dgx-h100-superpod"), plans)
    assert (out["ep_comm"][plans.ep > 1] > 0).all()


def test_grid_search_top_equals_a_stable_sort_of_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows x broadcast-axes search ranks exactly as a stable sort of the full enumeration (ties included)."""
    import numpy as np

    # (the guard's tie band off: this reference ranks by key alone; the band: test_guard_tie_band_hG85.py)
    monkeypatch.setattr(plan_grid, "GUARD_TIE_SHARE", 0.0)

    from infraplan.catalog.stacks import resolve_stack
    from infraplan.training.communicator_buffers import MEMORY_MARGIN_FRACTION, tight

    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    for objective in ("time", "memory"):
        result = search_plans("mixtral-8x7b", "dgx-h100-superpod", 16, 4096, 32, dtype="bf16", top=8,
                              objective=objective)
        plans = enumerate_plans(shape, 16, 4096, 32, ["bf16"], max_tp=8,
                                schedules=stack_schedules(resolve_stack(None, "training")))
        plans = plans.with_expert_layout(expert_layout(resolve_stack(None, "training")))  # its rules (hE3)
        rule = pipeline_split_rule(resolve_stack(None, "training"))  # the even split's PP x VPP (hR44)
        plans = plans.take(valid_mask(shape, plans, divisible=rule))
        res = evaluate_plans(shape, cluster, plans, resolve_stack(None, "training"))
        key = res["step_time_s"] if objective == "time" else res["memory_per_gpu_bytes"]
        ceiling = published_mfu_ceiling("h100-sxm", result.stack, "bf16")
        # a plan the stack refuses (Megatron-Core 0.8: ZeRO-2/3 at any PP) is evaluated, never feasible
        refused = refused_plans(resolve_stack(None, "training"), plans.pp, plans.zero, plans.cp)
        fits = np.flatnonzero(res["fits"] & ~refused)
        # ranked last: beyond the MFU ceiling, or under the memory margin (`communicator_buffers.tight`, as search)
        low = tight(res["memory_per_gpu_bytes"][fits], cluster.accelerator.memory_bytes, MEMORY_MARGIN_FRACTION)
        ratio = causal_flops_ratio(shape, 4096) if ceiling and ceiling.flop_convention == "causal_scores" else 1.0
        beyond = (res["mfu"][fits] * ratio > (ceiling.mfu if ceiling else np.inf)) | low  # in the figure's count
        order = fits[np.lexsort((key[fits], beyond))[:8]]
        assert (result.evaluated_count, result.feasible_count) == (len(plans), fits.size)
        # (`offload_layers` is the stack's, `Stack.cpu_offload_layers`, not a plan column)
        configs = [row.config.model_dump(exclude={"offload_layers"}) for row in result.top]
        assert configs == [plans.row(i) for i in order]


def test_search_and_train_price_memory_and_time_alike_under_a_non_default_stack():
    """The same plan asked two ways (search row vs `train`) gets one answer, also under a stack whose selective-
    recompute modules, fp8 activation cache and bf16 Adam moments change memory (the deepseek-v3 stack)."""
    result = search_plans("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64, dtype="fp8", top=3, stack="deepseek-v3")
    assert result.top
    for row in result.top:
        c = row.config
        single = estimate_training("mixtral-8x7b", "dgx-h100-superpod", 32, tp=c.tp, pp=c.pp, cp=c.cp, ep=c.ep,
                                   etp=c.etp, vpp=c.vpp, seq_len=c.seq_len, global_batch=c.global_batch,
                                   micro_batch=c.micro_batch, recompute=c.recompute, zero=c.zero, dtype=c.dtype,
                                   order=c.order, schedule=c.schedule, stack="deepseek-v3")
        assert single.memory_per_gpu_bytes == pytest.approx(row.memory_per_gpu_bytes, rel=1e-12)
        assert single.step_time_s == pytest.approx(row.step_time_s, rel=1e-12)
    plain = search_plans("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64, dtype="fp8", top=1)
    assert plain.best is not None and result.best is not None


def test_search_counts_fitting_plans_with_the_stack_memory_model():
    """Which plans fit is decided with the stack's memory model (bf16 Adam moments, fp8 activation cache and
    selective-recompute modules of the deepseek-v3 stack), exactly as `train` decides it."""
    from infraplan.catalog.stacks import resolve_stack
    from infraplan.training.estimate import plan_memory

    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod")
    for stack in ("deepseek-v3", None):  # each stack's own pipeline schedules (deepseek-v3: DualPipe)
        profile = resolve_stack(stack, "training")  # its own limits: deepseek-v3 has no CP, ZeRO 0/1 with PP
        candidates = enumerate_plans(shape, 16, 4096, 16, ["fp8"], max_tp=8, schedules=stack_schedules(profile),
                                     context_parallel=profile.context_parallel is not False)
        candidates = candidates.with_expert_layout(expert_layout(profile))  # the stack's expert layout rules (hE3)
        plans = candidates.take(valid_mask(shape, candidates, divisible=pipeline_split_rule(profile)))
        result = search_plans("mixtral-8x7b", "dgx-h100-superpod", 16, 4096, 16, dtype="fp8", top=1, stack=stack)
        memory = plan_memory(shape, cluster, plans, profile)["memory_per_gpu_bytes"]
        assert result.evaluated_count == len(plans)
        fits = (memory <= cluster.accelerator.memory_bytes) & ~refused_plans(profile, plans.pp, plans.zero, plans.cp)
        assert result.feasible_count == int(fits.sum())
