"""ZeRO-3's gathered layer copies on Megatron-FSDP (hW71; `training.state_memory.gathered_layer_params`).

megatron-core 0.16.1 megatron_fsdp/param_and_grad_buffer.py:1970-1975 builds a parameter group's model weight buffer
distributed only where its data-parallel group has more than one rank, and `fetch_bucket` (:936-942) returns a view
of an undistributed buffer's own data: no temporary gathered bucket. So on nemo-26.04 (Megatron-FSDP) a routed
expert at expert-DP 1, or a dense layer at DP x CP 1, is held once, not again in the two gathered layers. At the
base (79bdd8f3) Mixtral 8x7B TP8 PP2 EP4 DP4 held its 2 local experts a layer twice, and ZeRO-3 took more memory
than ZeRO-2 (weights 1,656,946,688 B against 1,610,874,880)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training import estimate_training
from infraplan.training.enums import Schedule
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")
NEMO = load_stack("nemo-26.04")
GATHERING = NEMO.model_copy(update={"zero3_gathers_lone_shards": True})  # the base's rule, same settings else
EXPERT = 3 * 4096 * 14336  # Mixtral 8x7B: one expert's w1, w2, w3 (176,160,768 weights)


def _weights(stack: object, ep: int, zero: int, gpus: int = 64, tp: int = 8, pp: int = 2) -> float:
    r = estimate_training("mixtral-8x7b", "dgx-h100-superpod", gpus=gpus, tp=tp, pp=pp, ep=ep, seq_len=8192,
                          global_batch=64, micro_batch=2, zero=zero, stack=stack)  # type: ignore[arg-type]
    return float(r.memory_breakdown_bytes.weights)


def test_experts_at_expert_dp_one_are_not_gathered_twice() -> None:
    # EP4 x ETP8 over TP8 x DP4 = 32 ranks: expert-DP 1; 8 / 4 = 2 experts a layer, each over ETP 8, bf16
    two_layers = 2 * 2 * EXPERT / 8 * 2.0
    assert _weights(GATHERING, 4, 3) - _weights(NEMO, 4, 3) == two_layers == 176_160_768
    assert _weights(NEMO, 4, 3) == 1_480_785_920
    assert _weights(NEMO, 4, 3) < _weights(NEMO, 4, 2) == 1_610_874_880  # ZeRO-3 below ZeRO-2 again


def test_experts_sharded_over_two_ranks_are_gathered_as_before() -> None:
    # EP2: expert-DP 2, every group of more than one rank: the same two gathered layers as the base's rule
    assert _weights(NEMO, 2, 3) == _weights(GATHERING, 2, 3)


def test_a_dense_layer_at_dp_one_is_not_gathered() -> None:
    r = {s.name if s is NEMO else "base": estimate_training("llama3-8b", "dgx-h100-superpod", gpus=8, tp=8, pp=1,
                                                           seq_len=4096, global_batch=8, zero=3, stack=s)
         for s in (NEMO, GATHERING)}
    layer = 4096 * (4096 + 2 * 1024) + 4096 * 4096 + 3 * 4096 * 14336  # Llama 3 8B matrix weights a block
    diff = r["base"].memory_breakdown_bytes.weights - r["nemo-26.04"].memory_breakdown_bytes.weights
    assert diff == 2 * layer / 8 * 2.0  # two layers over TP 8, bf16: DP x CP 1 shards nothing
    assert r["base"].step_time_s == r["nemo-26.04"].step_time_s  # memory only


def test_grid_equals_each_plan_and_bounds_bracket() -> None:
    """A grid of Mixtral plans on nemo-26.04 (ZeRO-3 at expert-DP 1 and above, ZeRO 0-2) prices each plan's weights
    as alone, and the search's memory bounds still bracket each plan's memory."""
    shape = load_model("mixtral-8x7b")
    rows = enumerate_plans(shape, 64, 4096, 256, ["bf16"], 8)
    valid, zero3, lone = valid_mask(shape, rows), rows.zero == 3, np.asarray(rows.edp) == 1
    picked = [np.flatnonzero(valid & mask)[::5][:25] for mask in (zero3 & lone, zero3 & ~lone, ~zero3)]
    rows = rows.take(np.concatenate(picked))
    assert [len(p) for p in picked] == [25, 25, 25]  # ZeRO-3 at expert-DP 1, at more, and ZeRO 0-2
    clear_one_plan_memo()
    grid = memory_breakdown(shape, rows, NEMO)
    for i in range(len(rows)):
        alone = memory_breakdown(shape, rows.take([i]), NEMO)
        assert float(grid["weights"][i]) == float(alone["weights"][0])
    # the bounds over ZeRO-3 rows at expert-DP 1 of one parameter copy (their scope: DualPipe / ZB-V rows, which
    # nemo-26.04 does not run, are not bounded), PP 1 and above
    every = enumerate_plans(shape, 64, 4096, 256, ["bf16"], 8)
    single = every.schedule < int(Schedule.DUALPIPE)
    keep = valid_mask(shape, every) & single & (every.zero == 3) & (np.asarray(every.edp) == 1)
    rows = every.take(np.concatenate([np.flatnonzero(keep & (every.pp == p))[:12] for p in (1, 2, 4, 8)]))
    assert {int(p) for p in rows.pp} == {1, 2, 4, 8}
    assert len(rows) >= 10
    clear_one_plan_memo()
    grid = memory_breakdown(shape, rows, NEMO)
    total = grid["weights"] + grid["gradients"] + grid["optimizer"] + grid["activations"]
    state = memory_bound_terms(shape, rows, NEMO, "states")
    acts = memory_bound_terms(shape, rows, NEMO, "activations")
    assert np.all(state["state_low"] + acts["activations_low"] <= total * (1 + 1e-12))
    assert np.all(state["state_high"] + acts["activations_high"] >= total * (1 - 1e-12))
