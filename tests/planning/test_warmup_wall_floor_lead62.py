"""A DSA warm-up alone is forward only (the model frozen; `training.dsa_warmup`), so `plan`'s wall-clock floor for
it (`planning.training_run.wall_floor_s(forward_only=True)`) counts the layers' weight matmuls once, 2 FLOPs a
parameter a token, not training's 6 (lead, session 62, on hA62's floor): the floor must stay below the run it bounds."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.planning import scenario_sizing
from infraplan.planning.scenario_spec import PoolSpec, ServiceSpec
from infraplan.planning.training_run import wall_floor_s
from infraplan.training.flops import forward_flops_per_token_layer

TOKENS = 2.1e9  # the V3.2 report's warm-up (1,000 steps x 16 x 128K), as the README cites it


def test_forward_only_floor_is_the_layers_weight_matmuls_once() -> None:
    """By hand: layers x forward weight FLOPs a token, at H800's highest dense peak, over 128 GPUs."""
    shape = load_model("deepseek-v3.2")
    weights, _ = forward_flops_per_token_layer(shape, 4096)
    peak = max(Cluster.resolve("h800").accelerator.peak_flops_per_s.values())
    want = TOKENS * shape.num_layers * float(weights) / (128 * peak)
    assert wall_floor_s("deepseek-v3.2", ["h800"], 128, 4096, TOKENS, forward_only=True) == pytest.approx(want)
    assert wall_floor_s("deepseek-v3.2", ["h800"], 128, 4096, TOKENS) > 3.0 * want  # training's: x3, and the head


def test_the_warmup_floor_is_below_the_warmup_run() -> None:
    got = scenario_sizing._training_point("deepseek-v3.2", "h800", None, 128, 4096, 128, "auto", "deepseek-v3",
                                          TOKENS, None, "warmup")
    assert got is not None
    assert wall_floor_s("deepseek-v3.2", ["h800"], 128, 4096, TOKENS, forward_only=True) < got.wall_s


@pytest.mark.parametrize(("fields", "forward_only"), [
    ({"dsa_stage": "warmup"}, True),  # the warm-up alone: its tokens are forward-only steps
    ({"dsa_warmup_tokens": 2.1e9}, False),  # both stages: `tokens` are the sparse stage's, trained
    ({}, False)])
def test_size_training_asks_the_stage_s_floor(monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any],
                                              forward_only: bool) -> None:
    asked: list[bool] = []

    def floor(*args: Any, forward_only: bool = False) -> float:
        asked.append(forward_only)
        return 1e30  # every count misses: the search then reads them all, so stop it there
    monkeypatch.setattr(scenario_sizing, "wall_floor_s", floor)
    monkeypatch.setattr(scenario_sizing, "_training_point", lambda *a: None)
    svc = ServiceSpec.model_validate({"name": "w", "kind": "training", "model": "deepseek-v3.2", "tokens": TOKENS,
                                      "deadline": 86400.0, "seq_len": 4096, "global_batch": 128, **fields})
    scenario_sizing.size_training(svc, PoolSpec(name="h", device="h800", site="s"))
    assert asked and set(asked) == {forward_only}
