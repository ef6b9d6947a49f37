"""Mutant-killing checks of `training.optimizers` / `optimizer_models` (hK, session 61): Muon's ZeRO-1 reduces the
gradients with DDP's all-reduce as its ZeRO-0 does, its momentum stays fp32 under a recipe's bf16 Adam moments, the
tables' AdamW state sits on the stages that hold a table only, and ZeRO-2 with Muon is named as refused."""

from __future__ import annotations

import pytest

from infraplan.catalog.loader import load_model
from infraplan.network.collectives import collective_seconds
from infraplan.training.activation_memory import FIRST, LAST, MIDDLE
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.optimizer_models import state_bytes_per_param
from infraplan.training.optimizers import adam_table_state, training_stack
from infraplan.training.stage_params import BOUND_KIND, local_params

# Llama 3 8B data-parallel over 32 H100 nodes, one sequence a GPU: the gradient reduction is exposed
WIDE = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=256, tp=1, pp=1, dp=256, seq_len=1024,
            global_batch=256)


def _exposed(zero: int, optimizer: str) -> float:
    return dict(estimate_training(**WIDE, zero=zero, optimizer=optimizer).breakdown_s)["dp_comm_exposed"]  # type: ignore[arg-type]


def test_muon_zero1_all_reduces_the_gradients_as_its_zero0() -> None:
    """megatron-core 0.16.1 layer_wise_optimizer.py:33-36: DDP all-reduces the gradients whatever the ZeRO stage,
    so Muon's ZeRO-1 exposes its ZeRO-0 all-reduce plus the blocking parameter all-gather (not Adam ZeRO-1's
    reduce-scatter, half the bytes)."""
    point = resolve_training(**WIDE, zero=1, optimizer="muon")  # type: ignore[arg-type]
    params = float(local_params(point.shape, point.plan.one_row))
    gather = collective_seconds(point.cluster.fabric, "all_gather", 2.0 * params, 256.0, 1.0)
    muon0, muon1, adam1 = _exposed(0, "muon"), _exposed(1, "muon"), _exposed(1, "adam")
    assert muon0 > 0.0 and gather > 0.0
    assert muon0 == _exposed(0, "adam")  # ZeRO 0: one DDP all-reduce either way
    assert muon1 == pytest.approx(muon0 + gather, rel=1e-9)
    assert muon1 > adam1 + gather  # the reduce-scatter's exposure is below the all-reduce's


def test_muon_momentum_stays_fp32_under_a_bf16_moment_recipe() -> None:
    """The momentum is `zeros_like` the fp32 main parameter (muon.py:208-212), whatever dtype the recipe gives
    Adam's moments: under nemo-26.04's DeepSeek-V3 recipe (bf16 moments) Muon keeps 4 + 4 B a matrix parameter and
    the tables' AdamW 4 + 2 x 2 B."""
    shape = load_model("deepseek-v3")
    adam = training_stack("nemo-26.04", shape, None)
    assert adam.adam_moment_dtype == "bf16"
    assert state_bytes_per_param(adam) == (8.0, 8.0)
    assert state_bytes_per_param(training_stack("nemo-26.04", shape, "muon")) == (8.0, 8.0)
    assert state_bytes_per_param(training_stack("nemo-26.04", load_model("llama3-8b"), "muon")) == (8.0, 12.0)


def test_table_state_only_where_a_table_is_held() -> None:
    """A middle pipeline stage holds no embedding or LM head, so no AdamW table state; the first and last stages
    hold theirs, and the memory bound's kind (`BOUND_KIND`) at least the first stage's, head included."""
    shape = load_model("llama3-8b")
    plan = resolve_training(model="llama3-8b", system="dgx-h100-superpod", gpus=32, tp=2, pp=4, dp=4, seq_len=4096,
                            global_batch=64).plan.one_row
    state = {kind: float(adam_table_state(shape, plan, kind, None, 1.0, False, 4.0))
             for kind in (MIDDLE, FIRST, LAST, BOUND_KIND)}
    assert state[MIDDLE] == 0.0 and state[FIRST] > 0.0 and state[LAST] > 0.0
    assert state[BOUND_KIND] >= max(state[FIRST], state[LAST])
    head = 1e8  # a mirrored first rank's output head (ZB-V, DualPipe)
    first = float(adam_table_state(shape, plan, FIRST, head, 1.0, False, 4.0))
    assert first == pytest.approx(state[FIRST] + 4.0 * head)
    assert float(adam_table_state(shape, plan, BOUND_KIND, head, 1.0, False, 4.0)) >= first
    assert float(adam_table_state(shape, plan, MIDDLE, head, 1.0, False, 4.0)) == 0.0


def test_muon_at_zero2_is_named_refused() -> None:
    """muon.py:190-193: Megatron-Core refuses Muon with the distributed optimizer's ZeRO-2 / 3 sharding; `train`
    prices the plan as asked and says so. ZeRO-1 is the layer-wise distributed optimizer (its blocking gather
    named); ZeRO-0 has no distributed optimizer to name."""
    plan = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=8, tp=1, pp=1, dp=8, seq_len=4096,
                global_batch=64, optimizer="muon")
    for zero in (2, 3):
        notes = estimate_training(**plan, zero=zero).notes  # type: ignore[arg-type]
        assert any("refuses Muon" in note and f"ZeRO-{zero}" in note for note in notes)
    one, zero = (estimate_training(**plan, zero=z).notes for z in (1, 0))  # type: ignore[arg-type]
    assert not any("refuses Muon" in note for note in one)
    assert any("layer-wise distributed optimizer" in note for note in one)
    assert not any("layer-wise distributed optimizer" in note for note in zero)
