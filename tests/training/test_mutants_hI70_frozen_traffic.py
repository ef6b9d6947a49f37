"""Mutants of `training.frozen_traffic` (a LoRA step's DP traffic, split out of `frozen_base` in session 69) the
suite let live (hI, session 70); each killed by a hand count on Llama 2 70B (80 layers) at TP 8, PP 2, CP 2, DP 2:
the stage trains the adapters of its 40 layers alone, which are no routed experts, and its optimizer shards them
over the DP x CP ranks (Megatron-Core's distributed optimizer over `data_parallel_group_with_cp`)."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.training.estimate import resolve_training
from infraplan.training.frozen_base import adapter_params, lora_spec
from infraplan.training.frozen_traffic import frozen_end_price, frozen_ends, frozen_traffic
from infraplan.training.step_traffic import EndStageTraffic


def _row(zero: int) -> Any:
    point = resolve_training("llama2-70b", "dgx-h100-superpod", 64, tp=8, pp=2, cp=2, seq_len=8192,
                             global_batch=64, micro_batch=1, dtype="fp8", recompute="none", zero=zero)
    row = point.plan.one_row
    assert (int(row.tp), int(row.pp), int(row.cp), int(row.dp)) == (8, 2, 2, 2)
    return point.shape, row


def _priced(stages: list[tuple[Any, ...]], *rest: Any) -> list[dict[str, Any]]:
    """A stand-in for `dp_collectives` per end stage: its (parameters, routed-expert parameters) as "bytes"."""
    return [{"scatter": s[0], "gather": s[0], "gather_layers": s[0] / s[2], "experts": s[1]} for s in stages]


@pytest.mark.parametrize("zero", [1, 2])
def test_the_stage_reduces_its_own_layers_adapters(zero: int) -> None:
    shape, row = _row(zero)
    spec = lora_spec(shape, 16)
    local = adapter_params(shape, row, spec)[0]  # one layer's adapters on this GPU
    asked: list[float] = []

    def collectives(params: float) -> dict[str, float]:
        asked.append(params)
        return {"allreduce": 0.0, "scatter": params, "gather": params, "scatter_layers": params,
                "gather_layers": params}

    base = {"params": 7e9, "expert_params": 5e8, "sharded": 7e9 / 4, "embedding_sync": 1.0}
    out = frozen_traffic(base, shape, row, spec, collectives)
    assert asked == [pytest.approx(40 * local)]  # 40 of the 80 layers on the stage, not all 80
    assert out["params"] == pytest.approx(40 * local) and out["expert_params"] == 0.0
    assert out["sharded"] == pytest.approx(40 * local / 4)  # DP 2 x CP 2
    assert out["gather"] == pytest.approx(40 * local)  # ZeRO 1 / 2: the adapters' updated shards


def test_end_stages_train_their_adapters_alone() -> None:
    shape, row = _row(1)
    spec = lora_spec(shape, 16)
    local = adapter_params(shape, row, spec)[0]
    ends = frozen_ends(EndStageTraffic(shape, row, _priced), shape, row, spec)
    assert ends.stage_params(39, 0) == (pytest.approx(39 * local), 0.0)  # its 39 layers' adapters, no experts
    (own,) = ends.price([(3e9, 1e9, 39, 0, 1.0)])
    assert own["scatter"] == pytest.approx(39 * local) and own["experts"] == 0.0


@pytest.mark.parametrize(("zero", "gathered"), [(1, 390.0), (2, 390.0), (3, 3e9)])
def test_only_zero3_end_stages_gather_the_frozen_weights(zero: int, gathered: float) -> None:
    """An end stage of 39 layers, 10 adapter weights a layer: ZeRO-3 gathers its full 3e9 weights every step,
    ZeRO 1 and 2 only the adapters' 390 updated ones; it reduces the adapters' alone at every stage."""
    (out,) = frozen_end_price(_priced, 10.0, zero)([(3e9, 1e9, 39, 0, 1.0)])
    assert out["gather"] == gathered and out["scatter"] == 390.0 and out["experts"] == 0.0
