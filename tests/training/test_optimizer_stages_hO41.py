"""The optimizer step priced on the stages that exist (hO41, session 41).

Each pipeline stage's ranks step their own stage's parameters after the gradient norm's all-reduce over the
model-parallel group (megatron-core 0.16.1 optimizer/optimizer.py:593-621, optimizer/clip_grads.py:51-96), so the
step ends with the stage of the most parameters (`training.optimizer_step`). It was priced on the step's traffic,
ceil(L / p) layers AND a table, a stage that often does not exist: above every stage where the heaviest is a middle
stage of ceil(L / p) layers (no table) and the ends hold fewer, below one where a middle stage holds more than
ceil(L / p) (the balanced split), and without the embedding copy the MTP modules' stage holds.

The hand cases price one plan's floats through `step_assembly.assemble_step` with its per-layer terms written out
(every term not named is 0 s, as tests/training/test_dp_stage_hT40.py) on Llama 3.1 405B's parameters at TP 8: a
layer P = 398,458,880, a table T = 262,668,288 (T < P). The optimizer's seconds are Adam's 38 B a parameter at the
H100's memory bandwidth plus 20 launches' kernel overhead (no host time: 0 s a dispatch).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import (
    ZeroTerms,
    assert_grid_points_price_alone_alike,
    counted_split_stack,
    dp_stage_grid,
    optimizer_params_seen,
)

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.scalar_path import FLOAT_OPS, pick
from infraplan.training import step_assembly
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo, cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_split import with_stage_split
from infraplan.training.step_assembly import assemble_step
from infraplan.training.step_traffic import EndStageTraffic

P, T = 398_458_880.0, 262_668_288.0  # a layer's and a table's parameters on one GPU at TP 8 (module docstring)


def _step(zero: int, pp: int, layers: int, split: str = "even", stack: Any = None,
          **terms: float) -> tuple[float, Any, dict[str, Any]]:
    """A 1F1B step of `layers` layers on PP `pp`, TP 8, DP 2 (a stage's dense parameters sharded in two under ZeRO >=
    1), 32 micro-batches; the traffic's parameters as `step_traffic.pipeline_and_dp_traffic` counts them (ceil(L / p)
    layers and a table); `stack`: in place of the split's. Returns the optimizer's seconds, the kernel rates and the
    per-layer terms."""
    if stack is None:
        stack = counted_split_stack() if split == "even" else load_stack("megatron-core-0.8").model_copy(
            update={"pipeline_split": split})
    layer = {"compute_fwd": 1.0, "compute_bwd": 2.0, "host_fwd": 1.0, "host_bwd": 2.0}
    lt = ZeroTerms(with_stage_split(SimpleNamespace(num_layers=layers), stack,  # type: ignore[arg-type]
                                 ZeroTerms(layer | terms), float(pp)))
    params = math.ceil(layers / pp) * P + T
    lt.update(params=params, expert_params=0.0, sharded=params / 2.0)
    plan = PlanArrays.one_plan(tp=8, pp=pp, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=8192, recompute=0, zero=zero, dtype=0, attention=0, order=0,
                               sequence_parallel=0).one_row
    rates = cluster_pricing(Cluster.resolve("dgx-h100-superpod").for_gpus(8 * pp * 2), stack).rates
    forms = {"allreduce": 0.0, "scatter": 0.0, "gather": 0.0, "scatter_layers": 0.0, "gather_layers": 0.0}
    ends = EndStageTraffic(load_model("llama3-405b"), plan, lambda stages: [forms for _ in stages])
    out = assemble_step(plan, lt, lt, stack, 0.0, rates, FLOAT_OPS, False, ends)
    return out["optimizer"], rates, lt


def _adam_s(rates: Any, params: float) -> float:
    """Adam over `params` parameters by hand: 38 B each through HBM, 20 launches."""
    return params * 38.0 / rates.memory_bytes_per_s + 20.0 * rates.kernel_overhead_s


def test_the_middle_stage_of_the_most_parameters_sets_the_optimizer() -> None:
    """6 layers on PP 4 with the embedding and the loss counted as layers: the ends hold 1 layer and a table (P + T),
    the middle stages 2 layers (2 P, the most). Before: the traffic's 2 layers and a table, 2 P + T (+33 %)."""
    seconds, rates, lt = _step(0, 4, 6)
    assert (lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (2, 0, 0)
    assert seconds == pytest.approx(_adam_s(rates, 2.0 * P), rel=1e-12)
    assert seconds < _adam_s(rates, 2.0 * P + T) * 0.8


def test_zero_one_steps_each_stages_shard() -> None:
    """ZeRO-1: each stage's shard over its DP 2 ranks, the middle's 2 P / 2 = P (before: (2 P + T) / 2)."""
    seconds, rates, _ = _step(1, 4, 6)
    assert seconds == pytest.approx(_adam_s(rates, P), rel=1e-12)


def test_an_end_stage_sets_it_where_it_holds_the_most() -> None:
    """The LM head heavy (3 s a micro-batch): the last stage is the heaviest with its 1 layer and its table; the middle
    stages' 2 layers still hold the most parameters: 2 P (the heaviest's P + T is not the optimizer's)."""
    seconds, rates, lt = _step(0, 4, 6, head_compute=3.0, head_gpu_fwd=1.0, head_gpu_bwd=2.0)
    assert (lt["stage_layers"], lt["last_is_heaviest"]) == (1, 1)
    assert seconds == pytest.approx(_adam_s(rates, 2.0 * P), rel=1e-12)


def test_a_balanced_middle_stage_above_ceil_l_over_p_is_priced() -> None:
    """The balanced split of 7 layers on PP 4 with the embedding's and the LM head's work 4 s each against a layer's
    3 s (tests/training/test_dp_stage_hT40.py): the middle stages hold 3 layers each, the first 1 and its table, the
    last its table alone. The optimizer steps 3 P on a middle stage; the traffic's ceil(7 / 4) = 2 layers and a
    table, 2 P + T, was below it."""
    end = {"embed_gpu_fwd": 1.0, "embed_gpu_bwd": 3.0, "head_gpu_fwd": 1.0, "head_gpu_bwd": 3.0}
    seconds, rates, lt = _step(0, 4, 7, split="balanced", **end)
    assert (lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]) == (3, 0, 0)
    assert seconds == pytest.approx(_adam_s(rates, 3.0 * P), rel=1e-12)
    assert seconds > _adam_s(rates, 2.0 * P + T)


