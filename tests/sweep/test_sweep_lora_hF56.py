"""LoRA in sweeps (hF, session 56): `lora_rank` / `lora_targets` are arguments of `train` in a spec, as `train
--lora-rank` / `--lora-targets` take them, and a point answers what `train` answers. Before: the batched path
(`sweep.functions.train_batch`) priced it with `evaluate_plans`, every weight trained, in silence (MLPerf's Llama 2
70B LoRA plan: 5.96 s a step, where `train --lora-rank 16` says 3.32 s; `lora_targets` null in the row)."""

from __future__ import annotations

from pathlib import Path

from infraplan.sweep.functions import train_batch
from infraplan.sweep.runner import run_sweep
from infraplan.sweep.store import load_table
from infraplan.training.estimate import estimate_training

LORA = {"model": "llama2-70b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 1, "cp": 4, "zero": 3,
        "seq_len": 8192, "global_batch": 8, "dtype": "fp8", "lora_rank": 16}


def test_batched_lora_points_are_train() -> None:
    """A batch mixing LoRA points (a dense and a MoE model, both target sets) with a full fine-tune: each is
    `estimate_training` of its point, whole result for whole result."""
    moe = {"model": "mixtral-8x7b", "system": "dgx-h100-superpod", "gpus": 16, "tp": 2, "ep": 8, "seq_len": 4096,
           "global_batch": 64, "lora_rank": 8, "lora_targets": "all"}
    points = [LORA, {**LORA, "lora_targets": "all"}, {k: v for k, v in LORA.items() if k != "lora_rank"}, moe]
    outcomes = train_batch(points)
    for point, outcome in zip(points, outcomes, strict=True):
        assert not isinstance(outcome, BaseException), outcome
        assert outcome.model_dump() == estimate_training(**point).model_dump()  # type: ignore[arg-type]
    lora, lora_all, full, _ = outcomes
    assert lora.lora_rank == 16 and full.lora_rank is None  # type: ignore[union-attr]
    assert lora.step_time_s < lora_all.step_time_s < full.step_time_s  # type: ignore[union-attr]


def test_lora_targets_is_a_sweep_axis(tmp_path: Path) -> None:
    spec = {"function": "train", "fixed": LORA, "axes": [{"product": {"lora_targets": ["attention", "all"]}}]}
    summary = run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert summary.rows == 2 and summary.points_failed == 0, summary.errors
    table = {row["in_lora_targets"]: row for row in load_table(tmp_path / "out").to_pylist()}
    for targets in ("attention", "all"):
        train = estimate_training(**LORA, lora_targets=targets)  # type: ignore[arg-type]
        assert table[targets]["step_time_s"] == train.step_time_s
        assert table[targets]["lora_targets"] == targets
        assert table[targets]["trainable_params_count"] == train.trainable_params_count


def test_targets_without_rank_is_the_one_line_error() -> None:
    """`lora_targets` alone is `train`'s one-line refusal in the point's error, not a full fine-tune."""
    point = {k: v for k, v in LORA.items() if k != "lora_rank"} | {"lora_targets": "all"}
    (outcome,) = train_batch([point])
    assert isinstance(outcome, Exception) and "--lora-targets needs --lora-rank" in str(outcome)
