"""Mutation wave on session 70's CUDA-graph rule and FSDP2 pipeline re-gathers (hI, session 71).

Each test kills mutants of `training.cuda_graph_rule` / `training.fsdp2_regathers` that the session-70 tests let
through (NOTE of hI71: the mutant ids). Expected values are hand counts from the rule's definition, not outputs
copied: torchtitan 0.3.0 graphs plans at PP <= 1 and EP <= 1 only (trainer.py:179-211), runs its optimizer eager
(:940-948); a stack without a rule keeps its `cuda_graphs` for every plan (torchtitan.yaml, nemo-26.04.yaml).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog.stack_framework_rules import CudaGraphRule
from infraplan.catalog.stacks import load_stack
from infraplan.hardware.kernels import KernelRates
from infraplan.scalar_path import NUMPY_OPS
from infraplan.training.cuda_graph_rule import graph_launch_s, ungraphed_reason
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.fsdp2_regathers import extra_gather_s
from infraplan.training.host_time import CUDA_GRAPH_LAUNCH_S
from infraplan.training.optimizer_step import OPTIMIZER_KERNELS, optimizer_seconds
from infraplan.training.plan import PlanArrays

TITAN = load_stack("torchtitan")
ALWAYS = TITAN.model_copy(update={"cuda_graphs_when": None})  # graphs every plan: no rule (`ruled` False)
EAGER = TITAN.model_copy(update={"cuda_graphs": False})
HOST_BOUND: dict[str, Any] = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=8, pp=1, zero=3,
                                  seq_len=2048, global_batch=64)


def _plans(pp: Any, ep: Any = 1, zero: Any = 3) -> PlanArrays:
    return PlanArrays.build(tp=1, pp=pp, dp=16, cp=1, ep=ep, vpp=1, micro_batch=1, global_batch=512, seq_len=8192,
                            recompute=Recompute.NONE, zero=zero, dtype=Dtype.BF16, order=RankOrder.TP_CP_PP_DP)


def test_a_stack_without_a_rule_graphs_its_layers() -> None:
    """hI71 CG11: a stack with `cuda_graphs: true` and no `cuda_graphs_when` prices every plan's layer launches as
    one graph each, as torchtitan's rule does at PP 1: the host-bound TP8 Llama 3 8B step exposes no host time
    (eager: > 1 s of it), and, its optimizer eager in both (`optimizer_graphs` false), its step is the ruled
    stack's graphed PP 1 step."""
    always = estimate_training(**HOST_BOUND, stack=ALWAYS)
    eager = estimate_training(**HOST_BOUND, stack=EAGER)
    ruled = estimate_training(**HOST_BOUND, stack=TITAN)
    assert always.cuda_graphs
    assert eager.breakdown_s.host_exposed > 1.0
    assert always.breakdown_s.host_exposed < 0.01
    assert always.step_time_s == pytest.approx(ruled.step_time_s, rel=1e-9)


def test_ungraphed_reason_only_for_eager_plans_and_names_each_bound() -> None:
    """hI71 CG4 / CG5: the reason is for a plan the rule leaves eager (None for a graphed one), and each bound is
    named with its own value: a stack file's `cuda_graphs_when: {max_pp: 2, max_ep: 4}` graphs PP 2 EP 4 and says
    "PP <= 2 and EP <= 4" for PP 4."""
    assert ungraphed_reason(TITAN, _plans(1).one_row) is None
    assert "PP <= 1 and EP <= 1" in (ungraphed_reason(TITAN, _plans(2).one_row) or "")
    wide = TITAN.model_copy(update={"cuda_graphs_when": CudaGraphRule(max_pp=2, max_ep=4)})
    assert ungraphed_reason(wide, _plans(2, 4).one_row) is None
    reason = ungraphed_reason(wide, _plans(4, 4).one_row)
    assert reason is not None and "PP <= 2 and EP <= 4" in reason
    assert ungraphed_reason(EAGER, _plans(2).one_row) is None  # a stack that graphs nothing: no rule to explain


def test_optimizer_launches_per_plan_in_a_grid() -> None:
    """hI71 CG8: a grid whose optimizer is graphed on some plans (a ruled stack with `optimizer_graphs` true) pays
    one graph launch a kernel where graphed and the dispatch time where eager, element-wise:
    OPTIMIZER_KERNELS x 5 us graphed, x 20 us eager (the launch host time before the GPU pass hides it)."""
    assert graph_launch_s(np.array([True, False]), np.array([2e-5, 2e-5])).tolist() == [CUDA_GRAPH_LAUNCH_S, 2e-5]
    rates = KernelRates(matmul_flops_per_s=9.9e14, attention_flops_per_s=6e14, memory_bytes_per_s=3.35e12,
                        compute_units=132, tile_m=128, tile_n=256, kernel_overhead_s=4e-6)
    graphs = np.array([True, False])
    host = optimizer_seconds(np.array([1.0, 1.0]), rates, TITAN, 2e-5, lambda h, *_: h, NUMPY_OPS, None, graphs)[1]
    assert np.asarray(host) == pytest.approx([OPTIMIZER_KERNELS * CUDA_GRAPH_LAUNCH_S, OPTIMIZER_KERNELS * 2e-5])


def test_no_regathers_without_a_pipeline() -> None:
    """hI71 FS15: the re-gathers are a pipeline's (torch's pipelining holds a stage's units gathered across its
    backwards: fsdp2_regathers docstring); at PP 1 nothing is added, whatever the windows. 50 ms of gathers a
    micro-batch, 30 / 40 ms windows, m 32: PP 4 1F1B adds 3 x 20 ms (forwards 2-4) + 28 x 10 ms (backwards beyond
    the first of 29); PP 1 ZeRO-3 adds 0, not 31 x 10 ms."""
    plans = PlanArrays.build(tp=1, pp=np.array([4, 1]), dp=16, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=512,
                             seq_len=8192, recompute=Recompute.NONE, zero=3, dtype=Dtype.BF16,
                             order=RankOrder.TP_CP_PP_DP)
    assert plans.micro_batches.tolist() == [32, 32]
    grid = extra_gather_s(plans, {"gather_layers": np.full(2, 0.05)}, (np.full(2, 0.03), np.full(2, 0.04)), TITAN,
                          NUMPY_OPS)
    assert np.asarray(grid) == pytest.approx([3 * 0.02 + 28 * 0.01, 0.0], rel=1e-12)
