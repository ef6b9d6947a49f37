"""MoE parallel folding in sweeps: `etp` is a sweep axis of `train`, and the batched path honours it."""

from __future__ import annotations

from pathlib import Path

from infraplan.sweep.functions import train_batch
from infraplan.sweep.runner import run_sweep
from infraplan.sweep.store import load_table
from infraplan.training.estimate import estimate_training

MOE = {"model": "qwen3-30b-a3b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 2, "ep": 8, "seq_len": 4096,
       "global_batch": 256}


def test_batched_train_honours_etp() -> None:
    points = [{**MOE, "etp": etp} for etp in (None, 1, 2)]
    outcomes = train_batch(points)
    for point, outcome in zip(points, outcomes, strict=True):
        assert not isinstance(outcome, BaseException), outcome
        assert outcome.model_dump() == estimate_training(**point).model_dump()
    default, etp1, etp2 = outcomes
    assert default.model_dump() == etp2.model_dump()  # None = ETP equal to TP
    assert etp1.step_time_s != etp2.step_time_s  # ETP 1 folds the experts' TP into their EP/DP group


def test_etp_is_a_sweep_axis(tmp_path: Path) -> None:
    spec = {"function": "train", "fixed": {k: v for k, v in MOE.items() if k != "tp"},
            "axes": [{"product": {"tp": [2], "etp": [1, 2]}}]}
    summary = run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert summary.rows == 2 and summary.points_failed == 0, summary.errors
    table = load_table(tmp_path / "out").to_pylist()
    by_etp = {row["in_etp"]: row["step_time_s"] for row in table}
    assert set(by_etp) == {1, 2} and by_etp[1] != by_etp[2]
    assert by_etp[2] == estimate_training(**MOE, etp=2).step_time_s
