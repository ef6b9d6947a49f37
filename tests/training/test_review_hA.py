"""An ML-systems engineer's review of the training layer (helper hA, session 33; validation/notes/
product_review_tried.md): pipeline schedules against their papers and code, and plan rules against Megatron-Core.
Each test failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infraplan.errors import InputError
from infraplan.training import estimate_training, exact_bubbles, schedules
from infraplan.training.enums import Schedule
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.search import search_plans

ZB_H1 = schedules.PIPELINE_SCHEDULES[Schedule.ZB_H1]


def test_zb_h1_bubble_with_few_micro_batches_is_the_list_schedule_by_hand() -> None:
    """p = 4, T_F = T_B = T_W = 1 (stage time 3): the critical path is (m + p - 1)(T_F + T_B) + T_W (the last
    micro-batch's forward down, the last stage's m backwards, that B back up, stage 0's last W), so the bubble is
    (p - 1)(T_F + T_B) - (m - 1) T_W = 6 - (m - 1) below p and 3 from m = p on (Qi et al.'s (p - 1)(T_F + T_B - T_W)).
    Before: 6 at every m < p, a jump of p - 2 W passes at m = p."""
    p, t = 4.0, 3.0
    bubbles = [float(ZB_H1.bubble(p, 1.0, float(m), t)) for m in (1, 2, 3, 4, 8)]
    assert bubbles == pytest.approx([6.0, 5.0, 4.0, 3.0, 3.0])


def test_zb_h1_bubble_with_few_micro_batches_in_a_plan() -> None:
    """PP 4, 2 micro-batches: the equal-stage bubble (the ramp over the other stages' time, without hB3's exact
    order on the plan's three rank kinds) is (2/3 - 1/9) of 1F1B's, 5/9 (before: 2/3); the exact order on the
    plan's uneven stages (the last rank, with the head and loss, the heaviest) is no longer than it."""
    kw: dict[str, Any] = dict(tp=8, pp=4, seq_len=4096, global_batch=2, zero=0)  # (torch's 1F1B refuses m < p)
    exact = estimate_training("llama3-8b", "dgx-h100-superpod", 32, schedule="zb-h1", **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "three_rank_kinds_s", lambda *args: 0.0)
        clear_one_plan_memo()
        plain = estimate_training("llama3-8b", "dgx-h100-superpod", 32, schedule="1f1b", **kw)
        zb = estimate_training("llama3-8b", "dgx-h100-superpod", 32, schedule="zb-h1", **kw)
        clear_one_plan_memo()
    assert zb.breakdown_s.pp_bubble == pytest.approx(plain.breakdown_s.pp_bubble * 5.0 / 9.0, rel=1e-9)
    assert 0.0 < exact.breakdown_s.pp_bubble < zb.breakdown_s.pp_bubble


def test_dualpipe_needs_twice_pp_micro_batches_as_its_code_asserts() -> None:
    """DualPipe.step asserts num_chunks >= num_ranks * 2 (dualpipe 1.0.0, dualpipe/dualpipe.py line 333); before,
    m = p was accepted. PP 4: 6 micro-batches refused, 8 priced."""
    kw: dict[str, Any] = dict(tp=8, pp=4, seq_len=4096, schedule="dualpipe", stack="deepseek-v3", zero=1)
    with pytest.raises(InputError, match="at least 2 PP"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 32, global_batch=6, **kw)
    assert estimate_training("llama3-8b", "dgx-h100-superpod", 32, global_batch=8, **kw).step_time_s > 0


def test_an_odd_sequence_runs_without_context_parallelism() -> None:
    """CP 1 cuts no load-balanced chunks: 4,095 tokens run on TP 1 (before: "not divisible by 2 x CP" at CP 1)."""
    result = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=1, seq_len=4095, global_batch=8)
    assert result.step_time_s > 0 and result.config.seq_len == 4095
    no_sp = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=4095, global_batch=8,
                              sequence_parallel=False)
    assert no_sp.step_time_s > 0


def test_sequence_parallelism_needs_the_sequence_divisible_by_tp_times_cp() -> None:
    """Megatron-Core scatters [s / CP, b, h] over TP along s (mappings.py `_split_along_first_dim` asserts the
    divisibility): 4,100 tokens on TP 8 are refused with the nearest lengths meeting both rules."""
    with pytest.raises(InputError, match=r"TP 8 x CP 1 = 8; nearest valid sequence lengths: 4,096, 4,104"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=4100, global_batch=8)
    with pytest.raises(InputError, match=r"TP 4 x CP 2 = 8"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=4, cp=2, seq_len=4100, global_batch=8)


def test_search_finds_plans_for_an_odd_sequence() -> None:
    """The CP axis offered no CP at all for an odd length (CP 1 had to divide 2 x 1): the search found nothing."""
    found = search_plans("llama3-8b", "dgx-h100-superpod", 8, 4095, 64)
    assert found.best is not None and found.best.config.seq_len == 4095 and found.best.config.cp == 1


def _qwen_like(tmp_path: Path, ffn: int = 13824) -> str:
    """40 query heads, 8 KV heads (Qwen2.5-14B's attention; a Hugging Face config.json), FFN width `ffn`."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({
        "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 5120,
        "intermediate_size": ffn, "num_attention_heads": 40, "num_key_value_heads": 8, "num_hidden_layers": 48,
        "vocab_size": 152064, "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False}))
    return str(path)


def test_kv_heads_must_be_a_multiple_or_a_divisor_of_tp(tmp_path: Path) -> None:
    """Megatron-Core 0.16.1 transformer_config.py refuses num_query_groups neither a multiple nor a divisor of TP:
    TP 5 divides the 40 heads but not the 8 KV heads (before: priced); TP 4 (a divisor) and TP 40 (8 divides it,
    each rank a KV replica) pass this rule. (FFN width 13,840, not Qwen's 13,824, which TP 40 leaves fractional:
    Megatron-Core's FFN split refuses that, hW72.)"""
    model = _qwen_like(tmp_path, ffn=13840)
    with pytest.raises(InputError, match=r"KV heads \(8\).*TP 5 \(TPs meeting both head rules: 1, 2, 4, 8, 40\)"):
        estimate_training(model, "dgx-h100-superpod", 40, tp=5, seq_len=4000, global_batch=8)
    assert estimate_training(model, "dgx-h100-superpod", 40, tp=4, seq_len=4000, global_batch=10).step_time_s > 0
    assert estimate_training(model, "dgx-h100-superpod", 40, tp=40, seq_len=4000, global_batch=1).step_time_s > 0
