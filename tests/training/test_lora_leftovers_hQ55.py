"""LoRA leftovers (hQ, session 55): `--recompute auto` on the frozen base's memory, a LoRA run's adapter-only
checkpoints in `train --tokens`."""

from __future__ import annotations

import pytest

from infraplan.facility.reliability import checkpoint_bytes
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training

PLAN = dict(model="llama2-70b", system="dgx-h100-superpod", gpus=8, tp=4, cp=2, seq_len=8192, global_batch=8,
            micro_batch=1, dtype="fp8", zero=1)


def test_recompute_auto_reads_the_lora_memory() -> None:
    """70B on 8 H100 trains no plan in full (~180 GiB a GPU even with full recompute) but fits as LoRA without
    recompute (~35 GiB): auto takes no recompute under --lora-rank, the same numbers as --recompute none (before:
    full recompute, chosen on the full-training memory, and a "nothing fits" note)."""
    auto = estimate_training(**PLAN, recompute="auto", lora_rank=16)  # type: ignore[arg-type]
    none = estimate_training(**PLAN, recompute="none", lora_rank=16)  # type: ignore[arg-type]
    assert auto.config.recompute == "none"
    assert auto.step_time_s == none.step_time_s and auto.memory_per_gpu_bytes == none.memory_per_gpu_bytes
    assert any("--recompute auto: no recompute" in n and "fits without recompute" in n for n in auto.notes)
    full = estimate_training(**PLAN, recompute="auto")  # type: ignore[arg-type]  # (unchanged without LoRA)
    assert full.config.recompute == "full" and any("nothing fits" in n for n in full.notes)


def test_recompute_auto_climbs_the_ladder_on_the_lora_memory() -> None:
    """Where the LoRA plan needs recompute, auto's rung is the least whose LoRA memory fits (a long sequence)."""
    plan = {**PLAN, "seq_len": 65536, "global_batch": 8, "cp": 2}
    auto = estimate_training(**plan, recompute="auto", lora_rank=16)  # type: ignore[arg-type]
    none = estimate_training(**plan, recompute="none", lora_rank=16)  # type: ignore[arg-type]
    assert not none.fits  # (153.8 GiB)
    # block recompute of 49 of 80 layers, 79.0 GiB (before: full recompute, "nothing fits (191.0 GiB ...)", the full
    # model's gradients and Adam states counted, while the LoRA estimate it returned fit at 30.5 GiB)
    assert auto.fits and auto.config.recompute == "full" and 0 < auto.config.recompute_layers < 80
    assert any("the least recompute that fits" in n for n in auto.notes)
    assert not any("nothing fits" in n for n in auto.notes)


@pytest.mark.parametrize("rank", [16, 64])
def test_lora_run_checkpoints_the_adapters(rank: int) -> None:
    """`train --tokens` of a LoRA plan: the checkpoint holds the adapters' parameters at the catalog's 14 B/param
    (weights, master copy, Adam moments), not the 69 B frozen base, so the write time and Young / Daly's interval
    shrink (before: 966 GB, 0.48 s, a 4,692 s interval)."""
    lora = estimate_training(**PLAN, recompute="none", lora_rank=rank)  # type: ignore[arg-type]
    run = training_run_totals(lora, "dgx-h100-superpod", 1e9)
    assert lora.trainable_params_count is not None
    assert run.checkpoint_bytes == checkpoint_bytes(lora.trainable_params_count)
    full = training_run_totals(estimate_training(**PLAN, recompute="full"), "dgx-h100-superpod",  # type: ignore[arg-type]
                               1e9)
    assert full.checkpoint_bytes == checkpoint_bytes(lora.parameters)
    assert run.checkpoint_write_s < full.checkpoint_write_s / 300
    assert run.checkpoint_interval_s < full.checkpoint_interval_s / 10
    assert any("adapter parameters" in n and "not the frozen base" in n for n in run.notes)
    assert not any("adapter parameters" in n for n in full.notes)
