"""Mutation wave 13 (hM13, session 41) on `training.exact_bubbles` (session 40's move of the exact rank- and
chunk-kind bubble terms out of step_assembly): what it hands the interleaved forms on a real plan.

* The interleaved first chunk's excess over a plain chunk (`interleaved_first_chunk_s`, hZ2): without counted ends
  the embedding's chunk holds a plain chunk's layers plus the embedding, so it is heavier and the form adds to the
  bubble; where the embedding counts as a layer (Megatron-Core's `account_for_embedding_in_pipeline_split`) the
  chunk holds one layer fewer, and an embedding lookup (a gather of s x h values) is far lighter than a
  transformer layer, so the chunk is not heavier and the form adds nothing.
* Below p micro-batches (`interleaved_last_heaviest_few_s`, hB5) a plain chunk's forward share: a layer's backward
  is about twice its forward (two GEMMs per forward GEMM: Narayanan et al. 2021, arXiv:2104.04473 sec. 5.1's
  6 x (2 forward + 4 backward) accounting), so the forward is about a third of its time, not two thirds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from bubble_forms import bubble_with_and_without
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog import load_model
from infraplan.training import exact_bubbles
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

TORCHTITAN = TORCHTITAN_EVEN
# llama3-8b (32 layers) on 64 H100, TP2 PP4, interleaved v 2 (chunks of 4 layers), torchtitan (torch's rules)
PLAN: dict[str, Any] = dict(tp=2, pp=4, vpp=2, schedule="interleaved", seq_len=8192)


def _spied(form: str, model: Any, stack: Any, global_batch: int) -> tuple[float, list[tuple[float, ...]]]:
    """(pp_bubble, the arguments `exact_bubbles` called `form` with) of the plan."""
    seen: list[tuple[float, ...]] = []
    real = getattr(exact_bubbles, form)

    def spy(*args: Any) -> Any:
        seen.append(tuple(float(np.ravel(a)[0]) for a in args))
        return real(*args)

    clear_one_plan_memo()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, form, spy)
        bubble = estimate_training(model, "dgx-h100-superpod", 64, global_batch=global_batch, stack=stack,
                                   **PLAN).breakdown_s.pp_bubble
    clear_one_plan_memo()
    return bubble, seen


def test_the_embedding_chunk_adds_to_the_bubble_without_counted_ends() -> None:
    """The LM head + loss make the last rank the heaviest; the first chunk (4 layers and the embedding) is heavier
    than a plain one by a positive excess d, under a layer's time. torch's interleaved order list-scheduled on such
    chunks (tests/training/test_end_chunk_bubble.py, hZ2) has the bubble (p - 1) c + g d (g = p: m a multiple of
    p) where the model counts d / v: the priced bubble is (4 - 1/2) d above the form's absence."""
    _, seen = _spied("interleaved_first_chunk_s", "llama3-8b", TORCHTITAN, 256)
    ((_, pp, vpp, m, excess),) = seen
    assert (pp, vpp, m) == (4.0, 2.0, 32.0)
    layer_s = estimate_training("llama3-8b", "dgx-h100-superpod", 64, global_batch=256, stack=TORCHTITAN,
                                **PLAN).step_time_s / (32 * 6)  # (above a layer's time per micro-batch: 8 x 32 a step)
    assert 0.0 < excess < layer_s
    priced, alone = bubble_with_and_without("interleaved_first_chunk_s", "llama3-8b", "dgx-h100-superpod", 64,
                                            global_batch=256, stack=TORCHTITAN, **PLAN)
    assert priced - alone == pytest.approx((4 - 1 / 2) * excess, rel=1e-6)


def test_a_counted_embedding_chunk_is_not_heavier_than_a_plain_one() -> None:
    """31 layers with the embedding counted as a layer (L' = 32: chunks of 4, the first 3 layers and the
    embedding): the first chunk's excess d over a plain chunk is negative, and a lighter first chunk gains once
    in torch's order ((p - 1) c + d, hZ2's list schedules) where the model counts d / v: (1 - 1/2) d less."""
    counted = TORCHTITAN.model_copy(update={"account_for_embedding_in_pipeline_split": True})
    shorter = load_model("llama3-8b").model_copy(update={"num_layers": 31})
    _, seen = _spied("interleaved_first_chunk_s", shorter, counted, 256)
    ((_, pp, vpp, m, excess),) = seen
    assert (pp, vpp, m) == (4.0, 2.0, 32.0) and excess < 0.0
    priced, alone = bubble_with_and_without("interleaved_first_chunk_s", shorter,  # type: ignore[arg-type]
                                            "dgx-h100-superpod", 64, global_batch=256, stack=counted, **PLAN)
    assert priced - alone == pytest.approx((1 - 1 / 2) * excess, rel=1e-6)


def test_below_p_a_plain_chunks_forward_is_about_a_third_of_it() -> None:
    """m 2 < p 4 (global batch 16 over DP 8), the last rank the heaviest on whole chunks: the form gets a plain
    rank's seconds and its forward's, about a third (no recompute)."""
    _, seen = _spied("interleaved_last_heaviest_few_s", "llama3-8b", TORCHTITAN, 16)
    ((_, pp, vpp, m, stage_s, others_s, plain_s, plain_fwd_s, _),) = seen
    assert (pp, vpp, m) == (4.0, 2.0, 2.0)
    assert 0.0 < plain_s < stage_s and others_s == pytest.approx(3 * plain_s, rel=0.05)
    assert 0.25 < plain_fwd_s / plain_s < 0.42
