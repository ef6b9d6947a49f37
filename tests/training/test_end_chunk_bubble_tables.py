"""Untied embeddings on a V / DualPipe rank 0: the embedding's and the output head's tables, both (hZ2, session 35).

torch's V mapping (pipelining/_utils.py:528-543) puts chunks 0 and 2p - 1 on rank 0: it builds the embedding and
the LM head. Hand arithmetic: llama3-8b (untied, V 128256, h 4096) at TP2: one table is V h / 2 = 262,668,288
parameters, bf16 weights 2 B, fp32 gradients 4 B, fp32 master + Adam moments 12 B (ZeRO 0: nothing sharded).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import memory_bound_terms, memory_breakdown, memory_total
from infraplan.training.plan import PlanArrays

TABLE = 128256 * 4096 / 2  # parameters of one vocab-parallel table at TP2
KW: dict[str, Any] = dict(tp=2, pp=4, seq_len=4096, global_batch=256, zero=0, stack=TORCHTITAN_EVEN)


def _states(schedule: str, vpp: int, model: str = "llama3-8b") -> tuple[float, float, float]:
    m = estimate_training(model, "dgx-h100-superpod", 64, vpp=vpp, schedule=schedule, **KW).memory_breakdown_bytes
    return m.weights, m.gradients, m.optimizer


def test_zb_v_rank_0_holds_the_embedding_and_the_head_table() -> None:
    """ZB-V against ZB-H1 (one stage's layers per rank, one copy, the same first stage): one more table."""
    v, h1 = _states("zb-v", 2), _states("zb-h1", 1)
    assert load_model("llama3-8b").tied_embeddings is False
    assert v[0] - h1[0] == pytest.approx(TABLE * 2.0, rel=1e-12)  # 0.525 GB of bf16 weights
    # fp32 gradients, and FSDP2's unsharded fp32 gradient kept under torch's pipelining (hF69,
    # `training.fsdp2_grad_memory`: torchtitan's ZeRO-0 is FSDP2 over a shard group of 1)
    assert v[1] - h1[1] == pytest.approx(TABLE * (4.0 + 4.0), rel=1e-12)
    assert v[2] - h1[2] == pytest.approx(TABLE * 12.0, rel=1e-12)


def test_zero_shards_the_head_table_as_the_rest_of_the_stage() -> None:
    """ZeRO-1 over DP 8 (64 GPUs / TP2 PP4): the table's optimizer state / 8; weights and gradients whole."""
    kw = KW | {"zero": 1}
    v = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=2, schedule="zb-v", **kw).memory_breakdown_bytes
    h1 = estimate_training("llama3-8b", "dgx-h100-superpod", 64, vpp=1, schedule="zb-h1",
                           **kw).memory_breakdown_bytes
    assert v.weights - h1.weights == pytest.approx(TABLE * 2.0, rel=1e-12)
    assert v.optimizer - h1.optimizer == pytest.approx(TABLE * 12.0 / 8, rel=1e-9)


def test_dualpipe_counts_both_tables_through_its_two_copies() -> None:
    """DualPipe's rank 0 holds stages 0 and p - 1: 2x the first stage's layers and table = both tables; no third."""
    dual, h1 = _states("dualpipe", 1), _states("zb-h1", 1)
    layers_and_table = h1[0] / 2.0  # bf16 parameters of the first stage (its layers and one table)
    assert dual[0] == pytest.approx(2.0 * h1[0], rel=1e-12)
    assert dual[0] - h1[0] == pytest.approx(layers_and_table * 2.0, rel=1e-12)


def _v_rows() -> PlanArrays:
    n = 6
    return PlanArrays.build(tp=np.array([1, 2, 2, 4, 8, 2]), pp=np.array([2, 2, 4, 4, 8, 8]), dp=np.full(n, 4),
                            cp=np.ones(n, dtype=int), ep=np.ones(n, dtype=int), vpp=np.full(n, 2),
                            micro_batch=np.ones(n, dtype=int), global_batch=np.full(n, 256),
                            seq_len=np.full(n, 8192), recompute=np.zeros(n, dtype=int),
                            zero=np.array([0, 1, 2, 3, 1, 0]), dtype=np.zeros(n, dtype=int),
                            schedule=np.full(n, int(Schedule.ZB_V)))


def test_the_search_bound_counts_both_tables_on_rows_at_1f1b() -> None:
    """`memory_bound_terms` is asked on rows at 1F1B (`memory_bounds.memory_bounds_bytes`): its high state holds
    ZB-V's two tables where the stack ships ZB-V (torchtitan), so bound >= every ZB-V plan's priced memory."""
    shape, stack = load_model("llama3-8b"), load_stack("torchtitan")
    plans = _v_rows()
    rows = replace(plans, schedule=np.full(len(plans.tp), int(Schedule.ONE_F_ONE_B)), vpp=np.ones(6, dtype=int))
    priced = memory_total(shape, plans, stack)
    states = memory_bound_terms(shape, rows, stack, "states")["state_high"]
    activations = memory_bound_terms(shape, plans, stack, "activations")["activations_high"]
    overhead = memory_breakdown(shape, plans, stack)["overhead"]
    assert np.all(states + activations + overhead >= priced * (1 - 1e-12))
    # the same stack without ZB-V: one table (ZeRO 0 row: bf16 weights + fp32 gradients + FSDP2's kept unsharded
    # fp32 gradient under the pipeline, hF69 + 12 B of optimizer state)
    no_v = stack.model_copy(update={"pipeline_schedules": [s for s in stack.pipeline_schedules or () if s != "zb-v"]})
    one_table = memory_bound_terms(shape, rows, no_v, "states")["state_high"]
    assert np.all(states > one_table)
    assert states[0] - one_table[0] == pytest.approx(128256 * 4096 / 1 * (2.0 + 4.0 + 4.0 + 12.0), rel=1e-12)
