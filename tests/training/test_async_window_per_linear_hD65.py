"""TE's async dgrad window per linear, not pooled (hD, session 65; `training.tp_overlap.async_dgrad_window_s`).

Transformer Engine 2.14 issues a column-parallel linear's dgrad reduce-scatter (SP) / all-reduce (SP off) async after
its dgrad GEMM, runs that linear's own wgrad GEMM and waits for the reduction before its backward returns
(module/linear.py:744-754, :768, :941-943; layernorm_linear.py:751-766, :893-894, :954-956; layernorm_mlp.py:1385,
:1403-1419, :1499, :1546-1548: FC2's wgrad, :1247, runs before FC1's reduction is issued). So QKV's reduction hides
under QKV's wgrad and FC1's under FC1's, not under the row-parallel output projection's or FC2's: the layer hides the
sum over those linears of min(own reduction, own wgrad), never more than TE's reductions as priced; before, it hid
min(all TE reductions, half of all the layer's backward GEMMs). Each behaviour test fails on 3ca50a84 (the window
pooled there) and with `PER_LINEAR_WINDOW` off.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training import tp_overlap
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_kernels import gemm_fwd_bwd
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes
from infraplan.training.one_plan_memo import clear_one_plan_memo, cluster_pricing
from infraplan.training.plan_grid import one_plans
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.step_time import layer_times

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch the toggle)
NEMO = load_stack("nemo-26.04")
BARE = NEMO.model_copy(update={"tp_async_backward": False})


def _setup(gpus: int = 8) -> tuple[object, Cluster, object]:
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod", purpose="LLM training").for_gpus(gpus).placed(gpus)
    return shape, cluster, cluster_pricing(cluster, NEMO)


def _sp_off_plans(shape: object, count: int) -> object:
    plans = enumerate_plans(shape, 8, 4096, 64, ["bf16", "fp8"], 8)  # type: ignore[arg-type]
    plans = plans.take(np.flatnonzero(valid_mask(shape, plans) & (plans.tp > 1))[:count])  # type: ignore[arg-type]
    return replace(plans, sequence_parallel=np.zeros_like(plans.sequence_parallel))


def _one_plan(sp: int) -> object:
    shape, _, _ = _setup()
    plans = enumerate_plans(shape, 8, 4096, 64, ["bf16"], 8)  # type: ignore[arg-type]
    at = np.flatnonzero(valid_mask(shape, plans) & (plans.tp == 8) & (plans.pp == 1) & (plans.micro_batch == 1)  # type: ignore[arg-type]
                        & (plans.recompute == 0) & (plans.cp == 1))[0]
    plan = plans.take([at])
    return replace(plan, sequence_parallel=np.full(1, sp)).one_row


@pytest.mark.parametrize("sp", [0, 1])
def test_one_layer_by_hand(sp: int) -> None:
    """Llama 3 8B TP8 bf16 mb1 seq 4096 on nemo-26.04 (SP off: TE's async all-reduce; SP on with the userbuffers off:
    its async reduce-scatter): the kept window is min(T x h reduction, QKV's wgrad) + min(T x h reduction, FC1's
    wgrad), the wgrad half of each GEMM's backward, computed here from the GEMM and collective formulas alone, and it
    is below the pooled window (QKV's own wgrad is shorter than its reduction: the pool lent it FC2's)."""
    shape, cluster, pricing = _setup()
    plan = _one_plan(sp)
    stack = NEMO if not sp else NEMO.model_copy(update={"tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0})
    precision = pricing.precision_of(plan)
    terms = layer_times(shape, pricing.rates, cluster.fabric, plan, precision, 0.0, stack)  # type: ignore[arg-type]
    tokens, h = 4096.0, 4096.0
    kind = "reduce_scatter" if sp else "all_reduce"
    reduction = collective_seconds(cluster.fabric, kind, tokens * h * 2.0, 8.0, 1.0)
    grad = main_grad_wgrad_bytes(stack)
    qkv = gemm_fwd_bwd(pricing.rates, precision, tokens, (4096 + 2 * 1024) / 8, h, one=True, grad_bytes=grad)[1]
    fc1 = gemm_fwd_bwd(pricing.rates, precision, tokens, 2 * 14336 / 8, h, one=True, grad_bytes=grad)[1]
    by_hand = min(reduction, 0.5 * qkv) + min(reduction, 0.5 * fc1)
    assert terms[tp_overlap.ASYNC_HIDDEN] == pytest.approx(by_hand, rel=1e-12)
    assert 0.5 * qkv < reduction  # (QKV's wgrad alone cannot hide its reduction)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "PER_LINEAR_WINDOW", False)
        pooled = layer_times(shape, pricing.rates, cluster.fabric, plan, precision, 0.0, stack)  # type: ignore[arg-type]
    assert pooled[tp_overlap.ASYNC_HIDDEN] > terms[tp_overlap.ASYNC_HIDDEN] * 1.05
    # the seconds not hidden stay on the backward's TP time
    assert terms["tp_bwd"] - pooled["tp_bwd"] == pytest.approx(
        pooled[tp_overlap.ASYNC_HIDDEN] - terms[tp_overlap.ASYNC_HIDDEN], rel=1e-9)


def test_grid_is_each_plan_alone() -> None:
    """Array-first: a grid of SP-off plans gets each plan's own window, bit for bit against one plan's floats, and
    never more than TE's reductions (the path's kept term with the window is at most the stack without the path's
    backward TP time less the path's)."""
    shape, cluster, pricing = _setup()
    plans = _sp_off_plans(shape, 30)
    args = (shape, pricing.rates, cluster.fabric, plans, pricing.precision_of(plans), 0.0)
    grid = layer_times(*args, NEMO)  # type: ignore[arg-type]
    bare = layer_times(*args, BARE)  # type: ignore[arg-type]
    hidden = np.asarray(grid[tp_overlap.ASYNC_HIDDEN])
    assert np.all(hidden > 0.0)
    np.testing.assert_allclose(np.asarray(grid["tp_bwd"]) + hidden, bare["tp_bwd"], rtol=1e-12)
    for i, one in enumerate(one_plans(plans)):  # type: ignore[arg-type]
        row = one.one_row
        alone = layer_times(shape, pricing.rates, cluster.fabric, row, pricing.precision_of(row), 0.0, NEMO)  # type: ignore[arg-type]
        assert alone[tp_overlap.ASYNC_HIDDEN] == pytest.approx(float(hidden[i]), rel=1e-12, abs=1e-15)


