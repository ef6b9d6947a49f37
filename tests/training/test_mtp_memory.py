"""The MTP modules in the memory per GPU (`training.memory`, issue 13): by hand arithmetic on Qwen3-30B-A3B
(config.json: hidden 2048, 32 heads / 4 KV heads of 128, 128 experts of FFN 768, vocab 151,936), EP8, TP1.

One module on a GPU: a layer of the decoder's last kind (MoE: attention 2048 x 4096 x 2 + 2048 x 512 x 2 =
18,874,368, 128 / 8 = 16 experts of 3 x 2048 x 768 = 4,718,592 each, router 2048 x 128 = 262,144) and eh_proj
(2 x 2048^2 = 8,388,608); on a last stage of PP > 1 outside DualPipe also the embedding Megatron-Core builds
beside it (151,936 x 2048 = 311,164,928). Activations of one micro-batch of 4,096 tokens under full recompute:
the layer's input (2h bf16), the norms' and eh_proj's inputs (5h bf16) and the second loss's fp32 logits (4 V).
"""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training import search
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

ATTENTION, EXPERT, ROUTER = 18_874_368, 4_718_592, 262_144
LOCAL_EXPERTS = 16 * EXPERT  # 128 experts over EP8
LAYER = ATTENTION + LOCAL_EXPERTS + ROUTER  # 94,633,984
EH_PROJ = 2 * 2048 * 2048
TABLE = 151_936 * 2048
MODULE = LAYER + EH_PROJ  # 103,022,592
TOKENS = 4096
ACTIVATIONS = TOKENS * (2 * 2048 + 5 * 2 * 2048 + 4 * 151_936)  # 2,589,982,720 bytes
NEMO, DEEPSEEK = load_stack("nemo-26.04"), load_stack("deepseek-v3")


def _bytes(stack, mtp: int, gpus: int, pp: int, zero: int, **kw) -> dict[str, float]:  # type: ignore[no-untyped-def]
    run = estimate_training("qwen3-30b-a3b", "dgx-b200", gpus, stack=stack.model_copy(update={"mtp_num_layers": mtp}),
                            tp=1, pp=pp, ep=8, seq_len=TOKENS, global_batch=64, dtype="bf16", order="tp-cp-dp-pp",
                            recompute="full", zero=zero, **kw)
    return run.memory_breakdown_bytes.model_dump()


def _delta(stack, gpus: int, pp: int, zero: int, **kw) -> dict[str, float]:  # type: ignore[no-untyped-def]
    on, off = _bytes(stack, 1, gpus, pp, zero, **kw), _bytes(stack, 0, gpus, pp, zero, **kw)
    return {k: on[k] - off[k] for k in on}


def test_one_stage_holds_the_module_without_a_second_table() -> None:
    """PP1, ZeRO-0: bf16 weights 2 B, fp32 gradients 4 B, fp32 master + moments 12 B per parameter."""
    d = _delta(NEMO, 8, 1, 0)
    assert d["weights"] == pytest.approx(MODULE * 2.0, rel=1e-12)
    assert d["gradients"] == pytest.approx(MODULE * 4.0, rel=1e-12)
    assert d["optimizer"] == pytest.approx(MODULE * 12.0, rel=1e-12)
    assert d["activations"] == pytest.approx(ACTIVATIONS, rel=1e-12)
    assert d["overhead"] == 0.0


def test_the_last_stage_of_1f1b_holds_it_with_megatrons_embedding_copy_sharded_as_its_neighbours() -> None:
    """PP2 1F1B on 16 GPUs (DP 8, expert DP 1), ZeRO-1: the optimizer state of the dense part (attention, router,
    eh_proj, table) over DP 8, the experts' over their one expert-DP rank."""
    d = _delta(NEMO, 16, 2, 1)
    held = MODULE + TABLE
    assert d["weights"] == pytest.approx(held * 2.0, rel=1e-12)
    assert d["gradients"] == pytest.approx(held * 4.0, rel=1e-12)
    assert d["optimizer"] == pytest.approx(((held - LOCAL_EXPERTS) / 8 + LOCAL_EXPERTS) * 12.0, rel=1e-12)
    assert d["activations"] == pytest.approx(ACTIVATIONS, rel=1e-12)  # the loss's stage: one micro-batch


def test_dualpipe_holds_it_once_on_the_end_rank_sharing_the_embedding() -> None:
    """DualPipe PP2 (each rank two mirrored stages: 2x the stage parameters), DeepSeek's stack (bf16 moments: 8 B
    of optimizer state per parameter): the module once, no table copy (DeepSeek-V3 sec. 3.2.3)."""
    d = _delta(DEEPSEEK, 16, 2, 0, schedule="dualpipe")
    assert d["weights"] == pytest.approx(MODULE * 2.0, rel=1e-12)
    assert d["gradients"] == pytest.approx(MODULE * 4.0, rel=1e-12)
    assert d["optimizer"] == pytest.approx(MODULE * 8.0, rel=1e-12)
    assert d["activations"] == pytest.approx(ACTIVATIONS, rel=1e-12)


def test_bounded_search_with_mtp_equals_pricing_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory bounds of the branch and bound hold with the MTP modules (`memory_bound_terms`)."""
    stack = NEMO.model_copy(update={"mtp_num_layers": 1})
    args = ("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    monkeypatch.setattr(search, "BOUND_ROWS", 401)
    bounded = search_plans(*args, top=7, stack=stack)
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    full = search_plans(*args, top=7, stack=stack)
    assert (bounded.evaluated_count, bounded.feasible_count) == (full.evaluated_count, full.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in full.top]
    plain = search_plans(*args, top=7, stack=NEMO)
    assert [r.memory_per_gpu_bytes for r in full.top] != [r.memory_per_gpu_bytes for r in plain.top]
