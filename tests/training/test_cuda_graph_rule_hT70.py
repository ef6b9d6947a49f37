"""CUDA graphs per plan, as the stack file states them (hT, session 70; `training.cuda_graph_rule`).

torchtitan 0.3.0 graphs one micro-batch's forward + loss + backward by default on NVIDIA (trainer.py:613-614,
distributed/cudagraph.py:335-410), refuses graphs with PP > 1 and with EP > 1 but for two dispatchers
(trainer.py:179-211), and runs zero_grad, clipping and the optimizer step eagerly (:874, :940-948): torchtitan.yaml
says `cuda_graphs: true`, `cuda_graphs_when: {max_pp: 1, max_ep: 1}`, `optimizer_graphs: false`. On 39f41f46 (the
lead's HEAD) torchtitan was eager on every plan (`cuda_graphs: false`) and the fields did not exist: the tests fail
there (the host-bound TP8 plan below was 7.672 s, its host 3.19 s).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.hardware.kernels import KernelRates
from infraplan.scalar_path import FLOAT_OPS
from infraplan.training import step_assembly
from infraplan.training.cuda_graph_rule import graphed, optimizer_graphed
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.host_time import CUDA_GRAPH_LAUNCH_S
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.optimizer_step import OPTIMIZER_KERNELS, optimizer_seconds
from infraplan.training.plan import PlanArrays

TITAN = load_stack("torchtitan")
EAGER = TITAN.model_copy(update={"cuda_graphs": False})  # hF2's torchtitan: every plan eager
ALWAYS = TITAN.model_copy(update={"cuda_graphs_when": None, "optimizer_graphs": True})  # hF2's `true` what-if
HOST_BOUND: dict[str, Any] = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=8, pp=1, zero=3,
                                  seq_len=2048, global_batch=64)


def _plans(pp: Any, ep: Any = 1) -> PlanArrays:
    return PlanArrays.build(tp=1, pp=pp, dp=8, cp=1, ep=ep, vpp=1, micro_batch=1, global_batch=512, seq_len=8192,
                            recompute=Recompute.NONE, zero=3, dtype=Dtype.BF16, order=RankOrder.TP_CP_PP_DP)


def test_the_rule_per_plan_and_other_stacks_unchanged() -> None:
    """torchtitan graphs PP 1 / EP 1 plans only, its optimizer never; a grid mixing them gets a mask, a grid that
    does not a plain bool. Stacks without a rule: their `cuda_graphs` for every plan, the optimizer with it."""
    assert TITAN.cuda_graphs and TITAN.cuda_graphs_when is not None and not TITAN.optimizer_graphs
    mixed = _plans(np.array([1, 2, 1]), np.array([1, 1, 8]))
    assert graphed(TITAN, mixed).tolist() == [True, False, False]
    assert graphed(TITAN, _plans(np.array([2, 4]))) is False
    assert graphed(TITAN, _plans(1).one_row) is True
    assert optimizer_graphed(TITAN, _plans(1).one_row) is False
    for name in ("nemo-26.04", "megatron-core-0.8", "deepspeed"):
        stack = load_stack(name)
        assert stack.cuda_graphs_when is None
        assert graphed(stack, mixed) is stack.cuda_graphs
        assert optimizer_graphed(stack, mixed) is stack.cuda_graphs


def test_host_bound_plan_graphed_pipelined_eager() -> None:
    """Llama 3 8B on 8 H100, TP8 seq 2,048 GBS 64 ZeRO-3: host-bound eager (7.672 s, 3.19 s of host), graphed under
    torchtitan's rule (about 4.48 s, no host exposed; hF2's all-graphed what-if 4.481 s); its optimizer's launches
    eager, as the eager stack's. The same plan at PP 2 is priced exactly as the eager stack (refused by 0.3.0), and
    its host-bound note names the rule. (The optimizer's launches hide behind its GPU pass here, graphed or not:
    `test_optimizer_launches_eager`.)"""
    graphed_run = estimate_training(**HOST_BOUND, stack=TITAN)
    eager_run = estimate_training(**HOST_BOUND, stack=EAGER)
    always = estimate_training(**HOST_BOUND, stack=ALWAYS)
    assert graphed_run.cuda_graphs and not eager_run.cuda_graphs
    assert eager_run.breakdown_s.host_exposed > 1.0
    assert graphed_run.breakdown_s.host_exposed < 0.01
    assert graphed_run.step_time_s < 0.65 * eager_run.step_time_s
    assert graphed_run.breakdown_s.optimizer == eager_run.breakdown_s.optimizer == always.breakdown_s.optimizer
    piped = {**HOST_BOUND, "gpus": 16, "pp": 2, "zero": 2}
    titan_piped = estimate_training(**piped, stack=TITAN)
    assert not titan_piped.cuda_graphs
    assert titan_piped.step_time_s == estimate_training(**piped, stack=EAGER).step_time_s
    note = [n for n in titan_piped.notes if "CPU issues kernels" in n]
    assert note and "graphs only plans with PP <= 1 and EP <= 1" in note[0]


def test_moe_expert_parallel_plans_stay_eager() -> None:
    """Qwen3-30B-A3B (MoE) on 8 H100 under torchtitan: EP 1 graphed, EP 8 eager (priced as the eager stack)."""
    plan: dict[str, Any] = dict(model="qwen3-30b-a3b", system="dgx-h100-superpod", gpus=8, tp=1, pp=1, zero=3,
                                seq_len=4096, global_batch=64)
    assert estimate_training(**plan, ep=1, stack=TITAN).cuda_graphs
    ep8 = estimate_training(**plan, ep=8, stack=TITAN)
    assert not ep8.cuda_graphs
    assert ep8.step_time_s == estimate_training(**plan, ep=8, stack=EAGER).step_time_s


def test_grid_mixing_graphed_and_eager_plans_prices_each_as_train() -> None:
    """The search's arrays (`evaluate_plans`) over PP 1 and PP 2 plans side by side (one graphed, one eager: the
    layers' host terms filled both ways and picked per plan) give each plan's `train` step."""
    shape = load_model("llama3-8b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(16).placed(16)
    plans = PlanArrays.build(tp=8, pp=np.array([1, 2]), dp=np.array([2, 1]), cp=1, ep=1, vpp=1, micro_batch=1,
                             global_batch=64, seq_len=2048, recompute=Recompute.NONE, zero=np.array([3, 2]),
                             dtype=Dtype.BF16, order=RankOrder.TP_CP_PP_DP)
    out = evaluate_plans(shape, cluster, plans, TITAN)
    train = [estimate_training(**{**HOST_BOUND, "gpus": 16, "pp": pp, "zero": zero, "order": "tp-cp-pp-dp"},
                               stack=TITAN) for pp, zero in ((1, 3), (2, 2))]
    assert out["step_time_s"] == pytest.approx(np.array([e.step_time_s for e in train]), rel=1e-9)
    assert [e.cuda_graphs for e in train] == [True, False]


def test_stack_files_state_the_rule(tmp_path: Any) -> None:
    """`extends: torchtitan` with `cuda_graphs: false` graphs nothing; a bound below 1 is one InputError line."""
    off = tmp_path / "titan-eager.yaml"
    off.write_text("extends: torchtitan\ncuda_graphs: false\n")
    assert graphed(load_stack(str(off)), _plans(1).one_row) is False
    bad = tmp_path / "titan-bad.yaml"
    bad.write_text("extends: torchtitan\ncuda_graphs_when: {max_pp: 0}\n")
    with pytest.raises(InputError, match="max_pp"):
        load_stack(str(bad))


def test_optimizer_launches_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """`step_assembly` hands the optimizer step the plan's `optimizer_graphed`: False for a graphed torchtitan plan,
    True for the all-graphed what-if; the step's launch host time is then the dispatches' (eager) or one graph
    launch each."""
    seen: list[Any] = []

    def spied(*args: Any) -> Any:
        seen.append(args[-1])
        return optimizer_seconds(*args)

    monkeypatch.setattr(step_assembly, "optimizer_seconds", spied)
    for stack in (TITAN, ALWAYS):
        clear_one_plan_memo()
        estimate_training(**HOST_BOUND, stack=stack)
    clear_one_plan_memo()
    assert seen == [False, True]
    rates = KernelRates(matmul_flops_per_s=9.9e14, attention_flops_per_s=6e14, memory_bytes_per_s=3.35e12,
                        compute_units=132, tile_m=128, tile_n=256, kernel_overhead_s=4e-6)
    host = [optimizer_seconds(1.0, rates, TITAN, 2e-5, lambda h, *_: h, FLOAT_OPS, None, g)[1] for g in seen]
    assert host == [pytest.approx(OPTIMIZER_KERNELS * 2e-5), pytest.approx(OPTIMIZER_KERNELS * CUDA_GRAPH_LAUNCH_S)]