def test_step_and_lora() -> None:
    """Llama 3 70B TP8 SP off, 64 H100, nemo-26.04: the full-training step pays the reductions QKV's and FC1's own
    wgrads cannot hide (TP 0.4137 -> 0.5334 s a step, step 4.2805 -> 4.3853 s); a LoRA step (frozen base: no wgrad
    under any base linear) is still the stack without the path, whatever the window's form."""
    plan = dict(gpus=64, tp=8, seq_len=4096, global_batch=64, dtype="bf16", sequence_parallel=False)
    full = estimate_training("llama3-70b", "dgx-h100-superpod", stack=NEMO, **plan)  # type: ignore[arg-type]
    assert full.breakdown_s.tp_comm == pytest.approx(0.533425, abs=2e-6)
    assert full.step_time_s == pytest.approx(4.385290, abs=2e-6)
    clear_one_plan_memo()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "PER_LINEAR_WINDOW", False)
        pooled = estimate_training("llama3-70b", "dgx-h100-superpod", stack=NEMO, **plan)  # type: ignore[arg-type]
    assert pooled.breakdown_s.tp_comm == pytest.approx(0.413707, abs=2e-6)
    clear_one_plan_memo()
    lora = dict(plan, lora_rank=16, lora_targets="all")
    on = estimate_training("llama3-70b", "dgx-h100-superpod", stack=NEMO, **lora)  # type: ignore[arg-type]
    off = estimate_training("llama3-70b", "dgx-h100-superpod", stack=BARE, **lora)  # type: ignore[arg-type]
    assert on.breakdown_s.tp_comm == pytest.approx(off.breakdown_s.tp_comm, rel=1e-12)