def test_two_stages_and_one_stage_keep_the_traffic() -> None:
    """PP 2 (3 layers and a table each, the traffic's) and PP 1 (the traffic's, both tables): as before."""
    seconds, rates, _ = _step(0, 2, 6)
    assert seconds == pytest.approx(_adam_s(rates, 3.0 * P + T), rel=1e-12)
    seconds, rates, _ = _step(0, 1, 6)
    assert seconds == pytest.approx(_adam_s(rates, 6.0 * P + T), rel=1e-12)  # (the harness's traffic: one table)


def test_a_stage_above_the_traffic_counts_where_the_heaviest_holds_the_traffics() -> None:
    """The loss alone counted as a layer, 6 layers on PP 3 (L' = 7, ceil 3 a stage: the first 3 layers and its table,
    the middle 3, the last 2 and its table). The LM head heavy (3 s a micro-batch): the last, 2 layers = ceil(6 / 3) and
    a table, is the heaviest and holds the traffic's parameters, yet the first holds 3 P + T, which its optimizer
    steps."""
    stack = counted_split_stack().model_copy(update={"account_for_embedding_in_pipeline_split": False})
    seconds, rates, lt = _step(0, 3, 6, stack=stack, head_compute=3.0, head_gpu_fwd=1.0, head_gpu_bwd=2.0)
    assert (lt["stage_layers"], lt["last_is_heaviest"]) == (2, 1)
    assert seconds == pytest.approx(_adam_s(rates, 3.0 * P + T), rel=1e-12)


def _traffic_held(plan: Any, traffic: dict[str, Any], *_: Any) -> Any:
    """The optimizer's parameters before hO41: the traffic's stage everywhere (its shard under ZeRO >= 1)."""
    return pick(plan.zero >= 1, traffic["sharded"], traffic["params"])


