"""DeepSpeed reduces ZeRO-1 / 2 gradients with an all-reduce, not a reduce-scatter (hK, session 54): 0.14.4's
`use_multi_rank_bucket_allreduce` default True (zero/config.py:112-114) sends every bucket through `allreduce_bucket`
(stage_1_and_2.py:997-1031, :1110-1129); 0.5.10's stage 1 through `buffered_reduce_fallback` (:1319-1349). The
deepspeed stack says so (`grad_reduce_all_reduce`) and `step_traffic.dp_collectives` prices its `scatter` term as that
all-reduce. At stage 2 it reduces after every backward (`zero2_grad_reduce_per_micro_batch`, hN53's field).

Checked before the change: on the base tree the stack has no such field (the first test fails at the attribute) and
`dp_collectives` takes no `grad_all_reduce` (the second fails); with the field off, the MT-NLG plan's DP exposure
is 0.295 s against 0.442 s on (the heaviest stage holds a table beside its 3 layers); without the
stack's ZeRO-2 line the last test fails at its first assertion."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.step_traffic import dp_collectives

DS = load_stack("deepspeed")
# MT-NLG 530B's plan (validation/notes/out_of_sample_s52/oos.py): TP8 PP35 DP8 on 2,240 A100, ZeRO-1
MTNLG = dict(tp=8, pp=35, dp=8, micro_batch=1, seq_len=2048, global_batch=1920, attention="unfused",
             sequence_parallel=False, dtype="bf16", recompute="full", vpp=1)


def test_the_deepspeed_stack_all_reduces_zero12_gradients() -> None:
    assert DS.grad_reduce_all_reduce is True
    assert "config.py:112-114" in (DS.grad_reduce_all_reduce_source or "")
    assert load_stack("nemo-26.04").grad_reduce_all_reduce is False  # (the distributed optimizer reduce-scatters)


def test_the_scatter_term_is_the_all_reduce_and_nothing_else_moves() -> None:
    """One plan's floats: ZeRO-1's `scatter` is `collective_seconds`' all-reduce of the gradient bytes over the DP
    group at its stride (TP x PP = 280 under tp-cp-pp-dp), the gather and the ZeRO 0 / 3 terms as before."""
    shape, fabric = load_model("megatron-529.6b"), Cluster.resolve("dgx-a100-superpod").fabric
    row = PlanArrays.build(tp=8, pp=35, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=1920, seq_len=2048,
                           zero=1, order=RankOrder.TP_CP_PP_DP, recompute=Recompute.FULL,
                           dtype=Dtype.BF16).one_row
    params, grad = 1.9e9, 2.0
    off = dp_collectives(shape, fabric, row, params, 0.0, grad, 1)
    on = dp_collectives(shape, fabric, row, params, 0.0, grad, 1, grad_all_reduce=True)
    assert off["scatter"] == pytest.approx(collective_seconds(fabric, "reduce_scatter", params * grad, 8, 280))
    assert on["scatter"] == pytest.approx(collective_seconds(fabric, "all_reduce", params * grad, 8, 280))
    assert on["scatter"] > 1.9 * off["scatter"]  # (a ring all-reduce: its reduce-scatter and an all-gather)
    assert {k: v for k, v in on.items() if k != "scatter"} == {k: v for k, v in off.items() if k != "scatter"}


@pytest.mark.parametrize(("zero", "moves"), [(1, True), (0, False)])
def test_mtnlg_exposes_the_all_reduce_after_the_pipeline(zero: int, moves: bool) -> None:
    """DeepSpeed's pipeline engine reduces after its schedule (`pipeline_dp_overlap_fraction` 0): ZeRO-1's whole
    all-reduce is exposed, 0.138 s (its extra all-gather half) over the reduce-scatter; ZeRO-0 already all-reduced."""
    off_stack = DS.model_copy(update={"grad_reduce_all_reduce": False})
    on, off = (estimate_training("megatron-529.6b", "dgx-a100-superpod", 2240, **MTNLG, zero=zero, stack=s)
               for s in (DS, off_stack))
    delta = on.breakdown_s.dp_comm_exposed - off.breakdown_s.dp_comm_exposed
    if moves:
        assert 0.12 < delta < 0.16
        assert on.step_time_s == pytest.approx(off.step_time_s + delta, rel=1e-9)
    else:
        assert on.step_time_s == off.step_time_s


def test_deepspeed_zero2_reduces_every_micro_batch() -> None:
    """ZeRO-2 (partitioned gradients) reduces after every backward, not once a step (DeepSpeed 0.14.4
    runtime/engine.py:1907-1912, zero/stage_1_and_2.py:1415-1417): Llama 3 8B on 1,024 H100, DP 1,024, seq 1,024,
    batch 4,096 (m = 4), where the bucket all-reduce outlasts the backward window: the DP exposure grows with m
    (0.036 s once a step, 0.084 s with the three more micro-batches' exposed all-reduces)."""
    assert DS.zero2_grad_reduce_per_micro_batch
    once = DS.model_copy(update={"zero2_grad_reduce_per_micro_batch": False})
    plan = dict(tp=1, pp=1, dp=1024, vpp=1, micro_batch=1, seq_len=1024, zero=2, recompute="selective",
                dtype="bf16", attention="flash")
    per_mb, one = (estimate_training("llama3-8b", "dgx-h100-superpod", 1024, **plan, global_batch=4096, stack=s)
                   for s in (DS, once))
    assert per_mb.breakdown_s.dp_comm_exposed > 2.0 * one.breakdown_s.dp_comm_exposed > 0.0
    m1 = [estimate_training("llama3-8b", "dgx-h100-superpod", 1024, **plan, global_batch=1024, stack=s)
          for s in (DS, once)]
    assert m1[0].breakdown_s.dp_comm_exposed == pytest.approx(m1[1].breakdown_s.dp_comm_exposed, rel=1e-12)
