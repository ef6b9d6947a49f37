"""hI65 on hI64's survivor R12 (`search_rows.FullTraining.best_plan_notes` dropped): a search's best plan says what
`train` says of the same plan, so where two `train` runs of that plan, fp8 and bf16, give fp8 fewer tokens/s/GPU, the
search says "fp8 is slower than bf16" with both figures. Qwen3-30B-A3B on 64 B200 at 64 sequences of 4,096: the best
fp8 plan runs one micro-batch of one sequence per pipeline stage, where the casts and per-expert quantise kernels
outweigh the GEMMs' saving (tests/training/test_fp8_slower_note.py's case at micro-batch 1)."""

from __future__ import annotations

from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans


def test_the_search_says_its_best_fp8_plan_is_slower_as_train_does() -> None:
    found = search_plans("qwen3-30b-a3b", "dgx-b200", 64, 4096, 64, dtype="fp8", top=1)
    assert found.best is not None
    c = found.best.config
    plan = dict(tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, etp=c.etp, vpp=c.vpp, micro_batch=c.micro_batch,
                global_batch=c.global_batch, seq_len=c.seq_len, recompute=c.recompute, zero=c.zero,
                zero_shard=c.zero_shard, attention=c.attention, order=c.order, schedule=c.schedule,
                sequence_parallel=c.sequence_parallel)
    fp8, bf16 = (estimate_training("qwen3-30b-a3b", "dgx-b200", 64, dtype=d, **plan) for d in ("fp8", "bf16"))
    assert fp8.tokens_per_s_per_gpu < bf16.tokens_per_s_per_gpu  # the two `train` runs
    said = [n for n in found.notes if n.startswith("fp8 is slower than bf16")]
    assert len(said) == 1
    assert f"{fp8.tokens_per_s_per_gpu:,.0f} vs {bf16.tokens_per_s_per_gpu:,.0f} tokens/s/GPU" in said[0]


def test_a_lora_search_ranks_its_zero_stages_by_lora_memory() -> None:
    """hI64's R11 (`FrozenBase.one_memory` at full training's memory): the search's memory margin reads a LoRA plan's
    own memory. A frozen base has no gradients and no optimizer states (Megatron-Bridge 0.6.0 peft/lora.py: the
    base's `requires_grad` off), so ZeRO 0, 1 and 2 shard only the rank-16 adapters' states: Llama 3 8B on 8 H100
    at 8,192 tokens, TP1 DP8, takes the same step and within 0.5 % of its memory at each stage, far inside HBM.
    The three tie as the best plans; full training's memory (103 GB a GPU at ZeRO 1, over the 80 GB) would rank some
    after slower plans."""
    found = search_plans("llama3-8b", "dgx-h100-superpod", 8, 8192, 64, dtype="bf16", top=3, lora_rank=16)
    rows = found.top
    assert sorted(r.config.zero for r in rows) == [0, 1, 2]
    assert len({(r.config.tp, r.config.pp, r.config.dp, r.config.micro_batch) for r in rows}) == 1
    memory = [r.memory_per_gpu_bytes for r in rows]
    assert max(memory) - min(memory) < 0.005 * max(memory)
    assert max(memory) < 0.8 * rows[0].memory_capacity_bytes
    assert not any(r.low_memory_headroom for r in rows)
