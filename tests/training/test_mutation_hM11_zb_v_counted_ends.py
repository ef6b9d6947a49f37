"""Mutation wave 11 (hM11, session 39): ZB-V's rank-0 excess `x` where the embedding and the loss count as layers
(`step_assembly.assemble_step` -> `mirrored_stages.zb_v_end_chunks_s`, hZ3: "x the embedding's seconds less a
counted layer").

Rank 0 holds chunk 0 and chunk 2p - 1. On llama3-8b's 32 layers, PP 4, VPP 2 under torchtitan (no counted ends: 8
chunks of 4 layers) chunk 0 is the embedding and 4 layers, so x = e (the embedding's seconds). Llama3-8b's layers
cut to 30 with the embedding and the loss counted (L' = 32: 8 chunks of 4) holds the embedding and 3 layers in chunk
0, so x = e - a layer's seconds, a layer being c / 4 = o / (2 (p - 1) 4) = o / 24 (o: the other ranks' seconds per
micro-batch). Both plans' layer and embedding times are one model's, so x(30, counted) = x(32) - o / 24; below 0 (an
embedding lighter than a layer) the exact bubble is not applied and the model's stays.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.training import exact_bubbles
from infraplan.training.estimate import estimate_training
from infraplan.training.mirrored_stages import zb_v_end_chunks_s
from infraplan.training.one_plan_memo import clear_one_plan_memo

PLAN: dict[str, Any] = dict(tp=2, pp=4, vpp=2, seq_len=8192, global_batch=256, schedule="zb-v")


def _seen(model: Any, stack: Any) -> tuple[float, float, float]:
    """(o, x, the correction) as `assemble_step` of the plan asks `zb_v_end_chunks_s` (once)."""
    seen: list[tuple[float, float, float]] = []

    def spy(schedule: int, pp: float, m: float, th: float, o: float, x: float) -> float:
        out = float(zb_v_end_chunks_s(schedule, pp, m, th, o, x))
        seen.append((float(o), float(x), out))
        return out

    clear_one_plan_memo()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "zb_v_end_chunks_s", spy)
        estimate_training(model, "dgx-h100-superpod", 64, stack=stack, **PLAN)
    clear_one_plan_memo()
    (asked,) = seen
    return asked


def test_a_counted_embedding_chunk_is_the_embedding_less_a_layer() -> None:
    torchtitan = TORCHTITAN_EVEN
    counted = torchtitan.model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                            "account_for_loss_in_pipeline_split": True})
    _, x32, _ = _seen("llama3-8b", torchtitan)
    shape = load_model("llama3-8b").model_copy(update={"name": "llama3-8b-30-layers", "num_layers": 30})
    o30, x30, correction = _seen(shape, counted)
    assert x32 > 0.0  # (an embedding's seconds)
    assert x30 == pytest.approx(x32 - o30 / 24.0, abs=1e-6 * o30)
    assert x30 < 0.0 and correction == 0.0