def test_the_mtp_stage_steps_its_embedding_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepSeek-V3 on its stack (one MTP module), 1F1B, TP 1 PP 16 EP 64 ZeRO-1 on 2,048 H800 (DP 128): every stage
    holds ceil(61 / 16) = 4 layers; the last also the LM head, the MTP module and the embedding copy Megatron-Core
    builds beside it (megatron-core 0.16.1 models/gpt/gpt_model.py:149-150), which the traffic's count left out. Its
    optimizer steps the copy's shard more, V x h / 128 parameters at 38 B each through HBM."""
    shape = load_model("deepseek-v3")
    kw = {"system": "h800", "gpus": 2048, "tp": 1, "pp": 16, "ep": 64, "order": "tp-cp-dp-pp", "seq_len": 4096,
          "global_batch": 15360, "dtype": "fp8", "recompute": "selective", "zero": 1, "stack": "deepseek-v3",
          "schedule": "1f1b"}  # the stack's own default is DualPipe (`stack_limits.sole_schedule`)
    now = estimate_training("deepseek-v3", **kw).breakdown_s.optimizer  # type: ignore[arg-type]
    clear_one_plan_memo()
    with monkeypatch.context() as patched:
        patched.setattr(step_assembly, "stepped_params", _traffic_held)
        before = estimate_training("deepseek-v3", **kw).breakdown_s.optimizer  # type: ignore[arg-type]
    clear_one_plan_memo()
    rates = cluster_pricing(Cluster.resolve("h800").for_gpus(2048), load_stack("deepseek-v3")).rates
    copy_shard = shape.vocab_size * shape.hidden_size / 128.0
    assert now - before == pytest.approx(copy_shard * 38.0 / rates.memory_bytes_per_s, rel=1e-6)


def test_a_dualpipe_rank_steps_its_two_stages_as_the_memory_holds_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """DualPipe (DeepSeek-V3 arXiv:2412.19437 sec. 3.2.1: "two copies of the model parameters"): the first rank holds
    the first and the last stage, its optimizer steps both, the parameters whose optimizer state the memory counts on
    that rank (8 B a parameter on the deepseek-v3 stack: fp32 master weights, bf16 moments): the memory's optimizer
    bytes / 8. Before: one stage's, about half the seconds."""
    kw = {"system": "h800", "gpus": 2048, "tp": 1, "pp": 16, "ep": 64, "schedule": "dualpipe", "order": "tp-cp-dp-pp",
          "seq_len": 4096, "global_batch": 15360, "dtype": "fp8", "recompute": "selective", "zero": 1,
          "stack": "deepseek-v3"}
    with optimizer_params_seen(monkeypatch) as seen:
        est = estimate_training("deepseek-v3", **kw)  # type: ignore[arg-type]
    assert seen and all(p == pytest.approx(est.memory_breakdown_bytes.optimizer / 8.0, rel=1e-12) for p in seen)
    clear_one_plan_memo()
    with monkeypatch.context() as patched:
        patched.setattr(step_assembly, "stepped_params", _traffic_held)
        before = estimate_training("deepseek-v3", **kw).breakdown_s.optimizer  # type: ignore[arg-type]
    clear_one_plan_memo()
    assert before < 0.6 * est.breakdown_s.optimizer


@pytest.mark.parametrize(("model", "gpus", "stack"), [("llama3-405b", 2048, "nemo-26.04"),
                                                      ("qwen3-32b", 64, "deepspeed"),
                                                      ("qwen3-30b-a3b", 64, "deepseek-v3")])
def test_grid_rows_are_the_single_plans_bits(model: str, gpus: int, stack: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The array path and the one-plan float path step the same stage, bit for bit, at points where a stage's own
    parameters set the optimizer (it differs from the traffic's) and at random points: the 405B recipe's counted
    embedding and loss, DeepSpeed's balanced split, the deepseek-v3 stack's MTP module."""
    shape, cluster, profile, plan = dp_stage_grid(model, gpus, stack, 3)
    out = evaluate_plans(shape, cluster, plan, profile)
    with monkeypatch.context() as patched:  # the traffic's parameters everywhere, as before
        patched.setattr(step_assembly, "stepped_params", _traffic_held)
        before = evaluate_plans(shape, cluster, plan, profile)["optimizer"]
    assert_grid_points_price_alone_alike(shape, cluster, profile, plan, out, "optimizer",
                                         np.asarray(out["optimizer"]) != before, 41)

