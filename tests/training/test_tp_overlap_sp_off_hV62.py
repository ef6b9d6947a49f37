"""A plan without sequence parallelism runs no TP userbuffer overlap (`training.tp_overlap.SP_GATES_USERBUFFERS`, hV,
session 62).

Transformer Engine 2.14 turns each linear's userbuffer flags on only under sequence parallelism (module/linear.py
:1137-1165, layernorm_linear.py:1208-1236, layernorm_mlp.py:1849-1860: every `ub_*` is `... and
self.sequence_parallel`), and the recipes behind the overlap stacks switch `tp_comm_overlap` off without SP (NeMo 1.19.0
megatron_base_model.py:564-570; NeMo 2.5.0 lightning/pytorch/callbacks/megatron_comm_overlap.py:141-148;
Megatron-Bridge 0.6.0 training/comm_overlap.py:441-448). So an SP-off plan on nemo-23.05 / 24.12 / 26.04 prices as
the same stack with the overlap (and its SMs) at 0: its all-reduces exposed, or, on nemo-26.04
(`tp_async_backward`), its column-parallel dgrad all-reduces async under the wgrad GEMMs as TE's NCCL path runs them
(linear.py:744-754). Checked failing before the change (d3fb7965): Llama 3 70B TP8 bf16 SP off on nemo-24.12 priced
4.144 s a step with tp_comm 0.169 s against 4.638 s / 0.822 s without the overlap; a grid of SP-on and SP-off rows hid
0.8 of the SP-off rows' all-reduces too."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.training import tp_overlap
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.tp_overlap import userbuffer_overlap

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (a test patches the toggle)
NO_OVERLAP = {"tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0}
PLAN = {"gpus": 64, "tp": 8, "pp": 1, "seq_len": 4096, "global_batch": 64, "dtype": "bf16"}


def _without_overlap(name: str) -> Stack:
    return load_stack(name).model_copy(update=NO_OVERLAP)


def _run(stack: str | Stack, sp: bool, model: str = "llama3-70b", **over: object):  # type: ignore[no-untyped-def]
    plan = {**PLAN, **over}
    return estimate_training(model, "dgx-h100-superpod", stack=stack, sequence_parallel=sp, **plan)  # type: ignore[arg-type]


def test_the_rule_reads_the_plans_sequence_parallelism() -> None:
    nemo = load_stack("nemo-26.04")
    dense = load_model("llama3-70b")
    assert userbuffer_overlap(nemo, dense) == (0.8, 0.12)  # (SP on by default)
    assert userbuffer_overlap(nemo, dense, True) == (0.8, 0.12)
    assert userbuffer_overlap(nemo, dense, False) == (0.0, 0.0)
    overlap, sm = userbuffer_overlap(nemo, dense, np.array([True, False, True]))
    assert overlap.tolist() == [0.8, 0.0, 0.8] and sm.tolist() == [0.12, 0.0, 0.12]
    assert userbuffer_overlap(nemo, load_model("deepseek-v3"), True) == (0.0, 0.0)  # MLA: none either way (hM58)
    assert userbuffer_overlap(load_stack("megatron-core-0.8"), dense, False) == (0.0, 0.0)  # (the stack has none)


@pytest.mark.parametrize("stack", ["nemo-23.05", "nemo-24.12", "nemo-26.04"])
@pytest.mark.parametrize("over", [{}, {"dtype": "fp8", "recompute": "full"}])
def test_sp_off_prices_as_the_stack_without_userbuffers(stack: str, over: dict[str, object]) -> None:
    """Llama 3 70B TP8 on 64 H100: SP off on an overlap stack is the same stack with the overlap 0 (all-reduces
    exposed; nemo-26.04's dgrad all-reduces through TE's async path); SP on keeps the overlap."""
    off = _run(stack, False, **over)
    bare = _run(_without_overlap(stack), False, **over)
    assert off.step_time_s == pytest.approx(bare.step_time_s, rel=1e-12)
    assert off.breakdown_s.tp_comm == pytest.approx(bare.breakdown_s.tp_comm, rel=1e-12)
    assert off.breakdown_s.compute == pytest.approx(bare.breakdown_s.compute, rel=1e-12)  # (no SMs taken)
    on = _run(stack, True, **over)
    assert on.breakdown_s.tp_comm < _run(_without_overlap(stack), True, **over).breakdown_s.tp_comm


def test_sp_off_cannot_buy_a_hidden_all_reduce() -> None:
    """An all-reduce moves a reduce-scatter's and an all-gather's bytes: without the overlap SP off has more exposed
    TP time than SP on with it (before: 0.169 s against 0.216 s, the all-reduces 80 % hidden)."""
    for stack in ("nemo-24.12", "nemo-26.04"):
        assert _run(stack, False).breakdown_s.tp_comm > 1.5 * _run(stack, True).breakdown_s.tp_comm, stack


def test_async_dgrad_path_runs_where_sp_is_off() -> None:
    """nemo-26.04 (`tp_async_backward`) hides the SP-off plan's column-parallel dgrad all-reduces under the wgrad
    GEMMs, as it does with its overlap off; so does nemo-24.12 since hD63 (TE 1.13's path): the stack without the path
    leaves them exposed. (Each under its own linear's wgrad since hD65, `tp_overlap.PER_LINEAR_WINDOW`: 0.533 s
    against 0.822 s; 0.414 s under the pooled window.)"""
    async_ = _run("nemo-26.04", False)
    sync = _run(load_stack("nemo-24.12").model_copy(update={"tp_async_backward": False}), False)
    assert async_.breakdown_s.tp_comm < 0.7 * sync.breakdown_s.tp_comm
    assert _run("nemo-24.12", False).breakdown_s.tp_comm == pytest.approx(async_.breakdown_s.tp_comm, rel=1e-12)


def test_lora_sp_off_loses_the_async_window_as_without_overlap() -> None:
    """A frozen base (`training.frozen_base.with_frozen_layers`) on nemo-26.04 SP off: the same as the stack with the
    overlap 0 (the dgrad reductions' window is the adapters' wgrads only)."""
    off = _run("nemo-26.04", False, lora_rank=16)
    bare = _run(_without_overlap("nemo-26.04"), False, lora_rank=16)
    assert off.breakdown_s.tp_comm == pytest.approx(bare.breakdown_s.tp_comm, rel=1e-12)
    assert off.step_time_s == pytest.approx(bare.step_time_s, rel=1e-12)


def _grid(sp: list[int]) -> PlanArrays:
    n = len(sp)
    return PlanArrays.build(tp=[8, 8, 4, 4][:n], pp=1, dp=[8, 8, 16, 16][:n], cp=1, ep=1, vpp=1, micro_batch=1,
                            global_batch=64, seq_len=4096, recompute=[0, 2, 0, 1][:n], zero=1, dtype=0,
                            sequence_parallel=sp)


@pytest.mark.parametrize("stack", ["nemo-24.12", "nemo-26.04"])
def test_a_grid_prices_each_rows_sp_as_the_plan_alone(stack: str) -> None:
    """A search grid with SP on and off rows (array path): each row as its plan priced alone (float path), and the
    SP-off rows as the stack without the overlap."""
    shape, cluster = load_model("llama3-70b"), Cluster.resolve("dgx-h100-superpod")
    plans = _grid([1, 0, 0, 1])
    grid = evaluate_plans(shape, cluster, plans, stack)
    clear_one_plan_memo()
    for key in ("step_time_s", "tp_comm", "compute"):
        alone = [float(evaluate_plans(shape, cluster, plans.take([i]), stack)[key][0]) for i in range(len(plans))]
        assert grid[key].tolist() == pytest.approx(alone, rel=1e-9), key
    clear_one_plan_memo()
    bare = evaluate_plans(shape, cluster, plans, _without_overlap(stack))
    off = plans.sequence_parallel == 0
    assert grid["tp_comm"][off].tolist() == pytest.approx(bare["tp_comm"][off].tolist(), rel=1e-9)
    assert np.all(grid["tp_comm"][~off] < bare["tp_comm"][~off])
    same_but_sp = replace(plans, sequence_parallel=np.ones(len(plans), dtype=np.int64))
    on = evaluate_plans(shape, cluster, same_but_sp, stack)
    assert np.all(grid["tp_comm"][off] > on["tp_comm"][off])  # the search cannot prefer SP off for its overlap


def test_toggle_off_restores_the_stacks_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tp_overlap, "SP_GATES_USERBUFFERS", False)
    assert userbuffer_overlap(load_stack("nemo-24.12"), load_model("llama3-70b"), False) == (0.8, 0.12)
    bare = _run(_without_overlap("nemo-24.12"), False)
    assert _run("nemo-24.12", False).breakdown_s.tp_comm < bare.breakdown_s.tp_comm
