"""hP63 mutation wave on hD63's MLA record marks (`ops.mla_gemms.mla_sp_collectives`): without sequence parallelism the
T x h pair is one all-reduce each way (megatron-core 0.16.1: the row-parallel output's forward all-reduce, the
column-parallel input gradient's backward one). Under `moe_shared_expert_overlap` the shared expert's half of that
pair is Megatron's own call, not a TE linear's (the module docstring of `training.tp_overlap`), on an MLA layer as
on a GQA one: per routed layer, DeepSeek-V3 (MLA) marks the same outside-TE share of its T x h all-reduces as Llama
4 Scout (GQA) does, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.ops.layer import Collective, layer_ops
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.layer_layout import layer_layout
from infraplan.training.plan import PlanArrays


def _f(x: object) -> float:
    return float(np.ravel(np.asarray(x))[0])


def _per_routed_layer(model: str) -> tuple[float, float]:
    nemo = load_stack("nemo-26.04")
    stack = nemo.model_copy(update={"moe": nemo.moe.model_copy(update={"shared_expert_overlap": True})})
    plan = PlanArrays.one_plan(tp=2, pp=1, dp=8, cp=1, ep=8, etp=1, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=4096, recompute=int(Recompute.NONE), zero=1, dtype=int(Dtype.BF16),
                               attention=0, order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=0).one_row
    shape = load_model(model)
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    ops = layer_ops(shape, layer_layout(plan, False, stack, rates.fp8_gemm_layouts))
    routed = sum(n for kind, n in shape.layer_kinds() if kind.is_moe) / shape.num_layers
    t_h = 4096 * shape.hidden_size * 2.0

    def outside(records: tuple[Collective, ...]) -> float:
        return sum(_f(c.count) * c.outside_te for c in records if c.role == "tp" and c.kind == "all_reduce"
                   and _f(c.bytes) == t_h and bool(np.all(c.mask)))

    return outside(ops.collectives_fwd) / routed, outside(ops.collectives_bwd) / routed


def test_an_mla_layer_without_sp_marks_its_shared_all_reduces_as_a_gqa_layer_does() -> None:
    gqa = _per_routed_layer("llama4-scout")
    assert gqa[0] > 0.0 and gqa[1] > 0.0
    assert _per_routed_layer("deepseek-v3") == pytest.approx(gqa, rel=1e-12)
